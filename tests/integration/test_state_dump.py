#!/usr/bin/python3
"""The state dump (docs/STATE_DUMP.md) against a daemon without a store
that saw the same pushes: a clean stop writes it and the next start maps
it, bit for bit; every malformed or stale dump is rejected with a log line
and the restart goes through the database, still bit for bit; a crash
after a start from the dump never uses it again."""
import os
import shutil
import struct
import sys
import time

import storelib

N = 4


class Pair(storelib.RefPair):
    """A daemon with a store (snapshots only once a day: a restart that
    does not use the dump replays every stored sample) and its reference."""

    def __init__(self, tmp):
        super().__init__(tmp, "sd", ["store.retention_s=0",
                                     "store.snapshot_s=1d"], N,
                         lambda k, i: float((k * (i + 3)) % 13) - 2.5)
        self.dump = self.d.db + ".dump"

    def stop(self):
        self.c.close()
        return self.d.term()

    def start(self):
        self.c = self.d.start()


def restart_check(p, ok, bad, what, want):
    """Restarts p and checks that the log holds `want` and that every
    state equals the reference's."""
    p.start()
    log = p.log()
    diff = p.diff()
    if want in log and not diff and not os.path.exists(p.dump):
        ok(what)
    else:
        bad(what, "differ %r, dump left %s; log: %s" %
            (diff, os.path.exists(p.dump), log[-600:]))


def wait_warmed(c):
    """slab_warmed_bytes once it has stopped growing (the warm-up of N
    series' slots is one madvise; polled, at most ~30 s on a loaded
    machine); 0 if it never started."""
    last = -1
    for _ in range(300):
        w = c.call("stats").get("slab_warmed_bytes", 0)
        if w > 0 and w == last:
            return w
        last = w
        time.sleep(0.1)
    return max(last, 0)


def patch_header(path, off, fmt, value):
    with open(path, "r+b") as f:
        h = bytearray(f.read(4096))
        struct.pack_into(fmt, h, off, value)
        struct.pack_into("<I", h, 104, storelib.crc32c(bytes(h[:104])))
        f.seek(0)
        f.write(h)


def main():
    r = storelib.Results("sc_dump_")
    tmp, ok, bad = r.tmp, r.ok, r.bad
    p = None
    try:
        p = Pair(tmp)
        p.push(40)
        p.stop()
        if os.path.exists(p.dump) and "state dump of %d series" % N in \
                p.log():
            ok("a clean stop writes the dump")
        else:
            bad("a clean stop writes the dump", p.log()[-600:])
        keep = os.path.join(tmp, "first.dump")
        shutil.copy(p.dump, keep)
        restart_check(p, ok, bad, "restart from the dump, bit for bit",
                      "%d from the state dump" % N)
        # The warm-up (daemon/slabfill.h): the slab-fill thread copies the
        # mapped slots into private memory in the background; the states
        # it leaves are the same bits, and stepping goes on from them.
        warmed = wait_warmed(p.c)
        p.push(5)
        diff = p.diff()
        if warmed > 0 and warmed % 4096 == 0 and not diff:
            ok("warm-up after a start from the dump: %d bytes, states "
               "unchanged and stepped bit for bit" % warmed)
        else:
            bad("warm-up after a start from the dump",
                "slab_warmed_bytes %d, differ %r" % (warmed, diff))

        # Stepped after the restore (copy-on-write pages), then killed:
        # the database alone restores it, and the old dump is stale.
        p.push(7)
        p.c.close()
        p.d.kill9()
        shutil.copy(keep, p.dump)
        restart_check(p, ok, bad,
                      "kill -9 after a start from the dump: database, "
                      "stale dump ignored", "is stale")

        cases = [
            ("truncated", lambda f: os.truncate(f, os.path.getsize(f) // 2),
             "truncated"),
            ("wrong magic", lambda f: patch_bytes(f, 0, b"X"),
             "bad magic"),
            ("wrong model hash",
             lambda f: patch_header(f, 24, "<Q", 0x0123456789ABCDEF),
             "written by another model"),
            ("stale generation (an older dump)",
             lambda f: shutil.copy(keep, f), "stale: generation"),
            ("a state's checksum", lambda f: patch_bytes(f, 4096 + 40,
                                                         b"\x7f"),
             "checksum mismatch"),
            ("wrong series count", lambda f: patch_header(f, 32, "<Q", N + 1),
             "header"),
        ]
        for name, damage, want in cases:
            p.push(3)
            p.stop()
            if not os.path.exists(p.dump):
                bad(name, "no dump written")
                p.start()
                continue
            damage(p.dump)
            restart_check(p, ok, bad,
                          "%s: rejected, restored from the database" % name,
                          want)

        # Knob off: no dump, the final snapshots as before.
        p.push(3)
        p.stop()
        os.unlink(p.dump)
        p.d.opts.append("store.state_dump=false")
        p.start()
        p.push(2)
        p.stop()
        log = p.log()
        if not os.path.exists(p.dump) and "state dump of" not in log:
            ok("store.state_dump=false writes no dump")
        else:
            bad("store.state_dump=false writes no dump", log[-400:])
        restart_check(p, ok, bad, "restart after final snapshots",
                      "%d from snapshots" % N)
        w = p.c.call("stats").get("slab_warmed_bytes")
        if w == 0:
            ok("no warm-up after a start from the database")
        else:
            bad("no warm-up after a start from the database",
                "slab_warmed_bytes %r" % w)
    except Exception as e:  # a crash of the test is a failure, not a hang
        bad("test ran to the end", repr(e))
    finally:
        if p:
            p.close()
    return r.finish()


def patch_bytes(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


if __name__ == "__main__":
    sys.exit(main())
