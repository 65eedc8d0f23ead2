#!/usr/bin/python3
"""The systemd units: verified by systemd-analyze against the built binary,
rated by `systemd-analyze security --offline=yes` (exposure <= 2.0), and the
daemon's side of the protocol (READY/STATUS/WATCHDOG/STOPPING through a notify
socket this test binds; socket activation by systemd-socket-activate).

Runs from the top of the tree after `make`; prints "N passed, N failed".
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
import statecast_test as st  # noqa: E402

TOP = opslib.TOP
UNITS = os.path.join(TOP, "systemd")
MAX_EXPOSURE = 2.0
T = opslib.Tally()


def unit_copy(tmp, binary):
    """Copies the units into tmp with ExecStart pointing at `binary`."""
    for name in os.listdir(UNITS):
        if name.endswith((".service", ".socket")):
            shutil.copy(os.path.join(UNITS, name), tmp)
    svc = os.path.join(tmp, "statecastd.service")
    text = open(svc).read()
    text, n = re.subn(r"^ExecStart=/usr/sbin/statecastd",
                      "ExecStart=" + binary, text, flags=re.M)
    open(svc, "w").write(text)
    return n


def units_in(tmp):
    return sorted(os.path.join(tmp, n) for n in os.listdir(tmp)
                  if n.endswith((".service", ".socket")))


def test_verify():
    with tempfile.TemporaryDirectory() as tmp:
        T.check(unit_copy(tmp, opslib.DAEMON) == 1, "one ExecStart rewritten")
        # MANPATH: Documentation=man:... is checked against our own pages.
        env = dict(os.environ, MANPATH=opslib.MANDIR + ":")
        r = subprocess.run(["systemd-analyze", "verify"] + units_in(tmp),
                           capture_output=True, text=True, env=env,
                           timeout=120)
        out = (r.stdout + r.stderr).strip()
        # Unknown keys are only warnings for systemd: any output is a failure.
        T.check(r.returncode == 0 and out == "",
                "systemd-analyze verify is clean: rc=%d %r" %
                (r.returncode, out))
        names = [os.path.basename(p) for p in units_in(tmp)]
        T.check(len([n for n in names if n.endswith(".socket")]) == 4,
                "four socket units: %s" % names)


def test_verify_catches_a_broken_unit():
    """The check above can fail: a missing binary is reported."""
    with tempfile.TemporaryDirectory() as tmp:
        unit_copy(tmp, "/nonexistent/statecastd")
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(tmp, "statecastd.service")],
                           capture_output=True, text=True, timeout=120)
        T.check(r.returncode != 0 and "not executable" in r.stderr,
                "verify rejects a missing ExecStart binary")


def exposure(path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--no-pager", path],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    return float(m.group(1)) if m else None, r.stdout + r.stderr


def test_security_score():
    with tempfile.TemporaryDirectory() as tmp:
        unit_copy(tmp, opslib.DAEMON)
        score, out = exposure(os.path.join(tmp, "statecastd.service"))
        T.check(score is not None, "score parsed: %s" % out[-300:])
        if score is not None:
            print("  exposure %.1f (limit %.1f)" % (score, MAX_EXPOSURE))
            T.check(score <= MAX_EXPOSURE, "exposure %.1f <= %.1f" %
                    (score, MAX_EXPOSURE))
            # The figure the README gives is the one measured.
            readme = open(os.path.join(TOP, "README.md")).read()
            m = re.search(r"exposure\s+([0-9.]+) in `systemd-analyze "
                          r"security`", readme)
            T.check(m is not None and float(m.group(1)) == round(score, 1),
                    "README's exposure %s is the measured %.1f" %
                    (m.group(1) if m else "(not found)", score))
        # The parse is not vacuous: an unhardened unit scores far higher.
        bare = os.path.join(tmp, "bare.service")
        open(bare, "w").write("[Service]\nExecStart=%s\n" % opslib.DAEMON)
        bscore, _ = exposure(bare)
        T.check(bscore is not None and bscore > 5.0,
                "an unhardened unit scores > 5: %s" % bscore)


def test_service_settings():
    text = open(os.path.join(UNITS, "statecastd.service")).read()
    for key in ("Type=notify", "Restart=on-failure",
                "StateDirectory=statecast", "DynamicUser=yes",
                "WatchdogSec=", "NotifyAccess=main"):
        T.check(re.search(r"^" + re.escape(key), text, re.M) is not None,
                "statecastd.service has %s" % key)
    names = set()
    for n in os.listdir(UNITS):
        if n.endswith(".socket"):
            s = open(os.path.join(UNITS, n)).read()
            m = re.search(r"^FileDescriptorName=(\S+)$", s, re.M)
            T.check(m is not None and
                    "Service=statecastd.service" in s,
                    "%s names its fd and its service" % n)
            if m:
                names.add(m.group(1))
    T.check(names == {"graphite", "influx", "rpc", "socket"},
            "descriptor names: %s" % sorted(names))


_groups = {}


def syscall_set(name):
    """The system calls a SystemCallFilter= name stands for: a group
    (@...) expanded through systemd-analyze, nested groups included."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        r = subprocess.run(["systemd-analyze", "syscall-filter", name],
                           capture_output=True, text=True, timeout=60)
        out = set()
        for line in r.stdout.splitlines()[1:]:
            w = line.strip()
            if w and not w.startswith("#"):
                out |= syscall_set(w)
        _groups[name] = out
    return _groups[name]


