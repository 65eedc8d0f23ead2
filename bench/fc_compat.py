"""bench/fc_compat.py MAIN_STATECASTD THIS_STATECASTD: a database written
by an older statecastd (schema 6: forecasts keyed (series_id, t)), killed
-9, then opened by this tree's (schema 7: the rows moved into the table
indexed (series_id>>6, t, series_id) by the writer after open,
io/store_fc.c): prints whether every series' state CRC (asked while the
move runs) and, once the move has ended, every stored forecast (series,
origin, horizon, quantiles, levels, mean) equal what the old daemon left
and answered before its kill. A check of the migration with a real old build
(build it from `git archive main`); retention off, so that the comparison
is exact."""
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import storelib

main_bin, head_bin = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="fc_compat.")
T0 = 1.7e9
NS, NT = 150, 120  # ids over three groups of 64
OPTS = ["store.retention_s=0", "store.forecast_retention_s=0",
        "store.forecast_every_s=5m"]
ROWS = ("SELECT s.name, f.t, f.horizon, f.nq, f.levels, f.q, f.mean "
        "FROM forecasts f JOIN series s ON s.id = f.series_id "
        "WHERE f.t <= ? ORDER BY s.name, f.t")
storelib.DAEMON = main_bin
d = storelib.Daemon(tmp, "c", opts=OPTS)
c = d.start()
for k in range(NT):
    pts = [["cmp.s%03d" % i, T0 + 60 * k, math.sin(k * 0.1 + i) * 10 + i]
           for i in range(NS)]
    c.call("push", {"samples": pts})
crc = {}
for i in range(NS):
    n = "cmp.s%03d" % i
    crc[n] = c.call("info", {"series": n}).get("state_crc")
d.kill9()
db = storelib.sqlite3.connect(d.db)
ver = db.execute("PRAGMA user_version").fetchone()[0]
before = db.execute(ROWS, (T0 + 60 * NT,)).fetchall()
db.close()
storelib.DAEMON = head_bin
c = d.start()
bad = 0
for i in range(NS):
    n = "cmp.s%03d" % i
    got = c.call("info", {"series": n}).get("state_crc")
    if got != crc[n]:
        bad += 1
        print("DIFF state_crc", n, crc[n], got)
moving = c.call("stats").get("store_fc_moving")
deadline = storelib.time.monotonic() + 600
while (c.call("stats").get("store_fc_moving", True)
       and storelib.time.monotonic() < deadline):
    storelib.time.sleep(0.1)
d.term()
db = storelib.sqlite3.connect(d.db)
after = db.execute(ROWS, (T0 + 60 * NT,)).fetchall()
same = before == after
bad += not same
if not same:
    print("DIFF forecasts: %d rows before, %d after" % (len(before), len(after)))
print("moving at the first stats: %s" % moving)
print("main wrote schema %d; now schema %d; forecasts_v6 left: %d; "
      "%d series x %d samples, %d stored forecasts equal: %s; state_crc "
      "equal for %d of %d series" % (
          ver, db.execute("PRAGMA user_version").fetchone()[0],
          db.execute("SELECT count(*) FROM sqlite_master WHERE "
                     "name='forecasts_v6'").fetchone()[0],
          NS, NT, len(before), same,
          NS - (bad - (not same)), NS))
db.close()
if bad == 0:
    storelib.shutil.rmtree(tmp)
sys.exit(1 if bad else 0)
