"""Every msgpack-RPC method of statecastd, driven by an independent
python3-msgpack client over TCP and the unix socket: results, error codes
(docs/RPC.md), method names as str and bin, notifications ignored, a bad
frame closing only its own connection."""
import fnmatch
import math
import socket
import struct
import time

import msgpack

from statecast_test import (SANITIZED, Checks, Daemon, RpcError, rss_kib,
                            wait_for)

T0 = float(int(time.time()) - 7200)
H_CHECK = None


def expect_error(c, name, code, fn):
    try:
        fn()
    except RpcError as e:
        return c.check(name, e.code == code, "code %s: %s" % (e.code,
                                                               e.message))
    return c.check(name, False, "no error")


def methods(c):
    with Daemon() as d:
        r = d.rpc()
        pong = r.call("ping")
        c.check("ping", pong["pong"] is True and "version" in pong, pong)
        c.check("method name as bin",
                r.call(None, raw_method=b"ping")["pong"] is True)

        samples = [["cpu.a", T0 + 60 * i, math.sin(i / 3.0)]
                   for i in range(40)]
        samples += [["cpu.b", T0 + 30 * i, float(i)] for i in range(40)]
        res = r.call("push", {"samples": samples})
        c.check("push: all accepted", res == {"accepted": 80,
                                              "rejected": []}, res)
        res = r.call("push", {"samples": [
            ["cpu.a", T0, 1.0],                 # out of order
            ["cpu.a", T0 + 60 * 40, float("nan")],  # not finite
            ["cpu.a", "x", 1.0],                # not a triple
            ["", T0, 1.0],                      # empty name
            ["cpu.a", time.time() + 86400, 1.0],  # beyond max_skew_s
            ["cpu.a", T0 + 60 * 40, 2.0]]})     # fine
        codes = [(e["index"], e["code"]) for e in res["rejected"]]
        c.check("push: rejections carry index, code and reason",
                res["accepted"] == 1 and codes == [(0, 1), (1, 2), (2, 6),
                                                   (3, 4), (4, 7)] and
                all(e["reason"] for e in res["rejected"]), res)
        res = r.call("push", [[["cpu.c", T0, 1.0]]])
        c.check("push: positional params", res["accepted"] == 1, res)

        fc = r.call("forecast", {"series": "cpu.a"})
        H = len(fc["mean"])
        Q = len(fc["quantiles"])
        c.check("forecast: map with series, t, step, quantiles, values, mean",
                fc["series"] == "cpu.a" and fc["t"] == T0 + 60 * 40 and
                fc["step"] == 60.0 and Q >= 3 and H >= 1 and
                len(fc["values"]) == Q and
                all(len(v) == H for v in fc["values"]), fc.keys())
        c.check("forecast: quantiles monotone at every horizon",
                all(fc["values"][k][h] <= fc["values"][k + 1][h]
                    for k in range(Q - 1) for h in range(H)))
        c.check("forecast: levels 0.1 0.5 0.9 present",
                {0.1, 0.5, 0.9} <= set(fc["quantiles"]), fc["quantiles"])
        c.check("forecast: positional params",
                r.call("forecast", ["cpu.a"]) == fc)
        expect_error(c, "forecast: unknown series -> 4 not_found", 4,
                     lambda: r.call("forecast", {"series": "nope"}))
        expect_error(c, "forecast: learning series -> 6 unavailable", 6,
                     lambda: r.call("forecast", {"series": "cpu.c"}))
        expect_error(c, "forecast: missing series -> 3 params", 3,
                     lambda: r.call("forecast", {}))
        expect_error(c, "forecast: series of wrong type -> 3 params", 3,
                     lambda: r.call("forecast", {"series": 7}))

        lst = r.call("list", {"pattern": "cpu.[ab]"})
        c.check("list: glob, sorted, counts and last t",
                [(e["series"], e["samples"], e["last_t"])
                 for e in lst["series"]] ==
                [("cpu.a", 41, T0 + 2400), ("cpu.b", 40, T0 + 30 * 39)] and
                lst["total"] == 2 and lst["truncated"] is False, lst)
        lst = r.call("list", {"limit": 1})
        c.check("list: default pattern and limit",
                len(lst["series"]) == 1 and lst["total"] == 3 and
                lst["truncated"] is True, lst)

        info = r.call("info", {"series": "cpu.b"})
        c.check("info: counters, model, step, period, forecast",
                info["samples"] == 40 and info["step"] == 30.0 and
                info["period"] == 1 and info["learning"] is False and
                info["model"] and len(info["model_hash"]) == 16 and
                info["forecast"]["series"] == "cpu.b", info)
        info = r.call("info", {"series": "cpu.c"})
        c.check("info: a learning series", info["learning"] is True and
                info["forecast"] is None, info)

        h = r.call("history", {"series": "cpu.b", "from": T0 + 30,
                               "to": T0 + 90})
        c.check("history: from/to inclusive",
                h["points"] == [[T0 + 30, 1.0], [T0 + 60, 2.0],
                                [T0 + 90, 3.0]], h)
        h = r.call("history", {"series": "cpu.b", "limit": 2})
        c.check("history: limit", len(h["points"]) == 2, h)
        expect_error(c, "history: bad from -> 3 params", 3,
                     lambda: r.call("history", {"series": "cpu.b",
                                                "from": "yesterday"}))

        sub = r.call("subscribe", {"pattern": "cpu.*"})
        c.check("subscribe: id", sub["subscription"] >= 1, sub)
        r.call("push", {"samples": [["cpu.b", T0 + 30 * 40, 40.0]]})
        n = r.note()
        while n[1] == "anomaly":
            n = r.note()
        c.check("subscribe: forecast notification",
                n[1] == "forecast" and n[2]["series"] == "cpu.b" and
                n[2]["subscription"] == sub["subscription"], n)
        un = r.call("unsubscribe", {"subscription": sub["subscription"]})
        c.check("unsubscribe", un["subscription"] == sub["subscription"])
        expect_error(c, "unsubscribe twice -> 4 not_found", 4,
                     lambda: r.call("unsubscribe",
                                    {"subscription": sub["subscription"]}))

        st = r.call("stats")
        c.check("stats: counters", st["series"] == 3 and
                st["samples"] == 83 and st["rejected"] == 5 and
                st["subscriptions"] == 0 and st["uptime"] >= 0, st)

        dr = r.call("drop", {"series": "cpu.b"})
        c.check("drop", dr["dropped"] is True and
                r.call("stats")["series"] == 2, dr)
        expect_error(c, "drop: gone -> 4 not_found", 4,
                     lambda: r.call("info", {"series": "cpu.b"}))
        expect_error(c, "unknown method -> 2 method", 2,
                     lambda: r.call("frobnicate"))

        # A notification from the client is ignored, known or not.
        r.send([2, "whatever", [1, 2]])
        r.send([2, "ping", {}])
        c.check("client notifications ignored",
                r.call("ping")["pong"] is True)

        # The unix socket serves the same methods.
        u = d.rpc(unix=True)
        c.check("unix socket", u.call("list", {"pattern": "cpu.a"})[
            "series"][0]["samples"] == 41)

        # Garbage closes that connection only.
        g = socket.create_connection(d.ports["rpc"], timeout=10)
        g.sendall(b"\xc1\xc1\xc1\xc1")
        c.check("bad frame: connection closed", g.recv(10) == b"")
        g.close()
        # A frame declaring a huge array is refused before allocation.
        g = socket.create_connection(d.ports["rpc"], timeout=10)
        g.sendall(b"\xdd\xff\x00\x00\x00")
        c.check("array bomb: connection closed", g.recv(10) == b"")
        g.close()
        # A well-formed msgpack value that is not an RPC request.
        g = socket.create_connection(d.ports["rpc"], timeout=10)
        g.sendall(msgpack.packb([0, 9, 42, {}]))
        up = msgpack.Unpacker(raw=False)
        up.feed(g.recv(1000))
        reply = next(up, None)
        c.check("not an RPC request: error 1 parse, connection kept",
                reply is not None and reply[:2] == [1, 9] and
                reply[2][0] == 1, reply)
        g.close()
        c.check("others unaffected", r.call("ping")["pong"] and
                u.call("ping")["pong"])
        c.check("bad frames counted", r.call("stats")["bad_frames"] >= 2)
        # float32 values are exact on the wire.
        raw = socket.create_connection(d.ports["rpc"], timeout=10)
        raw.sendall(msgpack.packb([0, 1, "forecast", {"series": "cpu.a"}]))
        up = msgpack.Unpacker(raw=False)
        msg = None
        while msg is None:
            up.feed(raw.recv(65536))
            for m in up:
                msg = m
        vals = msg[3]["values"][0]
        c.check("forecast values are float32",
                all(struct.unpack("f", struct.pack("f", v))[0] == v
                    for v in vals))
        raw.close()
        u.close()
        r.close()


