"""The stored forecast history (`store.forecast_every_s`): real daemon on
loopback, real SQLite.

Every refresh of a series' forecast is served and pushed; the store keeps
at most one per `store.forecast_every_s` of series time (default 5m): the
first forecast of a series, then the first whose origin is at least that
long after the last stored one. The test records every refresh the daemon
made (the `forecast` RPC after each acknowledged push, one sample each)
and holds the `forecasts` table to exactly that rule, applied to the whole
sequence as if nothing had happened in between:

- the default, on a regular 60 s series;
- irregular and bursty timestamps (jitter, bursts a second apart, long
  gaps);
- across a clean stop (restored from the state dump) and a kill -9
  (restored from snapshots and the samples after them, or from a
  checkpoint record older than the last stored forecast);
- across SIGHUP reloads of the setting (1m, 0 = none, back to the default);
- a series whose time starts near 0 (its first forecast is stored too).
"""
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import time

from statecast_test import Checks, Daemon, RpcError, wait_for

DEFAULT = 300.0
T0 = int(time.time()) - 2 * 86400  # inside every retention window


def expected(origins, every_at):
    """The origins the rule stores: origins is the refresh sequence,
    every_at(i) the setting in force at refresh i."""
    last = float("-inf")
    out = []
    for i, t in enumerate(origins):
        every = every_at(i)
        if every > 0 and t - last >= every:
            out.append(t)
            last = t
    return out


def stored(db, name):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return [r[0] for r in con.execute(
            "SELECT f.t FROM forecasts f JOIN series s ON s.id=f.series_id "
            "WHERE s.name=? ORDER BY f.t", (name,))]
    finally:
        con.close()


class Feed:
    """Pushes one sample per call and records each new forecast origin."""

    def __init__(self, name):
        self.name = name
        self.origins = []
        self.every = []  # the setting in force at each refresh

    def push(self, r, t, v, every):
        r.call("push", {"samples": [[self.name, float(t), float(v)]]})
        try:
            f = r.call("forecast", {"series": self.name})
        except RpcError as e:
            if e.code == 6:  # still learning its step
                return
            raise
        if not self.origins or f["t"] != self.origins[-1]:
            self.origins.append(f["t"])
            self.every.append(every)

    def want(self):
        return expected(self.origins, lambda i: self.every[i])


def spacing_ok(ts, every):
    return all(b - a >= every for a, b in zip(ts, ts[1:]))


def default_regular(c):
    with Daemon() as d:
        r = d.rpc()
        f = Feed("fs.regular")
        for i in range(40):
            f.push(r, T0 + 60 * i, 10 + (i % 7), DEFAULT)
        got = stored(os.path.join(d.dir, "db"), f.name)
        c.check("forecasts refreshed on every stepped sample",
                len(f.origins) >= 30, f.origins)
        c.check("the first forecast is stored", got and got[0] == f.origins[0],
                (got[:2], f.origins[:2]))
        c.check("default: one stored forecast per 5 minutes of series time",
                got == f.want() and spacing_ok(got, DEFAULT) and
                all(b - a == DEFAULT for a, b in zip(got, got[1:])),
                (got, f.origins))
        c.check("served: the latest forecast is the last refresh",
                r.call("forecast", {"series": f.name})["t"] == f.origins[-1])


def irregular(c):
    rnd = random.Random(9)
    with Daemon() as d:
        r = d.rpc()
        f = Feed("fs.irregular")
        t = T0
        for i in range(120):
            if i % 25 == 24:
                t += 17 * 60  # a long gap
            elif i % 10 >= 7:
                t += 1  # a burst, a second apart
            else:
                t += 60 + rnd.randint(-25, 25)
            f.push(r, t, rnd.random(), DEFAULT)
        got = stored(os.path.join(d.dir, "db"), f.name)
        c.check("irregular, bursty: never two stored within 5 minutes",
                spacing_ok(got, DEFAULT), got)
        c.check("irregular, bursty: each stored one is the first refresh "
                "due", got == f.want(), (got, f.want()))


def feeder(f):
    """feed(d, n): the next n samples of f's regular series (60 s apart),
    one push each, to daemon d."""
    i = 0

    def feed(d, n):
        nonlocal i
        r = d.rpc()
        for _ in range(n):
            f.push(r, T0 + 60 * i, 5 + (i % 11), DEFAULT)
            i += 1
        r.close()
    return feed


