"""bench/fc_bgmove.py: an upgrade from schema 6 with the forecasts moved in
the store writer's idle time (io/store_fc.c): how long until systemd hears
READY=1, how long until the move ends, and the ingest rate during the move
against after it, on a version-6 database written by an older statecastd.

  /usr/bin/python3 bench/fc_bgmove.py --old OLD_BUILD --new NEW_BUILD
      [--base BASE_BUILD] [--series S] [--aged N] [--per P] [--reps R]
      [--seeded DIR] [--work DIR]

Seeding (skipped with --seeded DIR, a directory holding db from an
earlier run's --work): OLD_BUILD's statecastd (schema 6, e.g.
/tmp/base-31619bc/build) takes loadgen's S series x N samples at a 60 s
step from T0 (recent: N + 2 P steps and an hour before now, since forecast
retention, 7 days, goes by the clock; kept in WORK/seed/t0) with store.forecast_every_s=1s (a forecast row stored
at every refresh) until its store drained, then stops cleanly. The seed is
kept in WORK/seed (printed); nothing is written to it afterwards.

Each rep, on a fresh copy of the seed:
  idle:   NEW_BUILD's statecastd starts (NOTIFY_SOCKET of this script's
          own); times from exec to READY=1 and to the stats' store_fc_moving
          false, no ingest;
  ingest: the same start, then loadgen S x P samples flat out (times
          continuing the seed's, --drain) while the move runs; the rate
          and whether the move was still running when loadgen ended; the
          move's end; then S x P more samples after it (the same daemon);
  base:   with --base (a build of schema 7 that moves inside store_open,
          e.g. /tmp/base-a29e251/build): exec to READY=1 (the whole move),
          then the same S x P samples as `ingest`'s first run.
Prints one line a run and the medians. Every daemon runs under `nice`;
copies are removed as they are done with (the seed too, unless --seeded
or --keep-seed).
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

STEP = 60


def parse():
    a = argparse.ArgumentParser()
    a.add_argument("--old", default="/tmp/base-31619bc/build")
    a.add_argument("--new", default="build")
    a.add_argument("--base")
    a.add_argument("--series", type=int, default=10000)
    a.add_argument("--aged", type=int, default=300)
    a.add_argument("--per", type=int, default=30)
    a.add_argument("--reps", type=int, default=3)
    a.add_argument("--seeded")
    a.add_argument("--keep-seed", action="store_true")
    a.add_argument("--work")
    return a.parse_args()


def start(build, db, log, notify=None, extra=()):
    """statecastd on db under nice; returns (proc, graphite, rpc ports)."""
    model = os.path.join(os.path.dirname(os.path.abspath(build)), "models",
                         "default.model")
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify:
        env["NOTIFY_SOCKET"] = notify
    off = os.path.getsize(log) if os.path.exists(log) else 0
    cmd = ["nice", os.path.join(build, "statecastd"),
           "-o", "listen.graphite=127.0.0.1:0", "-o", "listen.influx=",
           "-o", "listen.rpc=127.0.0.1:0", "-o", "listen.socket=",
           "-o", "listen.http=", "-o", "store.path=" + db,
           "-o", "model.path=" + model] + list(extra)
    f = open(log, "ab")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    f.close()
    ports = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(ports) < 2:
        with open(log, "rb") as fh:
            fh.seek(off)
            for line in fh.read().decode("utf-8", "replace").splitlines():
                for proto in ("graphite", "rpc"):
                    key = "listening %s on " % proto
                    if key in line:
                        ports[proto] = line.split(key)[1].split()[0]
        if p.poll() is not None:
            raise SystemExit("statecastd exited, see %s" % log)
        time.sleep(0.02)
    return p, ports["graphite"], ports["rpc"]


def stop(p):
    p.terminate()
    p.wait()


def stats(build, rpc):
    out = subprocess.run([os.path.join(build, "statecast"), "stats",
                          "--json", "--rpc", rpc], capture_output=True,
                         text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def loadgen(build, graphite, rpc, series, count, t0):
    out = subprocess.run(
        [os.path.join(build, "bench", "loadgen"), "--graphite", graphite,
         "--series", str(series), "--count", str(count), "--t0", str(t0),
         "--step", str(STEP), "--until-rpc", rpc, "--drain"],
        capture_output=True, text=True).stdout
    kv = dict(x.split("=", 1) for x in out.split() if "=" in x)
    if kv.get("complete") != "1":
        raise SystemExit("loadgen did not complete: " + out)
    return kv


def notify_socket(d):
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s, path


def wait_ready(sock, deadline_s=600):
    sock.settimeout(deadline_s)
    while True:
        msg = sock.recv(4096).decode("utf-8", "replace")
        if "READY=1" in msg.split("\n"):
            return time.monotonic()


def wait_moved(build, rpc, limit_s=7200):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        st = stats(build, rpc)
        if st and not st.get("store_fc_moving", True):
            return time.monotonic(), st
        time.sleep(0.1)
    raise SystemExit("the move did not end in %d s" % limit_s)


def seed(a, work):
    d = os.path.join(work, "seed")
    os.makedirs(d)
    db, log = os.path.join(d, "db"), os.path.join(d, "log")
    p, g, r = start(a.old, db, log, extra=["-o",
                                             "store.forecast_every_s=1s"])
    t0 = int(time.time()) - STEP * (a.aged + 2 * a.per) - 3600
    with open(os.path.join(d, "t0"), "w") as f:
        f.write("%d\n" % t0)
    kv = loadgen(a.old, g, r, a.series, a.series * a.aged, t0)
    rows = stats(a.old, r).get("store_rows_committed")
    stop(p)
    v6 = subprocess.run(["sqlite3", db, "PRAGMA user_version; SELECT "
                         "count(*) FROM forecasts"], capture_output=True,
                        text=True).stdout.split()
    print("seeded %s: %d x %d, rate %s, %s rows committed, user_version %s, "
          "%s forecast rows, %d MiB" % (
              d, a.series, a.aged, kv.get("rate"), rows, v6[0], v6[1],
              sum(os.path.getsize(os.path.join(d, f))
                  for f in os.listdir(d)) >> 20), flush=True)
    return d


def one(a, seed_dir, work, k, mode):
    d = os.path.join(work, "run%d%s" % (k, mode))
    build = a.base if mode == "base" else a.new
    ingest = mode == "ingest"
    shutil.copytree(seed_dir, d)
    db, log = os.path.join(d, "db"), os.path.join(d, "log")
    sock, npath = notify_socket(d)
    t_exec = time.monotonic()
    p, g, r = start(build, db, log, notify=npath)
    t_ready = wait_ready(sock) - t_exec
    sock.close()
    res = {"ready_s": t_ready}
    with open(os.path.join(seed_dir, "t0")) as f:
        t1 = int(f.read()) + STEP * a.aged
    if mode == "base":
        kv = loadgen(build, g, r, a.series, a.series * a.per, t1)
        res["rate"] = float(kv["rate"])
        res["drained"] = float(kv.get("drained_rate", "nan"))
        stop(p)
        shutil.rmtree(d)
        print("base   rep %d: " % k + " ".join(
            "%s=%.3f" % (x, y) for x, y in res.items()), flush=True)
        return res
    if ingest:
        kv = loadgen(a.new, g, r, a.series, a.series * a.per, t1)
        st = stats(a.new, r)
        res["during_rate"] = float(kv["rate"])
        res["during_drained"] = float(kv.get("drained_rate", "nan"))
        res["still_moving"] = bool(st.get("store_fc_moving"))
        res["moved_then"] = st.get("store_fc_moved")
    t_end, st = wait_moved(a.new, r)
    res["moved_s"] = t_end - t_exec
    res["moved_rows"] = st.get("store_fc_moved")
    if ingest:
        kv = loadgen(a.new, g, r, a.series, a.series * a.per,
                     t1 + STEP * a.per)
        res["after_rate"] = float(kv["rate"])
        res["after_drained"] = float(kv.get("drained_rate", "nan"))
    stop(p)
    shutil.rmtree(d)
    print("%-6s rep %d: " % (mode, k) +
          " ".join("%s=%s" % (x, ("%.3f" % y) if isinstance(y, float)
                              else y) for x, y in res.items()), flush=True)
    return res


def med(rs, key):
    v = [r[key] for r in rs if key in r]
    return statistics.median(v) if v else float("nan")


def main():
    a = parse()
    work = a.work or tempfile.mkdtemp(prefix="fc_bgmove.")
    os.makedirs(work, exist_ok=True)
    print("nproc %d, load %.1f %.1f %.1f, old %s, new %s" % (
        os.cpu_count(), *os.getloadavg(), a.old, a.new), flush=True)
    sd = a.seeded or seed(a, work)
    idle, ing, base = [], [], []
    try:
        for k in range(a.reps):
            if a.base:
                base.append(one(a, sd, work, k, "base"))
            idle.append(one(a, sd, work, k, "idle"))
            ing.append(one(a, sd, work, k, "ingest"))
    finally:
        if not a.seeded and not a.keep_seed:
            shutil.rmtree(sd, ignore_errors=True)
    print("medians of %d: idle ready_s=%.3f moved_s=%.1f | ingest "
          "ready_s=%.3f during_rate=%.0f after_rate=%.0f (%.2fx) "
          "during_drained=%.0f after_drained=%.0f moved_s=%.1f; "
          "load %.1f" % (
              a.reps, med(idle, "ready_s"), med(idle, "moved_s"),
              med(ing, "ready_s"), med(ing, "during_rate"),
              med(ing, "after_rate"),
              med(ing, "during_rate") / med(ing, "after_rate"),
              med(ing, "during_drained"), med(ing, "after_drained"),
              med(ing, "moved_s"), os.getloadavg()[0]))
    if base:
        print("base medians of %d: ready_s=%.1f rate=%.0f drained=%.0f; "
              "ingest's during_rate / base rate %.2fx" % (
                  a.reps, med(base, "ready_s"), med(base, "rate"),
                  med(base, "drained"),
                  med(ing, "during_rate") / med(base, "rate")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
