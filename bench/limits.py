"""bench/limits.py: the figures of docs/RELIABILITY.md's limits sections,
each beside a peer measured in the same run (run by bench/limits.sh, which
writes bench/results/limits.md).

  1. RSS of statecastd holding 10,000 idle connections (8 source
     addresses, the three protocols); peer: a minimal Python selectors
     server holding the same 10,000.
  2. Recovery from descriptor exhaustion: the time from closing clients
     until a new client gets its `ping` answered, (a) at the descriptor
     budget (RLIMIT_NOFILE below max_connections at start) and (b) at a
     genuine EMFILE (prlimit under a running daemon); peer: the same
     connect + ping on a daemon that was never exhausted. Plus the
     daemon's CPU time during 2 s of clients hammering it at EMFILE, vs 2 s
     idle (a busy loop would show as ~2 s).
  3. A burst of 100,000 new series with limits.max_series = 60,000: what
     was created, refused, RSS and time until the daemon answered;
     peer: the same burst without the limit.
  4. Slow senders: seconds from a 1 byte/s trickle's first byte until it
     is closed with limits.min_rate_window_s = 4; peer: a silent client
     under limits.idle_timeout_s = 4.
Medians of ROUNDS repetitions where a figure is cheap to repeat."""
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from statecast_test import (Daemon, ping_new, rss_kib,  # noqa: E402
                            until_closed, wait_for)

IDLE = 10000
SOURCES = ["127.0.0.%d" % i for i in range(2, 10)]
ROUNDS = 5


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect_many(addrs, n, settle):
    held = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((SOURCES[i % len(SOURCES)], 0))
        s.settimeout(30)
        s.connect(addrs[i % len(addrs)])
        held.append(s)
        if len(held) % 400 == 0 or len(held) == n:
            settle(len(held))
    return held


def idle_rss():
    out = {}
    with Daemon("limits.max_connections=%d" % (IDLE + 100),
                "store.path=") as d:
        r = d.rpc()
        base = rss_kib(d.proc.pid)
        addrs = [d.ports[p] for p in ("graphite", "influx", "rpc")]
        held = connect_many(addrs, IDLE, lambda k: wait_for(
            lambda: r.call("stats")["clients"] >= k + 1, timeout=60))
        out["sd"] = (base, rss_kib(d.proc.pid))
        for s in held:
            s.close()
        r.close()
    # Peer: a selectors server that accepts and holds, nothing more.
    code = ("import selectors,socket,sys\n"
            "l=socket.socket();l.bind(('127.0.0.1',0));l.listen(4096)\n"
            "l.setblocking(False);sel=selectors.DefaultSelector()\n"
            "sel.register(l,selectors.EVENT_READ);held=[]\n"
            "print(l.getsockname()[1],flush=True)\n"
            "while True:\n"
            " for k,_ in sel.select():\n"
            "  if k.fileobj is l:\n"
            "   try:\n"
            "    c,_=l.accept();c.setblocking(False);held.append(c)\n"
            "    sel.register(c,selectors.EVENT_READ)\n"
            "   except BlockingIOError: pass\n"
            "  else:\n"
            "   if not k.fileobj.recv(4096):\n"
            "    sel.unregister(k.fileobj);k.fileobj.close()\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         text=True)
    try:
        port = int(p.stdout.readline())
        time.sleep(0.2)
        base = rss_kib(p.pid)
        held = connect_many([("127.0.0.1", port)], IDLE,
                            lambda k: time.sleep(0.01))
        time.sleep(1)
        out["peer"] = (base, rss_kib(p.pid))
        for s in held:
            s.close()
    finally:
        p.kill()
        p.wait()
    return out


def recovery():
    out = {"budget": [], "emfile": [], "fresh": []}
    with Daemon("store.path=") as d:
        for _ in range(ROUNDS):
            t = time.perf_counter()
            ping_new(d)
            out["fresh"].append(time.perf_counter() - t)
    with Daemon("limits.max_connections=1000", "store.path=",
                nofile=96) as d:
        r = d.rpc()
        for _ in range(ROUNDS):
            held = [socket.create_connection(d.ports["graphite"],
                                             timeout=10) for _ in range(40)]
            wait_for(lambda: r.call("stats")["refused"] > 0)
            t = time.perf_counter()
            for s in held:
                s.close()
            wait_for(lambda: ping_new(d), timeout=30, step=0.001)
            out["budget"].append(time.perf_counter() - t)
        r.close()
    with Daemon("store.path=") as d:
        r = d.rpc()
        pid = d.proc.pid
        for k in range(ROUNDS):
            held = [socket.create_connection(d.ports["graphite"],
                                             timeout=10) for _ in range(30)]
            wait_for(lambda: r.call("stats")["clients"] == 31)
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (40, 40))
            if k == 0:
                c0 = cpu_s(pid)
                t_end = time.time() + 2
                turned = 0
                while time.time() < t_end:
                    s = socket.create_connection(d.ports["graphite"],
                                                 timeout=10)
                    turned += until_closed(s, timeout=2)[1]
                    s.close()
                out["emfile_cpu"] = cpu_s(pid) - c0
                out["emfile_turned"] = turned
                c0 = cpu_s(pid)
                time.sleep(2)
                out["idle_cpu"] = cpu_s(pid) - c0
            t = time.perf_counter()
            for s in held:
                s.close()
            wait_for(lambda: ping_new(d), timeout=30, step=0.001)
            out["emfile"].append(time.perf_counter() - t)
            # Back to 40 descriptors in use at most, under a limit of 40
            # that stays (the hard limit cannot be raised without root).
        r.close()
    return out