@contextlib.contextmanager
def fed_store(name):
    """A temporary database path, a Feed of series name and its feeder;
    the directory is removed afterwards."""
    tmp = tempfile.mkdtemp(prefix="statecast-fcstore-")
    f = Feed(name)
    try:
        yield os.path.join(tmp, "db"), f, feeder(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def restarts(c):
    with fed_store("fs.restart") as (db, f, feed):
        d = Daemon("store.path=" + db)
        feed(d, 22)  # ends 2 minutes after a stored forecast
        for how, marker, what in (
                ("stop", "1 from the state dump", "a clean stop (state dump)"),
                ("kill", "0 from the state dump",
                 "kill -9 (snapshot + replay)")):
            if how == "stop":
                c.check("clean stop", d.stop() == 0)
            else:
                d.kill()  # every pushed sample was acknowledged
            d = Daemon("store.path=" + db)
            c.check("restarted after " + what, marker in d.log(),
                    d.log()[-600:])
            feed(d, 14)
            got = stored(db, f.name)
            c.check("after %s the spacing goes on from the last stored "
                    "forecast" % what,
                    got == f.want() and spacing_ok(got, DEFAULT),
                    (got, f.want()))
        c.check("stop", d.stop() == 0)


def restart_from_checkpoint(c):
    # A kill -9 after a checkpoint generation was recorded: the series'
    # state comes from its record, older than the forecasts stored after
    # it (under load a generation was recorded during restarts() too).
    with fed_store("fs.ckpt") as (db, f, feed):
        # No SQLite snapshot of the series meanwhile: a newer one would be
        # restored instead of the record. At store.snapshot_s 1d the timer
        # visits 2001 series a day (it visited one a second at the least
        # until tidy5), in creation order: 2000 series created first keep
        # it away from this one either way.
        d = Daemon("store.path=" + db, "store.checkpoint_s=1",
                   "store.snapshot_s=1d")
        r = d.rpc()
        r.call("push", {"samples": [["fs.fill%d" % k, float(T0), 1.0]
                                    for k in range(2000)]})
        r.close()
        feed(d, 10)
        c.check("a checkpoint generation recorded",
                wait_for(lambda: "series recorded" in d.log(), timeout=60),
                d.log()[-600:])
        feed(d, 12)  # forecasts stored after the record
        d.kill()
        d = Daemon("store.path=" + db)
        c.check("restarted from the checkpoint",
                "1 from the checkpoint" in d.log(), d.log()[-600:])
        feed(d, 14)
        got = stored(db, f.name)
        c.check("after kill -9 (checkpoint + replay) the spacing goes on "
                "from the last stored forecast",
                got == f.want() and spacing_ok(got, DEFAULT),
                (got, f.want()))
        c.check("stop", d.stop() == 0)


def reload(c):
    tmp = tempfile.mkdtemp(prefix="statecast-fcstore-")
    conf = os.path.join(tmp, "statecast.conf")
    try:
        with open(conf, "w") as fh:
            fh.write("[store]\n")
        with Daemon(config=conf) as d:
            r = d.rpc()
            f = Feed("fs.reload")
            i = 0
            for every, text, n in ((DEFAULT, "", 15),
                                   (60.0, "forecast_every_s = 1m\n", 10),
                                   (0.0, "forecast_every_s = 0\n", 10),
                                   (DEFAULT, "", 15)):
                if f.origins or i:
                    with open(conf, "w") as fh:
                        fh.write("[store]\n" + text)
                    before = d.log().count("reload of ")
                    d.proc.send_signal(signal.SIGHUP)
                    c.check("SIGHUP reloads (%s)" % (text.strip() or
                                                     "default"),
                            wait_for(lambda: d.log().count("reload of ") >
                                     before, timeout=15))
                for _ in range(n):
                    f.push(r, T0 + 60 * i, i % 5, every)
                    i += 1
            log = d.log()
            c.check("the reload is applied at once, not at the next start",
                    "reload: store.forecast_every_s: 5m -> 1m" in log and
                    "forecast_every_s: 5m -> 1m takes effect" not in log,
                    log[-800:])
            got = stored(os.path.join(d.dir, "db"), f.name)
            c.check("each reloaded spacing holds from the last stored "
                    "forecast (5m, 1m, none, 5m)", got == f.want(),
                    (got, f.want()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def early_time(c):
    # Series time near the epoch: the first forecast is stored all the
    # same (nothing stored yet is not "stored at time 0").
    with Daemon("store.retention_s=0", "store.forecast_retention_s=0") as d:
        r = d.rpc()
        f = Feed("fs.early")
        for i in range(8):
            f.push(r, 60 * (i + 1), i, DEFAULT)
        got = stored(os.path.join(d.dir, "db"), f.name)
        c.check("a series starting at t = 60 s stores its first forecast",
                f.origins and got == f.want() and got[0] == f.origins[0],
                (got, f.origins))


if __name__ == "__main__":
    c = Checks()
    for fn in (default_regular, irregular, restarts, restart_from_checkpoint,
               reload, early_time):
        c.run(fn)
    c.summary()
