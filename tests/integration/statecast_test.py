"""Shared helpers for statecast's integration tests.

Starts the real statecastd on ephemeral loopback ports in a temporary
directory, finds its ports in its log ("listening PROTO on ADDR"), and
tears it down reliably: every daemon started is killed at exit, whatever
happened, and every wait has a timeout so that nothing hangs.

Also: an independent msgpack-RPC client written with python3-msgpack (no
code shared with the C side), a CLI runner, and a tiny check/summary
harness whose last line is "N passed, N failed" as tests/run.sh expects.
"""
import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("STATECAST_BUILD", "build"))
DAEMON = os.path.join(BUILD, "statecastd")
# Run against the ASan/UBSan build (tests/integration/test_sanitized.py).
SANITIZED = os.path.normpath(BUILD).endswith(os.path.join("build", "san"))
CLI = os.path.join(BUILD, "statecast")
# The shipped model when it exists, else statecastd and the CLI both fall
# back to the untrained default (io/model_open.h): the same either way.
MODEL = os.path.join(ROOT, "models", "default.model")

_live = []


def _kill_all():
    for d in list(_live):
        d.kill()


atexit.register(_kill_all)


class Daemon:
    """A statecastd on ephemeral ports; use as a context manager."""

    def __init__(self, *overrides, model=MODEL, config=None, valgrind=None,
                 wait=20.0, nofile=None):
        self.dir = tempfile.mkdtemp(prefix="statecast-test-")
        self.sock = os.path.join(self.dir, "statecast.sock")
        self.logpath = os.path.join(self.dir, "statecastd.log")
        args = [DAEMON] + (["-c", config] if config else []) + [
                "-o", "listen.graphite=127.0.0.1:0",
                "-o", "listen.influx=127.0.0.1:0",
                "-o", "listen.rpc=127.0.0.1:0",
                "-o", "listen.socket=" + self.sock,
                "-o", "listen.http=",
                "-o", "store.path=" + os.path.join(self.dir, "db"),
                "-o", "model.path=" + model]
        for o in overrides:
            args += ["-o", o]
        if valgrind:
            args = valgrind + args
        self.args = args
        self.log_f = open(self.logpath, "wb")
        pre = None
        if nofile:
            # The daemon's descriptor limit, soft and hard (it may raise
            # its soft limit up to the hard one, no further).
            import resource
            pre = lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                             (nofile, nofile))
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log_f, cwd=self.dir,
                                     preexec_fn=pre)
        _live.append(self)
        self.ports = {}
        # `wait` seconds without the daemon using CPU, or ten times that
        # in all: a start that a loaded machine slows (a nice-19 test at
        # load 30 took over 20 s to open a database at schema 6) is
        # waited for as long as the daemon works, a stuck one is not.
        start = time.time()
        deadline, cpu = start + wait, None
        while time.time() < min(deadline, start + 10 * wait):
            text = self.log()
            if " ready: " in text:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("statecastd exited at start:\n" + text)
            now = _cpu_ticks(self.proc.pid)
            if now != cpu:
                cpu, deadline = now, time.time() + wait
            time.sleep(0.02)
        else:
            # the log first: kill() removes the directory that holds it
            text = self.log()
            self.kill()
            raise RuntimeError("statecastd not ready after %.0f s:\n%s" %
                               (time.time() - start, text))
        for proto, addr in re.findall(r"listening (\w+) on (\S+)",
                                      self.log()):
            if addr.startswith("/"):
                continue
            host, port = addr.rsplit(":", 1)
            self.ports[proto] = (host, int(port))

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rpc(self, unix=False):
        if unix:
            return Rpc(path=self.sock)
        return Rpc(addr=self.ports["rpc"])

    def send_lines(self, proto, data, chunks=None, pause=0.05, timeout=10):
        """Sends bytes to the graphite or influx port and closes; chunks
        splits them at those offsets, with a pause between writes.
        timeout bounds each socket call (None: none, for a sender the
        daemon may hold back for as long as its store takes; the caller
        then waits with wait_progress)."""
        s = socket.create_connection(self.ports[proto], timeout=timeout)
        cuts = [0] + list(chunks or []) + [len(data)]
        for a, b in zip(cuts, cuts[1:]):
            s.sendall(data[a:b])
            if b != len(data):
                time.sleep(pause)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # wait for the daemon to close after EOF
        s.close()

    def cli(self, *args, timeout=30, unix=False, input=None):
        where = (["--socket", self.sock] if unix else
                 ["--rpc", "%s:%d" % self.ports["rpc"]])
        return run_cli(list(args) + where, timeout=timeout, input=input)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the daemon and returns its exit status (None if it had
        to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            rc = None
        self.last_log = self.tail()
        self._cleanup()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._cleanup()

    def _cleanup(self):
        if self in _live:
            _live.remove(self)
        if not self.log_f.closed:
            self.log_f.close()
        if os.environ.get("STATECAST_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, etype, *exc):
        rc = self.stop()
        if rc != 0 and etype is None:
            # A crash, a sanitizer report or a leak at exit fails the test
            # that ran the daemon, with the daemon's own words.
            raise AssertionError("statecastd exited with %s:\n%s" %
                                 (rc, self.last_log[-3000:]))

    def tail(self):
        """The log, or "" once the directory is gone."""
        try:
            return self.log()
        except OSError:
            return ""


def run_cli(args, timeout=30, input=None):
    return subprocess.run([CLI] + list(args), capture_output=True,
                          text=True, timeout=timeout, input=input)


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class Rpc:
    """An msgpack-RPC client independent of the C code."""

    def __init__(self, addr=None, path=None, timeout=10.0):
        if path:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            self.s.connect(path)
        else:
            self.s = socket.create_connection(addr, timeout=timeout)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.next_id = 1
        self.notes = []

    def send(self, obj):
        self.s.sendall(msgpack.packb(obj, use_bin_type=True))

    def _read(self):
        for msg in self.unpacker:
            return msg
        while True:
            data = self.s.recv(65536)
            if not data:
                raise ConnectionError("closed by statecastd")
            self.unpacker.feed(data)
            for msg in self.unpacker:
                return msg

    def call(self, method, params=None, raw_method=None):
        mid = self.next_id
        self.next_id += 1
        self.send([0, mid, raw_method if raw_method is not None else method,
                   {} if params is None else params])
        while True:
            msg = self._read()
            if msg[0] == 2:
                self.notes.append(msg)
                continue
            if msg[0] == 1 and msg[1] == mid:
                if msg[2] is not None:
                    raise RpcError(msg[2][0], msg[2][1])
                return msg[3]

    def note(self, timeout=10.0):
        """The next notification [2, method, params]."""
        if self.notes:
            return self.notes.pop(0)
        self.s.settimeout(timeout)
        msg = self._read()
        while msg[0] != 2:
            msg = self._read()
        return msg

    def close(self):
        self.s.close()


def until_closed(s, timeout=15.0):
    """Reads s until the daemon closes it (EOF or reset), decoding what
    arrives as msgpack. Returns (messages received, closed?): closed? is
    False when nothing ended the connection within timeout seconds."""
    s.settimeout(timeout)
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    got = []
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return got, True
            u.feed(d)
            got.extend(u)
    except (ConnectionResetError, BrokenPipeError):
        return got, True
    except socket.timeout:
        return got, False


def ping_new(d):
    """True if a new RPC client of daemon d gets its ping answered (False
    when it is refused or closed: a connection limit, no descriptors)."""
    try:
        r = d.rpc()
        ok = r.call("ping")["pong"]
        r.close()
        return ok
    except (ConnectionError, OSError):
        return False


def rss_kib(pid):
    """A process's resident set size in KiB (-1 if unknown)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def _cpu_ticks(pid):
    """utime + stime of a process, clock ticks (None once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])
    except (OSError, IndexError, ValueError):
        return None


def thread_sched(pid, tid):
    """(policy, nice, name) of one thread, from /proc/PID/task/TID."""
    base = "/proc/%d/task/%d/" % (pid, tid)
    with open(base + "stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    with open(base + "comm") as f:
        name = f.read().strip()
    # rest[0] is field 3 (state): nice is field 19, policy field 41.
    return int(rest[41 - 3]), int(rest[19 - 3]), name


def threads(pid):
    """{tid: (policy, nice, name)} of every thread of pid."""
    return {int(t): thread_sched(pid, int(t))
            for t in os.listdir("/proc/%d/task" % pid)}


def wait_for(fn, timeout=10.0, step=0.02):
    """Polls fn() until it returns a true value; returns it (or the last
    false one after the timeout)."""
    deadline = time.time() + timeout
    v = fn()
    while not v and time.time() < deadline:
        time.sleep(step)
        v = fn()
    return v


def wait_progress(fn, progress, stall=30.0, step=0.05):
    """Polls fn() until it returns a true value, for as long as progress()
    (e.g. the daemon's committed rows) keeps changing; returns fn()'s value,
    false once progress() has stood still for stall seconds. For waits
    whose length is the machine's load (a store that a busy machine gives
    little CPU to), not the daemon's doing: a fixed timeout there failed
    the test at load 15-20 while the daemon was still working."""
    last = progress()
    since = time.time()
    v = fn()
    while not v:
        time.sleep(step)
        now = progress()
        if now != last:
            last, since = now, time.time()
        elif time.time() - since > stall:
            return fn()
        v = fn()
    return v


def history(r, series, n, **params):
    """`history` once it holds n points: samples that came as lines (no
    acknowledgement in those protocols) are stored within the store's
    group-commit window, not at once."""
    params["series"] = series
    return wait_for(lambda: (lambda h: len(h["points"]) >= n and h)(
        r.call("history", params))) or r.call("history", params)


class Checks:
    """check() records one named expectation; summary() prints each failure
    and "N passed, N failed", and exits with the right status."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + name, flush=True)
        else:
            self.failed += 1
            print("FAIL " + name + (": " + str(detail) if detail else ""),
                  flush=True)
        return cond

    def run(self, fn):
        """Runs one test function; an exception counts as one failure."""
        try:
            fn(self)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            import traceback
            traceback.print_exc(file=sys.stdout)
            self.check(fn.__name__ + " raised " + type(e).__name__, False,
                       e)

    def summary(self):
        _kill_all()
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)
