"""bench/slog_compat.py MAIN_STATECASTD THIS_STATECASTD: a database written
by an older statecastd (schema 3: a samples row per sample), killed -9, then
opened by this tree's (schema 4: converted into chunks at open, then
restored from snapshots + replay): prints whether every series' history,
sample count and state CRC equal what the old daemon answered before its
kill. A check of the migration with a real old build (build it from
`git archive main`); retention off, so that the comparison is exact."""
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import storelib

main_bin, head_bin = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="slog_compat.")
T0 = 1.7e9
NS, NT = 40, 300
storelib.DAEMON = main_bin
d = storelib.Daemon(tmp, "c", opts=["store.retention_s=0"])
c = d.start()
for k in range(NT):
    pts = [["cmp.s%02d" % i, T0 + 60 * k,
            float("nan") if (k == 77 and i == 3) else math.sin(k * 0.1 + i) * 10 + i]
           for i in range(NS)]
    c.call("push", {"samples": pts})
before = {}
for i in range(NS):
    n = "cmp.s%02d" % i
    h = c.call("history", {"series": n, "limit": 100000})
    info = c.call("info", {"series": n})
    before[n] = (h["points"], info["samples"], info.get("state_crc"))
d.kill9()
ver = storelib.sqlite3.connect(d.db).execute("PRAGMA user_version").fetchone()[0]
storelib.DAEMON = head_bin
c = d.start()
bad = 0
for i in range(NS):
    n = "cmp.s%02d" % i
    h = c.call("history", {"series": n, "limit": 100000})
    info = c.call("info", {"series": n})
    after = (h["points"], info["samples"], info.get("state_crc"))
    same = repr(after) == repr(before[n])
    bad += not same
    if not same:
        print("DIFF", n, len(before[n][0]), len(after[0]), before[n][1:], after[1:])
d.term()
db = storelib.sqlite3.connect(d.db)
print("main wrote schema %d; now schema %d; samples table left: %d; "
      "%d series x %d samples; history, sample count and state_crc equal "
      "for %d of %d series" % (
          ver, db.execute("PRAGMA user_version").fetchone()[0],
          db.execute("SELECT count(*) FROM sqlite_master WHERE name='samples'").fetchone()[0],
          NS, NT, NS - bad, NS))
db.close()
if bad == 0:
    storelib.shutil.rmtree(tmp)
sys.exit(1 if bad else 0)
