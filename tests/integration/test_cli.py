"""The statecast CLI's query and ingest commands against the real daemon:
push, send, forecast, list, info, stats, watch, --json, --rpc, --socket,
and what it says when the daemon is not there."""
import json
import os
import socket
import subprocess
import time

from statecast_test import CLI, Checks, Daemon, run_cli

T0 = int(time.time()) - 86400


def commands(c):
    with Daemon() as d:
        tmp = d.dir
        csv = os.path.join(tmp, "load.csv")
        with open(csv, "w") as f:
            f.write("t,value\n")
            for i in range(200):
                f.write("%d,%g\n" % (T0 + 300 * i, 5 + (i % 12)))
        p = d.cli("send", csv, "site.load")
        c.check("send: streams a CSV", p.returncode == 0 and
                "200 sent, 200 accepted, 0 rejected" in p.stdout,
                p.stdout + p.stderr)
        p = d.cli("send", csv, "site.load", "--json")
        j = json.loads(p.stdout)
        c.check("send again: all rejected as out of order, exit 1",
                p.returncode == 1 and j["rejected"] == 200 and
                "out of order" in p.stderr, (p.stdout, p.stderr))

        p = d.cli("forecast", "site.load")
        c.check("forecast: a table of horizons", p.returncode == 0 and
                "site.load  origin" in p.stdout and "q0.5" in p.stdout and
                p.stdout.count("\n") > 3, p.stdout + p.stderr)
        p = d.cli("forecast", "site.load", "--json")
        fc = json.loads(p.stdout)
        rfc = d.rpc().call("forecast", {"series": "site.load"})
        c.check("forecast --json equals the RPC result", fc == rfc)

        p = d.cli("push", "site.other", "3.5", str(T0))
        c.check("push NAME VALUE T", p.returncode == 0 and
                "1 accepted" in p.stdout, p.stdout + p.stderr)
        p = d.cli("push", "site.other", "4")
        c.check("push NAME VALUE (now)", p.returncode == 0, p.stderr)
        p = d.cli("push", "site.other", "4", str(T0))
        c.check("push: a rejected sample exits 1 with the reason",
                p.returncode == 1 and "out of order" in p.stderr, p.stderr)

        p = d.cli("list")
        lines = p.stdout.splitlines()
        c.check("list: every series", p.returncode == 0 and
                len(lines) == 2 and lines[0].startswith("site.load") and
                " 200 " in lines[0], p.stdout)
        p = d.cli("list", "site.o*", "--json")
        j = json.loads(p.stdout)
        c.check("list PATTERN --json", [e["series"] for e in j["series"]] ==
                ["site.other"] and j["series"][0]["samples"] == 2, j)

        p = d.cli("info", "site.load")
        c.check("info: counters and the forecast", p.returncode == 0 and
                "samples     200" in p.stdout and "step        300" in
                p.stdout and "q0.9" in p.stdout, p.stdout)
        p = d.cli("info", "nope")
        c.check("info: unknown series -> exit 1, message",
                p.returncode == 1 and "no series 'nope'" in p.stderr,
                p.stderr)

        p = d.cli("stats", unix=True)
        c.check("stats over --socket", p.returncode == 0 and
                "series: 2" in p.stdout, p.stdout + p.stderr)
        p = d.cli("stats", "--json")
        c.check("stats --json", json.loads(p.stdout)["samples"] == 202)

        # watch: prints pushed forecasts; --count ends it.
        w = subprocess.Popen([CLI, "watch", "site.*", "--count", "3",
                              "--json", "--rpc", "%s:%d" % d.ports["rpc"]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        # Wait until it is subscribed before pushing.
        line = w.stderr.readline()
        for i in range(3):
            d.cli("push", "site.load", "7", str(T0 + 300 * (200 + i)))
        try:
            out, err = w.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            w.kill()
            out, err = w.communicate()
        notes = [json.loads(x) for x in out.splitlines()]
        c.check("watch: subscribed", "watching site.*" in line, line)
        c.check("watch --json --count 3: three forecasts",
                w.returncode == 0 and len(notes) >= 3 and
                all(n["method"] in ("forecast", "anomaly") for n in notes) and
                [n["params"]["t"] for n in notes
                 if n["method"] == "forecast"][:3] ==
                [T0 + 300 * (200 + i) for i in range(3)][:len(
                    [n for n in notes if n["method"] == "forecast"])],
                out + err)
        w = subprocess.Popen([CLI, "watch", "site.load", "--count", "1",
                              "--rpc", "%s:%d" % d.ports["rpc"]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        w.stderr.readline()
        d.cli("push", "site.load", "7.5", str(T0 + 300 * 203))
        out, err = w.communicate(timeout=20)
        c.check("watch: human-readable line",
                out.startswith("forecast site.load ") or
                out.startswith("anomaly  site.load "), out + err)

        p = d.cli("forecast")
        c.check("usage error -> exit 2", p.returncode == 2 and
                "usage: statecast forecast NAME" in p.stderr, p.stderr)


def unreachable(c):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    p = run_cli(["stats", "--rpc", "127.0.0.1:%d" % port])
    c.check("daemon unreachable over TCP: clear message, exit 1",
            p.returncode == 1 and "cannot reach statecastd at 127.0.0.1:%d"
            % port in p.stderr and "is the daemon running?" in p.stderr,
            p.stderr)
    p = run_cli(["list", "--socket", "/nonexistent/statecast.sock"])
    c.check("daemon unreachable over the socket: clear message, exit 1",
            p.returncode == 1 and "cannot reach statecastd at "
            "/nonexistent/statecast.sock" in p.stderr, p.stderr)
    p = run_cli(["--help"])
    c.check("--help lists the query commands", all(
        ("  %s " % k) in p.stdout for k in
        ("forecast", "list", "info", "watch", "push", "send", "stats")),
        p.stdout)


if __name__ == "__main__":
    c = Checks()
    c.run(commands)
    c.run(unreachable)
    c.summary()
