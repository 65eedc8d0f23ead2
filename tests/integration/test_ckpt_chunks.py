#!/usr/bin/python3
"""The slots' check of a checkpoint of several chunks (daemon/dump.c): two
check threads and the waiting loop thread take pieces of the slots (each
within one chunk) from one counter, so a start after kill -9 must still
find a damaged slot in the first chunk or the last, and accept an intact
file, against a daemon without a store that saw the same pushes, bit for
bit:

  - an intact checkpoint of more series than one chunk holds: every
    series from its records (or a newer SQLite snapshot), bit for bit;
  - a slot damaged in the first chunk, then one in the last chunk (a
    quarter full): the checkpoint is rejected after
    the walk and the start goes through the database alone, bit for bit.
"""
import glob
import os
import struct
import sys

import storelib
from test_ckpt_restore import Pair, count_in, restored_line


def layout(path):
    """(count, per_chunk, chunk_bytes, slots_off, meta_off) from the
    file's header (io/statedump.c's field offsets)."""
    with open(path, "rb") as f:
        h = f.read(112)
    count = struct.unpack_from("<Q", h, 32)[0]
    per_chunk = struct.unpack_from("<I", h, 52)[0]
    chunk_bytes, slots_off, meta_off = struct.unpack_from("<QQQ", h, 56)
    return count, per_chunk, chunk_bytes, slots_off, meta_off


def main():
    r = storelib.Results("sc_ckchunks_")
    ok, bad = r.ok, r.bad
    p = None
    try:
        # The slot size, hence the series a chunk holds, is the model's:
        # a first checkpoint of a few series tells it.
        p = Pair(r.tmp, n=8)
        p.push(3)
        if not p.crash_after_record()[0]:
            raise RuntimeError("no generation recorded: " + p.log()[-600:])
        per_chunk = layout(glob.glob(p.d.db + ".ckpt[01]")[0])[1]
        p.rc.close()
        p.ref.stop()
        p = None
        # Two chunks, the second a quarter full: the last chunk's pieces
        # end at the count, not at the chunk's end.
        n = per_chunk + per_chunk // 4
        big = os.path.join(r.tmp, "big")
        os.mkdir(big)
        p = Pair(big, n=n)
        p.push(3)

        name = "an intact checkpoint of two chunks: accepted, bit for bit"
        if not p.crash_after_record()[0]:
            raise RuntimeError("no generation recorded: " + p.log()[-600:])
        files = glob.glob(p.d.db + ".ckpt[01]")
        nchunks = [-(-layout(f)[0] // layout(f)[1]) for f in files]
        p.c = p.d.start()
        line = restored_line(p.log())
        diff = p.diff()
        if (min(nchunks) >= 2 and
                count_in(line, " from the checkpoint") >= n // 2 and
                not diff):
            ok(name)
        else:
            bad(name, "chunks %r, differ %d; %s" % (nchunks, len(diff), line))

        for which in ("first", "last"):
            name = ("a damaged slot in the %s chunk: checkpoint rejected, "
                    "the database alone, bit for bit" % which)
            if not p.crash_after_record()[0]:
                raise RuntimeError("no generation recorded: " +
                                   p.log()[-600:])
            files = glob.glob(p.d.db + ".ckpt[01]")
            for f in files:
                count, per, chunk_bytes, slots_off, _ = layout(f)
                c = 0 if which == "first" else (count - 1) // per
                off = slots_off + c * chunk_bytes + 40
                with open(f, "r+b") as fh:
                    fh.seek(off)
                    b = fh.read(1)
                    fh.seek(off)
                    fh.write(bytes([b[0] ^ 0x5a]))
            p.c = p.d.start()
            log = p.log()
            line = restored_line(log)
            diff = p.diff()
            if ("checksum mismatch): restoring from the database" in log and
                    count_in(line, " from the checkpoint") == 0 and
                    not diff):
                ok(name)
            else:
                bad(name, "differ %d; %s; log: %s" % (len(diff), line,
                                                       log[-800:]))
    except Exception as e:  # a crash of the test is a failure, not a hang
        bad("test ran to the end", repr(e))
    finally:
        if p:
            p.close()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
