"""The HTTP pages during a crash restart's catch-up (daemon/pages.h,
docs/STATE_DUMP.md "Serving before the replay ends").

A daemon with a store and a reference without one get the same samples
(1500 series x 4); the store's is killed with -9 and restarted with
STATECAST_CATCHUP_SLICE=0, so its series stay behind their stored samples
until something uses them (no background catch-up). Then:

  - the status page does not step them: it ranks the series caught up,
    says how many are still catching up, and the stats' samples to step
    are unchanged after it;
  - each /metrics scrape whose metrics.forecasts glob matches them all
    steps at most SRV_PAGES_CATCHUP (2048) of their samples, and marks
    the rest: statecast_forecast_series_catching_up is their count, one
    statecast_series_catching_up_stored_timestamp_seconds line each with
    the time of its last stored sample, and no forecast of theirs (a stale
    one would be silently wrong); exported + catching up = matched;
  - the forecasts a scrape exports are those of the reference that never
    stopped (mean and origin), and the scrapes, one after the other, end
    the catch-up: every series exported, nothing left behind;
  - a glob matching none of them steps and marks none; within
    metrics.max_forecast_series only the series exported are stepped, the
    rest are left out by the cap (omitted), not marked as catching up;
  - RPC list, the same way: at most SRV_PAGES_CATCHUP samples of the
    series it returns are stepped, the rest marked (catching_up), and
    their counts and last time are the reference's.
"""
import contextlib
import os
import re
import shutil
import struct
import tempfile
import urllib.request

from statecast_test import Checks, run_cli
from storelib import RefPair

NS, K = 1500, 4
BUDGET = 2048  # SRV_PAGES_CATCHUP, daemon/pages.h


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def value(k, i):
    return 10.0 * (i % 50) + 3.0 * ((k * 7 + i) % 5)


def get(port, path):
    return urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                  timeout=60).read().decode()


def gauge(text, name):
    m = re.search(r"^%s (\S+)$" % name, text, re.M)
    return float(m.group(1)) if m else None


