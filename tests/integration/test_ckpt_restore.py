#!/usr/bin/python3
"""A start after kill -9 through the periodic checkpoint (docs/STATE_DUMP.md)
against a daemon without a store that saw the same pushes, bit for bit:

  - samples pushed after the generation's records are replayed from the
    database on top of the mapped slots, once from the sample log and
    once after a compaction moved them into chunks (retention compacts the
    log when its samples are older than its cutoff: these are from 2023);
  - a slot whose checksum fails is found by the check that runs beside the
    walk of the database (daemon/ckpt.h): the checkpoint is rejected after
    the walk, the registry emptied and the start goes through the database
    alone, still bit for bit; the file is removed;
  - a stop while series are still behind (daemon/catchup.h) writes no
    state dump: the next start replays them, still bit for bit.
"""
import glob
import os
import sqlite3
import sys
import time

import storelib

N = 20


class Pair(storelib.RefPair):
    def __init__(self, tmp, n=N):
        super().__init__(tmp, "ck", ["store.retention_s=0",
                                     "store.snapshot_s=1d",
                                     "store.checkpoint_s=3",
                                     "store.commit_ms=20"], n,
                         lambda k, i: float((k * (i + 5)) % 17) - 4.5)

    def log_rows(self):
        """Rows in the sample log (read-only, beside the daemon)."""
        db = sqlite3.connect("file:%s?mode=ro" % self.d.db, uri=True)
        try:
            return db.execute("SELECT count(*) FROM sample_log").fetchone()[0]
        finally:
            db.close()

    def recorded(self):
        return self.log().count("series recorded")

    def crash_after_record(self, compacted=False):
        """Pushes until a generation of every series is recorded, then
        more (after its records), and kills -9 right away, or once the
        log is compacted; returns (recorded, log rows left)."""
        n0 = self.recorded()
        deadline = time.time() + 30
        while self.recorded() == n0 and time.time() < deadline:
            self.push(2)
            time.sleep(0.1)
        self.push(25)
        if compacted:
            # Until a retention step has compacted them into chunks (the
            # next generation begins 3 s after the record at the earliest).
            deadline = time.time() + 2.5
            while self.log_rows() and time.time() < deadline:
                time.sleep(0.05)
        in_log = self.log_rows()
        self.c.close()
        self.d.kill9()
        return self.recorded() > n0, in_log


def restored_line(log):
    for line in log.splitlines():
        if "restored " in line and " series from " in line:
            return line
    return ""


def count_in(line, what):
    """The number before `what` in the restore's log line."""
    head = line.split(what)[0].split()
    return int(head[-1]) if head else -1


def main():
    r = storelib.Results("sc_ckrestore_")
    tmp, ok, bad = r.tmp, r.ok, r.bad
    p = None
    try:
        p = Pair(tmp)
        p.push(30)
        for what, compacted in (("the log", False), ("chunks", True)):
            name = ("kill -9: checkpoint + replay of what followed, from %s, "
                    "bit for bit" % what)
            recorded, in_log = p.crash_after_record(compacted)
            if not recorded:
                bad("a generation is recorded", p.log()[-600:])
            if compacted and in_log:
                bad(name, "%d log rows left: not compacted" % in_log)
            # Retention from here on: its steps compact the log once a
            # second (its samples are all past the cutoff).
            p.c = p.d.start(extra=["store.retention_s=1000s"])
            line = restored_line(p.log())
            diff = p.diff()
            # (A series whose SQLite snapshot is newer than its record, one
            # written when its step was learnt, comes from that snapshot.)
            if (count_in(line, " from the checkpoint") >= N // 2 and
                    count_in(line, " samples replayed") > 0 and not diff):
                ok(name)
            else:
                bad(name, "differ %r; %s" % (diff, line))

        # A damaged slot: rejected once the walk is done.
        if not p.crash_after_record()[0]:
            bad("another generation is recorded", p.log()[-600:])
        files = glob.glob(p.d.db + ".ckpt[01]")
        for f in files:
            with open(f, "r+b") as fh:
                fh.seek(4096 + 40)
                b = fh.read(1)
                fh.seek(4096 + 40)
                fh.write(bytes([b[0] ^ 0x5a]))
        p.c = p.d.start()
        log = p.log()
        line = restored_line(log)
        diff = p.diff()
        named = [f for f in files if os.path.exists(f)]
        if ("checksum mismatch): restoring from the database" in log and
                count_in(line, " from the checkpoint") == 0 and
                count_in(line, " from snapshots") +
                count_in(line, " replayed in full") == N and not diff and
                len(named) < len(files)):
            ok("a damaged slot: checkpoint rejected after the walk, the "
               "database alone, bit for bit")
        else:
            bad("a damaged slot: checkpoint rejected after the walk, the "
                "database alone, bit for bit",
                "differ %r, files %r -> %r; log: %s" % (
                    diff, files, named, log[-800:]))

        # And the daemon goes on: pushes after that restart are stepped.
        p.push(5)
        diff = p.diff()
        if not diff:
            ok("steps after the rejected checkpoint, bit for bit")
        else:
            bad("steps after the rejected checkpoint, bit for bit",
                "differ %r" % diff)

        # A stop with series still behind (no background catch-up, no
        # query, no generation to write): no state dump nor final
        # snapshots (daemon/catchup.h, srv__catchup_leave); the next
        # start replays them from the database, bit for bit.
        name = ("a stop with series behind leaves them to the next start, "
                "bit for bit")
        if not p.crash_after_record()[0]:
            bad("a generation is recorded before the stop",
                p.log()[-600:])
        os.environ["STATECAST_CATCHUP_SLICE"] = "0"
        os.environ["STATECAST_CATCHUP_STOP_MAX"] = "0"
        try:
            p.c = p.d.start(extra=["store.checkpoint_s=1d"])
        finally:
            del os.environ["STATECAST_CATCHUP_SLICE"]
            del os.environ["STATECAST_CATCHUP_STOP_MAX"]
        p.c.close()
        code = p.d.term()
        stop_log = p.log()
        p.c = p.d.start()
        line = restored_line(p.log())
        diff = p.diff()
        if (code == 0 and " series behind (" in stop_log and
                "stopping with " in stop_log and
                " written to " not in stop_log and
                count_in(line, " from the state dump") == 0 and
                count_in(line, " samples replayed") > 0 and not diff):
            ok(name)
        else:
            bad(name, "exit %r, differ %r; %s; log: %s" % (
                code, diff, line, stop_log[-800:]))
    except Exception as e:  # a crash of the test is a failure, not a hang
        bad("test ran to the end", repr(e))
    finally:
        if p:
            p.close()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
