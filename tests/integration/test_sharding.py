#!/usr/bin/python3
"""Sharding on carbon-c-relay: statecast's placement (io/shard.c, through
`statecast --shards FILE shard`) must agree with the relay's jump_fnv1a_ch
for every name, and with three daemons behind a real relay every series must
live on exactly one daemon, the one the CLI names.

Prints "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402

T = opslib.Tally()
RELAY = "/usr/bin/carbon-c-relay"
SHIPPED = os.path.join(opslib.TOP, "deploy", "sharding")


def series_names(n):
    """Plain dotted names, Graphite tags, UTF-8 bytes (the relay's
    sign-extension quirk) and characters the relay passes unchanged."""
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            out.append("servers.web%03d.cpu.user" % i)
        elif k == 1:
            out.append("disk.used;host=db%d;dc=eu-%d" % (i, i % 3))
        elif k == 2:
            out.append("temp.\u00fcber-%d.sensor_%d" % (i, i % 11))
        elif k == 3:
            out.append("q:%d#x-%d" % (i, i * 7))
        else:
            out.append("app.latency.p99.\u65e5%d" % i)
    return out


def relay_placement(conf, names):
    """Runs carbon-c-relay in test mode: name -> destination host:port."""
    lines = "".join("%s 1 1700000000\n" % n for n in names)
    r = subprocess.run([RELAY, "-f", conf, "-t"], input=lines.encode(),
                       capture_output=True, timeout=120)
    text = r.stdout.decode("utf-8", "replace")
    got = {}
    for m in re.finditer(r"\* -> (\S+)\n\s+jump_fnv1a_ch\(\w+\)\n\s+(\S+)\n",
                         text):
        got[m.group(1)] = m.group(2)
    return got


def cli_placement(shards, names):
    """`statecast --shards FILE shard` over stdin: name -> shard name."""
    r = subprocess.run([opslib.CLI, "--shards", shards, "shard"],
                       input="".join(n + "\n" for n in names).encode(),
                       capture_output=True, timeout=120)
    got = {}
    for line in r.stdout.decode("utf-8").splitlines():
        name, shard, _rpc = line.split("\t")
        got[name] = shard
    return got, r.returncode


def write_pair(tmp, entries):
    """entries: [(graphite_port, name, rpc_port)] in any order. Writes a
    relay config and the matching shards file; returns both paths."""
    conf = os.path.join(tmp, "relay.conf")
    shards = os.path.join(tmp, "shards.conf")
    with open(conf, "w") as f:
        f.write("cluster sc\n    jump_fnv1a_ch\n")
        for port, name, _ in entries:
            f.write("        127.0.0.1:%d=%s\n" % (port, name))
        f.write("    ;\nmatch * send to sc stop;\n")
    with open(shards, "w") as f:
        for port, name, rpc in entries:
            f.write("127.0.0.1:%d=%s rpc=127.0.0.1:%d\n" % (port, name, rpc))
    return conf, shards


def compare(entries, names):
    with tempfile.TemporaryDirectory() as tmp:
        conf, shards = write_pair(tmp, entries)
        relay = relay_placement(conf, names)
        cli, rc = cli_placement(shards, names)
    T.check(rc == 0, "statecast shard exit status %d" % rc)
    T.check(len(relay) == len(names),
            "relay placed %d of %d names" % (len(relay), len(names)))
    T.check(len(cli) == len(names),
            "CLI placed %d of %d names" % (len(cli), len(names)))
    by_port = {"127.0.0.1:%d" % p: n for p, n, _ in entries}
    wrong = [n for n in names if by_port.get(relay.get(n)) != cli.get(n)]
    T.check(not wrong, "%d names placed differently, e.g. %r" %
            (len(wrong), wrong[:3]))
    used = set(cli.values())
    T.check(len(used) == len(entries),
            "every shard receives some series: %s" % sorted(used))


def test_cli_agrees_with_relay_three_named():
    compare([(20003, "c", 7003), (20001, "a", 7001), (20002, "b", 7002)],
            series_names(3000))


def test_cli_agrees_with_relay_numeric_names():
    # Numeric names sort as numbers (9 before 10), not as strings.
    compare([(21000 + i, str(i), 22000 + i) for i in (10, 9, 1, 2, 3, 11)],
            series_names(2000))


def test_shipped_example_files_agree():
    names = series_names(500)
    relay = relay_placement(os.path.join(SHIPPED, "carbon-c-relay.conf"),
                            names)
    cli, rc = cli_placement(os.path.join(SHIPPED, "shards.conf"), names)
    text = open(os.path.join(SHIPPED, "shards.conf")).read()
    by_port = dict((m.group(1), m.group(2)) for m in
                   re.finditer(r"^(\S+:\d+)=(\S+)", text, re.M))
    T.check(rc == 0 and len(relay) == len(names), "both placed all names")
    wrong = [n for n in names if by_port.get(relay.get(n)) != cli.get(n)]
    T.check(not wrong, "shipped files disagree on %d names" % len(wrong))


if __name__ == "__main__":
    T.run(test_cli_agrees_with_relay_three_named)
    T.run(test_cli_agrees_with_relay_numeric_names)
    T.run(test_shipped_example_files_agree)
    sys.exit(T.summary())