def filter_allows(unit_text, call):
    """Whether the unit's SystemCallFilter= lines let `call` through, by
    systemd's rules: the first line sets an allow list (or, with ~, a deny
    list), later lines add to or remove from it in order."""
    allow = None
    for m in re.finditer(r"^SystemCallFilter=(~?)(.*)$", unit_text, re.M):
        neg, names = m.group(1) == "~", m.group(2).split()
        calls = set().union(*(syscall_set(n) for n in names))
        if allow is None:
            allow, listed = not neg, set(calls)
        elif neg == (not allow):
            listed |= calls
        else:
            listed -= calls
    if allow is None:
        return True
    return (call in listed) == allow


def test_writer_priority_allowed():
    """The store's writer lowers its own priority (sched_setscheduler to
    SCHED_IDLE, or SCHED_BATCH and setpriority) and the loop and the pool's
    helpers ask for their slice (model.slice_us: sched_setattr): the unit
    lets those three through its ~@resources, and nothing else of that
    group."""
    text = open(os.path.join(UNITS, "statecastd.service")).read()
    for call in ("sched_setscheduler", "setpriority", "sched_setattr"):
        T.check(filter_allows(text, call), "the unit allows %s" % call)
    for call in ("setrlimit", "sched_setaffinity", "set_mempolicy"):
        T.check(not filter_allows(text, call),
                "the unit still refuses %s" % call)
    # The check can fail: without the exception line the writer's
    # sched_setscheduler is refused (EPERM), as it was before.
    bare = re.sub(r"^SystemCallFilter=sched_setscheduler.*\n", "", text,
                  flags=re.M)
    T.check(bare != text and not filter_allows(bare, "sched_setscheduler"),
            "without its exception line the unit refuses sched_setscheduler")


def test_limit_nice():
    """The idle store writer's starvation guard raises it from SCHED_IDLE to
    SCHED_BATCH at nice +5: the kernel allows that unprivileged only if
    20 - 5 <= RLIMIT_NICE. The unit grants exactly that, which allows no
    nice value below +5 (test_threads.py checks the daemon without it)."""
    text = open(os.path.join(UNITS, "statecastd.service")).read()
    m = re.findall(r"^LimitNICE=(\S+)$", text, flags=re.M)
    T.check(m == ["15"], "the unit sets LimitNICE=15 (nice +5), once: %r"
            % m)