def per_series(text, name):
    """{series: value} of a per-series family."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^%s\{series="([^"]*)"\} (\S+)$' % name, text, re.M)}


def behind(cl):
    st = cl.call("stats")
    return st["restore_behind_series"], st["restore_behind_samples"]


def crash_restart(p):
    """kill -9, then a start without background catch-up, HTTP on; the
    HTTP port."""
    p.c.close()
    p.d.kill9()
    os.environ["STATECAST_CATCHUP_SLICE"] = "0"
    try:
        p.c = p.d.start(extra=("listen.http=127.0.0.1:0",))
    finally:
        del os.environ["STATECAST_CATCHUP_SLICE"]
    return int(re.findall(r"listening http on 127\.0\.0\.1:(\d+)",
                          p.log())[-1])


def pages(c):
    tmp = tempfile.mkdtemp(prefix="statecast-catchup-pages-")
    # No snapshot or checkpoint records the states: after the kill every
    # series restarts from nothing and replays its 4 stored samples.
    opts = ["store.snapshot_s=1d", "store.checkpoint_s=0",
            "metrics.forecasts=cp.*", "metrics.max_forecast_series=100000",
            "http.status_series=20"]
    p = RefPair(tmp, "cp", opts, NS, value)
    try:
        p.push(K)
        port = crash_restart(p)
        nb0, ns0 = behind(p.c)
        c.check("restart leaves every series behind",
                nb0 == NS and ns0 == NS * K, (nb0, ns0))

        page = get(port, "/")
        c.check("status page says how many are catching up",
                "%d series still catching up (%d stored samples" % (NS,
                                                                    NS * K)
                in page, page[:1500])
        c.check("status page ranks none of them",
                "<h2>Series (0 shown of %d)" % NS in page,
                re.findall(r"<h2>Series[^<]*", page))
        c.check("status page steps nothing", behind(p.c) == (nb0, ns0),
                behind(p.c))

        text = get(port, "/metrics")
        nb1, ns1 = behind(p.c)
        stepped = ns0 - ns1
        c.check("a scrape steps at most its budget",
                0 < stepped <= BUDGET and stepped % K == 0, stepped)
        exported = gauge(text, "statecast_forecast_series_exported")
        catching = gauge(text, "statecast_forecast_series_catching_up")
        stored = per_series(
            text, "statecast_series_catching_up_stored_timestamp_seconds")
        c.check("the rest are marked as catching up",
                catching == nb1 == len(stored) and
                exported == NS - nb1, (exported, catching, nb1,
                                       len(stored)))
        last_t = 1.7e9 + 10 * (K - 1)
        c.check("catching up: their last stored time",
                stored and set(stored.values()) == {last_t},
                set(stored.values()))
        means = {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^statecast_forecast_mean\{series="([^"]*)",horizon="1"\} '
            r'(\S+)$', text, re.M)}
        origin = per_series(text,
                            "statecast_forecast_origin_timestamp_seconds")
        quantiles = set(re.findall(r'^statecast_forecast\{series="([^"]*)"',
                                   text, re.M))
        c.check("no forecast of a series catching up",
                not (set(origin) | set(means) | quantiles) & set(stored),
                sorted((set(origin) | quantiles) & set(stored))[:5])
        c.check("exported forecasts are current",
                len(origin) == exported and
                set(origin.values()) == {last_t},
                (len(origin), set(origin.values())))
        bad = []
        for name in sorted(origin)[:40]:
            ref = p.rc.call("forecast", {"series": name})
            if f32(ref["mean"][0]) != f32(means.get(name, float("nan"))):
                bad.append((name, ref["mean"][0], means.get(name)))
        c.check("exported forecasts equal the reference's", not bad,
                bad[:5])

        scrapes = 1
        while behind(p.c)[0] and scrapes < 20:
            before = behind(p.c)[1]
            text = get(port, "/metrics")
            scrapes += 1
            c.check("scrape %d steps at most its budget" % scrapes,
                    0 < before - behind(p.c)[1] <= BUDGET,
                    (before, behind(p.c)))
        c.check("scrapes end the catch-up", behind(p.c) == (0, 0),
                (scrapes, behind(p.c)))
        text = get(port, "/metrics")
        c.check("then every series is exported, none catching up",
                gauge(text, "statecast_forecast_series_exported") == NS and
                gauge(text, "statecast_forecast_series_catching_up") == 0 and
                "statecast_series_catching_up_stored_timestamp_seconds" not in
                text, (gauge(text, "statecast_forecast_series_exported"),
                       gauge(text, "statecast_forecast_series_catching_up")))
        c.check("catch-up log line", "restore: caught up %d series" % NS
                in p.log(), p.log()[-600:])
        c.check("states equal the reference's", not p.diff(), p.diff()[:5])
        page = get(port, "/")
        c.check("status page without the notice afterwards",
                "still catching up" not in page and
                "<h2>Series (20 shown of %d)" % NS in page,
                re.findall(r"<h2>Series[^<]*", page))
        p.close()
    finally:
        p.d.stop()
        p.ref.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def crashed(name, n, k, opts):
    """A RefPair of n series NAME.s* fed k samples each, then
    crash_restart: yields (pair, HTTP port); stops and removes all."""
    tmp = tempfile.mkdtemp(prefix="statecast-catchup-%s-" % name)
    p = RefPair(tmp, name, ["store.snapshot_s=1d", "store.checkpoint_s=0"] +
                opts, n, value)
    try:
        p.push(k)
        yield p, crash_restart(p)
        p.close()
    finally:
        p.d.stop()
        p.ref.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def glob_miss(c):
    """A glob matching none of the series behind steps none of them."""
    with crashed("gm", 50, 3, ["metrics.forecasts=other.*"]) as (p, port):
        b0 = behind(p.c)
        text = get(port, "/metrics")
        c.check("non-matching glob: nothing stepped, nothing marked",
                behind(p.c) == b0 == (50, 150) and
                gauge(text, "statecast_forecast_series_catching_up") == 0 and
                gauge(text, "statecast_restore_behind_series") == 50,
                (b0, behind(p.c)))


def small_cap(c):
    """Within metrics.max_forecast_series: only the series exported are
    stepped, the rest are left out by the cap, not marked as catching up
    (the scrape is complete within its cap)."""
    with crashed("sc", 1000, 4, ["metrics.forecasts=sc.*",
                                 "metrics.max_forecast_series=50"]) as (
                                     p, port):
        b0 = behind(p.c)
        text = get(port, "/metrics")
        b1 = behind(p.c)
        got = (gauge(text, "statecast_forecast_series_exported"),
               gauge(text, "statecast_forecast_series_omitted"),
               gauge(text, "statecast_forecast_series_catching_up"))
        c.check("cap: 50 exported and stepped, 950 omitted, none catching up",
                b0 == (1000, 4000) and b1 == (950, 3800) and
                got == (50, 950, 0), (b0, b1, got))


def plain(entries):
    """A list reply's entries without the catching_up marks."""
    return [{k: v for k, v in e.items() if k != "catching_up"}
            for e in entries]


