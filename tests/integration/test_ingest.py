"""Graphite and Influx ingest into the real daemon over real sockets:
many lines per read, lines split across reads, CRLF, tags, bad and
out-of-order lines counted, several connections at once."""
import socket
import threading
import time

from statecast_test import Checks, Daemon, history

T0 = int(time.time()) - 3600


def graphite(c):
    with Daemon() as d:
        r = d.rpc()
        lines = "".join("web.load %d %d\n" % (i % 5, T0 + 60 * i)
                        for i in range(50))
        d.send_lines("graphite", lines.encode())
        info = r.call("info", {"series": "web.load"})
        c.check("graphite: 50 lines -> 50 samples", info["samples"] == 50,
                info)
        c.check("graphite: step learned from the samples",
                info["step"] == 60.0, info["step"])
        c.check("graphite: forecast exists", info["forecast"] is not None)

        # One line split in three reads, CRLF endings, tags in any order.
        data = ("split.name;zone=b;host=a 1.5 %d\r\n" % T0 +
                "split.name;host=a;zone=b 2.5 %d\r\n" % (T0 + 10)).encode()
        d.send_lines("graphite", data, chunks=[3, 20, 40])
        lst = r.call("list", {"pattern": "split.*"})
        names = [e["series"] for e in lst["series"]]
        c.check("graphite: split reads and CRLF parse; tags normalized",
                names == ["split.name;host=a;zone=b"], lst)
        c.check("graphite: both lines reached one series",
                lst["series"] and lst["series"][0]["samples"] == 2, lst)
        hist = history(r, "split.name;host=a;zone=b", 2)
        c.check("graphite: values and times kept exactly",
                hist["points"] == [[float(T0), 1.5], [T0 + 10.0, 2.5]],
                hist)

        # Bad, out-of-order and duplicate lines are counted, not fatal.
        before = r.call("stats")
        bad = ("web.load notanumber %d\n" % T0 +
               "web.load 1 %d\n" % (T0 + 60) +      # out of order
               "web.load 1 %d\n" % (T0 + 60 * 49) +  # duplicate t
               "web.load 7 %d\n" % (T0 + 60 * 50)).encode()
        d.send_lines("graphite", bad)
        after = r.call("stats")
        c.check("graphite: bad line counted",
                after["lines_bad"] == before["lines_bad"] + 1, after)
        c.check("graphite: out-of-order and duplicate dropped, counted",
                after["out_of_order"] == before["out_of_order"] + 2, after)
        info = r.call("info", {"series": "web.load"})
        c.check("graphite: the good line after them still counts",
                info["samples"] == 51 and info["dropped"] == 2, info)

        # A gap of 3 nominal steps is an irregular sample.
        d.send_lines("graphite", b"web.load 3 %d\n" % (T0 + 60 * 53))
        info = r.call("info", {"series": "web.load"})
        c.check("graphite: a gap is stepped as irregular",
                info["irregular"] == 1, info)

        # Many connections at once, interleaved.
        def sender(k):
            s = socket.create_connection(d.ports["graphite"], timeout=10)
            for i in range(200):
                s.sendall(b"conc.%d %d %d\n" % (k, i, T0 + i))
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
            s.close()
        ts = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        lst = r.call("list", {"pattern": "conc.*"})
        c.check("graphite: 8 concurrent connections, 8 series x 200",
                len(lst["series"]) == 8 and
                all(e["samples"] == 200 for e in lst["series"]), lst)
        st = r.call("stats")
        c.check("graphite: samples of one read are stepped in batches",
                st["batch_max"] >= 2 and st["ticks"] < st["samples"], st)
        r.close()


