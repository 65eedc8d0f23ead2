"""bench/fc_walpages.py: the forecasts table alone at steady state (schema 7
bench, bench/results/fclog11.md section 2): 2000 series x 300 origins
stored, then 20 commits of 1667 rows (one origin of every series in id
order); prints the WAL frames a commit and WAL bytes a row under version
6's index (series_id, t), schema 7's (series_id>>6, t, series_id) and
none. Files in /tmp/fclog11."""
import sqlite3, os
import sys
os.makedirs("/tmp/fclog11", exist_ok=True)
# forecasts table alone at steady state: 2000 series x 300 origins already stored,
# then commits of 1667 rows (all series in id order, one origin each): WAL frames per commit
N, PRE, C = 2000, 300, 1667
blob = os.urandom(588)
for kind in ("base", "k6", "noidx"):
    p = f"/tmp/fclog11/wp_{kind}.db"
    for s in ("", "-wal", "-shm"):
        if os.path.exists(p + s): os.remove(p + s)
    db = sqlite3.connect(p, isolation_level=None)
    db.execute("PRAGMA page_size=16384"); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE forecasts(series_id INTEGER NOT NULL, t REAL NOT NULL, horizon INTEGER NOT NULL, nq INTEGER NOT NULL, levels BLOB NOT NULL, q BLOB NOT NULL, mean BLOB NOT NULL)")
    if kind == "base": db.execute("CREATE UNIQUE INDEX k ON forecasts(series_id,t)")
    if kind == "k6": db.execute("CREATE UNIQUE INDEX k ON forecasts(series_id>>6,t,series_id)")
    k = 0
    def commit(n):
        global k
        db.execute("BEGIN")
        for i in range(n):
            sid = k % N + 1; t = 1.7e9 + (k // N) * 50.0; k += 1
            db.execute("INSERT OR REPLACE INTO forecasts VALUES(?,?,48,3,x'000000000000000000000000',?,x'')", (sid, t, blob))
        db.execute("COMMIT")
    while k < N * PRE: commit(C)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    w0 = os.path.getsize(p + "-wal")
    for j in range(20): commit(C)
    w1 = os.path.getsize(p + "-wal")
    frames = (w1 - w0) / (16384 + 24)
    print(kind, "frames/commit %.1f" % (frames / 20), "bytes/row %.0f" % ((w1 - w0) / (20 * C)))
