#!/usr/bin/python3
"""bench/readload.py RPC_PORT HTTP_PORT SECONDS PAGE_S METRICS_S HIST_S
NSERIES SERIES READY_FILE: the reads an operator and a dashboard make of a
running statecastd, on a schedule, timed (bench/readlat.sh runs it beside
loadgen's 50k/s latency run).

- every PAGE_S seconds the HTTP status page `/` (an operator with it open:
  the page reloads itself every 15 s);
- every METRICS_S seconds `/metrics` (a Prometheus scrape);
- every HIST_S seconds a dashboard's poll: `history` of the last 30
  samples of NSERIES series (loadgen's names bench.s0..bench.s{SERIES-1},
  spread over the ids), one after another on one RPC connection.

Before the schedule it asks each polled series' last time (`info`), then
touches READY_FILE; the schedule runs for SECONDS. Prints one line per
kind: "KIND n=N wall_ms=MEDIAN p90_ms=P90 max_ms=MAX" (wall time a call,
as the reader sees it; a status page the loop did not render within the
HTTP wait is the previous one, or a 503: counted in bad=)."""
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import statecast_test as st  # noqa: E402


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main():
    rport, hport, secs = (int(a) for a in sys.argv[1:4])
    page_s, metrics_s, hist_s = (float(a) for a in sys.argv[4:7])
    nseries, series = int(sys.argv[7]), int(sys.argv[8])
    ready = sys.argv[9]
    r = st.Rpc(("127.0.0.1", rport), timeout=120)
    names = ["bench.s%d" % (i * series // nseries) for i in range(nseries)]
    start = {n: r.call("info", {"series": n})["last_t"] - 29 * 60
             for n in names}
    base = "http://127.0.0.1:%d" % hport
    walls = {"page": [], "metrics": [], "history": []}
    bad = {"page": 0, "metrics": 0, "history": 0}

    def get(kind, path):
        try:
            with urllib.request.urlopen(base + path, timeout=120) as f:
                f.read()
        except urllib.error.HTTPError:
            bad[kind] += 1

    def poll():
        for n in names:
            t = time.perf_counter()
            try:
                r.call("history", {"series": n, "from": start[n]})
            except st.RpcError:
                bad["history"] += 1
            walls["history"].append((time.perf_counter() - t) * 1000)

    with open(ready, "w"):
        pass
    t0 = time.monotonic()
    due = {"page": 0.0, "metrics": 0.0, "history": 0.0}
    every = {"page": page_s, "metrics": metrics_s, "history": hist_s}
    while True:
        now = time.monotonic() - t0
        if now >= secs:
            break
        kind = min(due, key=due.get)
        if due[kind] > now:
            time.sleep(min(due[kind], secs) - now)
            continue
        due[kind] += every[kind]
        if kind == "history":
            poll()
            continue
        t = time.perf_counter()
        get(kind, "/" if kind == "page" else "/metrics")
        walls[kind].append((time.perf_counter() - t) * 1000)
    for kind in ("page", "metrics", "history"):
        w = walls[kind]
        print("%s n=%d wall_ms=%.2f p90_ms=%.2f max_ms=%.2f bad=%d" % (
            kind, len(w), quantile(w, 0.5), quantile(w, 0.9),
            max(w) if w else float("nan"), bad[kind]))


if __name__ == "__main__":
    main()
