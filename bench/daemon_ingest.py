#!/usr/bin/python3
"""Ingest throughput of statecastd end to end, against a peer measured in
the same run: Graphite lines over one TCP connection into a real daemon
(parse, registry, batched model step with a forecast refresh per sample,
SQLite store) vs `statecast replay`, which steps the same model through the
same samples alone (B = 1, no sockets, no parsing, no store). The ratio is
what serving costs over bare stepping. Median of 3 runs each; the machine
is shared, so read ratios, not absolute rates.

    /usr/bin/python3 bench/daemon_ingest.py   -> bench/results/daemon_ingest.md
"""
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from statecast_test import CLI, MODEL, ROOT, Daemon, wait_for  # noqa: E402

T0 = int(time.time()) - 86400 * 60


def lines(ns, nt):
    return "".join("b.%d %d %d\n" % (k, (i * 7 + k) % 13, T0 + 60 * i)
                   for i in range(nt) for k in range(ns)).encode()


def daemon_rate(ns, nt):
    data = lines(ns, nt)
    with Daemon() as d:
        r = d.rpc()
        t = time.perf_counter()
        s = socket.create_connection(d.ports["graphite"])
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
        wait_for(lambda: r.call("stats")["samples"] >= ns * nt,
                 timeout=600, step=0.005)
        dt = time.perf_counter() - t
        st = r.call("stats")
        r.close()
    return ns * nt / dt, st["batch_max"]


def replay_rate(nt, tmp):
    csv = os.path.join(tmp, "b.csv")
    with open(csv, "w") as f:
        f.write("t,value\n")
        for i in range(nt):
            f.write("%d,%d\n" % (T0 + 60 * i, (i * 7) % 13))
    t = time.perf_counter()
    subprocess.run([CLI, "replay", csv, "--model", MODEL, "--json"],
                   check=True, capture_output=True)
    return nt / (time.perf_counter() - t)


def main():
    out = os.path.join(ROOT, "bench", "results", "daemon_ingest.md")
    tmp = os.path.join("/tmp", "statecast-bench-%d" % os.getpid())
    os.makedirs(tmp, exist_ok=True)
    rows = []
    for ns, nt in ((1000, 100), (10, 10000)):
        d = [daemon_rate(ns, nt) for _ in range(3)]
        rp = [replay_rate(ns * nt, tmp) for _ in range(3)]
        dm = statistics.median(x[0] for x in d)
        rm = statistics.median(rp)
        rows.append((ns, nt, dm, d[0][1], rm, dm / rm))
    with open(out, "w") as f:
        f.write("# statecastd ingest vs bare model stepping\n\n")
        f.write("Written by `/usr/bin/python3 bench/daemon_ingest.py` on "
                "%s (%s, %d CPUs, load %.1f), %s.\n\n" % (
                    time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    platform.processor() or platform.machine(),
                    os.cpu_count(), os.getloadavg()[0],
                    "model " + (MODEL if os.path.exists(MODEL)
                                else "untrained default")))
        f.write("Daemon: Graphite lines over one TCP connection, parsed, "
                "stepped in batches with a forecast refresh per sample, "
                "stored in SQLite (group commit), until `stats.samples` "
                "counts them all. Peer: `statecast replay` of the same "
                "number of samples, one series, B = 1, no I/O but the CSV. "
                "Medians of 3 runs.\n\n")
        f.write("| series | samples each | daemon samples/s | largest batch "
                "| replay samples/s | daemon / replay |\n")
        f.write("|---|---|---|---|---|---|\n")
        for ns, nt, dm, bmax, rm, ratio in rows:
            f.write("| %d | %d | %.0f | %d | %.0f | %.2f |\n" % (
                ns, nt, dm, bmax, rm, ratio))
    print(open(out).read())


if __name__ == "__main__":
    main()
