"""bench/fc_movecost.py: the CPU of io/store_fc.c's move of a version-6
forecasts table (its three statements, 20000 rows a transaction) on 1M
rows of the default model's size (bench/results/fclog11.md section 5).
Files in /tmp/fclog11."""
import sqlite3, os
import time
os.makedirs("/tmp/fclog11", exist_ok=True)
p = "/tmp/fclog11/mv.db"
for s in ("", "-wal", "-shm"):
    if os.path.exists(p + s): os.remove(p + s)
db = sqlite3.connect(p, isolation_level=None)
db.execute("PRAGMA page_size=16384"); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL"); db.execute("PRAGMA cache_size=-65536")
cols = "(series_id INTEGER NOT NULL, t REAL NOT NULL, horizon INTEGER NOT NULL, nq INTEGER NOT NULL, levels BLOB NOT NULL, q BLOB NOT NULL, mean BLOB NOT NULL)"
db.execute("CREATE TABLE forecasts_v6" + cols); db.execute("CREATE UNIQUE INDEX forecasts_key ON forecasts_v6(series_id,t)")
db.execute("CREATE TABLE forecasts" + cols); db.execute("CREATE UNIQUE INDEX forecasts_grp ON forecasts(series_id>>6,t,series_id)")
blob = os.urandom(576)
N, PER = 10000, 100  # 1M rows, commit order
db.execute("BEGIN")
for k in range(PER):
    db.executemany("INSERT INTO forecasts_v6 VALUES(?,?,48,3,x'000000000000000000000000',?,x'')", ((s, 1.7e9 + k * 300.0, blob) for s in range(1, N + 1)))
db.execute("COMMIT")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
t0 = time.time(); c0 = time.process_time(); n = 0
while True:
    db.execute("BEGIN IMMEDIATE")
    last = db.execute("SELECT max(rowid) FROM (SELECT rowid FROM forecasts_v6 ORDER BY rowid LIMIT 20000)").fetchone()[0]
    if last is None:
        db.execute("DROP TABLE forecasts_v6"); db.execute("COMMIT"); break
    db.execute("INSERT INTO forecasts(series_id,t,horizon,nq,levels,q,mean) SELECT series_id,t,horizon,nq,levels,q,mean FROM forecasts_v6 WHERE rowid<=? ORDER BY series_id>>6,t,series_id", (last,))
    db.execute("DELETE FROM forecasts_v6 WHERE rowid<=?", (last,))
    db.execute("COMMIT"); n += 1
el = time.time() - t0; cpu = time.process_time() - c0
print(f"{N*PER} rows in {n} steps: {el:.1f} s wall, {cpu:.1f} s cpu, {N*PER/cpu:.0f} rows/s cpu, {cpu/n*1e3:.0f} ms cpu a step; load {os.getloadavg()[0]:.1f}")