def list_first_by_name(c):
    """list returns the first `limit` matches in name order (a bounded
    selection, not a sort of every match) with the same total/truncated
    as a full sort would: series created in a scrambled order, several
    limits and globs, checked against Python's sorted()."""
    with Daemon() as d:
        r = d.rpc()
        # 997 is prime: i * 389 % 997 visits every index once, scrambled,
        # so the registry's (creation) order is not the name order.
        names = ["ls.%s.%d" % ("ab"[k % 2], k)
                 for k in (i * 389 % 997 for i in range(997))]
        res = r.call("push", {"samples": [[n, T0, 1.0] for n in names]})
        c.check("list: 997 series pushed", res["accepted"] == 997, res)
        for pat, lim in (("*", None), ("*", 0), ("*", 1), ("*", 2.5),
                         ("*", 63), ("*", 996), ("*", 997), ("*", 5000),
                         ("*", -1), ("ls.b.*", 10), ("ls.a.9*", 7),
                         ("ls.a.9*", 500), ("nothing*", 3)):
            want = sorted(n for n in names if fnmatch.fnmatchcase(n, pat))
            k = len(want) if lim is None or lim < 0 else int(lim)
            p = {"pattern": pat}
            if lim is not None:
                p["limit"] = lim
            lst = r.call("list", p)
            got = [e["series"] for e in lst["series"]]
            c.check("list %r limit %r: the first by name, total, truncated"
                    % (pat, lim), got == want[:k] and
                    lst["total"] == len(want) and
                    lst["truncated"] is (k < len(want)),
                    (got[:5], lst["total"], lst["truncated"]))
        r.close()


