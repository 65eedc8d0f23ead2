"""The compute pool (model.threads = 2) steps a tick's batches on two
threads; every forecast must still equal, bit for bit, offline stepping of
the series alone (`statecast replay`), since which thread steps a batch
must not change a result. 300 series per round, so a round holds several
chunks and the pool really runs (stats pool_rounds > 0): these runs fix
the share threshold (model.share_rows = 16, 2 x 16 rows), so that no
clock decides whether a round is shared. With a fixed model.share_rows = 48
a round of fewer than 2 x 48 rows is stepped by the loop thread alone. The
default (0) shares from 2 x 48 rows always, and from 2 x 16 when the
helpers' part outweighs their wake-up, learnt as the loop's cost per row and
the helpers' measured wake-up (daemon/tick.c, share_round;
its rule is tested in tests/daemon/test_tick.c): here, that it learns."""
import json
import math
import os
import random

from statecast_test import MODEL, Checks, Daemon, run_cli
from test_bitexact import T0, same_bits, write_csv

NSERIES = 300
NSAMPLES = 40


def series_rows(k):
    rng = random.Random(k)
    rows, t = [], T0
    for i in range(NSAMPLES):
        v = 20 + 5 * math.sin(2 * math.pi * (i + k) / 12) + rng.random()
        rows.append((float(t), round(v, 4)))
        t += 600 * (2 if (i + k) % 17 == 9 else 1)
    return rows


def replay(csv):
    p = run_cli(["replay", csv, "--model", MODEL, "--json"])
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return json.loads(p.stdout)


def send_rounds(d, prefix, n):
    """Sends n series' rows round-major (every series' i-th sample before
    any (i+1)-th) in one write, so ticks hold many series and several
    rounds; returns the rows by series."""
    data = {k: series_rows(k) for k in range(n)}
    lines = "".join("%s.s%d %r %d\n" % (prefix, k, data[k][i][1],
                                       int(data[k][i][0]))
                    for i in range(NSAMPLES) for k in range(n))
    d.send_lines("graphite", lines.encode())
    return data


def pooled(c):
    with Daemon("model.threads=2", "model.share_rows=16") as d:
        data = send_rounds(d, "pool", NSERIES)
        r = d.rpc()
        st = r.call("stats")
        c.check("two stepping threads", st["threads"] == 2, st)
        c.check("the pool ran rounds on two threads",
                st["pool_rounds"] > 0, st)
        c.check("every sample stepped", st["samples"] ==
                NSERIES * NSAMPLES, st)
        bad = []
        for k in range(0, NSERIES, 37):
            csv = os.path.join(d.dir, "s%d.csv" % k)
            write_csv(csv, data[k])
            fc = r.call("forecast", {"series": "pool.s%d" % k})
            if not same_bits(fc, replay(csv)):
                bad.append(k)
        c.check("pooled forecasts == replay, bit for bit", not bad, bad)
        r.close()


def watched_first(c):
    """A subscription watches some series: in each round they are stepped
    first, as chunks of their own, their notifications written before the
    rest is stepped (daemon/tick.c, step_round). Results stay those of
    offline stepping, watched or not."""
    with Daemon("model.threads=2", "model.share_rows=16") as d:
        w = d.rpc()
        w.call("subscribe", {"pattern": "watch.s2?"})
        data = send_rounds(d, "watch", NSERIES)
        want = {"watch.s%d" % k: data[k][-1][0] for k in range(20, 30)}
        last = {}
        while len(last) < len(want):
            n = w.note()
            p = n[2]
            if n[1] == "forecast" and p["t"] == want.get(p["series"]):
                last[p["series"]] = p
        r = d.rpc()
        st = r.call("stats")
        c.check("the pool ran rounds", st["pool_rounds"] > 0, st)
        # A helper found each round it took part in by spinning or after
        # a sleep; the loop's own sleeps are counted beside them.
        c.check("the helpers' wake-ups counted",
                st["pool_spin_hits"] + st["pool_helper_sleeps"] > 0
                and "pool_caller_sleeps" in st, st)
        bad = []
        for k in (21, 27, 0, 2, 31, 200, 299):
            csv = os.path.join(d.dir, "s%d.csv" % k)
            write_csv(csv, data[k])
            fc = r.call("forecast", {"series": "watch.s%d" % k})
            if not same_bits(fc, replay(csv)):
                bad.append(k)
        c.check("watched and unwatched forecasts == replay, bit for bit",
                not bad, bad)
        fc = r.call("forecast", {"series": "watch.s27"})
        note = dict(last["watch.s27"])
        note.pop("subscription", None)
        c.check("the watched series' last notification == its forecast",
                note == fc, (note, fc))
        r.close()
        w.close()


def single(c):
    with Daemon("model.threads=1") as d:
        d.send_lines("graphite", b"one.a 1 %d\n" % T0)
        r = d.rpc()
        st = r.call("stats")
        c.check("model.threads=1: no helper thread, no pool round",
                st["threads"] == 1 and st["pool_rounds"] == 0, st)
        r.close()


def check_replay(c, d, r, data, prefix, k):
    """Series k's forecast (RPC r) equals offline stepping, bit for bit."""
    csv = os.path.join(d.dir, "s%d.csv" % k)
    write_csv(csv, data[k])
    c.check("forecast == replay, bit for bit",
            same_bits(r.call("forecast", {"series": "%s.s%d" % (prefix, k)}),
                      replay(csv)))


def small_rounds(c):
    with Daemon("model.threads=2", "model.share_rows=48") as d:
        n = 90  # rounds of 90 rows: under 2 x 48, not shared
        data = send_rounds(d, "small", n)
        r = d.rpc()
        st = r.call("stats")
        c.check("rounds under 2 x 48 rows: no pool round",
                st["threads"] == 2 and st["pool_rounds"] == 0, st)
        c.check("every sample stepped", st["stepped"] == n * NSAMPLES, st)
        check_replay(c, d, r, data, "small", 7)
        r.close()


def learnt(c):
    """model.share_rows = 0 (the default): the loop learns its stepping
    time per row from its own rounds (the first is never shared: nothing
    is known yet) and the stats show it with the helpers' wake-up; the
    results stay offline stepping's whichever rounds were shared."""
    with Daemon("model.threads=2") as d:
        data = send_rounds(d, "learn", NSERIES)
        r = d.rpc()
        st = r.call("stats")
        c.check("a cost per row learnt", st["step_row_us"] > 0, st)
        c.check("a wake-up estimate", st["pool_wake_us"] > 0, st)
        c.check("every sample stepped",
                st["stepped"] == NSERIES * NSAMPLES, st)
        check_replay(c, d, r, data, "learn", 11)
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(pooled)
    c.run(small_rounds)
    c.run(watched_first)
    c.run(single)
    c.run(learnt)
    c.summary()
