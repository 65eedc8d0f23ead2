"""bench/fc_movestep.py: the CPU of io/store_fc.c's move step (its three
statements, INSERT OR IGNORE) by rows a step (1000, 5000, 20000; two
alternating reps) on 300k rows of the default model's size, SQLite from
Python (bench/fc_movecost.py with the step varied; bench/results/
bgmove15.md). Files in /tmp/bgmove15-mc."""
import sqlite3, os, time, sys
os.makedirs("/tmp/bgmove15-mc", exist_ok=True)
def run(step, N=3000, PER=100):
    p = "/tmp/bgmove15-mc/mv.db"
    for s in ("", "-wal", "-shm"):
        if os.path.exists(p + s): os.remove(p + s)
    db = sqlite3.connect(p, isolation_level=None)
    db.execute("PRAGMA page_size=16384"); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL"); db.execute("PRAGMA cache_size=-65536")
    cols = "(series_id INTEGER NOT NULL, t REAL NOT NULL, horizon INTEGER NOT NULL, nq INTEGER NOT NULL, levels BLOB NOT NULL, q BLOB NOT NULL, mean BLOB NOT NULL)"
    db.execute("CREATE TABLE forecasts_v6" + cols); db.execute("CREATE UNIQUE INDEX forecasts_key ON forecasts_v6(series_id,t)")
    db.execute("CREATE TABLE forecasts" + cols); db.execute("CREATE UNIQUE INDEX forecasts_grp ON forecasts(series_id>>6,t,series_id)")
    blob = os.urandom(576)
    db.execute("BEGIN")
    for k in range(PER):
        db.executemany("INSERT INTO forecasts_v6 VALUES(?,?,48,3,x'000000000000000000000000',?,x'')", ((s, 1.7e9 + k * 300.0, blob) for s in range(1, N + 1)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c0 = time.process_time(); n = 0; walmax = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        last = db.execute("SELECT max(rowid) FROM (SELECT rowid FROM forecasts_v6 ORDER BY rowid LIMIT ?)", (step,)).fetchone()[0]
        if last is None:
            db.execute("DROP TABLE forecasts_v6"); db.execute("COMMIT"); break
        db.execute("INSERT OR IGNORE INTO forecasts(series_id,t,horizon,nq,levels,q,mean) SELECT series_id,t,horizon,nq,levels,q,mean FROM forecasts_v6 WHERE rowid<=? ORDER BY series_id>>6,t,series_id", (last,))
        db.execute("DELETE FROM forecasts_v6 WHERE rowid<=?", (last,))
        db.execute("COMMIT"); n += 1
        if n % 50 == 0: db.execute("PRAGMA wal_checkpoint(RESTART)")
    cpu = time.process_time() - c0
    print(f"step {step}: {N*PER} rows in {n} steps: {cpu:.2f} s cpu, {N*PER/cpu:.0f} rows/s cpu, {cpu/n*1e3:.1f} ms cpu a step; load {os.getloadavg()[0]:.1f}", flush=True)
for rep in range(2):
    for st in (1000, 5000, 20000):
        run(st)
for s in ("", "-wal", "-shm"):
    if os.path.exists("/tmp/bgmove15-mc/mv.db" + s):
        os.remove("/tmp/bgmove15-mc/mv.db" + s)
