"""bench/fc_bgmove_kill.py SEED_DIR [BUILD]: the background move of schema
6's forecasts (io/store_fc.c) killed -9 three times (after 200k, 700k and
1.5M rows moved by each start), then left to end: prints whether every
forecast row (series, origin, horizon, quantiles, levels, mean) equals the
version-6 seed's. SEED_DIR is bench/fc_bgmove.py's WORK/seed (its db, kept
with --keep-seed), copied to SEED_DIR.kill (removed when equal)."""
import hashlib
import os
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fc_bgmove as F  # noqa: E402

seed = sys.argv[1]
build = sys.argv[2] if len(sys.argv) > 2 else "build"
d = seed.rstrip("/") + ".kill"
Q = ("SELECT series_id,t,horizon,nq,levels,q,mean FROM forecasts "
     "ORDER BY series_id,t")


def digest(path):
    db = sqlite3.connect(path)
    h, n = hashlib.sha256(), 0
    for row in db.execute(Q):
        h.update(repr(row).encode())
        n += 1
    db.close()
    return n, h.hexdigest()


shutil.rmtree(d, ignore_errors=True)
shutil.copytree(seed, d)
db, log = os.path.join(d, "db"), os.path.join(d, "log")
before = digest(db)
print("seed: %d rows, sha256 %s" % before, flush=True)
for target in (200000, 700000, 1500000):
    p, g, r = F.start(build, db, log)
    while True:
        st = F.stats(build, r)
        if (st.get("store_fc_moved", 0) >= target
                or not st.get("store_fc_moving", True)):
            break
        time.sleep(0.2)
    p.kill()
    p.wait()
    print("killed -9 after %s rows moved (moving: %s)" %
          (st.get("store_fc_moved"), st.get("store_fc_moving")), flush=True)
p, g, r = F.start(build, db, log)
F.wait_moved(build, r)
F.stop(p)
after = digest(db)
c = sqlite3.connect(db)
left = c.execute("SELECT count(*) FROM sqlite_master "
                 "WHERE name='forecasts_v6'").fetchone()[0]
c.close()
print("after: %d rows, sha256 %s; forecasts_v6 left %d; equal: %s" %
      (after + (left, after == before)))
if after == before and not left:
    shutil.rmtree(d)
sys.exit(0 if after == before and not left else 1)
