"""Random write failures under acknowledged load, injected with libfiu.

statecastd runs under `fiu-run -x` (Debian's fiu-utils: an LD_PRELOAD
library wrapping the libc I/O calls). SQLite (libsqlite3.so.0) writes its
WAL and database with pwrite64() and syncs with fdatasync(); libfiu's
wrappers of those are the failure points posix/io/rw/pwrite and
posix/io/sync/fdatasync (posix/io/rw/write would hit the daemon's sockets
and log instead, not the store). A failing wrapper returns -1 with an errno
drawn from the call's documented ones (EIO, ENOSPC, EFBIG, ...).

1. Faults switched on at run time (fiu-ctrl) while a client pushes with
   4 requests in flight, then off again: the daemon keeps running and
   answering, each push is either acknowledged or refused with "samples
   were not stored", the failure episode is logged once at its start and
   once at its end, writes are acknowledged again once the faults stop, and
   SIGTERM ends it with status 0.
2. Faults on from the start and through SIGTERM (start-up, recovery, the
   final checkpoint): a few starts, each either comes up and serves or
   exits with status 1 and a logged reason (never a signal); a stop under
   faults exits 0.
3. Then, without faults: PRAGMA integrity_check is ok, every acknowledged
   sample is stored, no refused sample is, and the daemon restores.

STATECAST_FIU_SECONDS sets the length of the fault window of 1 (default 4;
bench/reliability.sh runs it longer). The last lines before the summary
give the figures: failed commits, pushes refused, acknowledged, lost.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storelib  # noqa: E402

NS = 8
T0 = 1.7e9
NAMES = ["fiu.s%d" % i for i in range(NS)]
PWRITE = "posix/io/rw/pwrite"
FSYNC = "posix/io/sync/fdatasync"
# About 35 pwrite() calls per commit here (WAL frame headers and pages):
# 1% each fails roughly 30% of the commits.
P_PWRITE = 0.01
P_FSYNC = 0.5


def t_of(k):
    return T0 + 10.0 * k


def push_msg(k):
    return {"samples": [[n, t_of(k), float(i + k % 5)]
                        for i, n in enumerate(NAMES)]}


class Load:
    """Pushes with 4 in flight; sorts each push into acked or refused."""

    def __init__(self):
        self.k = 0
        self.acked, self.refused, self.odd = [], [], []

    def run(self, c, seconds, proc):
        out, end = {}, time.time() + seconds
        got = [0, 0]
        while time.time() < end or out:
            while time.time() < end and len(out) < 4:
                self.k += 1
                out[c.send("push", push_msg(self.k))] = self.k
            rid, err, res = c.recv()
            k = out.pop(rid)
            if err is None and res["accepted"] == NS:
                self.acked.append(k)
                got[0] += 1
            elif err is not None and "samples were not stored" in str(err):
                self.refused.append(k)
                got[1] += 1
            else:
                self.odd.append((k, err, res))
            if proc.poll() is not None:
                raise RuntimeError("statecastd exited with %d under load" %
                                   proc.returncode)
        return got


def fiu_ctrl(ctrl, pid, *cmds):
    args = ["fiu-ctrl", "-f", ctrl]
    for cmd in cmds:
        args += ["-c", cmd]
    subprocess.run(args + [str(pid)], check=True, timeout=30)


def log_since(d):
    with open(d.log.name) as f:
        f.seek(d.log_start)
        return f.read()


def runtime_faults(tmp, ld, fig, ok, bad):
    seconds = float(os.environ.get("STATECAST_FIU_SECONDS", "4"))
    d = storelib.Daemon(tmp, "fiu", opts=["store.commit_ms=20",
                                          "store.snapshot_s=1",
                                          "store.retention_s=0"])
    ctrl = os.path.join(tmp, "ctrl")
    d.wrap = ["fiu-run", "-x", "-f", ctrl]
    c = d.start()
    ld.run(c, 0.5, d.proc)
    fiu_ctrl(ctrl, d.proc.pid,
             "enable_random name=%s,probability=%g" % (PWRITE, P_PWRITE))
    acked, refused = ld.run(c, seconds, d.proc)
    st = c.call("stats")
    fig["failed commits"] = st["store_commit_failures"]
    fig["window"] = (acked, refused)
    check = "under random pwrite failures: some pushes acked, some refused"
    if acked > 0 and refused > 0 and st["store_commit_failures"] > 0:
        ok(check)
    else:
        bad(check, "%d acked, %d refused, stats %r" % (acked, refused, st))
    check = "every reply is an ack or 'samples were not stored'"
    if not ld.odd:
        ok(check)
    else:
        bad(check, repr(ld.odd[:3]))
    fiu_ctrl(ctrl, d.proc.pid, "disable name=" + PWRITE)
    acked, refused = ld.run(c, 1.0, d.proc)
    check = "pushes acknowledged again once the faults stop"
    if acked > 0 and refused == 0:
        ok(check)
    else:
        bad(check, "%d acked, %d refused" % (acked, refused))
    c.close()
    code = d.term()
    log = log_since(d)
    check = "SIGTERM after the episode: exit 0"
    if code == 0:
        ok(check)
    else:
        bad(check, "exit %d" % code)
    check = "the episode logged once at its start and once at its end"
    if (log.count("store: write failed: ") == 1 and
            log.count("store: writes resumed after ") == 1):
        ok(check)
    else:
        bad(check, log[-800:])
    return d


def start_or_exit(d, timeout=60):
    """Spawns d; returns a Client once it answers, or None once it exited."""
    d.spawn()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.proc.poll() is not None:
            return None
        try:
            c = storelib.Client(d.sock)
            c.call("ping")
            return c
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("statecastd neither came up nor exited")


def faults_throughout(d, ld, fig, ok, bad):
    ctrl = os.path.join(os.path.dirname(d.db), "ctrl")
    exits, ups, stops = [], 0, []
    for attempt in range(4):
        p = P_PWRITE * (1 + 2 * attempt)
        d.wrap = ["fiu-run", "-x", "-f", ctrl,
                  "-c", "enable_random name=%s,probability=%g" % (PWRITE, p),
                  "-c", "enable_random name=%s,probability=%g" % (FSYNC,
                                                                   P_FSYNC)]
        c = start_or_exit(d)
        if c is None:
            exits.append((d.proc.returncode, log_since(d)[-300:]))
            continue
        ups += 1
        ld.run(c, 1.0, d.proc)
        c.close()
        stops.append(d.term())
    d.wrap = []
    fig["starts under faults"] = (ups, len(exits))
    check = "a start under faults serves or exits 1 with a logged reason"
    if all(code == 1 and "cannot" in text for code, text in exits) and ups:
        ok(check)
    else:
        bad(check, "%d up, exits %r" % (ups, exits))
    check = "SIGTERM with writes and syncs failing: exit 0"
    if stops and all(code == 0 for code in stops):
        ok(check)
    else:
        bad(check, "exit statuses %r" % stops)


def verify(tmp, d, ld, fig, ok, bad):
    db = storelib.snapshot_copy(d.db, os.path.join(tmp, "check.db"))
    check = "integrity_check ok after the faults"
    if storelib.integrity_ok(db):
        ok(check)
    else:
        bad(check, "integrity_check failed")
    have = storelib.stored_after(db, {})
    stored = {n: {r[1] for r in have.get(n, [])} for n in NAMES}
    lost = [k for k in ld.acked if any(t_of(k) not in stored[n]
                                       for n in NAMES)]
    fig["lost"] = len(lost)
    check = "every acknowledged sample stored"
    if ld.acked and not lost:
        ok(check)
    else:
        bad(check, "%d of %d acknowledged pushes lost, e.g. k=%r" % (
            len(lost), len(ld.acked), lost[:3]))
    check = "no refused sample stored"
    late = [k for k in ld.refused if any(t_of(k) in stored[n]
                                         for n in NAMES)]
    if ld.refused and not late:
        ok(check)
    else:
        bad(check, "%d of %d refused pushes stored" % (len(late),
                                                        len(ld.refused)))
    c = d.start()
    info = c.call("info", {"series": NAMES[0]})
    check = "the daemon restores after the faults"
    if info["samples"] >= len(stored[NAMES[0]]) > 0:
        ok(check)
    else:
        bad(check, "info %r, %d stored" % (info, len(stored[NAMES[0]])))
    c.close()
    d.term()


def gap_then_kill(tmp, ok, bad):
    """Refused pushes leave unused seqs; a restart must continue after the
    highest stored seq. (It once counted the replayed samples instead, so
    the next pushes reused stored seqs and INSERT OR IGNORE dropped them
    although they were acknowledged.) Deterministic: every pwrite fails
    while the refused pushes are sent, and no snapshot is written."""
    d = storelib.Daemon(tmp, "gap", opts=["store.snapshot_s=1d",
                                          "store.retention_s=0"])
    ctrl = os.path.join(tmp, "ctrl")
    d.wrap = ["fiu-run", "-x", "-f", ctrl]
    c = d.start()
    acked, refused = [], []

    def one(t):
        try:
            c.call("push", {"samples": [["gap.s", t, t % 7]]})
            acked.append(t)
        except RuntimeError:
            refused.append(t)

    for t in range(1, 6):
        one(T0 + t)
    fiu_ctrl(ctrl, d.proc.pid, "enable name=" + PWRITE)
    for t in range(6, 9):
        one(T0 + t)
    fiu_ctrl(ctrl, d.proc.pid, "disable name=" + PWRITE)
    for t in range(9, 14):
        one(T0 + t)
    c.close()
    d.kill9()
    d.wrap = []
    c = d.start()
    for t in range(14, 17):
        one(T0 + t)
    c.close()
    d.term()
    have = storelib.stored_after(d.db, {}).get("gap.s", [])
    stored = [r[1] for r in have]
    check = "after refusals and kill -9, new pushes get fresh seqs"
    if (len(refused) == 3 and len(acked) == 13 and
            sorted(stored) == sorted(acked) and
            [r[0] for r in have][-4:] == [13, 14, 15, 16]):
        ok(check)
    else:
        bad(check, "refused %d, stored (seq, t) %r" % (
            len(refused), [(r[0], r[1] - T0) for r in have]))


def main():
    r = storelib.Results("sc_fiu_")
    tmp, ok, bad, fig = r.tmp, r.ok, r.bad, {}
    if not shutil.which("fiu-run"):
        bad("fiu-run installed (Debian package fiu-utils)", "not found")
        return r.finish()
    ld = Load()
    d = None
    try:
        d = runtime_faults(tmp, ld, fig, ok, bad)
        faults_throughout(d, ld, fig, ok, bad)
        verify(tmp, d, ld, fig, ok, bad)
        gap_then_kill(tmp, ok, bad)
    except Exception as e:  # a crash of the test is a failure, not a hang
        bad("test ran to the end", repr(e))
    finally:
        if d:
            d.stop()
    print("figures: fault window %s s at pwrite p=%g: %d failed commits; "
          "pushes acked/refused in it %r; starts under faults up/exited %r; "
          "in all %d pushes acked, %d refused, %r acked lost" % (
              os.environ.get("STATECAST_FIU_SECONDS", "4"), P_PWRITE,
              fig.get("failed commits", -1), fig.get("window"),
              fig.get("starts under faults"), len(ld.acked),
              len(ld.refused), fig.get("lost")))
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
