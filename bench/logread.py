"""bench/logread.py RPC_PORT HTTP_PORT PID SERIES READS [PAGES]: the read
paths of a running statecastd (bench/logread.sh starts it), timed.

- full: READS `history` calls over msgpack-RPC, the whole range of series
  loadgen's names bench.s0..bench.s{SERIES-1} spread over the ids (i * SERIES / READS);
- recent: the same series, the last 30 samples (from = the series' last
  time - 29 steps of 60 s: what the status page's sparklines read);
- page: PAGES fetches of the HTTP status page `/` (http.status_series
  sparklines, each a history read through the store's reader, rendered
  on the daemon's loop); its points are the pages served (a 503, no page
  rendered within the HTTP wait and none before it, counts 0). A request
  that a render outlasts gets the previous page: its wall time is then
  the wait, and the daemon's CPU a fetch is what to read.

Prints one line per path: "PATH n=N points=P wall_ms=MEDIAN p90_ms=P90
cpu_ms=C", C being the daemon's CPU (every thread, /proc/PID/stat) over the
path's calls divided by their number: the machine is shared, CPU is what
load does not inflate."""
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import statecast_test as st  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / HZ


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def timed(name, pid, calls):
    walls, points = [], 0
    c0 = cpu_s(pid)
    for fn in calls:
        t = time.perf_counter()
        points += fn()
        walls.append((time.perf_counter() - t) * 1000)
    c1 = cpu_s(pid)
    print("%s n=%d points=%d wall_ms=%.2f p90_ms=%.2f cpu_ms=%.2f" % (
        name, len(walls), points, quantile(walls, 0.5), quantile(walls, 0.9),
        (c1 - c0) * 1000 / len(walls)))
    sys.stdout.flush()


def main():
    rport, hport, pid, series, reads = (int(a) for a in sys.argv[1:6])
    pages = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    r = st.Rpc(("127.0.0.1", rport), timeout=120)
    names = ["bench.s%d" % (i * series // reads) for i in range(reads)]
    # The last stored time of each series, outside the timing.
    last = {}
    for n in names:
        last[n] = r.call("info", {"series": n})["last_t"]

    def full(n):
        return lambda: len(r.call("history", {"series": n,
                                              "limit": 10000000})["points"])

    def recent(n):
        return lambda: len(r.call("history", {"series": n,
                                              "from": last[n] - 29 * 60})
                           ["points"])

    def page():
        # 503: the loop did not render the page within the HTTP wait
        # (1 s, daemon/http.h) and there was no earlier one to serve;
        # counted as points=0 (a served page is 1).
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % hport,
                                        timeout=120) as f:
                return 1 if f.read() else 0
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise
            return 0

    timed("full", pid, [full(n) for n in names])
    timed("recent", pid, [recent(n) for n in names])
    timed("page", pid, [page for _ in range(pages)])
    r.close()


if __name__ == "__main__":
    main()
