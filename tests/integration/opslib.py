"""Helpers shared by the ops integration tests (systemd, packaging,
sharding): a pass/fail tally printing "N passed, N failed", paths into the
tree, and a notify socket like the one systemd gives a Type=notify service.
Not a test itself (the runner only picks up test_*.py)."""
import os
import random
import select
import socket
import sys
import tempfile
import time
import traceback

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("STATECAST_BUILD", os.path.join(TOP, "build"))
DAEMON = os.path.join(BUILD, "statecastd")
CLI = os.path.join(BUILD, "statecast")
MANDIR = os.path.join(TOP, "deploy", "man")


class Tally:
    """One test = one function; a failed check marks it failed and goes on,
    so a run shows every broken expectation."""

    def __init__(self):
        self.passed = self.failed = 0
        self.cur_failed = 0

    def check(self, cond, what):
        if not cond:
            self.cur_failed += 1
            print("  FAILED: %s" % what, file=sys.stderr)
        return cond

    def run(self, fn):
        self.cur_failed = 0
        try:
            fn()
        except Exception:  # a crash in a test is one failure, not the run
            traceback.print_exc()
            self.cur_failed += 1
        if self.cur_failed:
            self.failed += 1
            print("FAIL %s" % fn.__name__)
        else:
            self.passed += 1
            print("ok   %s" % fn.__name__)
        sys.stdout.flush()

    def summary(self):
        sys.stderr.flush()
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


class NotifySocket:
    """A unix datagram socket at a fresh path, as systemd's NOTIFY_SOCKET.
    messages() yields each datagram parsed into a dict of assignments."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sc-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.log = []  # every datagram, in order

    def wait_for(self, key, value=None, timeout=30.0):
        """Reads datagrams until one assigns `key` (= value if given);
        returns that datagram's dict, or None at the deadline."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for m in self.log[seen:]:
                if key in m and (value is None or m[key] == value):
                    return m
            seen = len(self.log)
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_one(left):
                return None

    def count(self, key):
        return sum(1 for m in self.log if key in m)

    def wait_count(self, key, n, timeout=30.0):
        """Reads datagrams until n of them assign `key` or the deadline
        passes; returns how many did."""
        deadline = time.monotonic() + timeout
        while self.count(key) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_one(left):
                break
        return self.count(key)

    def _read_one(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        data = self.sock.recv(4096).decode("utf-8", "replace")
        self.log.append(dict(line.split("=", 1) for line in data.split("\n")
                             if "=" in line))
        return True

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass


def free_port():
    """A port nobody holds right now on any address, TCP and UDP (for tools
    that cannot be told port 0 and report the choice, like
    systemd-socket-activate, carbon-c-relay, Prometheus; bench/lib.sh's
    free_port is this one). Drawn below the kernel's ephemeral range: a
    port bind(0) hands out is in that range, where any process's outgoing
    connection may take it before the tool binds it, and on a machine busy
    with loopback connections one did about one time in three. Still not
    reserved: a caller checks that its tool got it."""
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for _ in range(64 if lo > 11000 else 0):
        port = random.randrange(10000, lo)
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("0.0.0.0", port))
            return port
        except OSError:
            pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
