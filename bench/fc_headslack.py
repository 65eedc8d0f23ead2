#!/usr/bin/python3
"""What the forecasts table's head delete writes in a live feed, by the
slack it waits for (ret16.md section 3's estimate, measured on SQLite
itself): WAL pages a deleted forecast, deleting the head every second (as
io/store_retention.c does) or only once its oldest row is SLACK seconds
past the cutoff, then everything older than the cutoff in one transaction.

    bench/fc_headslack.py [SERIES [DEPTH [SECONDS [SLACK...]]]]

The table and index are schema 7's (io/store_schema.c: a rowid table,
unique index forecasts_grp on (series_id>>6, t, series_id)), 16 KiB pages,
rows of a default-model forecast's size. A live feed's order: each series
stores a forecast every 300 s (store.forecast_every_s) at its own phase,
so a second's forecasts come from series spread over every group, as at
the operating point (250k samples/s over 100k series: 333 forecasts a
second over 1563 groups; here SERIES / 300 a second over SERIES / 64).
The database is filled with DEPTH forecasts a series in that order, then
SECONDS seconds are simulated: each second stores its forecasts (one
transaction) and runs the head's delete with the cutoff at the oldest
stored time + the elapsed seconds. Frames are counted from the WAL's size
(no checkpoint runs), for the delete transactions only. SQLite is
Python's, the system library the daemon links (Debian's).
"""
import os
import random
import sqlite3
import sys
import tempfile

PAGE = 16384
FRAME = PAGE + 24
EVERY = 300.0
# levels (3 quantiles), q (3 x 24 horizons), mean stored apart: ~300 B.
LEVELS, Q, MEAN = b"\0" * 12, b"\1" * 288, b""


def schema(db):
    db.executescript(
        "PRAGMA page_size=%d; PRAGMA journal_mode=WAL;"
        "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=OFF;"
        "CREATE TABLE forecasts(series_id INTEGER NOT NULL, t REAL NOT "
        "NULL, horizon INTEGER NOT NULL, nq INTEGER NOT NULL, levels BLOB "
        "NOT NULL, q BLOB NOT NULL, mean BLOB NOT NULL);"
        "CREATE UNIQUE INDEX forecasts_grp ON forecasts(series_id>>6,t,"
        "series_id);" % PAGE)


def rows_between(phase, t0, t1):
    """(t, sid) of the forecasts stored in [t0, t1), in time order."""
    out = []
    for sid, ph in enumerate(phase, 1):
        k = int((t0 - ph) // EVERY)
        t = ph + k * EVERY
        while t < t1:
            if t >= t0:
                out.append((t, sid))
            t += EVERY
    out.sort()
    return out


def insert(db, rows):
    db.executemany("INSERT INTO forecasts VALUES(?,?,24,3,?,?,?)",
                   [(sid, t, LEVELS, Q, MEAN) for t, sid in rows])


def run(path, phase, start, seconds, slack):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("PRAGMA synchronous=OFF")
    wal = path + "-wal"
    t0 = db.execute("SELECT min(t) FROM forecasts").fetchone()[0]
    frames = deleted = txns = 0
    for k in range(seconds):
        now = start + k
        db.execute("BEGIN")
        insert(db, rows_between(phase, now, now + 1))
        db.execute("COMMIT")
        cutoff = t0 + k + 1
        head = db.execute("SELECT t FROM forecasts ORDER BY rowid LIMIT 1"
                          ).fetchone()
        if not head or head[0] >= cutoff - slack:
            continue
        last = db.execute(
            "SELECT max(rowid) FROM (SELECT rowid, t FROM forecasts ORDER "
            "BY rowid) WHERE t < ?", (cutoff,)).fetchone()[0]
        before = os.path.getsize(wal)
        db.execute("BEGIN")
        n = db.execute("DELETE FROM forecasts WHERE rowid<=?",
                       (last,)).rowcount
        db.execute("COMMIT")
        frames += (os.path.getsize(wal) - before) // FRAME
        deleted += n
        txns += 1
    db.close()
    return frames, deleted, txns


def main():
    a = sys.argv[1:]
    series = int(a[0]) if a else 20000
    depth = int(a[1]) if len(a) > 1 else 40
    seconds = int(a[2]) if len(a) > 2 else 300
    slacks = [float(x) for x in a[3:]] or [0.0, 10.0, 60.0]
    rnd = random.Random(17)
    phase = [rnd.uniform(0, EVERY) for _ in range(series)]
    work = tempfile.mkdtemp(prefix="statecast-fchead.")
    seed = os.path.join(work, "seed.db")
    db = sqlite3.connect(seed, isolation_level=None)
    schema(db)
    start = depth * EVERY
    db.execute("BEGIN")
    insert(db, rows_between(phase, 0.0, start))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = db.execute("SELECT count(*) FROM forecasts").fetchone()[0]
    db.close()
    print("forecasts: %d series (%d groups), %d stored (%d a series), "
          "%.0f a second stored and aged; %d s simulated, 16 KiB pages"
          % (series, (series + 63) // 64, n, depth, series / EVERY,
             seconds))
    print("| slack s | delete transactions | rows deleted | WAL pages "
          "| pages a deleted row | bytes a deleted row |")
    print("|---|---|---|---|---|---|")
    for slack in slacks:
        path = os.path.join(work, "run.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        with open(seed, "rb") as f, open(path, "wb") as g:
            g.write(f.read())
        frames, deleted, txns = run(path, phase, start, seconds, slack)
        print("| %g | %d | %d | %d | %.3f | %.0f |" % (
            slack, txns, deleted, frames, frames / max(deleted, 1),
            frames * PAGE / max(deleted, 1)))
    for name in os.listdir(work):
        os.remove(os.path.join(work, name))
    os.rmdir(work)


if __name__ == "__main__":
    main()
