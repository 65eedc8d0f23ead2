#!/usr/bin/python3
"""Installation and packaging: `make install` with PREFIX and DESTDIR, the
man pages (man --warnings, lexgrog), and `make deb`, which is installed on
this system with dpkg, started under a notify harness, used, stopped, and
purged without leaving a file behind.

The dpkg part needs root (CI and the dev container run tests as root); it
holds a lock so that two test runs on one machine never install at once,
and waits (up to DPKG_LOCK_BUDGET) while another package manager, such as
someone's apt-get on a shared machine, holds dpkg's.
Prints "N passed, N failed".
"""
import errno
import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
import statecast_test as st  # noqa: E402

T = opslib.Tally()
TOP = opslib.TOP
UNITS = ["statecastd.service", "statecastd.socket",
         "statecastd-graphite.socket", "statecastd-influx.socket",
         "statecastd-unix.socket"]


def make(*args, timeout=600):
    # Not the enclosing `make test`'s flags or jobserver: a plain build.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return subprocess.run(["make", "-s", "--no-print-directory"] +
                          list(args), cwd=TOP, capture_output=True,
                          text=True, timeout=timeout, env=env)


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def test_install_system_prefix():
    with tempfile.TemporaryDirectory() as dest:
        r = make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        T.check(r.returncode == 0, "make install: %s" % r.stderr[-500:])
        got = files_under(dest)
        want = {"usr/sbin/statecastd", "usr/bin/statecast",
                "etc/statecast/statecast.conf",
                "usr/share/man/man8/statecastd.8.gz",
                "usr/share/man/man1/statecast.1.gz",
                "usr/share/doc/statecast/SCALING.md",
                "usr/share/doc/statecast/examples/sharding/"
                "carbon-c-relay.conf"}
        want |= {"usr/lib/systemd/system/" + u for u in UNITS}
        T.check(want <= got, "missing: %s" % sorted(want - got))
        for b in ("usr/sbin/statecastd", "usr/bin/statecast"):
            T.check(os.access(os.path.join(dest, b), os.X_OK),
                    "%s executable" % b)
        svc = open(os.path.join(dest, "usr/lib/systemd/system/"
                                "statecastd.service")).read()
        T.check("ExecStart=/usr/sbin/statecastd -c "
                "/etc/statecast/statecast.conf" in svc, "ExecStart paths")
        conf = os.path.join(dest, "etc/statecast/statecast.conf")
        r = subprocess.run([opslib.DAEMON, "--check-config", "-c", conf],
                           capture_output=True, text=True, timeout=30)
        T.check(r.returncode == 0 and "configuration OK" in r.stdout,
                "installed config checks: %s" % (r.stdout + r.stderr))
        r = subprocess.run([opslib.DAEMON, "--print-config", "-c", conf],
                           capture_output=True, text=True, timeout=30)
        for line in ("path = /var/lib/statecast/statecast.db",
                     "socket = /run/statecast/statecastd.sock",
                     "path = /usr/share/statecast/models/default.model"):
            T.check(line in r.stdout, "effective config has '%s'" % line)
        # A second install keeps an operator's edited config.
        open(conf, "a").write("# edited by the operator\n")
        make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        T.check("edited by the operator" in open(conf).read(),
                "reinstall keeps the edited config")


def test_install_local_prefix():
    with tempfile.TemporaryDirectory() as dest:
        r = make("install", "DESTDIR=" + dest, "PREFIX=/usr/local")
        T.check(r.returncode == 0, "make install: %s" % r.stderr[-500:])
        got = files_under(dest)
        T.check("usr/local/etc/statecast/statecast.conf" in got,
                "config under PREFIX/etc")
        T.check(all(f.startswith("usr/local/") for f in got),
                "everything under DESTDIR/PREFIX: %s" %
                sorted(f for f in got if not f.startswith("usr/local/")))
        svc = open(os.path.join(dest, "usr/local/lib/systemd/system/"
                                "statecastd.service")).read()
        T.check("ExecStart=/usr/local/sbin/statecastd -c "
                "/usr/local/etc/statecast/statecast.conf" in svc,
                "ExecStart follows PREFIX")