def with_env(env, fn):
    """Runs fn() with extra environment variables (inherited by the daemon
    statecast_test.Daemon starts), restoring the environment after."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_notify_ready_watchdog_stopping():
    ns = opslib.NotifySocket()
    try:
        # 200 ms watchdog: pings every 100 ms from the daemon's loop.
        d = with_env({"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"},
                     st.Daemon)
        ready = ns.wait_for("READY", "1")
        T.check(ready is not None, "READY=1 received")
        # READY comes once every listener is bound: the log has them all.
        T.check(all(p in d.ports for p in ("graphite", "influx", "rpc")),
                "listeners bound before READY: %s" % d.ports)
        n = ns.wait_count("WATCHDOG", 3, timeout=30)
        T.check(n >= 3, "at least 3 WATCHDOG=1 pings, got %d" % n)
        r = d.rpc()
        T.check(r.call("ping") is not None, "daemon answers while pinging")
        r.call("push", {"samples": [["stop.s", 1700000000 + 60 * i, 1.0]
                                    for i in range(6)]})
        r.close()
        rc = d.stop()
        T.check(ns.wait_for("STOPPING", "1", timeout=10) is not None,
                "STOPPING=1 received on SIGTERM")
        # The state dump (docs/STATE_DUMP.md) replaces the final snapshots.
        snap = ns.wait_for("STATUS", "stopping: state dump of 1 series",
                           timeout=10)
        T.check(snap is not None and "EXTEND_TIMEOUT_USEC" in snap,
                "the stop timeout is extended while dumping: %s" %
                [m for m in ns.log if "STATUS" in m])
        T.check(rc == 0, "clean exit after SIGTERM: %s" % rc)
        order = [k for m in ns.log for k in m if k in ("READY", "STOPPING")]
        T.check(order[:1] == ["READY"] and order[-1:] == ["STOPPING"],
                "READY before STOPPING: %s" % order)
    finally:
        ns.close()


def status_before_ready(ns, prefix):
    """Waits for READY=1 on the notify socket ns and checks that a STATUS=
    starting with prefix came before it; returns those messages."""
    T.check(ns.wait_for("READY", "1") is not None, "READY=1")
    ready = next((i for i, m in enumerate(ns.log) if "READY" in m), -1)
    hits = [i for i, m in enumerate(ns.log)
            if m.get("STATUS", "").startswith(prefix)]
    T.check(hits and hits[0] < ready,
            "STATUS=%s .. before READY: %s" %
            (prefix, [m.get("STATUS") for m in ns.log if "STATUS" in m]))
    return [ns.log[i] for i in hits if i < ready]


def test_status_during_restore():
    """A restart with a store to recover reports its progress (STATUS=,
    with EXTEND_TIMEOUT_USEC) before READY=1."""
    tmp = tempfile.mkdtemp(prefix="sc-restore-")
    db = "store.path=" + os.path.join(tmp, "db")
    try:
        d = st.Daemon(db)
        d.send_lines("graphite", b"".join(
            b"restore.s%d %d %d\n" % (i % 5, i, 1700000000 + 60 * (i // 5))
            for i in range(50)))
        r = d.rpc()
        st.wait_for(lambda: r.call("list")["total"] == 5, timeout=20)
        r.close()
        T.check(d.stop() == 0, "first daemon stopped cleanly")
        ns = opslib.NotifySocket()
        try:
            d = with_env({"NOTIFY_SOCKET": ns.path},
                         lambda: st.Daemon(db))
            prog = status_before_ready(ns, "restore (series): done 5")
            T.check(any("EXTEND_TIMEOUT_USEC" in m for m in prog),
                    "the start timeout is extended while restoring")
            d.stop()
        finally:
            ns.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_status_during_schema_move():
    """A database of schema 6 (forecasts keyed by series) opens at schema
    7 at once: its forecasts move in the store writer's idle time while
    the daemon serves. READY=1 comes while the move still runs (stats say
    so), samples pushed then are stepped during it, the move ends by
    itself, and every stored forecast is still there after it."""
    import sqlite3
    tmp = tempfile.mkdtemp(prefix="sc-move-")
    path = os.path.join(tmp, "db")
    try:
        # Recent times: forecast retention (7d) is by the clock.
        t0 = int(time.time()) - 8 * 3600
        d = st.Daemon("store.path=" + path)
        d.send_lines("graphite", b"".join(
            b"move.s%d %d %d\n" % (i % 4, i % 17, t0 + 60 * (i // 4))
            for i in range(4 * 120)))
        r = d.rpc()
        st.wait_for(lambda: r.call("list")["total"] == 4, timeout=20)
        r.close()
        T.check(d.stop() == 0, "first daemon stopped cleanly")
        db = sqlite3.connect(path)
        real = db.execute("SELECT series_id, t, horizon, nq, levels, q, "
                          "mean FROM forecasts").fetchall()
        T.check(len(real) >= 4, "forecasts stored: %d" % len(real))
        # Back to schema 6's layout: the same table, keyed by series,
        # with 200k more rows (earlier origins, a second apart, copies
        # of the stored ones): seconds of moving, not milliseconds. And
        # the sample log as schema 6 had it (no tmax, schema 8's).
        db.executescript(
            "DROP INDEX forecasts_grp;"
            "CREATE UNIQUE INDEX forecasts_key ON forecasts(series_id,t);"
            "DROP INDEX sample_log_sid;"
            "ALTER TABLE sample_log DROP COLUMN tmax;"
            "CREATE INDEX sample_log_sid ON sample_log(smax, smin);"
            "PRAGMA user_version=6;")
        db.executemany(
            "INSERT INTO forecasts VALUES(?,?,?,?,?,?,?)",
            ((f[0], t0 - 1 - k) + f[2:]
             for k in range(50000) for f in real[:4]))
        db.commit()
        rows = sorted(db.execute(
            "SELECT series_id, t, q FROM forecasts").fetchall())
        db.close()
        ns = opslib.NotifySocket()
        try:
            d = with_env({"NOTIFY_SOCKET": ns.path},
                         lambda: st.Daemon("store.path=" + path))
            status_before_ready(ns, "store: forecasts of schema 6")
            r = d.rpc()
            s0 = r.call("stats")
            T.check(s0.get("store_fc_moving") is True,
                    "READY=1 before the move ends: %s moved, %s left" %
                    (s0.get("store_fc_moved"), s0.get("store_fc_move_left")))
            d.send_lines("graphite", b"".join(
                b"move.s%d %d %d\n" % (i % 4, i % 17,
                                       t0 + 60 * (120 + i // 4))
                for i in range(4 * 10)))
            s1 = st.wait_for(
                lambda: (lambda x: x if x["stepped"] >= s0["stepped"] + 36
                         else None)(r.call("stats")), timeout=30)
            T.check(s1 and s1.get("store_fc_moving") is True,
                    "samples stepped during the move: %r" %
                    ((s1 and (s1["stepped"], s1.get("store_fc_moved"))),))
            # The move runs in the store writer's idle time, at
            # SCHED_IDLE: on a loaded machine it gets little CPU (a
            # 300 s bound here failed at load ~18 while the move was
            # still moving rows). Waited for as long as it moves rows.
            done = st.wait_progress(
                lambda: not r.call("stats")["store_fc_moving"],
                lambda: r.call("stats").get("store_fc_moved"), stall=120)
            T.check(done, "the move ended (or stood still for 120 s: "
                    "%r moved)" % r.call("stats").get("store_fc_moved"))
            r.close()
            T.check(d.stop() == 0, "second daemon stopped cleanly")
        finally:
            ns.close()
        db = sqlite3.connect(path)
        after = set(db.execute("SELECT series_id, t, q FROM forecasts"))
        left = db.execute("SELECT count(*) FROM sqlite_master "
                          "WHERE name='forecasts_v6'").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.close()
        T.check(left == 0 and version >= 7,
                "moved: forecasts_v6 gone (%d), user_version %d" %
                (left, version))
        T.check(all(x in after for x in rows),
                "every forecast of schema 6 kept (%d of %d)" %
                (sum(1 for x in rows if x in after), len(rows)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wait_log(path, needle, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = open(path, "rb").read().decode("utf-8", "replace")
        if needle in text:
            return text
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    return open(path, "rb").read().decode("utf-8", "replace")


def test_socket_activation():
    """systemd-socket-activate binds graphite, rpc and the unix socket and
    passes them named; the daemon adopts those three, binds influx itself,
    and serves on all of them."""
    tmp = tempfile.mkdtemp(prefix="sc-activate-")
    gport, rport = opslib.free_port(), opslib.free_port()
    upath = os.path.join(tmp, "act.sock")
    logpath = os.path.join(tmp, "log")
    ns = opslib.NotifySocket()
    args = ["systemd-socket-activate",
            "-l", "127.0.0.1:%d" % gport, "-l", "127.0.0.1:%d" % rport,
            "-l", upath, "--fdname=graphite:rpc:socket",
            "-E", "NOTIFY_SOCKET=" + ns.path, "--",
            opslib.DAEMON,
            # Configured addresses that must lose to the passed sockets:
            "-o", "listen.graphite=127.0.0.1:0",
            "-o", "listen.rpc=127.0.0.1:0",
            "-o", "listen.socket=" + os.path.join(tmp, "own.sock"),
            "-o", "listen.influx=127.0.0.1:0", "-o", "listen.http=",
            "-o", "store.path=" + os.path.join(tmp, "db"),
            "-o", "model.path=" + st.MODEL]
    log = open(logpath, "wb")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                            cwd=tmp)
    try:
        wait_log(logpath, "as 5.", proc)
        # The first connection makes systemd-socket-activate exec the
        # daemon with the three listening sockets.
        c = socket.create_connection(("127.0.0.1", gport), timeout=10)
        c.sendall(b"act.first 1.5 1700000000\n")
        c.close()
        text = wait_log(logpath, " ready: ", proc)
        T.check(ns.wait_for("READY", "1") is not None, "READY=1 received")
        for proto, where in (("graphite", "127.0.0.1:%d" % gport),
                             ("rpc", "127.0.0.1:%d" % rport),
                             ("rpc", upath)):
            T.check("listening %s on %s (socket-activated)" % (proto, where)
                    in text, "%s adopted on %s" % (proto, where))
        T.check(re.search(r"listening influx on 127\.0\.0\.1:\d+\n", text)
                is not None, "influx bound by the daemon itself")
        T.check(not os.path.exists(os.path.join(tmp, "own.sock")),
                "configured unix path unused")
        T.check("match no enabled listener" not in text,
                "every passed socket claimed")
        # Served on the adopted sockets: the sample sent before the daemon
        # existed (queued in the backlog) and one more, over TCP RPC and
        # the unix socket.
        c = socket.create_connection(("127.0.0.1", gport), timeout=10)
        c.sendall(b"act.second 2.5 1700000000\n")
        c.close()
        tcp = st.Rpc(addr=("127.0.0.1", rport))

        def listed():
            return sorted(x["series"] for x in
                          tcp.call("list", {"pattern": "act.*"})["series"])
        st.wait_for(lambda: len(listed()) == 2, timeout=10)
        names = listed()
        T.check(names == ["act.first", "act.second"],
                "both samples ingested through the adopted graphite "
                "socket: %s" % names)
        tcp.close()
        unix = st.Rpc(path=upath)
        T.check(unix.call("ping") is not None, "RPC over adopted unix "
                "socket")
        unix.close()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        T.check(rc == 0, "clean exit: %s" % rc)
        T.check(ns.wait_for("STOPPING", "1", timeout=10) is not None,
                "STOPPING=1")
        T.check(os.path.exists(upath),
                "adopted unix socket path left to its owner")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        ns.close()
        if T.cur_failed:
            sys.stderr.write(open(logpath, "rb").read().decode(
                "utf-8", "replace")[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    T.run(test_verify)
    T.run(test_verify_catches_a_broken_unit)
    T.run(test_security_score)
    T.run(test_service_settings)
    T.run(test_writer_priority_allowed)
    T.run(test_limit_nice)
    T.run(test_notify_ready_watchdog_stopping)
    T.run(test_status_during_restore)
    T.run(test_status_during_schema_move)
    T.run(test_socket_activation)
    sys.exit(T.summary())