def influx(c):
    ns = 1000000000
    with Daemon() as d:
        r = d.rpc()
        lines = "".join(
            "cpu,host=a,region=eu usage=%d.5,idle=%di %d\n" %
            (i, 100 - i, (T0 + 10 * i) * ns) for i in range(20))
        lines += "# a comment\n"
        lines += "cpu,region=eu,host=a usage=99.5,state=\"ok\" %d\n" % (
            (T0 + 200) * ns)
        lines += "mem\\,x,host=b used=1 %d\n" % (T0 * ns)
        lines += "broken line here\n"
        d.send_lines("influx", lines.encode(), chunks=[17, 300])
        lst = r.call("list", {"pattern": "*"})
        names = sorted(e["series"] for e in lst["series"])
        c.check("influx: each numeric field is measurement.field + tags",
                names == ["cpu.idle;host=a;region=eu",
                          "cpu.usage;host=a;region=eu",
                          "mem,x.used;host=b"], names)
        hist = history(r, "cpu.usage;host=a;region=eu", 21)
        c.check("influx: ns timestamps, float values, string field skipped",
                len(hist["points"]) == 21 and
                hist["points"][0] == [float(T0), 0.5] and
                hist["points"][-1] == [T0 + 200.0, 99.5], hist)
        hist = history(r, "cpu.idle;host=a;region=eu", 20)
        c.check("influx: integer fields", hist["points"][1] == [
            T0 + 10.0, 99.0], hist["points"][:2])
        st = r.call("stats")
        c.check("influx: the broken line counted", st["lines_bad"] == 1, st)
        r.close()
    with Daemon("ingest.influx_precision=s") as d:
        r = d.rpc()
        d.send_lines("influx", b"m v=1 %d\nm v=2 %d\n" % (T0, T0 + 5))
        hist = history(r, "m.v", 2)
        c.check("influx: precision=s",
                hist["points"] == [[float(T0), 1.0], [T0 + 5.0, 2.0]], hist)
        r.close()


def long_lines(c):
    with Daemon("limits.max_line=128", "limits.max_name=64") as d:
        r = d.rpc()
        data = (b"a.b 1 %d\n" % T0 + b"x" * 5000 + b" 1 1\n" +
                b"a.b 2 %d\n" % (T0 + 1))
        d.send_lines("graphite", data, chunks=[60, 3000])
        st = r.call("stats")
        info = r.call("info", {"series": "a.b"})
        c.check("long line discarded and counted, neighbours kept",
                st["lines_long"] == 1 and info["samples"] == 2,
                (st["lines_long"], info["samples"]))
        r.close()


def tick_bound(c):
    """A backlog is stepped in bounded ticks (SRV_TICK_SAMPLES = 256 in
    daemon/tick.h): once a tick holds 256 samples the line connections are
    not read until it has run, and a read brings at most 16 KiB. The bound
    is on what one tick can hold, whatever the timing of the reads; a fixed
    step (no learning) makes each tick's steps its accepted samples."""
    nser, nrounds = 200, 30
    with Daemon("model.step_s=60") as d:
        lines = "".join("tb.s%d %d %d\n" % (k, (k + i) % 50, T0 + 60 * i)
                        for i in range(nrounds) for k in range(nser))
        d.send_lines("graphite", lines.encode())
        r = d.rpc()
        st = r.call("stats")
        shortest = min(len(x) + 1 for x in lines.split("\n") if x)
        bound = 255 + 16384 // shortest
        c.check("every sample stepped", st["stepped"] == nser * nrounds, st)
        c.check("no tick past 255 samples + one 16 KiB read (%d)" % bound,
                0 < st["tick_max"] <= bound, st)
        c.check("a tick that reached 256 samples paused reading",
                st["tick_max"] < 256 or st["tick_paused"] > 0, st)
        # The loop's CPU time in ticks cannot pass their wall time (1 ms
        # allowed for the clock reads themselves).
        c.check("tick wall and CPU seconds counted, CPU within wall",
                0 < st["tick_cpu_s"] <= st["tick_wall_s"] + 1e-3, st)
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(graphite)
    c.run(influx)
    c.run(long_lines)
    c.run(tick_bound)
    c.summary()
