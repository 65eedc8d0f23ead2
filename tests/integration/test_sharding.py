#!/usr/bin/python3
"""Sharding on carbon-c-relay: statecast's placement (io/shard.c, through
`statecast --shards FILE shard`) must agree with the relay's jump_fnv1a_ch
for every name, and with three daemons behind a real relay every series must
live on exactly one daemon, the one the CLI names.

Prints "N passed, N failed".
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
import statecast_test as st  # noqa: E402

T = opslib.Tally()
RELAY = "/usr/bin/carbon-c-relay"
SHIPPED = os.path.join(opslib.TOP, "deploy", "sharding")


def series_names(n, tags=True):
    """Plain dotted names, Graphite tags, UTF-8 (the relay's sign-extension
    quirk in test mode; rewritten to '_' when it routes traffic) and
    characters the relay passes unchanged. The relay's test mode (-t)
    hashes tags with the name, its real routing does not: comparisons with
    -t use tags=False."""
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            out.append("servers.web%03d.cpu.user" % i)
        elif k == 1:
            out.append("disk.used.db%d;host=db%d;dc=eu-%d" %
                       (i % 40, i, i % 3) if tags else
                       "disk.used.db%d.eu-%d" % (i, i % 3))
        elif k == 2:
            out.append("temp.\u00fcber-%d.sensor_%d" % (i, i % 11))
        elif k == 3:
            out.append("q:%d#x-%d" % (i, i * 7))
        else:
            out.append("app.latency.p99.\u65e5%d" % i)
    return out


def relay_rewrite(name):
    """The name carbon-c-relay forwards (default -c "-_:#"): each byte of
    the path outside [A-Za-z0-9._:#-] becomes '_'; tags are kept."""
    path, sep, tags = name.partition(";")
    ok = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             b"0123456789._:#-")
    path = "".join(chr(b) if b in ok else "_" for b in path.encode())
    return path + sep + tags


def canonical(name):
    """statecastd's identity: tags sorted by key."""
    path, sep, tags = name.partition(";")
    return path + sep + ";".join(sorted(tags.split(";"))) if sep else path


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
            series_names(3000, tags=False))


def test_cli_agrees_with_relay_numeric_names():
    # Numeric names sort as numbers (9 before 10), not as strings.
    compare([(21000 + i, str(i), 22000 + i) for i in (10, 9, 1, 2, 3, 11)],
            series_names(2000, tags=False))


def test_shipped_example_files_agree():
    names = series_names(500, tags=False)
    relay = relay_placement(os.path.join(SHIPPED, "carbon-c-relay.conf"),
                            names)
    cli, rc = cli_placement(os.path.join(SHIPPED, "shards.conf"), names)
    text = open(os.path.join(SHIPPED, "shards.conf")).read()
    by_port = dict((m.group(1), m.group(2)) for m in
                   re.finditer(r"^(\S+:\d+)=(\S+)", text, re.M))
    T.check(rc == 0 and len(relay) == len(names), "both placed all names")
    wrong = [n for n in names if by_port.get(relay.get(n)) != cli.get(n)]
    T.check(not wrong, "shipped files disagree on %d names" % len(wrong))


def wait_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stored(d):
    """The series a daemon holds, by its own `list`."""
    r = d.rpc()
    try:
        res = r.call("list", {"pattern": "*", "limit": 1000000})
    finally:
        r.close()
    return [x["series"] for x in res["series"]], res["total"]


