#!/usr/bin/python3
"""bench/wal_account.py TRACE PAGES SAMPLES [LABEL]: where a traced run's
store writes and reads went, by b-tree (bench/walpages.sh runs it).

TRACE is bench/shim/iotrace.c's log of the writer's pwrite/pread/sync on
the database and its WAL; PAGES is `SELECT pageno, name FROM dbstat` of the
database after the run (a page's b-tree at the end: a page freed and
reused meanwhile counts for its last owner; "free" is a page no b-tree
holds at the end). SAMPLES divides every byte figure.

Per b-tree: WAL frames (a frame is 24 bytes + a page), and the bytes a
sample of WAL appends, of checkpoint copies (the database pwrites) and of
reads: the checkpoint reading WAL frames back (a WAL pread followed by a
database pwrite), other WAL preads (pages found in the WAL by a cache
miss) and database preads (cache misses). Then what checkpoints at other
spacings would have copied: the distinct pages between checkpoints, each
page copied once, replayed from the same frames.
"""
import collections
import struct
import sys


def main():
    tr, pages, nsmp = sys.argv[1], sys.argv[2], int(sys.argv[3])
    label = sys.argv[4] if len(sys.argv) > 4 else tr
    owner = {}
    for line in open(pages):
        p, name = line.rstrip("\n").split("|")[:2]
        owner[int(p)] = name
    recs = list(struct.iter_unpack("<BBHIQII", open(tr, "rb").read()))
    ps = None
    for op, f, _, ln, off, w0, w1 in recs:
        if op == 1 and f == 1 and ln not in (24, 32):
            ps = ln
            break
    if ps is None:
        sys.exit("wal_account: no WAL page in %s" % tr)

    def own(p):
        return owner.get(p, "free")

    walf = collections.Counter()
    ckw = collections.Counter()
    ckr = collections.Counter()
    rd_wal = collections.Counter()
    rd_db = collections.Counter()
    frame_pg = {}
    commits, ckpts, in_ck = 0, 0, False
    seq, cur = [], []  # the frames' pages, commit by commit
    for i, (op, f, _, ln, off, w0, w1) in enumerate(recs):
        if op == 1 and f == 1 and ln == 24:
            frame_pg[off + 24] = w0
            walf[own(w0)] += 1
            cur.append(w0)
            if w1:
                commits += 1
                seq.append(cur)
                cur = []
        elif op == 1 and f == 0:
            ckw[own(off // ps + 1)] += ln
            in_ck = True
        elif op == 2 and f == 1:
            nxt = recs[i + 1] if i + 1 < len(recs) else None
            n = own(frame_pg.get(off, -1))
            if nxt and nxt[0] == 1 and nxt[1] == 0:
                ckr[n] += ln
            else:
                rd_wal[n] += ln
        elif op == 2:
            rd_db[own(off // ps + 1)] += ln
        elif op == 3 and f == 0 and in_ck:
            ckpts += 1
            in_ck = False
    fb = ps + 24
    names = sorted(set(walf) | set(ckw) | set(rd_db) | set(rd_wal),
                   key=lambda n: -(walf[n] * fb + ckw[n] + rd_db[n]))
    print("### %s\n" % label)
    print("%d samples, %d commits, %d checkpoints, %d-byte pages; bytes a "
          "sample:\n" % (nsmp, commits, ckpts, ps))
    print("| b-tree | WAL frames | frames a commit | WAL appends | "
          "checkpoint copies | checkpoint's WAL reads | other WAL reads | "
          "database reads |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    tot = [0.0] * 7
    for n in names:
        row = [walf[n], walf[n] / max(commits, 1), walf[n] * fb / nsmp,
               ckw[n] / nsmp, ckr[n] / nsmp, rd_wal[n] / nsmp,
               rd_db[n] / nsmp]
        if not any(row):
            continue
        tot = [a + b for a, b in zip(tot, row)]
        print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |"
              % tuple([n] + row))
    print("| **all** | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n"
          % tuple(tot))
    print("Written a sample: %.1f (WAL %.1f + checkpoints %.1f); read: %.1f."
          "\n" % (tot[2] + tot[3], tot[2], tot[3], tot[4] + tot[5] + tot[6]))
    print("Checkpoint copies a sample had the writer checkpointed every N "
          "MiB of WAL (replayed: distinct pages between checkpoints): "
          + ", ".join(
              "%d MiB %.1f" % (mib, spaced(seq, mib, fb, ps) / nsmp)
              for mib in (64, 256, 1024, 4096)) + ".\n")


def spaced(seq, mib, fb, ps):
    lim, n, cur, pages = (mib << 20) // fb, 0, set(), 0
    for c in seq:
        n += len(c)
        cur.update(c)
        if n >= lim:
            pages += len(cur)
            n, cur = 0, set()
    return (pages + len(cur)) * ps


if __name__ == "__main__":
    main()
