"""Helpers of the visual integration tests (test_prometheus, test_plot):
a statecastd on ephemeral loopback ports with HTTP on, a Graphite feeder,
and a check/summary harness whose last line is "N passed, N failed"."""
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("STATECAST_BUILD", "build"))
CLI = os.path.join(BUILD, "statecast")
counts = {"passed": 0, "failed": 0}
procs = []


def check(cond, what):
    counts["passed" if cond else "failed"] += 1
    print(("ok   " if cond else "FAIL ") + what)
    sys.stdout.flush()
    return cond


def summary(main):
    """Runs main(tmpdir), kills what it started, prints the summary line
    and exits with the status tests/run.sh expects."""
    tmp = tempfile.mkdtemp(prefix="statecast-visual-")
    try:
        main(tmp)
    except Exception as e:  # noqa: BLE001
        check(False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    sys.exit(1 if counts["failed"] else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


def wait_for(fn, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def start_daemon(tmp, *overrides):
    """statecastd with every listener on an ephemeral port; returns the
    process and {proto: port} from its log."""
    log = open(os.path.join(tmp, "statecastd.log"), "wb")
    args = [os.path.join(BUILD, "statecastd"),
            "-o", "listen.graphite=127.0.0.1:0", "-o", "listen.influx=",
            "-o", "listen.rpc=127.0.0.1:0", "-o", "listen.socket=",
            "-o", "listen.http=127.0.0.1:0",
            "-o", "store.path=" + os.path.join(tmp, "db"),
            "-o", "model.path=" + os.path.join(ROOT, "models",
                                               "default.model"),
            ]
    for o in overrides:
        args += ["-o", o]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log,
                         cwd=tmp)
    procs.append(p)

    def ports():
        text = open(log.name, "rb").read().decode("utf-8", "replace")
        if p.poll() is not None:
            raise RuntimeError("statecastd exited:\n" + text)
        if " ready: " not in text:
            return None
        return {k: int(v) for k, v in
                re.findall(r"listening (\w+) on 127\.0\.0\.1:(\d+)", text)}
    return p, wait_for(ports, 20, "statecastd")


NAMES = ["web.a", "web.b", 'web.q"uo\\te', "db.x"]


def feed(port, t0, n, step=10):
    """n samples of every name in NAMES over Graphite, step s apart."""
    lines = []
    for i in range(n):
        t = t0 + step * i
        for k, name in enumerate(NAMES):
            v = 50 + 10 * k + 5 * math.sin(i * 2 * math.pi / 24)
            lines.append("%s %.6f %d\n" % (name, v, t))
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall("".join(lines).encode())
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()


