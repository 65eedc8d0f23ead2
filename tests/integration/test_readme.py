"""Every command the README shows for feeding and querying statecastd,
run as written against a real daemon (only the port numbers and the path
of the CLI are substituted, since the test daemon uses ephemeral ports),
plus the line formats the collectd and Telegraf snippets make those tools
send."""
import os
import re
import subprocess
import time

from statecast_test import CLI, DAEMON, ROOT, Checks, Daemon, wait_for


def blocks(section):
    """The fenced blocks of a README section: [(lang, text)]."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(section), text,
                  re.S | re.M)
    return re.findall(r"^```(\w*)\n(.*?)^```", m.group(1), re.S | re.M)


def localize(cmd, d):
    cmd = cmd.replace(" 2003", " %d" % d.ports["graphite"][1])
    cmd = cmd.replace(" 8094", " %d" % d.ports["influx"][1])
    cmd = cmd.replace("7411", "%d" % d.ports["rpc"][1])
    return cmd.replace("build/statecast", CLI)


def sh(cmd, d, timeout=30):
    env = dict(os.environ, STATECAST_RPC="127.0.0.1:%d" % d.ports["rpc"][1])
    return subprocess.run(["bash", "-c", localize(cmd, d)], env=env,
                          cwd=d.dir, capture_output=True, text=True,
                          timeout=timeout)


def readme(c):
    feed = blocks("Feeding it")
    query = blocks("Querying it")
    with Daemon() as d:
        r = d.rpc()
        n = 0
        for lang, text in feed:
            if lang != "sh":
                continue
            for cmd in text.strip().splitlines():
                p = sh(cmd, d)
                n += 1
                c.check("feeding: " + cmd[:60], p.returncode == 0, p.stderr)
        names = wait_for(lambda: len(r.call("list")["series"]) >= 4 and
                         [e["series"] for e in r.call("list")["series"]])
        c.check("fed series present", names == [
            "cpu.idle;host=web1", "cpu.usage;host=web1",
            "servers.web1.load", "servers.web2.load"], names)
        c.check("fed: the backlog has 60 samples", r.call(
            "info", {"series": "servers.web2.load"})["samples"] == 60)

        with open(os.path.join(d.dir, "load.csv"), "w") as f:
            f.write("t,value\n")
            t0 = int(time.time()) - 6000
            for i in range(100):
                f.write("%d,%d\n" % (t0 + 60 * i, i % 10))
        sh_blocks = [t for lang, t in query if lang == "sh"]
        for cmd in sh_blocks[0].strip().splitlines():
            if " watch " in cmd:
                env = dict(os.environ,
                           STATECAST_RPC="127.0.0.1:%d" % d.ports["rpc"][1])
                w = subprocess.Popen(["bash", "-c", "exec " +
                                      localize(cmd, d)], env=env,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                w.stderr.readline()  # "watching ..." once subscribed
                sh("build/statecast push servers.web2.load 3", d)
                line = w.stdout.readline()
                w.terminate()
                w.communicate(timeout=10)
                c.check("querying: " + cmd, line.startswith(
                    ("forecast servers.web2.load",
                     "anomaly  servers.web2.load")), line)
                continue
            p = sh(cmd, d)
            c.check("querying: " + cmd, p.returncode == 0 and p.stdout,
                    p.stdout + p.stderr)
        py = [t for lang, t in query if lang == "python"]
        c.check("README has the Python client", len(py) == 1 and
                len(py[0].strip().splitlines()) <= 16)
        p = subprocess.run(["/usr/bin/python3", "-c", localize(py[0], d)],
                           capture_output=True, text=True, timeout=30)
        c.check("the Python client prints a forecast", p.returncode == 0 and
                re.match(r"\[[-0-9.e]+, [-0-9.e]+, [-0-9.e]+\]\n$",
                         p.stdout), p.stdout + p.stderr)
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
