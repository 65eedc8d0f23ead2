"""Load limits of statecastd: 10,000 idle connections from several
127.0.0.x source addresses while the daemon keeps serving ingest and RPC,
then a burst of 100,000 new series against limits.max_series = 60,000: the
first 60,000 are created, the rest refused (counted, named in the log and
in `push` rejections), series that existed go on, and a subscriber to the
burst that does not read is disconnected at its queue bound. Runs in a few tens
of seconds on a loaded 2-core machine; nothing asserts on time.

RLIMIT_NOFILE: this process raises its own limit (and, as root, the hard
one) so that it can hold the connections; the daemon inherits it and
raises its soft limit to fit limits.max_connections (daemon/guard.c)."""
import resource
import socket
import time

import msgpack

from statecast_test import Checks, Daemon, rss_kib, wait_for

IDLE = 10000
SOURCES = ["127.0.0.%d" % i for i in range(2, 10)]
BURST = 100000
MAX_SERIES = 60000
WANT_FD = IDLE + 2000


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < WANT_FD:
        hard = WANT_FD  # needs root (CAP_SYS_RESOURCE); raises otherwise
    if soft == resource.RLIM_INFINITY or soft < WANT_FD:
        soft = WANT_FD
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def open_idle(d, r, n):
    """n connections spread over the three protocols and SOURCES; waits
    in batches for the daemon to take them, so that the listen backlog
    never overflows into SYN retries."""
    protos = ["graphite", "influx", "rpc"]
    held = []
    base = r.call("stats")["clients"]
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((SOURCES[i % len(SOURCES)], 0))
        s.settimeout(30)
        s.connect(d.ports[protos[i % 3]])
        held.append(s)
        if len(held) % 400 == 0 or len(held) == n:
            want = base + len(held)
            wait_for(lambda: r.call("stats")["clients"] >= want,
                     timeout=60)
    return held


def idle_connections(c):
    raise_nofile()
    with Daemon("limits.max_connections=%d" % (IDLE + 100),
                "limits.max_series=%d" % MAX_SERIES,
                # A fixed step: every new series forecasts (and notifies
                # its subscribers) from its first sample.
                "model.step_s=60",
                # No store: the burst is about the loop, and 60,000 final
                # snapshots at SIGTERM would dominate the run.
                "store.path=") as d:
        r = d.rpc()
        before = rss_kib(d.proc.pid)
        held = open_idle(d, r, IDLE)
        st = r.call("stats")
        c.check("%d idle connections held" % IDLE,
                st["clients"] == IDLE + 1 and st["refused"] == 0 and
                st["accept_errors"] == 0, st)
        peers = set(s.getsockname()[0] for s in held)
        c.check("from %d source addresses" % len(SOURCES),
                peers == set(SOURCES), peers)
        after = rss_kib(d.proc.pid)
        print("RSS %d KiB before, %d KiB with %d idle connections "
              "(%.0f bytes each)" % (before, after, IDLE,
                                     (after - before) * 1024.0 / IDLE))
        # Ingest and RPC meanwhile: lines, then an acknowledged push.
        d.send_lines("graphite", b"".join(b"held.g %d %d\n" % (i, 1e9 + i)
                                          for i in range(10)))
        ack = r.call("push", {"samples": [["held.p", 1e9 + i, float(i)]
                                          for i in range(10)]})
        c.check("a push is acknowledged meanwhile", ack["accepted"] == 10,
                ack)
        n = wait_for(lambda: r.call("info", {"series": "held.g"})
                     ["samples"] == 10)
        c.check("lines are ingested meanwhile", n)
        other = d.rpc()
        c.check("a new RPC client is served meanwhile",
                other.call("ping")["pong"])
        other.close()
        st = wait_for(lambda: (lambda x: x["clients"] <= IDLE + 1 and x)(
            r.call("stats")))
        c.check("nothing closed a held connection",
                st and st["clients"] == IDLE + 1 and st["idle_closed"] == 0
                and st["slow_senders"] == 0, st)

        burst(c, d, r)

        for s in held:
            s.close()
        c.check("all released",
                wait_for(lambda: r.call("stats")["clients"] == 1,
                         timeout=60))
        r.close()


def burst(c, d, r):
    """BURST new series on four connections at once, past MAX_SERIES,
    with a subscriber to all of them that never reads."""
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.settimeout(30)
    slow.connect(d.ports["rpc"])
    slow.sendall(msgpack.packb([0, 1, "subscribe", {"pattern": "burst.*"}]))
    wait_for(lambda: r.call("stats")["subscriptions"] == 1)
    names = [b"burst.s%06d" % i for i in range(BURST)]
    socks = [socket.create_connection(d.ports["graphite"], timeout=60)
             for _ in range(4)]
    for k, s in enumerate(socks):
        s.sendall(b"".join(b"%s %d %d\n" % (names[i], i % 97, 1e9)
                           for i in range(k, BURST, 4)))
    pong = r.call("ping")["pong"]
    for s in socks:
        s.shutdown(socket.SHUT_WR)
        s.settimeout(60)
        s.recv(1)
        s.close()
    c.check("RPC answered during the burst", pong)
    # held.g, held.p and the burst's first series make MAX_SERIES.
    st = wait_for(lambda: (lambda x: x["series"] >= MAX_SERIES and
                           x["series_refused"] >= BURST - MAX_SERIES + 2 and
                           x)(r.call("stats")), timeout=60)
    st = st or r.call("stats")
    c.check("max_series series exist, no more",
            st["series"] == MAX_SERIES, st)
    c.check("the rest refused and counted",
            st["series_refused"] == BURST - (MAX_SERIES - 2), st)
    log = d.log()
    c.check("the log names a refused series",
            "new series 'burst.s" in log and "limits.max_series = %d "
            "reached" % MAX_SERIES in log, log[-1500:])
    c.check("once per 10 s, not once per refusal",
            log.count("limits.max_series = ") <= 3)
    ack = r.call("push", {"samples": [["held.p", 1.5e9, 1.0],
                                      ["burst.new", 1.5e9, 1.0]]})
    c.check("an existing series goes on, a new one is refused by name",
            ack["accepted"] == 1 and len(ack["rejected"]) == 1 and
            ack["rejected"][0]["index"] == 1 and "max_series" in
            ack["rejected"][0]["reason"] and
            ack["rejected"][0]["series"] == "burst.new", ack)
    d.send_lines("graphite", b"burst.s000001 5 %d\n" % (1e9 + 60))
    info = wait_for(lambda: (lambda x: x["samples"] == 2 and x)(
        r.call("info", {"series": "burst.s000001"})))
    c.check("a burst series that got in takes more samples", info)
    st = r.call("stats")
    c.check("the subscriber that did not read was disconnected",
            st["slow_clients"] == 1 and st["subscriptions"] == 0, st)
    slow.close()


if __name__ == "__main__":
    c = Checks()
    t0 = time.time()
    c.run(idle_connections)
    print("took %.1f s" % (time.time() - t0))
    c.summary()
