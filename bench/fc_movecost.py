"""bench/fc_movecost.py: the CPU of io/store_fc.c's move of a version-6
forecasts table (its statements: the step's last rowid, INSERT OR IGNORE,
DELETE) on SERIES x PER rows of the default model's size (576-byte q) in
commit order, SQLite from Python, 16 KiB pages, WAL, synchronous NORMAL.

    fc_movecost.py [--steps 20000[,5000,...]] [--series 10000] [--per 100]
                   [--reps 1]

Defaults: fclog11's run (1M rows, 20000 a step; bench/results/fclog11.md
section 5). bgmove15's step sizes: --steps 1000,5000,20000 --series 3000
--reps 2 (bench/results/bgmove15.md). Files in /tmp/fc_movecost."""
import argparse
import os
import sqlite3
import time

D = "/tmp/fc_movecost"
COLS = ("(series_id INTEGER NOT NULL, t REAL NOT NULL, horizon INTEGER "
        "NOT NULL, nq INTEGER NOT NULL, levels BLOB NOT NULL, q BLOB NOT "
        "NULL, mean BLOB NOT NULL)")
FC = "series_id,t,horizon,nq,levels,q,mean"


def remove(p):
    for s in ("", "-wal", "-shm"):
        if os.path.exists(p + s):
            os.remove(p + s)


def run(step, n_series, per):
    p = os.path.join(D, "mv.db")
    remove(p)
    db = sqlite3.connect(p, isolation_level=None)
    for pr in ("page_size=16384", "journal_mode=WAL", "synchronous=NORMAL",
               "cache_size=-65536"):
        db.execute("PRAGMA " + pr)
    db.execute("CREATE TABLE forecasts_v6" + COLS)
    db.execute("CREATE UNIQUE INDEX forecasts_key ON "
               "forecasts_v6(series_id,t)")
    db.execute("CREATE TABLE forecasts" + COLS)
    db.execute("CREATE UNIQUE INDEX forecasts_grp ON "
               "forecasts(series_id>>6,t,series_id)")
    blob = os.urandom(576)
    db.execute("BEGIN")
    for k in range(per):
        db.executemany(
            "INSERT INTO forecasts_v6 VALUES(?,?,48,3,x'000000000000000000"
            "000000',?,x'')",
            ((s, 1.7e9 + k * 300.0, blob) for s in range(1, n_series + 1)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t0, c0, n = time.time(), time.process_time(), 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        last = db.execute(
            "SELECT max(rowid) FROM (SELECT rowid FROM forecasts_v6 "
            "ORDER BY rowid LIMIT ?)", (step,)).fetchone()[0]
        if last is None:
            db.execute("DROP TABLE forecasts_v6")
            db.execute("COMMIT")
            break
        db.execute("INSERT OR IGNORE INTO forecasts(%s) SELECT %s FROM "
                   "forecasts_v6 WHERE rowid<=? ORDER BY series_id>>6,t,"
                   "series_id" % (FC, FC), (last,))
        db.execute("DELETE FROM forecasts_v6 WHERE rowid<=?", (last,))
        db.execute("COMMIT")
        n += 1
        if n % 50 == 0:
            db.execute("PRAGMA wal_checkpoint(RESTART)")
    el, cpu = time.time() - t0, time.process_time() - c0
    rows = n_series * per
    print("step %d: %d rows in %d steps: %.1f s wall, %.2f s cpu, %.0f rows/s "
          "cpu, %.1f ms cpu a step; load %.1f" %
          (step, rows, n, el, cpu, rows / cpu, cpu / n * 1e3,
           os.getloadavg()[0]), flush=True)
    db.close()
    remove(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="20000")
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--per", type=int, default=100)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(D, exist_ok=True)
    for _ in range(a.reps):
        for st in a.steps.split(","):
            run(int(st), a.series, a.per)


if __name__ == "__main__":
    main()
