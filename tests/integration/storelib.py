"""Helpers for the store's integration tests (not a test itself).

Starts a real statecastd on a unix socket in a temp dir (TCP listeners
off, untrained default model, its own SQLite file) and talks msgpack-RPC
to it. Every wait is bounded, so a broken daemon fails the test instead of
hanging it.
"""
import math
import os
import shutil
import signal
import socket
import subprocess
import sqlite3
import struct
import tempfile
import time

import msgpack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAEMON = os.path.join(ROOT, "build", "statecastd")


class Daemon:
    def __init__(self, tmp, name, store=True, opts=()):
        self.sock = os.path.join(tmp, name + ".sock")
        self.db = os.path.join(tmp, name + ".db") if store else ""
        self.log = open(os.path.join(tmp, name + ".log"), "ab")
        self.opts = list(opts)
        self.proc = None
        self.graphite = False
        # Command prepended to the daemon's (e.g. fiu-run and its options).
        self.wrap = []

    def graphite_port(self):
        """The port this run's Graphite listener got (from its log)."""
        with open(self.log.name) as f:
            f.seek(self.log_start)
            for line in f:
                if "listening graphite on " in line:
                    return int(line.rsplit(":", 1)[1])
        raise RuntimeError("no graphite listener in the log")

    def spawn(self, extra=()):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.log.flush()
        self.log_start = os.path.getsize(self.log.name)
        args = self.wrap + [DAEMON,
                "-o", "listen.graphite=" + ("127.0.0.1:0" if self.graphite else ""),
                "-o", "listen.influx=",
                "-o", "listen.rpc=", "-o", "listen.http=",
                "-o", "listen.socket=" + self.sock,
                "-o", "model.path=/nonexistent/default.model",
                "-o", "store.path=" + self.db]
        for o in self.opts + list(extra):
            args += ["-o", o]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)

    def spawn_and_kill(self, after):
        """Killed `after` seconds into its start (maybe mid-restore)."""
        self.spawn()
        time.sleep(after)
        self.kill9()

    def start(self, extra=()):
        """Starts and waits until it answers ping; returns a Client."""
        self.spawn(extra)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("statecastd exited with %d" % self.proc.returncode)
            try:
                c = Client(self.sock)
                c.call("ping")
                return c
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("statecastd did not come up")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.term()


class RefPair:
    """A daemon with a store (opts) and a reference without one, fed the
    same pushes: n series NAME.s0.., the value of series i at push k
    value(k, i), t = 1.7e9 + 10 k."""

    def __init__(self, tmp, name, opts, n, value):
        self.d = Daemon(tmp, name, opts=opts)
        self.ref = Daemon(tmp, name + "ref", store=False)
        self.name, self.n, self.value = name, n, value
        self.k = 0
        self.c = self.d.start()
        self.rc = self.ref.start()

    def push(self, count):
        for _ in range(count):
            msg = [["%s.s%d" % (self.name, i), 1.7e9 + 10 * self.k,
                    self.value(self.k, i)] for i in range(self.n)]
            self.c.call("push", {"samples": msg})
            self.rc.call("push", {"samples": msg})
            self.k += 1

    def diff(self):
        """Series whose state or count differ from the reference's."""
        out = []
        for i in range(self.n):
            a = self.c.call("info", {"series": "%s.s%d" % (self.name, i)})
            b = self.rc.call("info", {"series": "%s.s%d" % (self.name, i)})
            if (a["state_crc"], a["samples"]) != (b["state_crc"],
                                                  b["samples"]):
                out.append(i)
        return out

    def log(self):
        """The store daemon's log since its last start."""
        with open(self.d.log.name) as f:
            f.seek(self.d.log_start)
            return f.read()

    def close(self):
        self.c.close()
        self.d.stop()
        self.rc.close()
        self.ref.stop()


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.u = msgpack.Unpacker(raw=False)
        self.next_id = 0
        self.replies = {}

    def send(self, method, *params):
        self.next_id += 1
        self.s.sendall(msgpack.packb([0, self.next_id, method, list(params)]))
        return self.next_id

    def recv(self):
        """One reply (id, error, result); notifications are skipped."""
        while True:
            for m in self.u:
                if m[0] == 1:
                    return m[1], m[2], m[3]
            data = self.s.recv(1 << 16)
            if not data:
                raise EOFError("connection closed")
            self.u.feed(data)

    def call(self, method, *params):
        i = self.send(method, *params)
        while True:
            rid, err, res = self.recv()
            if rid == i:
                if err is not None:
                    raise RuntimeError("%s: %r" % (method, err))
                return res

    def close(self):
        self.s.close()


T0 = 1.7e9


def t_of(k):
    """Time of the k-th push (every series gets one sample per push)."""
    return T0 + 10.0 * k