def man_check(path):
    """(warnings, name line) for one page: man's own formatter with
    warnings on, and lexgrog's whatis parse."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path],
                       capture_output=True, text=True, env=env, timeout=60)
    lg = subprocess.run(["lexgrog", path], capture_output=True, text=True,
                        timeout=60)
    return (r.returncode, r.stderr.strip(), r.stdout,
            lg.stdout.strip() if lg.returncode == 0 else "")


def test_man_pages():
    pages = {"man8/statecastd.8": "statecastd - ",
             "man1/statecast.1": "statecast - "}
    for rel, name in pages.items():
        rc, warn, text, whatis = man_check(os.path.join(opslib.MANDIR, rel))
        T.check(rc == 0 and warn == "", "%s formats without warnings: %s" %
                (rel, warn))
        T.check(name in whatis, "%s whatis: %r" % (rel, whatis))
    text = man_check(os.path.join(opslib.MANDIR, "man8/statecastd.8"))[2]
    for word in ("--check-config", "READY=1", "WATCHDOG=1", "STOPPING=1",
                 "FileDescriptorName=", "SIGTERM"):
        T.check(word in text, "statecastd(8) documents %s" % word)
    text = man_check(os.path.join(opslib.MANDIR, "man1/statecast.1"))[2]
    T.check("--shards" in text and "jump" in text,
            "statecast(1) documents --shards")
    # The check is not vacuous: a bad page is reported.
    with tempfile.NamedTemporaryFile("w", suffix=".1") as bad:
        bad.write(".TH BAD 1\n.SH NAME\nbad \\- x\n.NOSUCHMACRO\n")
        bad.flush()
        T.check(man_check(bad.name)[1] != "", "a bad page warns")


class DpkgLock:
    """Serialises the dpkg part across concurrent test runs."""

    def __enter__(self):
        self.f = open("/tmp/statecast-deb-test.lock", "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


# dpkg's frontend lock: what apt-get holds for the whole of an install
# (download included) and dpkg itself takes unless told a frontend holds it.
DPKG_FRONTEND_LOCK = "/var/lib/dpkg/lock-frontend"
# Seconds this test waits, over all its dpkg runs, for other package
# managers (another engineer's apt-get on a shared machine): well inside
# tests/run.sh's 600 s for the whole program, which takes about 25 s.
DPKG_LOCK_BUDGET = [420.0]


def lock_holder(fd):
    """'pid N (comm)' of the process holding fd's fcntl lock, or ''."""
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK,
                          struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
        kind, _, _, _, pid = struct.unpack("hhqqi4x", got)
        if kind == fcntl.F_UNLCK or pid <= 0:
            return ""
        with open("/proc/%d/comm" % pid) as f:
            return "pid %d (%s)" % (pid, f.read().strip())
    except OSError:
        return ""


def dpkg(*args):
    """dpkg run as a package manager frontend runs it: dpkg's frontend lock
    taken first (waiting while another package manager holds it, within
    DPKG_LOCK_BUDGET), then dpkg told so (DPKG_FRONTEND_LOCKED). dpkg's
    own lock alone, held by something that bypasses the frontend lock, is
    waited for the same way. Past the budget the result is a failure whose
    stderr says which lock, held by whom, and for how long."""
    fd = os.open(DPKG_FRONTEND_LOCK, os.O_RDWR | os.O_CREAT, 0o640)
    waited = 0.0
    try:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                r = None
            else:
                r = subprocess.run(
                    ["dpkg"] + list(args), capture_output=True, text=True,
                    timeout=300,
                    env=dict(os.environ, DPKG_FRONTEND_LOCKED="1"))
                fcntl.lockf(fd, fcntl.LOCK_UN)
                if r.returncode == 0 or "lock" not in r.stderr:
                    return r
            if waited >= DPKG_LOCK_BUDGET[0]:
                return subprocess.CompletedProcess(
                    ["dpkg"] + list(args), 1, "",
                    "gave up after waiting %.0f s for another package "
                    "manager: %s" % (waited, (
                        "dpkg's frontend lock %s is held by %s" % (
                            DPKG_FRONTEND_LOCK, lock_holder(fd) or
                            "another process")) if r is None
                        else "dpkg's lock: " + r.stderr.strip()))
            t = time.monotonic()
            time.sleep(1)
            waited += time.monotonic() - t
    finally:
        DPKG_LOCK_BUDGET[0] = max(0.0, DPKG_LOCK_BUDGET[0] - waited)
        os.close(fd)


def installed():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "statecast"],
                       capture_output=True, text=True)
    return "ok installed" in r.stdout