def test_relay_three_daemons_cli_finds_each():
    """carbon-c-relay in front of three daemons: every series lands on
    exactly one daemon, the one `statecast --shards` names, and the
    routed CLI finds each series there."""
    n = 3000
    sent = series_names(n)
    # What the daemons hold: the relay's rewrite, then statecastd's
    # canonical tag order; that is also the name a user queries.
    names = [canonical(relay_rewrite(x)) for x in sent]
    T.check(len(set(names)) == n, "distinct names after the rewrite")
    daemons = [st.Daemon() for _ in range(3)]
    tmp = tempfile.mkdtemp(prefix="sc-shard-")
    relay = None
    try:
        entries = [(d.ports["graphite"][1], "s%d" % (i + 1),
                    d.ports["rpc"][1]) for i, d in enumerate(daemons)]
        conf, shards = write_pair(tmp, entries)
        # A relay that dies while starting is started again on another
        # port, up to five times: free_port() does not reserve its port
        # (another process may bind it first: logged, exit 1), and
        # carbon-c-relay 3.7.3 now and then segfaults in libc while
        # starting here (dmesg).
        for attempt in range(5):
            rport = opslib.free_port()
            rlog = os.path.join(tmp, "relay%d.log" % attempt)
            # -s: submission mode, no relay statistics in the stream.
            relay = subprocess.Popen([RELAY, "-f", conf, "-p", str(rport),
                                      "-w", "1", "-s", "-l", rlog],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            # Its sockets are bound before its workers run: wait for both.
            up = st.wait_for(lambda: relay.poll() is not None or (
                os.path.exists(rlog) and "startup sequence complete" in
                open(rlog).read()), timeout=30) and \
                relay.poll() is None and wait_port(rport, relay)
            if up or relay.poll() is None:
                break
            print("relay exited with %s while starting; again" %
                  relay.poll(), flush=True)
        T.check(up, "relay started")
        c = socket.create_connection(("127.0.0.1", rport), timeout=30)
        t0 = 1700000000
        data = "".join("%s %d %d\n" % (nm, i % 17, t0 + k * 60)
                       for k in range(2) for i, nm in enumerate(sent))
        c.sendall(data.encode("utf-8"))
        c.close()
        st.wait_for(lambda: sum(stored(d)[1] for d in daemons) >= n,
                    timeout=60, step=0.2)
        held = [set(stored(d)[0]) for d in daemons]
        total = sum(len(h) for h in held)
        union = set().union(*held)
        T.check(total == n and union == set(names),
                "%d series held (%d distinct) of %d sent; missing %r, "
                "unexpected %r" % (total, len(union), n,
                                   sorted(set(names) - union)[:3],
                                   sorted(union - set(names))[:3]))
        T.check(all(len(h) > n // 10 for h in held),
                "each daemon holds a share: %s" % [len(h) for h in held])
        cli, rc = cli_placement(shards, names)
        wrong = [nm for i, h in enumerate(held) for nm in h
                 if cli.get(nm) != "s%d" % (i + 1)]
        T.check(rc == 0 and not wrong,
                "every series on the shard the CLI computes; %d are not, "
                "e.g. %r" % (len(wrong), wrong[:3]))
        # The routed CLI (no --rpc) finds each series on its daemon.
        env = dict(os.environ, STATECAST_SHARDS=shards)
        missing = []
        for nm in names:
            r = subprocess.run([opslib.CLI, "info", nm, "--json"],
                               capture_output=True, text=True, env=env,
                               timeout=30)
            if r.returncode != 0 or nm not in r.stdout:
                missing.append((nm, r.stderr.strip()[:200]))
        if not T.check(not missing, "CLI did not find %d series, e.g. %r" %
                       (len(missing), missing[:3])):
            for d in daemons:  # what became of them
                print("  daemon exit status %s, log tail:\n%s" %
                      (d.proc.poll(), d.log()[-1500:]), file=sys.stderr)
        # And through the global option, for one series.
        r = subprocess.run([opslib.CLI, "--shards", shards, "info",
                            names[7]], capture_output=True, text=True,
                           timeout=30)
        T.check(r.returncode == 0, "--shards FILE info: %s" % r.stderr)
    finally:
        if relay and relay.poll() is None:
            # SIGKILL: carbon-c-relay 3.7.3 sometimes segfaults while
            # shutting down on SIGTERM (seen in dmesg), which is noise.
            relay.kill()
            relay.wait(timeout=10)
        for d in daemons:
            d.stop()
        if not os.environ.get("STATECAST_KEEP"):
            subprocess.run(["rm", "-rf", tmp])
        else:
            print("kept", tmp)


if __name__ == "__main__":
    T.run(test_cli_agrees_with_relay_three_named)
    T.run(test_cli_agrees_with_relay_numeric_names)
    T.run(test_shipped_example_files_agree)
    T.run(test_relay_three_daemons_cli_finds_each)
    sys.exit(T.summary())