def listing(c):
    """RPC list (daemon/rpc_methods.c) steps at most SRV_PAGES_CATCHUP
    samples of the listed series behind, in name order, and marks the
    rest (catching_up: samples to step), with the counts and last time
    they hold once stepped: the reference's; series past limit are not
    stepped; the CLI shows the marks; repeated lists end the catch-up."""
    n, k = 1500, 4
    with crashed("ls", n, k, []) as (p, port):
        b0 = behind(p.c)
        q = {"pattern": "ls.s9*", "limit": 5}
        got, ref = p.c.call("list", q), p.rc.call("list", q)
        c.check("limit: only the series returned are stepped",
                b0 == (n, n * k) and behind(p.c) == (n - 5, (n - 5) * k) and
                got == ref and got["catching_up"] == 0,
                (b0, behind(p.c), got["catching_up"]))

        b1 = behind(p.c)
        got, ref = p.c.call("list"), p.rc.call("list")
        b2 = behind(p.c)
        marked = [e for e in got["series"] if "catching_up" in e]
        c.check("list '*' steps at most its budget",
                b1[1] - b2[1] == BUDGET and b2[0] == len(marked) > 0,
                (b1, b2, len(marked)))
        c.check("the rest are marked, their count in the reply",
                got["catching_up"] == len(marked) and
                {e["catching_up"] for e in marked} == {k} and
                got["total"] == ref["total"] == n and not got["truncated"],
                (got["catching_up"], len(marked), got["total"]))
        first = [e["series"] for e in got["series"]][:BUDGET // k - 5]
        c.check("the stepped ones come first by name",
                not {e["series"] for e in marked} & set(first),
                marked[:2])
        c.check("counts and last time equal the reference's",
                plain(got["series"]) == ref["series"],
                [(a, b) for a, b in zip(plain(got["series"]), ref["series"])
                 if a != b][:3])

        cli = run_cli(["list", "--socket", p.d.sock])
        lines = cli.stdout.splitlines()
        left = behind(p.c)[0]
        c.check("CLI: marks and a footer",
                cli.returncode == 0 and
                sum("(catching up: %d to step)" % k in l
                    for l in lines) == left > 0 and
                lines[-1].startswith("(%d still catching up" % left),
                cli.stdout[-400:] + cli.stderr)

        lists = 2
        while behind(p.c)[0] and lists < 10:
            got = p.c.call("list")
            lists += 1
        c.check("lists end the catch-up, then mark none",
                behind(p.c) == (0, 0) and p.c.call("list") == ref,
                (lists, behind(p.c)))
        c.check("states equal the reference's", not p.diff(), p.diff()[:5])


if __name__ == "__main__":
    checks = Checks()
    checks.run(pages)
    checks.run(glob_miss)
    checks.run(small_cap)
    checks.run(listing)
    checks.summary()
