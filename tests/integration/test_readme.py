"""Every command the README shows for starting, feeding, querying and
seeing statecastd, run exactly as written against the daemon `make run`
starts, with its default configuration: the test runs in a network
namespace of its own (root, as make test and CI run), so that the default
ports 2003, 8094, 7411 and 9477 are free there whatever else runs on the
machine. Plus the line formats the collectd and Telegraf snippets make
those tools send."""
import ctypes
import fcntl
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import time
import urllib.request

from statecast_test import BUILD, DAEMON, ROOT, Checks, Daemon, Rpc, wait_for


def blocks(section):
    """The fenced blocks of a README section: [(lang, text)]."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(section), text,
                  re.S | re.M)
    return re.findall(r"^```(\w*)\n(.*?)^```", m.group(1), re.S | re.M)


def indented(section):
    """The indented command lines of a README section."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(section), text,
                  re.S | re.M)
    return [x[4:] for x in m.group(1).splitlines() if x.startswith("    ")]


def private_network():
    """Moves this process into a new network namespace with loopback up;
    "" or why it could not."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        return "unshare(CLONE_NEWNET): %s (run as root)" % os.strerror(
            ctypes.get_errno())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("16sH", b"lo", 0)
    flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, req))[1]  # GET
    fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", flags | 1))  # SET UP
    s.close()
    return ""


def sh(cmd, cwd, timeout=60):
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def readme(c):
    why = private_network()
    if not c.check("a network namespace of its own", not why, why):
        return
    # `make run` is `make deps all`, then statecastd from the top of the
    # tree with no option. The same command runs here in a directory laid
    # out like the tree (the build, models/ and bench/ linked), so that
    # ./var is the test's own.
    quick = indented("Quick start")
    c.check("Quick start: make run, make test",
            [x.split("#")[0].strip() for x in quick] == ["make run",
                                                         "make test"], quick)
    # Not the enclosing `make test`'s flags or jobserver: a plain make.
    env = dict((k, v) for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"))
    p = subprocess.run(["make", "-n", "--no-print-directory", "run"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env=env)
    lines = p.stdout.strip().splitlines()
    steps = lines[-2:]
    c.check("make run: deps, the build, then mkdir -p var and "
            "./build/statecastd", "sh deploy/deps.sh" in lines and
            steps == ["mkdir -p var", "./build/statecastd"],
            p.stdout[-500:] + p.stderr)
    work = subprocess.run(["mktemp", "-d", "/tmp/statecast-readme.XXXXXX"],
                          capture_output=True, text=True).stdout.strip()
    os.symlink(BUILD, os.path.join(work, "build"))
    for d in ("models", "bench"):
        os.symlink(os.path.join(ROOT, d), os.path.join(work, d))
    sh(steps[0], work)
    log = open(os.path.join(work, "statecastd.log"), "wb")
    proc = subprocess.Popen(shlex.split(steps[1]), cwd=work,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        ready = wait_for(lambda: b" ready: " in open(
            os.path.join(work, "statecastd.log"), "rb").read() or
            proc.poll() is not None, timeout=30)
        c.check("make run's statecastd is ready", ready and
                proc.poll() is None)
        text = open(os.path.join(work, "statecastd.log")).read()
        addrs = sorted(re.findall(r"listening \w+ on (\S+)", text))
        c.check("it listens on loopback 2003, 8094, 7411, 9477 and "
                "./var/statecast.sock", addrs == sorted([
                    "127.0.0.1:2003", "127.0.0.1:8094", "127.0.0.1:7411",
                    "127.0.0.1:9477", "./var/statecast.sock"]), text)
        c.check("its data is under ./var", os.path.exists(os.path.join(
            work, "var", "statecast.db")), os.listdir(work))
        run_sections(c, work)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        log.close()
        c.check("statecastd stops cleanly on SIGTERM", rc == 0,
                open(os.path.join(work, "statecastd.log")).read()[-2000:])
        subprocess.run(["rm", "-rf", work])


def run_sections(c, work):
    feed = blocks("Feeding it")
    query = blocks("Querying it")
    seeing = blocks("Seeing it")
    r = Rpc(addr=("127.0.0.1", 7411))
    for lang, text in feed:
        if lang != "sh":
            continue
        for cmd in text.strip().splitlines():
            p = sh(cmd, work)
            c.check("feeding: " + cmd[:60], p.returncode == 0, p.stderr)
    names = wait_for(lambda: len(r.call("list")["series"]) >= 4 and
                     [e["series"] for e in r.call("list")["series"]])
    c.check("fed series present", names == [
        "cpu.idle;host=web1", "cpu.usage;host=web1",
        "servers.web1.load", "servers.web2.load"], names)
    c.check("fed: the backlog has 60 samples", r.call(
        "info", {"series": "servers.web2.load"})["samples"] == 60)

    with open(os.path.join(work, "load.csv"), "w") as f:
        f.write("t,value\n")
        t0 = int(time.time()) - 6000
        for i in range(100):
            f.write("%d,%d\n" % (t0 + 60 * i, i % 10))
    sh_blocks = [t for lang, t in query if lang == "sh"]
    for cmd in sh_blocks[0].strip().splitlines():
        if " watch " in cmd:
            w = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=work,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            w.stderr.readline()  # "watching ..." once subscribed
            sh("build/statecast push servers.web2.load 3", work)
            line = w.stdout.readline()
            w.terminate()
            w.communicate(timeout=10)
            c.check("querying: " + cmd, line.startswith(
                ("forecast servers.web2.load",
                 "anomaly  servers.web2.load")), line)
            continue
        p = sh(cmd, work)
        c.check("querying: " + cmd, p.returncode == 0 and p.stdout,
                p.stdout + p.stderr)
    c.check("send: the CSV's 100 samples arrived", wait_for(lambda: r.call(
        "info", {"series": "servers.web3.load"})["samples"] == 100))
    # The prose around the block: --socket PATH, $STATECAST_RPC, replay.
    p = sh("build/statecast list --socket var/statecast.sock", work)
    c.check("querying over --socket ./var/statecast.sock",
            p.returncode == 0 and "servers.web3.load" in p.stdout, p.stderr)
    p = sh("STATECAST_RPC=127.0.0.1:9 build/statecast list", work)
    c.check("$STATECAST_RPC names the daemon (a closed port fails)",
            p.returncode != 0, p.stdout)
    p = sh("build/statecast replay load.csv", work)
    c.check("statecast replay FILE.csv prints a forecast offline",
            p.returncode == 0 and p.stdout.strip(), p.stdout + p.stderr)
    py = [t for lang, t in query if lang == "python"]
    c.check("README has the Python client", len(py) == 1 and
            len(py[0].strip().splitlines()) <= 16)
    p = subprocess.run(["/usr/bin/python3", "-c", py[0]], cwd=work,
                       capture_output=True, text=True, timeout=30)
    c.check("the Python client prints a forecast", p.returncode == 0 and
            re.match(r"\[[-0-9.e]+, [-0-9.e]+, [-0-9.e]+\]\n$",
                     p.stdout), p.stdout + p.stderr)

    # Seeing it: the HTTP pages on the default listen.http, the pictures.
    m = urllib.request.urlopen("http://127.0.0.1:9477/metrics", timeout=10)
    metrics = m.read().decode()
    c.check("/metrics: Prometheus text with the ingest counters and series",
            m.headers["Content-Type"].startswith("text/plain") and
            re.search(r"^statecast_series \d+", metrics, re.M), metrics[:500])
    page = urllib.request.urlopen("http://127.0.0.1:9477/",
                                  timeout=10).read().decode()
    c.check("/: the status page lists the series, no script, nothing "
            "from elsewhere", "servers.web2.load" in page and
            "<script" not in page and not re.search(
                r"(src|href)=\"(https?:)?//", page), page[:300])
    sh_blocks = [t for lang, t in seeing if lang == "sh"]
    c.check("Seeing it has the plot and eval commands", len(sh_blocks) == 1
            and len(sh_blocks[0].strip().splitlines()) == 2, sh_blocks)
    for cmd in sh_blocks[0].strip().splitlines():
        p = sh(cmd, work, timeout=300)
        c.check("seeing: " + cmd[:60], p.returncode == 0, p.stderr[-500:])
    svg = os.path.join(work, "web2.svg")
    c.check("plot wrote web2.svg", os.path.exists(svg) and
            open(svg).read(200).lstrip().startswith("<?xml"))
    rep = os.path.join(work, "report")
    charts = [f for f in os.listdir(rep) if f.endswith(".svg")] \
        if os.path.isdir(rep) else []
    c.check("eval --report: report.md and one chart per series",
            os.path.exists(os.path.join(rep, "report.md")) and
            len(charts) == 22, charts)
    r.close()


def snippets(c):
    feed = dict((lang or "collectd", t) for lang, t in blocks("Feeding it")
                if lang != "sh")
    p = subprocess.run([DAEMON, "--print-config"], capture_output=True,
                       text=True, timeout=10)
    c.check("defaults are the ports the snippets name",
            "graphite = 127.0.0.1:2003" in p.stdout and
            "influx = 127.0.0.1:8094" in p.stdout and
            'Port "2003"' in feed["collectd"] and
            "tcp://127.0.0.1:8094" in feed["toml"], p.stdout[:300])
    with Daemon() as d:
        r = d.rpc()
        now = int(time.time())
        # What collectd's write_graphite sends: prefix, host, plugin,
        # type instance, one line each, CRLF-terminated.
        d.send_lines("graphite", "".join(
            "collectd.web1.load.load.shortterm %.2f %d\r\n" % (
                0.1 * (i % 5), now - 600 + 10 * i)
            for i in range(30)).encode())
        # What Telegraf's socket_writer sends with data_format = "influx".
        d.send_lines("influx", "".join(
            "cpu,cpu=cpu-total,host=web1 usage_idle=%.1f,usage_user=%.1f "
            "%d\n" % (90 + i % 3, 5 + i % 2, (now - 600 + 10 * i) * 10**9)
            for i in range(30)).encode())
        got = {e["series"]: e["samples"] for e in r.call("list")["series"]}
        c.check("collectd and Telegraf lines become series", got == {
            "collectd.web1.load.load.shortterm": 30,
            "cpu.usage_idle;cpu=cpu-total;host=web1": 30,
            "cpu.usage_user;cpu=cpu-total;host=web1": 30}, got)
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(readme)
    c.run(snippets)
    c.summary()
