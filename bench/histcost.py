#!/usr/bin/python3
"""bench/histcost.py RPC_PORT REPS PID [HTTP_PORT PAGES]: the daemon's CPU and the wall time
of one `history` call at 100k series (bench/histcost.sh starts the daemon):
200 series bench.s0, bench.s500, ... (loadgen's names), REPS passes each of
their last 30 samples (recent: from the series' last time - 29 steps of
60 s) and of their whole range (full). First waits until the restore's
catch-up is over (stats restore_behind_series 0: its background slices
would be counted), then 2 s. Prints "recent wall_ms=W cpu_ms=C full ...",
C being the process' CPU (every thread) over the calls, divided by them.
With HTTP_PORT, then PAGES fetches of the status page `/` (50 sparklines,
each such a read of the last samples): "page wall_ms=W cpu_ms=C"."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import statecast_test as st  # noqa: E402
from logread import cpu_s  # noqa: E402 - the daemon's CPU, every thread
import urllib.request  # noqa: E402

port, reps, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
r = st.Rpc(("127.0.0.1", port), timeout=120)
t_w = time.time()
while r.call("stats").get("restore_behind_series", 0) and time.time() - t_w < 600:
    time.sleep(0.5)
time.sleep(2)
names = ["bench.s%d" % (i * 500) for i in range(200)]
last = {n: r.call("info", {"series": n})["last_t"] for n in names}
for kind in ("recent", "full"):
    c0, t = cpu_s(pid), time.perf_counter()
    for rep in range(reps):
        for n in names:
            p = {"series": n}
            if kind == "recent":
                p["from"] = last[n] - 29 * 60
            r.call("history", p)
    k = len(names) * reps
    print("%s wall_ms=%.3f cpu_ms=%.3f" % (kind, (time.perf_counter() - t) * 1000 / k, (cpu_s(pid) - c0) * 1000 / k))
if len(sys.argv) > 5:
    url = "http://127.0.0.1:%d/" % int(sys.argv[4])
    k = int(sys.argv[5])
    c0, t = cpu_s(pid), time.perf_counter()
    for _ in range(k):
        with urllib.request.urlopen(url, timeout=120) as f:
            f.read()
    print("page wall_ms=%.3f cpu_ms=%.3f" % ((time.perf_counter() - t) * 1000 / k, (cpu_s(pid) - c0) * 1000 / k))
