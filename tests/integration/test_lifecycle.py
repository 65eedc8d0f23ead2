"""statecastd's command line, start-up refusals and shutdown: --version,
--help, --check-config, --print-config, bad settings and busy ports refused
at start, SIGTERM and SIGINT with clients connected ending in exit 0 with
every handle closed, and a run under valgrind with no leak and no error."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from statecast_test import DAEMON, Checks, Daemon


def run(*args):
    return subprocess.run([DAEMON] + list(args), capture_output=True,
                          text=True, timeout=30)


def command_line(c):
    p = run("--version")
    c.check("--version", p.returncode == 0 and
            p.stdout.startswith("statecastd "), p.stdout)
    p = run("--help")
    c.check("--help", p.returncode == 0 and "-o key=value" in p.stdout)
    p = run("--bogus")
    c.check("unknown option -> exit 2", p.returncode == 2 and
            "unknown option" in p.stderr)
    d = tempfile.mkdtemp()
    try:
        good = os.path.join(d, "good.conf")
        with open(good, "w") as f:
            f.write("[listen]\ngraphite = 127.0.0.1:0\n")
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("[listen]\ngraphite = nowhere\n[model]\nforecast_every "
                    "= -3\n")
        p = run("--check-config", "-c", good)
        c.check("--check-config: configuration OK", p.returncode == 0 and
                "configuration OK" in p.stdout, p.stdout + p.stderr)
        p = run("--check-config", "-c", bad)
        c.check("--check-config: errors with file:line", p.returncode != 0
                and "bad.conf:2" in p.stdout + p.stderr, p.stdout + p.stderr)
        p = run("-c", bad)
        c.check("an invalid file: not starting, exit 1",
                p.returncode == 1 and "bad.conf:2" in p.stderr and
                "not starting" in p.stderr, p.stderr)
        p = run("--print-config", "-o", "model.forecast_every=5")
        c.check("--print-config shows overrides", p.returncode == 0 and
                "forecast_every = 5" in p.stdout, p.stdout[:400])
        p = run("-o", "model.path=" + bad, "-o", "listen.socket=",
                "-o", "listen.graphite=127.0.0.1:0",
                "-o", "listen.influx=127.0.0.1:0",
                "-o", "listen.rpc=127.0.0.1:0")
        c.check("a model file that does not load: exit 1, named",
                p.returncode == 1 and "cannot load model" in p.stderr,
                p.stderr)
    finally:
        shutil.rmtree(d)


def busy_port(c):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = subprocess.run(
            [DAEMON, "-o", "listen.graphite=127.0.0.1:%d" % port,
             "-o", "listen.influx=127.0.0.1:0", "-o", "listen.rpc=127.0.0.1:0",
             "-o", "listen.socket=", "-o", "listen.http=",
             "-o", "store.path="],
            capture_output=True, text=True, timeout=30)
        c.check("a busy port: exit 1, address named",
                p.returncode == 1 and "cannot listen for graphite on "
                "127.0.0.1:%d" % port in p.stderr, p.stderr)
    finally:
        s.close()


def shutdown(c):
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        d = Daemon()
        r = d.rpc()
        sub = d.rpc()
        sub.call("subscribe", {"pattern": "*"})
        half = socket.create_connection(d.ports["graphite"], timeout=10)
        half.sendall(b"half.line 1")  # never finished
        idle = socket.create_connection(d.ports["influx"], timeout=10)
        res = r.call("push", {"samples": [["x", 1e9 + i, 1.0]
                                          for i in range(5)]})
        sock = d.sock
        log_before = d.log()
        rc = d.stop(sig)
        c.check("%s with clients connected: exit 0" % name, rc == 0,
                log_before)
        c.check("%s: push acknowledged before" % name,
                res["accepted"] == 5)
        c.check("%s: the unix socket file is removed" % name,
                not os.path.exists(sock))
        for s in (half, idle):
            s.close()
        r.close()
        sub.close()


def valgrind(c):
    if "san" in os.environ.get("STATECAST_BUILD", ""):
        return  # valgrind and ASan do not run together; the plain run does
    vg = shutil.which("valgrind")
    if not vg:
        c.check("valgrind installed (deploy/deps.txt)", False)
        return
    logdir = tempfile.mkdtemp()
    vlog = os.path.join(logdir, "vg.log")
    try:
        d = Daemon(valgrind=[vg, "--leak-check=full",
                             "--show-leak-kinds=definite,indirect,possible",
                             "--errors-for-leak-kinds=definite,indirect,"
                             "possible",
                             "--error-exitcode=3", "--log-file=" + vlog],
                   wait=120)
        t0 = int(time.time()) - 3600
        d.send_lines("graphite", "".join(
            "a.%d %d %d\n" % (k, i, t0 + i)
            for i in range(50) for k in range(5)).encode())
        d.send_lines("influx", b"m,h=x v=1 1\nm,h=x v=2 2\n")
        r = d.rpc()
        s = d.rpc(unix=True)
        s.call("subscribe", {"pattern": "*"})
        r.call("push", {"samples": [["b", t0 + i, 1.0] for i in range(10)]})
        for m, p in (("list", {}), ("info", {"series": "a.1"}),
                     ("forecast", {"series": "a.1"}),
                     ("history", {"series": "a.1"}), ("stats", {}),
                     ("drop", {"series": "a.2"})):
            r.call(m, p)
        g = socket.create_connection(d.ports["rpc"], timeout=10)
        g.sendall(b"\xc1")
        g.recv(1)
        g.close()
        rc = d.stop(timeout=120)
        with open(vlog) as f:
            text = f.read()
        c.check("under valgrind: exit 0, no error, nothing leaked",
                rc == 0 and "ERROR SUMMARY: 0 errors" in text and
                "All heap blocks were freed" in text, text[-1500:])
        r.close()
        s.close()
    finally:
        shutil.rmtree(logdir)


if __name__ == "__main__":
    c = Checks()
    c.run(command_line)
    c.run(busy_port)
    c.run(shutdown)
    c.run(valgrind)
    c.summary()