def v_of(i, k):
    """Value of series i at push k: a wave with a spike every 97."""
    return 10.0 * i + 3.0 * math.sin(k * 0.3) + (25.0 if k % 97 == 0 else 0.0)


class AckedLoad:
    """Pushes one sample of every series per `push`, 4 pushes in flight,
    and remembers which pushes were acknowledged (acked: all of them,
    new_acked: since the caller last emptied it)."""

    def __init__(self, names):
        self.names = names
        self.k_next = 1
        self.acked = set()
        self.new_acked = []

    def push_msg(self, k):
        return {"samples": [[n, t_of(k), v_of(i, k)]
                            for i, n in enumerate(self.names)]}

    def _reply(self, out, rid, err, res):
        k = out.pop(rid, None)
        if k is not None and err is None and res["accepted"] == len(self.names):
            self.acked.add(k)
            self.new_acked.append(k)

    def send_more(self, c, out, upto=4):
        while len(out) < upto:
            out[c.send("push", self.push_msg(self.k_next))] = self.k_next
            self.k_next += 1

    def load(self, c, seconds):
        """Pushes for about `seconds`; returns the outstanding ones."""
        out = {}
        end = time.time() + seconds
        while time.time() < end:
            self.send_more(c, out)
            self._reply(out, *c.recv())
        return out

    def drain_open(self, c, out):
        """The replies still due, the connection left open."""
        while out:
            self._reply(out, *c.recv())

    def drain(self, c, out):
        """Replies that reached the socket before the daemon died count."""
        c.s.settimeout(5)
        try:
            while out:
                self._reply(out, *c.recv())
        except (EOFError, OSError):
            pass
        c.close()


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: io_crc32c for small blobs."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def snapshot_copy(db, dst):
    """Copies the database and its WAL (not the -shm index, which SQLite
    rebuilds) so that checks never touch the files the daemon reopens:
    its restart must face exactly what the kill left."""
    for suf in ("", "-wal", "-shm"):
        if os.path.exists(dst + suf):
            os.unlink(dst + suf)
    shutil.copyfile(db, dst)
    if os.path.exists(db + "-wal"):
        shutil.copyfile(db + "-wal", dst + "-wal")
    return dst


def integrity_ok(db):
    c = sqlite3.connect(db)
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        c.close()


def _stored(c):
    """{series id: {seq: (t, value)}}: what the store's readers see, the
    chunks merged with the sample log (io/store_log.c): a seq stored twice
    keeps its first copy (chunks are older than the log, log rows go in id
    order), log samples of a dropped series (sample_log_void) are void, NaN
    reads as None as the NULL of schema 3 did."""
    out = {}

    def put(sid, seq, t, v):
        d = out.setdefault(sid, {})
        if seq not in d:
            d[seq] = (t, None if v != v else v)
    for sid, seq0, n, data in c.execute(
            "SELECT series_id, seq0, n, data FROM sample_chunks "
            "ORDER BY series_id, seq0"):
        for k in range(n):
            t, v = struct.unpack_from("<dd", data, 16 * k)
            put(sid, seq0 + k, t, v)
    void = dict(c.execute("SELECT series_id, upto FROM sample_log_void"))
    for row, data in c.execute("SELECT id, data FROM sample_log ORDER BY id"):
        for k in range(len(data) // 32):
            sid, seq, t, v = struct.unpack_from("<qqdd", data, 32 * k)
            if row > void.get(sid, 0):
                put(sid, seq, t, v)
    return out


def seq_ranges(db):
    """{series name: (count, min seq, max seq)}."""
    c = sqlite3.connect(db)
    try:
        names = dict(c.execute("SELECT id, name FROM series"))
        return {names[sid]: (len(d), min(d), max(d))
                for sid, d in _stored(c).items() if sid in names and d}
    finally:
        c.close()


def stored_after(db, after):
    """{series name: [(seq, t, value)...]} with seq > after[name]."""
    c = sqlite3.connect(db)
    try:
        have = _stored(c)
        out = {}
        for name, sid in c.execute("SELECT name, id FROM series"):
            d = have.get(sid, {})
            lo = after.get(name, 0)
            out[name] = [(q,) + d[q] for q in sorted(d) if q > lo]
        return out
    finally:
        c.close()


class Results:
    """The named checks of one test run and its temp dir, kept (logs,
    databases) when a check failed."""

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.passed, self.failed = [], []

    def ok(self, what):
        print("ok   " + what)
        self.passed.append(what)

    def bad(self, what, detail):
        print("FAIL %s: %s" % (what, detail))
        self.failed.append(what)

    def finish(self):
        """Prints the summary line; returns the exit status."""
        if self.failed:
            print("logs and databases kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return summary(len(self.passed), len(self.failed))


def summary(passed, failed):
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