def canonical_names(c):
    """A name's tags are sorted whichever way it arrives (push, lookup,
    Graphite line), and push applies the line protocols' name rules."""
    with Daemon() as d:
        r = d.rpc()
        res = r.call("push", {"samples": [
            ["net.rx;z=1;a=2", T0 + 60 * i, float(i)] for i in range(10)]})
        c.check("push with unsorted tags accepted", res["accepted"] == 10,
                res)
        names = [e["series"] for e in r.call("list")["series"]]
        c.check("push stores the canonical name", names == ["net.rx;a=2;z=1"],
                names)
        info = r.call("info", {"series": "net.rx;z=1;a=2"})
        c.check("info finds the series with tags in another order",
                info["series"] == "net.rx;a=2;z=1", info)
        with socket.create_connection(d.ports["graphite"], timeout=10) as g:
            g.sendall(b"net.rx;a=2;z=1 10 %d\n" % int(T0 + 600))
        got = lambda: r.call("info", {"series": "net.rx;a=2;z=1"})
        c.check("a Graphite line with the same tags is the same series",
                wait_for(lambda: got()["samples"] == 11), got())
        long_name = "x" * 5000
        res = r.call("push", {"samples": [
            [long_name, T0, 1.0], ["a;k", T0, 1.0], ["a;k=1;k=2", T0, 1.0],
            ["ok.name", T0, 1.0]]})
        codes = [(e["index"], e["code"]) for e in res["rejected"]]
        c.check("push refuses long names and bad tags with code 4",
                res["accepted"] == 1 and codes == [(0, 4), (1, 4), (2, 4)],
                res)
        expect_error(c, "lookup of a missing series: not found", 4,
                     lambda: r.call("info", {"series": "net.rx;a=3"}))
        r.close()


def big_frames_leave_no_memory(c):
    """A large decoded frame does not stay with its connection: 20 clients
    each send a 200,000-element push (admitted by the frame limits, refused
    by the method) and stay connected; the daemon's RSS must not keep their
    decoders (msgpack-c keeps a zone's largest chunk, ~4.6 MiB each)."""
    n = 20
    frame = msgpack.packb([0, 1, "push", [None] * 200000])
    with Daemon() as d:
        r = d.rpc()
        r.call("ping")
        before = rss_kib(d.proc.pid)
        conns = []
        for _ in range(n):
            g = socket.create_connection(d.ports["rpc"], timeout=30)
            g.sendall(frame)
            up = msgpack.Unpacker(raw=False)
            reply = None
            while reply is None:
                data = g.recv(65536)
                if not data:
                    break
                up.feed(data)
                reply = next(up, None)
            conns.append((g, reply))
        answered = sum(1 for _, rep in conns if rep and rep[2])
        grown = rss_kib(d.proc.pid) - before
        c.check("every big push answered with an error", answered == n,
                answered)
        # ASan's quarantine keeps freed memory resident: RSS says
        # nothing there, so only the plain build's run checks it.
        if not SANITIZED:
            c.check("connections that sent a big frame hold no decoder "
                    "memory", 0 <= grown < 40 * 1024,
                    "RSS grew %d KiB" % grown)
        for g, _ in conns:
            g.close()
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(methods)
    c.run(list_first_by_name)
    c.run(canonical_names)
    c.run(big_frames_leave_no_memory)
    c.summary()
