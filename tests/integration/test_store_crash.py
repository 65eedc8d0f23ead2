"""kill -9 under load, 50 times at random moments, then SIGTERM under load.

A client pushes samples for NS series with acknowledgements (4 pushes in
flight); the daemon is killed with SIGKILL at a random moment (now and then
while it is still restoring), restarted, and checked:
  - PRAGMA integrity_check is ok after every kill;
  - every acknowledged sample is stored (0 lost), and each series' stored
    samples are exactly seq 1..n;
  - every stored forecast (store.forecast_every_s) stays stored from one
    kill to the next, one row per (series, origin), at the time of one
    of its series' stored samples (schema 5's rowid table + unique index:
    integrity_check also checks the index against the rows);
  - the restarted daemon's state of every series is bit-for-bit the state of
    a reference daemon that never stopped and was fed exactly the stored
    samples: `info` returns state_crc, a CRC-32C of the state block, and
    the sample count, compared series by series.
Then SIGTERM under load: exit status 0, nothing acknowledged lost, same
states after the restart.

The restarted daemon serves before the samples after each series' state
are stepped (daemon/catchup.h: the catch-up), so the cycles vary what
comes first (STATECAST_CATCHUP_SLICE=0: no background catch-up, only on
use): the queries above (catch-up on a query); a subscription and the load
(catch-up on a live sample, the subscription's forecast notifications in
order and the last one equal to the `forecast` answer after the load; the
states are compared at the next restart); queries for half the series and
a kill -9 at once (killed during the catch-up: the next restart is exact);
a background catch-up in slices of 16 samples. The logs must show starts
with series behind and a catch-up that ended.

Twice: first with SQLite snapshots only (store.checkpoint_s=0, a snapshot
a second), then with the checkpoint file (docs/STATE_DUMP.md) written
every second and SQLite snapshots off in practice (store.snapshot_s=1d),
with loads long enough that kills fall before, during and after a
generation's write. That run also checks that restarts did restore from
the checkpoint, and that some kill left a generation half written (its
.ckpt.tmp) and the restart after it was still exact.
"""
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storelib  # noqa: E402

NS = 12
CYCLES = int(os.environ.get("STATECAST_CRASH_CYCLES", "50"))
NAMES = ["crash.s%02d" % i for i in range(NS)]
t_of = storelib.t_of


class NotifClient(storelib.Client):
    """A client that keeps the notifications it reads (method, params)."""

    def __init__(self, path):
        super().__init__(path)
        self.notes = []

    def recv(self):
        while True:
            for m in self.u:
                if m[0] == 1:
                    return m[1], m[2], m[3]
                if m[0] == 2:
                    self.notes.append((m[1], m[2]))
            data = self.s.recv(1 << 16)
            if not data:
                raise EOFError("connection closed")
            self.u.feed(data)


# What each cycle does first after a restart (cycle % 4), and the
# background catch-up's slice (STATECAST_CATCHUP_SLICE; "" = default).
FIRST = ("queries", "subscription", "half then kill", "queries")
SLICE = ("", "0", "0", "16")