def burst(limit):
    args = ["store.path="] + (["limits.max_series=%d" % limit]
                              if limit else [])
    n = 100000
    with Daemon(*args) as d:
        r = d.rpc()
        base = rss_kib(d.proc.pid)
        payload = [b"".join(b"burst.s%06d %d 1000000000\n" % (i, i % 97)
                            for i in range(k, n, 4)) for k in range(4)]
        socks = [socket.create_connection(d.ports["graphite"], timeout=60)
                 for _ in range(4)]
        t = time.perf_counter()
        for s, p in zip(socks, payload):
            s.sendall(p)
            s.shutdown(socket.SHUT_WR)
        for s in socks:
            s.settimeout(120)
            s.recv(1)
            s.close()
        want = limit or n
        st = wait_for(lambda: (lambda x: x["series"] + x["series_refused"]
                               >= n and x)(r.call("stats")), timeout=120)
        secs = time.perf_counter() - t
        st = st or r.call("stats")
        alive = r.call("push", {"samples": [["burst.s000000", 1e9 + 60,
                                             1.0]]})["accepted"] == 1
        out = {"series": st["series"], "refused": st["series_refused"],
               "secs": secs, "rss": (base, rss_kib(d.proc.pid)),
               "want": want, "existing_ok": alive,
               "log_lines": d.log().count("limits.max_series = ")}
        r.close()
    return out


def slow():
    out = {"slow": [], "idle": []}
    with Daemon("limits.min_rate=100", "limits.min_rate_window_s=4",
                "limits.idle_timeout_s=60", "store.path=") as d:
        for _ in range(2):
            s = socket.create_connection(d.ports["graphite"], timeout=10)
            t = time.perf_counter()
            s.settimeout(1)
            while True:
                try:
                    s.sendall(b"a")
                    if s.recv(1) == b"":
                        break
                except socket.timeout:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    break
            out["slow"].append(time.perf_counter() - t)
            s.close()
    with Daemon("limits.idle_timeout_s=4", "store.path=") as d:
        for _ in range(2):
            s = socket.create_connection(d.ports["graphite"], timeout=10)
            t = time.perf_counter()
            until_closed(s, timeout=30)
            out["idle"].append(time.perf_counter() - t)
            s.close()
    return out


def med(xs):
    return statistics.median(xs)


def main(path, cmd, machine):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 2000),
                                                hard))
    a = idle_rss()
    b = recovery()
    c_lim, c_free = burst(60000), burst(0)
    e = slow()
    sd_per = (a["sd"][1] - a["sd"][0]) * 1024.0 / IDLE
    py_per = (a["peer"][1] - a["peer"][0]) * 1024.0 / IDLE
    L = ["# statecastd limits: figures", "",
         "Written by `%s` (bench/limits.sh, bench/limits.py) on %s." %
         (cmd, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), "",
         "Machine: %s" % machine, "",
         "## 10,000 idle connections", "",
         "| process | RSS before | RSS with 10,000 idle | per connection |",
         "|---|---|---|---|",
         "| statecastd | %.1f MiB | %.1f MiB | %.0f bytes |" %
         (a["sd"][0] / 1024, a["sd"][1] / 1024, sd_per),
         "| peer: Python selectors server | %.1f MiB | %.1f MiB | %.0f "
         "bytes |" % (a["peer"][0] / 1024, a["peer"][1] / 1024, py_per),
         "", "statecastd / peer per connection: %.2f" % (sd_per / py_per),
         "", "## Recovery from descriptor exhaustion", "",
         "Seconds from closing the clients that exhausted descriptors "
         "until a new client's `ping` is answered (median of %d):" %
         ROUNDS, "",
         "| case | median | max |", "|---|---|---|",
         "| at the descriptor budget (nofile 96 < max_connections) | "
         "%.4f s | %.4f s |" % (med(b["budget"]), max(b["budget"])),
         "| genuine EMFILE (prlimit 40 under the running daemon) | "
         "%.4f s | %.4f s |" % (med(b["emfile"]), max(b["emfile"])),
         "| peer: connect + ping, never exhausted | %.4f s | %.4f s |" %
         (med(b["fresh"]), max(b["fresh"])), "",
         "At EMFILE, 2 s of clients connecting one after another: %d "
         "turned away, daemon CPU %.2f s (vs %.2f s in 2 s idle): no "
         "busy loop." % (b["emfile_turned"], b["emfile_cpu"],
                         b["idle_cpu"]), "",
         "## A burst of 100,000 new series", "",
         "| limits.max_series | series created | refused | seconds to "
         "take the burst | RSS after | existing series go on | refusal "
         "log lines |", "|---|---|---|---|---|---|---|"]
    for lim, x in (("60000", c_lim), ("peer: 1000000 (default)", c_free)):
        L.append("| %s | %d | %d | %.2f | %.1f MiB | %s | %d |" %
                 (lim, x["series"], x["refused"], x["secs"],
                  x["rss"][1] / 1024, "yes" if x["existing_ok"] else "NO",
                  x["log_lines"]))
    L += ["", "## Slow senders", "",
          "| client | setting | seconds until closed (each round) |",
          "|---|---|---|",
          "| 1 byte/s, never a whole line | min_rate 100, window 4 s | "
          "%s |" % ", ".join("%.1f" % x for x in e["slow"]),
          "| peer: silent | idle_timeout_s 4 | %s |" %
          ", ".join("%.1f" % x for x in e["idle"]), "",
          "Both close within the window plus one timer pass (a quarter "
          "of it).", ""]
    with open(path, "w") as f:
        f.write("\n".join(L))
    print("\n".join(L))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
