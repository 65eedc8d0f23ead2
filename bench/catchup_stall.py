#!/usr/bin/python3
"""bench/catchup_stall.py: how long a reader of many series stalls the loop
during a crash restart's catch-up (docs/STATE_DUMP.md), builds A and B in
the same run, interleaved.

    bench/catchup_stall.py --a BIN --b BIN [--series N] [--per K]
                           [--reps R] [--cases status,metrics,list]
                           [--no-crash] [--out FILE]

For each build and rep: a daemon with a store gets N series x K samples
(RPC push), is killed with -9 and restarted with STATECAST_CATCHUP_SLICE=0
(no background catch-up: only readers step the series behind), with HTTP on
and metrics.forecasts=* (at most 100 exported). Then GET /, and after the
same kill -9 and restart again GET /metrics, and after a third the RPC
`list "*"` (default limit, 10000 returned), each while another client
pings the RPC every 5 ms (a 503 asked again): the reader's
time, the longest ping (the loop's stall as a client sees it) and the
samples the reader stepped (stats restore_behind_samples before and
after). --cases picks the readers (all three by default). Each run ends
with a kill -9 (a clean stop would catch every series up first).
With --no-crash the readers run on the daemon that took the samples, with
nothing behind: what the reader's own pass costs (the fnmatch over every
name, the selection, the encoding). Medians over the reps; every run
listed. Writes a Markdown report (with
the command, the machine, the load) to --out, or stdout.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import storelib  # noqa: E402


def start(bin_, tmp, name, slice_=None):
    d = storelib.Daemon(tmp, name, opts=[
        "store.snapshot_s=1d", "store.checkpoint_s=0",
        "metrics.forecasts=*", "metrics.max_forecast_series=100",
        "http.status_series=20", "limits.max_series=2000000"])
    storelib.DAEMON = bin_
    if slice_ is not None:
        os.environ["STATECAST_CATCHUP_SLICE"] = slice_
    try:
        c = d.start(extra=("listen.http=127.0.0.1:0",))
    finally:
        os.environ.pop("STATECAST_CATCHUP_SLICE", None)
    with open(d.log.name) as f:
        f.seek(d.log_start)
        port = int(re.findall(r"listening http on 127\.0\.0\.1:(\d+)",
                              f.read())[-1])
    return d, c, port


def behind(c):
    return c.call("stats")["restore_behind_samples"]


def get_page(port, path):
    """GET path; a 503 (the loop did not render the page within the HTTP
    thread's 1 s wait and has never rendered it) is asked again, the time
    counting until the page came."""
    while True:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                   timeout=600).read()
            return
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise
            time.sleep(0.05)


def timed(d, c, read):
    """(seconds read() took, longest ping in s, samples it stepped)."""
    before = behind(c)
    pinger = storelib.Client(d.sock)
    pinger.s.settimeout(600)  # a stall past the client's 30 s is measured
    stop = threading.Event()
    worst = [0.0]

    def ping():
        while not stop.is_set():
            t = time.monotonic()
            pinger.call("ping")
            worst[0] = max(worst[0], time.monotonic() - t)
            time.sleep(0.005)

    th = threading.Thread(target=ping, daemon=True)
    th.start()
    try:
        time.sleep(0.05)
        t = time.monotonic()
        read()
        took = time.monotonic() - t
        time.sleep(0.05)
    finally:
        stop.set()
        th.join()
        pinger.close()
    return took, worst[0], before - behind(c)


def run(bin_, n, per, tmp, cases, crash=True):
    d, c, port = start(bin_, tmp, "cs")
    try:
        t0 = 1.7e9
        batch = max(1, 20000 // per)
        for a in range(0, n, batch):
            c.call("push", {"samples": [
                ["cs.s%d" % i, t0 + 60 * k, float((i + k) % 11)]
                for i in range(a, min(n, a + batch)) for k in range(per)]})
        out = {}
        # The same crash for each reader (nothing recorded the catch-up's
        # states: no checkpoint, snapshots once a day).
        for case in cases:
            if crash:
                c.close()
                d.kill9()
                d, c, port = start(bin_, tmp, "cs", slice_="0")
            out[case + "_behind"] = behind(c)
            if case == "list":
                lister = storelib.Client(d.sock)
                lister.s.settimeout(600)
                out[case] = timed(d, c, lambda: lister.call("list", {
                    "pattern": "*"}))
                lister.close()
            else:
                out[case] = timed(d, c, lambda: get_page(
                    port, "/" if case == "status" else "/metrics"))
    except BaseException:
        d.kill9()  # not left running, its work dir removed, after a failure
        raise
    c.close()
    # Not a clean stop: it would catch every series up first (the state
    # dump), over 60 s at 1M x 8 behind, and nothing here measures it.
    d.kill9()
    return out


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--series", type=int, default=100000)
    ap.add_argument("--per", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default="status,metrics,list")
    ap.add_argument("--no-crash", action="store_true")
    ap.add_argument("--out")
    o = ap.parse_args()
    cases = o.cases.split(",")
    if not cases or set(cases) - {"status", "metrics", "list"}:
        ap.error("--cases: a comma-separated subset of status,metrics,list")
    res = {"A": [], "B": []}
    for rep in range(o.reps):
        for who in (("A", "B") if rep % 2 == 0 else ("B", "A")):
            tmp = tempfile.mkdtemp(prefix="statecast-cstall-")
            try:
                r = run(o.a if who == "A" else o.b, o.series, o.per, tmp,
                        cases, crash=not o.no_crash)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            r["load"] = os.getloadavg()[0]
            res[who].append(r)
            print("catchup_stall: rep %d %s: %r" % (rep + 1, who, r),
                  file=sys.stderr, flush=True)
    cpu = subprocess.run(["sh", "-c", "sed -n 's/^model name[[:space:]]*: "
                          "//p' /proc/cpuinfo | head -n 1"],
                         capture_output=True, text=True).stdout.strip()
    name = {"status": "/", "metrics": "/metrics", "list": "RPC list *"}
    lines = ["# Catch-up stall: readers of many series during a crash "
             "restart's catch-up", "",
             "Command: `bench/catchup_stall.py %s`" % " ".join(sys.argv[1:]),
             "",
             "Machine: %d cores, %s, load average at the end %.2f %.2f %.2f."
             % ((os.cpu_count() or 0, cpu) + os.getloadavg()),
             "A: `%s`, B: `%s`, interleaved, %d reps; %d series x %d samples "
             "%s." % (o.a, o.b, o.reps, o.series, o.per,
                      "taken, no crash (nothing behind)" if o.no_crash else
                      "behind after kill -9, STATECAST_CATCHUP_SLICE=0"),
             "",
             "| build | reader | median time (s) | median longest ping (s) | "
             "samples stepped (median) |", "|---|---|---|---|---|"]
    for who in ("A", "B"):
        for case in cases:
            rs = [r[case] for r in res[who]]
            lines.append("| %s | %s | %.3f | %.3f | %d |" % (
                who, name[case],
                statistics.median(x[0] for x in rs),
                statistics.median(x[1] for x in rs),
                statistics.median(x[2] for x in rs)))
    lines += ["", "Every run (reader: time s, longest ping s, samples "
              "stepped; load at its end):", ""]
    for who in ("A", "B"):
        for k, r in enumerate(res[who]):
            lines.append("- %s rep %d: %s; load %.1f" % (who, k + 1, "; ".join(
                "%s (%d behind) %.3f, %.3f, %d" % (
                    (name[case], r[case + "_behind"]) + r[case])
                for case in cases), r["load"]))
    text = "\n".join(lines) + "\n"
    if o.out:
        with open(o.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