class Run(storelib.AckedLoad):
    def __init__(self, tmp, name, opts):
        super().__init__(NAMES)
        self.crash = storelib.Daemon(tmp, name, opts=[
            "store.retention_s=0", "store.forecast_retention_s=0",
            "store.commit_ms=20"] + opts)
        self.ref = storelib.Daemon(tmp, name + "-ref", store=False)
        self.refc = self.ref.start()
        self.ref_fed = {n: 0 for n in NAMES}
        self.stored_t = {n: set() for n in NAMES}
        self.check_db = os.path.join(tmp, name + "-check.db")
        self.fail = {}
        self.checks = set()
        self.forecasts = set()  # (name, origin) stored at the last check

    def bad(self, what, detail):
        self.fail[what] = self.fail.get(what, 0) + 1
        print("FAIL %s: %s" % (what, detail))

    def check(self, what):
        self.checks.add(what)

    def verify_db(self):
        db = storelib.snapshot_copy(self.crash.db, self.check_db)
        self.check("integrity")
        if not storelib.integrity_ok(db):
            self.bad("integrity", "integrity_check failed")
        self.check("contiguous")
        for n, (cnt, lo, hi) in storelib.seq_ranges(db).items():
            if lo != 1 or cnt != hi:
                self.bad("contiguous", "%s: %d rows, seq %d..%d" % (n, cnt, lo, hi))
        # the reference gets exactly what is stored, in order
        new = storelib.stored_after(db, self.ref_fed)
        batch = []
        for n in NAMES:
            for seq, t, v in new.get(n, []):
                batch.append([n, t, v])
                self.ref_fed[n] = seq
                self.stored_t[n].add(t)
        for i in range(0, len(batch), 2000):
            r = self.refc.call("push", {"samples": batch[i:i + 2000]})
            if r["rejected"]:
                self.bad("reference", "reference refused %r" % r["rejected"][:2])
        # acknowledged since the last check (older ones were checked and
        # rows never go away: the seq ranges above would show it)
        self.check("acked kept")
        for n in NAMES:
            lost = [k for k in self.new_acked if t_of(k) not in self.stored_t[n]]
            if lost:
                self.bad("acked kept", "%s: %d acknowledged samples lost, "
                         "e.g. k=%d" % (n, len(lost), min(lost)))
        self.new_acked = []
        self.check_forecasts(db)

    def check_forecasts(self, db):
        self.check("forecasts kept")
        c = sqlite3.connect(db)
        try:
            rows = c.execute(
                "SELECT s.name, f.t FROM forecasts f JOIN series s "
                "ON s.id = f.series_id").fetchall()
        finally:
            c.close()
        now = set(rows)
        if len(now) != len(rows):
            self.bad("forecasts kept", "%d rows, %d (series, origin)" % (
                len(rows), len(now)))
        gone = self.forecasts - now
        if gone:
            self.bad("forecasts kept", "%d stored forecasts gone, e.g. %r"
                     % (len(gone), min(gone)))
        odd = [(n, t) for n, t in now if t not in self.stored_t.get(n, ())]
        if odd:
            self.bad("forecasts kept", "%d forecasts at no stored sample, "
                     "e.g. %r" % (len(odd), min(odd)))
        self.forecasts = now

    def compare(self, c, names=NAMES):
        self.check("state bit-for-bit")
        for n in names:
            if self.ref_fed[n] == 0:
                continue
            a = c.call("info", {"series": n})
            b = self.refc.call("info", {"series": n})
            if (a["state_crc"], a["samples"]) != (b["state_crc"], b["samples"]):
                self.bad("state bit-for-bit", "%s: crc %x/%x samples %d/%d" % (
                    n, a["state_crc"], b["state_crc"], a["samples"], b["samples"]))
        # history comes from the store's reader connection
        self.check("history")
        n = NAMES[0]
        if self.ref_fed[n]:
            h = c.call("history", {"series": n, "limit": 10000000})
            if len(h["points"]) != self.ref_fed[n]:
                self.bad("history", "%d points, %d stored" % (
                    len(h["points"]), self.ref_fed[n]))


    def subscribed_load(self, sock, seconds):
        """The load on a connection subscribed to every series, right
        after the start (the series still behind)."""
        c = NotifClient(sock)
        c.call("subscribe", {"pattern": "crash.*", "anomalies": False})
        out = self.load(c, seconds)
        self.drain_open(c, out)
        self.check("subscription during the catch-up")
        last = {}
        for method, m in c.notes:
            if method != "forecast":
                continue
            n = m["series"]
            if n in last and m["t"] <= last[n]["t"]:
                self.bad("subscription during the catch-up",
                         "%s: origin %r after %r" % (n, m["t"], last[n]["t"]))
            last[n] = m
        if not last:
            self.bad("subscription during the catch-up", "no notification")
        for n, m in last.items():
            f = c.call("forecast", {"series": n})
            m = dict(m)
            del m["subscription"]
            if f != m:
                self.bad("subscription during the catch-up",
                         "%s: last notification %r, forecast %r" % (
                             n, m.get("t"), f.get("t")))
        return c, {}


def catchup_log(d):
    """(starts with series behind, catch-ups that ended) in d's log."""
    behind = ended = 0
    with open(d.log.name) as f:
        for line in f:
            if "restore: ready " in line and " series behind" in line:
                behind += int(line.split(" with ")[1].split()[0]) > 0
            elif "restore: caught up " in line:
                ended += 1
    return behind, ended


def restored_from_checkpoint(d):
    """Series the last start restored from the checkpoint (its log)."""
    with open(d.log.name) as f:
        f.seek(d.log_start)
        for line in f:
            if "restored " in line and " from the checkpoint" in line:
                return int(line.split(" from the state dump, ")[1].split()[0])
    return 0


