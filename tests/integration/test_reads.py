"""Reads off the loop thread (daemon/reader.h): `history` with a store runs
on the read thread, and its reply still comes in request order on its
connection (docs/RPC.md), behind earlier requests and before later ones;
a connection's reads beyond SRV_READ_PER_CONN get error 6 "busy"; a
connection that goes away with reads queued harms nobody; the status page,
rendered on the read thread, shows the stored samples. Real daemon, real
sockets, an independent msgpack client."""
import math
import socket
import time
import urllib.request

import msgpack

from statecast_test import Checks, Daemon, threads, wait_for

T0 = float(int(time.time()) - 7200)
N = 50
PER_CONN = 16  # SRV_READ_PER_CONN in daemon/reader.h


def replies(s, n, timeout=30.0):
    """The next n responses on socket s, in arrival order."""
    s.settimeout(timeout)
    up = msgpack.Unpacker(raw=False, strict_map_key=False)
    out = []
    while len(out) < n:
        data = s.recv(1 << 20)
        if not data:
            raise ConnectionError("closed by statecastd")
        up.feed(data)
        out += [m for m in up if m[0] == 1]
    return out


def seed(r):
    samples = [["rd.a", T0 + 60 * i, math.sin(i / 5.0)] for i in range(N)]
    samples += [["rd.b", T0 + 60 * i, float(i)] for i in range(N)]
    res = r.call("push", {"samples": samples})
    return res["accepted"] == 2 * N


def order(c):
    with Daemon() as d:
        c.check("pushed", seed(d.rpc()))
        pid = d.proc.pid
        ts = threads(pid)
        rd = [t for t in ts if ts[t][2] == "store-reader"]
        c.check("one store-reader thread, at the loop's policy and nice",
                len(rd) == 1 and ts[rd[0]][:2] == ts[pid][:2], ts)
        s = socket.create_connection(d.ports["rpc"], timeout=30)
        # history, ping, history, ... in one write: the pings are
        # answered on the loop at once, the histories on the read
        # thread, and still every reply comes in request order.
        frames = b""
        for i in range(1, 25):
            if i % 2:
                frames += msgpack.packb([0, i, "history", {"series": "rd.a"}])
            else:
                frames += msgpack.packb([0, i, "ping", {}])
        s.sendall(frames)
        got = replies(s, 24)
        c.check("replies in request order", [m[1] for m in got] ==
                list(range(1, 25)), [m[1] for m in got])
        hist = [m for m in got if m[1] % 2]
        c.check("every history answered with the stored samples",
                all(m[2] is None and len(m[3]["points"]) == N and
                    m[3]["points"][0] == [T0, 0.0] for m in hist),
                [m[2] or len(m[3]["points"]) for m in hist])
        c.check("every ping answered",
                all(m[2] is None and m[3]["pong"] is True
                    for m in got if m[1] % 2 == 0))
        # A range and a limit are honoured on the read thread too.
        s.sendall(msgpack.packb([0, 100, "history", {
            "series": "rd.b", "from": T0 + 60 * 10, "to": T0 + 60 * 19,
            "limit": 5}]))
        m = replies(s, 1)[0]
        c.check("history range and limit",
                m[1] == 100 and m[2] is None and
                [p[1] for p in m[3]["points"]] == [10.0, 11.0, 12.0, 13.0,
                                                    14.0], m)
        s.close()


def busy(c):
    with Daemon() as d:
        c.check("pushed", seed(d.rpc()))
        s = socket.create_connection(d.ports["rpc"], timeout=30)
        # 200 reads in one write: the loop parses them in one read
        # callback, before any read's reply can free its place.
        s.sendall(b"".join(msgpack.packb([0, i, "history",
                                          {"series": "rd.a"}])
                           for i in range(1, 201)))
        got = replies(s, 200)
        c.check("200 replies in order", [m[1] for m in got] ==
                list(range(1, 201)))
        ok = [m for m in got if m[2] is None]
        err = [m for m in got if m[2] is not None]
        c.check("at least the per-connection bound read", len(ok) >= PER_CONN,
                len(ok))
        c.check("the rest refused as busy (error 6)",
                err and all(m[2][0] == 6 and "busy" in m[2][1] for m in err),
                err[:2])
        c.check("the reads answered are whole",
                all(len(m[3]["points"]) == N for m in ok))
        st = d.rpc().call("stats")
        c.check("stats counts the refusals", st.get("reads_busy", 0) >=
                len(err) and st.get("reads_run", 0) >= len(ok),
                {k: st.get(k) for k in ("reads_busy", "reads_run")})
        s.close()


def gone(c):
    with Daemon() as d:
        c.check("pushed", seed(d.rpc()))
        for _ in range(20):
            s = socket.create_connection(d.ports["rpc"], timeout=30)
            s.sendall(b"".join(msgpack.packb([0, i, "history",
                                              {"series": "rd.a"}])
                               for i in range(1, PER_CONN + 1)))
            s.close()
        r = d.rpc()
        # Their reads still run (at most 64 wait; a new one meanwhile
        # would be refused as busy), then the daemon is as before.
        c.check("the reads of the clients gone drain",
                wait_for(lambda: r.call("stats")["reads_queued"] == 0,
                         timeout=60))
        c.check("a client gone with reads queued: the daemon serves on",
                r.call("ping")["pong"] is True and
                len(r.call("history", {"series": "rd.b"})["points"]) == N)
        d.stop()
        c.check("and stops cleanly", d.proc.returncode == 0,
                d.proc.returncode)


def page(c):
    with Daemon("listen.http=127.0.0.1:0") as d:
        c.check("pushed", seed(d.rpc()))
        url = "http://%s:%d/" % d.ports["http"]
        body = urllib.request.urlopen(url, timeout=30).read().decode()
        c.check("status page lists the series", "rd.a" in body and
                "rd.b" in body)
        # Each sparkline is an SVG polyline of the stored samples.
        c.check("status page sparklines drawn from the store",
                body.count("class=\"hist\"") >= 2, body[:400])


if __name__ == "__main__":
    c = Checks()
    c.run(order)
    c.run(busy)
    c.run(gone)
    c.run(page)
    c.summary()
