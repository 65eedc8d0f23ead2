"""The store under a full disk, and retention, against the real daemon.

Disk full: store.max_size caps the database (PRAGMA max_page_count), so
writes fail with SQLITE_FULL as on a full disk. Pushes must then be answered
with an error, never acknowledged; the daemon keeps answering queries; it
stops cleanly; nothing acknowledged is lost; after a restart with space
available, pushes are acknowledged again.

Retention: samples and forecasts older than the windows disappear (in small
steps, with ingest going on), the recent ones stay, and a restart still
restores from the snapshot.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storelib  # noqa: E402

NS = 12


def push(c, name_fmt, k, t):
    return c.call("push", {"samples": [[name_fmt % i, t, float(i + k % 7)]
                                       for i in range(NS)]})


def disk_full(tmp, ok, bad):
    d = storelib.Daemon(tmp, "full", opts=["store.retention_s=0",
                                           "store.snapshot_s=1"])
    c = d.start(["store.max_size=160K"])
    t0 = 1.7e9
    acked, errors, refused, k = [], [], [], 0
    while len(errors) < 20 and k < 20000:
        k += 1
        try:
            r = push(c, "full.s%02d", k, t0 + 10 * k)
            if r["accepted"] == NS:
                acked.append(k)
        except RuntimeError as e:
            errors.append(str(e))
            refused.append(k)
    check = "push refused once the database is full"
    if errors and all("full" in e for e in errors):
        ok(check)
    else:
        bad(check, "%d errors, first %r" % (len(errors), errors[:1]))
    check = "queries served while full"
    try:
        st = c.call("stats")
        info = c.call("info", {"series": "full.s00"})
        if st["store_commit_failures"] > 0 and info["samples"] > 0:
            ok(check)
        else:
            bad(check, "stats %r" % st)
    except RuntimeError as e:
        bad(check, str(e))
    c.close()
    check = "clean stop while full"
    code = d.term()
    if code == 0:
        ok(check)
    else:
        bad(check, "exit %d" % code)
    db = storelib.snapshot_copy(d.db, os.path.join(tmp, "full_check.db"))
    have = storelib.stored_after(db, {})
    check = "acknowledged samples kept, integrity ok"
    lost = [k2 for k2 in acked
            if any(t0 + 10 * k2 not in {r[1] for r in have.get(
                "full.s%02d" % i, [])} for i in range(NS))]
    if not lost and storelib.integrity_ok(db):
        ok(check)
    else:
        bad(check, "%d acknowledged pushes lost" % len(lost))
    # A refusal is not a late success either: the batch is not retried.
    check = "refused pushes not stored"
    stored_t = {r[1] for r in have.get("full.s00", [])}
    if refused and not [k2 for k2 in refused if t0 + 10 * k2 in stored_t]:
        ok(check)
    else:
        bad(check, "%d refused, some stored" % len(refused))
    # Space returns: writes succeed again.
    c = d.start(["store.max_size=0"])
    check = "pushes acknowledged after space returns"
    try:
        base = max(acked) + 10000
        r = [push(c, "full.s%02d", j, t0 + 10 * (base + j)) for j in range(50)]
        if all(x["accepted"] == NS for x in r):
            ok(check)
        else:
            bad(check, repr(r[-1]))
    except RuntimeError as e:
        bad(check, str(e))
    c.close()
    d.term()


def retention(tmp, ok, bad):
    d = storelib.Daemon(tmp, "ret", opts=[
        "store.retention_s=1h", "store.forecast_retention_s=1h",
        "store.forecast_every_s=0", "store.snapshot_s=1"])
    c = d.start()
    now = time.time()
    old = now - 3 * 86400
    for k in range(200):
        push(c, "ret.s%02d", k, old + 10 * k)
    for k in range(20):
        push(c, "ret.s%02d", k, now - 200 + 10 * k)
    check = "old samples deleted, recent kept"
    deadline = time.time() + 30
    n = -1
    while time.time() < deadline:
        h = c.call("history", {"series": "ret.s03", "limit": 100000})
        n = len(h["points"])
        if n == 20:
            break
        time.sleep(0.2)
    if n == 20 and all(p[0] > now - 3600 for p in h["points"]):
        ok(check)
    else:
        bad(check, "%d points left" % n)
    c.close()
    d.term()
    check = "restart after retention restores every series"
    c = d.start()
    info = c.call("info", {"series": "ret.s05"})
    if info["samples"] == 220 and not info["learning"]:
        ok(check)
    else:
        bad(check, repr({k: info[k] for k in ("samples", "learning")}))
    c.close()
    d.term()


def main():
    tmp = tempfile.mkdtemp(prefix="sc_faults_")
    passed, failed = [], []

    def ok(what):
        print("ok   " + what)
        passed.append(what)

    def bad(what, detail):
        print("FAIL %s: %s" % (what, detail))
        failed.append(what)

    try:
        disk_full(tmp, ok, bad)
        retention(tmp, ok, bad)
    except Exception as e:  # a crash of the test is a failure, not a hang
        bad("test ran to the end", repr(e))
    if failed:
        print("logs and databases kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return storelib.summary(len(passed), len(failed))


if __name__ == "__main__":
    sys.exit(main())