def phase(tmp, rng, name, opts, cycles, load_s, ckpt):
    r = Run(tmp, name, opts)
    tmp_file = r.crash.db + ".ckpt.tmp"
    from_ckpt = half_written = 0
    try:
        for cycle in range(cycles):
            first = FIRST[cycle % 4]
            os.environ["STATECAST_CATCHUP_SLICE"] = SLICE[cycle % 4]
            if cycle % 10 == 7:
                # killed while starting or restoring
                r.crash.spawn_and_kill(rng.uniform(0.0, 0.05))
                r.verify_db()
            c = r.crash.start()
            if ckpt and restored_from_checkpoint(r.crash) > 0:
                from_ckpt += 1
            if first == "half then kill":
                r.compare(c, NAMES[:NS // 2])
                r.crash.kill9()
                c.close()
                r.verify_db()
                continue
            if first == "subscription":
                c.close()
                c, out = r.subscribed_load(r.crash.sock,
                                           rng.uniform(*load_s))
            else:
                r.compare(c)
                out = r.load(c, rng.uniform(*load_s))
            r.crash.kill9()
            if os.path.exists(tmp_file):
                half_written += 1
            r.drain(c, out)
            r.verify_db()
        # SIGTERM under load
        os.environ["STATECAST_CATCHUP_SLICE"] = ""
        c = r.crash.start()
        r.compare(c)
        out = r.load(c, 0.5)
        r.send_more(c, out, len(out) + 4)  # more in flight while it stops
        r.crash.proc.send_signal(15)
        r.drain(c, out)
        code = r.crash.proc.wait(timeout=60)
        r.check("sigterm exit 0")
        if code != 0:
            r.bad("sigterm exit 0", "exit status %d" % code)
        r.verify_db()
        c = r.crash.start()
        r.compare(c)
        c.close()
        r.crash.stop()
    finally:
        r.crash.stop()
        r.ref.stop()
    print("%s: %d cycles, %d pushes acknowledged of %d sent, %d forecasts "
          "stored" % (name, cycles, len(r.acked), r.k_next - 1,
                      len(r.forecasts)))
    r.check("forecasts stored")
    if not r.forecasts:
        r.bad("forecasts stored", "none")
    if not r.acked:
        r.bad("load", "nothing was acknowledged")
    # A snapshot the restart cannot use (the series row lacks the step
    # that the state was made with) would start the state afresh.
    r.check("every snapshot usable")
    with open(r.crash.log.name) as f:
        refused = f.read().count("snapshot does not fit the model")
    if refused:
        r.bad("every snapshot usable", "%d refused (log)" % refused)
    behind, ended = catchup_log(r.crash)
    print("%s: %d starts with series behind, %d catch-ups ended" % (
        name, behind, ended))
    seen = [("started with series behind", behind, "never (log)"),
            ("catch-up ended", ended, "never (log)")]
    if ckpt:
        print("%s: %d starts from the checkpoint, %d kills during a "
              "generation's write" % (name, from_ckpt, half_written))
        seen += [("restored from the checkpoint", from_ckpt,
                  "no start used it"),
                 ("killed while writing a generation", half_written,
                  "never happened")]
    for what, count, why in seen:
        r.check(what)
        if count == 0:
            r.bad(what, why)
    return {name + ": " + w: w in r.fail for w in r.checks}, bool(r.acked)


def main():
    tmp = tempfile.mkdtemp(prefix="sc_crash_")
    rng = random.Random(20261128)
    t_start = time.time()
    results = {}
    acked = True
    for name, opts, cycles, load_s, ckpt in (
            ("snapshots", ["store.snapshot_s=1", "store.checkpoint_s=0"],
             CYCLES, (0.02, 0.6), False),
            ("checkpoint", ["store.snapshot_s=1d", "store.checkpoint_s=1"],
             max(CYCLES // 2, 1), (0.3, 2.5), True)):
        res, ok = phase(tmp, rng, name, opts, cycles, load_s, ckpt)
        results.update(res)
        acked = acked and ok
    print("%.1f s" % (time.time() - t_start))
    failed = sum(1 for f in results.values() if f)
    for what in sorted(results):
        print("%s %s" % ("FAIL" if results[what] else "ok  ", what))
    if not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("logs and database kept in %s" % tmp)
    return storelib.summary(len(results) - failed + (0 if acked else -1),
                            failed)


if __name__ == "__main__":
    sys.exit(main())