def run_installed_daemon(tmp):
    """The packaged daemon with the packaged config, under a notify
    harness; ports and store moved into tmp. Returns the checks' data."""
    ns = opslib.NotifySocket()
    logpath = os.path.join(tmp, "log")
    log = open(logpath, "wb")
    args = ["/usr/sbin/statecastd", "-c", "/etc/statecast/statecast.conf",
            "-o", "listen.graphite=127.0.0.1:0",
            "-o", "listen.influx=127.0.0.1:0",
            "-o", "listen.rpc=127.0.0.1:0", "-o", "listen.http=",
            "-o", "listen.socket=" + os.path.join(tmp, "s.sock"),
            "-o", "store.path=" + os.path.join(tmp, "db")]
    env = dict(os.environ, NOTIFY_SOCKET=ns.path, WATCHDOG_USEC="500000")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                            cwd=tmp, env=env)
    try:
        T.check(ns.wait_for("READY", "1", timeout=30) is not None,
                "installed daemon sends READY=1")
        text = open(logpath, "rb").read().decode("utf-8", "replace")
        ports = dict((p, int(n)) for p, n in
                     re.findall(r"listening (\w+) on 127\.0\.0\.1:(\d+)",
                                text))
        T.check("rpc" in ports, "rpc port logged: %s" % ports)
        T.check(ns.wait_count("WATCHDOG", 1, timeout=10) >= 1,
                "installed daemon pings the watchdog")
        r = subprocess.run(["/usr/bin/statecast", "push", "--rpc",
                            "127.0.0.1:%d" % ports.get("rpc", 0),
                            "deb.test", "1.5"], capture_output=True,
                           text=True, timeout=30)
        T.check(r.returncode == 0, "installed CLI pushes: %s" % r.stderr)
        r = subprocess.run(["/usr/bin/statecast", "list", "--rpc",
                            "127.0.0.1:%d" % ports.get("rpc", 0)],
                           capture_output=True, text=True, timeout=30)
        T.check("deb.test" in r.stdout, "installed CLI lists the series: %r"
                % r.stdout)
        proc.send_signal(signal.SIGTERM)
        T.check(proc.wait(timeout=30) == 0, "clean exit")
        T.check(ns.wait_for("STOPPING", "1", timeout=10) is not None,
                "STOPPING=1")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        ns.close()


def test_deb_install_run_purge():
    if not T.check(os.geteuid() == 0, "dpkg test needs root"):
        return
    r = make("deb")
    deb = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    T.check(r.returncode == 0 and deb.endswith(".deb"),
            "make deb: %s" % (r.stdout + r.stderr)[-500:])
    if not os.path.exists(os.path.join(TOP, deb)):
        return
    deb = os.path.join(TOP, deb)
    info = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Depends"],
                          capture_output=True, text=True).stdout
    T.check("Package: statecast" in info and "libuv1" in info,
            "control fields: %s" % info)
    with DpkgLock(), tempfile.TemporaryDirectory() as tmp:
        if installed():  # a run that died half-way
            dpkg("--purge", "statecast")
        r = dpkg("-i", deb)
        T.check(r.returncode == 0, "dpkg -i: %s" % r.stderr[-800:])
        try:
            files = subprocess.run(["dpkg", "-L", "statecast"],
                                   capture_output=True,
                                   text=True).stdout.split()
            T.check("/usr/sbin/statecastd" in files and
                    "/etc/statecast/statecast.conf" in files,
                    "package file list")
            T.check(os.path.islink("/etc/systemd/system/multi-user.target."
                                   "wants/statecastd.service"),
                    "service enabled by postinst")
            T.check(not os.path.lexists("/etc/systemd/system/sockets.target."
                                        "wants/statecastd.socket"),
                    "socket units left disabled")
            run_installed_daemon(tmp)
        finally:
            r = dpkg("--purge", "statecast")
        T.check(r.returncode == 0, "dpkg --purge: %s" % r.stderr[-800:])
        T.check(not installed(), "package gone")
        left = [f for f in files if os.path.isfile(f) or os.path.islink(f)]
        T.check(not left, "files left after purge: %s" % left)
        T.check(not os.path.exists("/etc/statecast"), "/etc/statecast gone")
        T.check(not os.path.lexists("/etc/systemd/system/multi-user.target."
                                    "wants/statecastd.service"),
                "enablement symlink gone")


if __name__ == "__main__":
    T.run(test_install_system_prefix)
    T.run(test_install_local_prefix)
    T.run(test_man_pages)
    T.run(test_deb_install_run_purge)
    sys.exit(T.summary())
