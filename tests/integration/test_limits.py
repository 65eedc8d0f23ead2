"""Connection limits of statecastd: limits.max_connections refuses the
clients past it (and takes new ones again once some leave),
limits.idle_timeout_s closes connections that send nothing, except
subscribers, which only listen; limits.conn_buffer bounds the partial input
and the unsent replies a connection holds; limits.min_rate closes a client
that trickles a line or frame in, not one that sends whole lines rarely."""
import socket
import struct
import time

import msgpack

from statecast_test import Checks, Daemon, ping_new, until_closed, wait_for


def max_connections(c):
    with Daemon("limits.max_connections=3") as d:
        held = [d.rpc() for _ in range(3)]
        for r in held:
            r.call("ping")
        extra = socket.create_connection(d.ports["rpc"], timeout=10)
        c.check("the 4th client is closed", until_closed(extra)[1])
        extra.close()
        line = socket.create_connection(d.ports["graphite"], timeout=10)
        c.check("the limit counts every listener", until_closed(line)[1])
        line.close()
        st = held[0].call("stats")
        c.check("refusals counted", st["refused"] == 2 and
                st["clients"] == 3, st)
        c.check("logged once for the episode", d.log().count(
            "connection limit reached") == 1, d.log())
        held.pop().close()
        again = wait_for(lambda: ping_new(d))
        c.check("a client is taken again once one left", again)
        for r in held:
            r.close()


def idle_timeout(c):
    with Daemon("limits.idle_timeout_s=1") as d:
        silent = socket.create_connection(d.ports["graphite"], timeout=10)
        sub = d.rpc()
        sub.call("subscribe", {"pattern": "*"})
        c.check("a silent connection is closed", until_closed(silent)[1])
        silent.close()
                # The subscriber says nothing after subscribing, for longer than
        # the timeout: still open.
        time.sleep(1.5)
        c.check("a subscriber is not idle", sub.call("ping")["pong"])
        st = sub.call("stats")
        c.check("idle closes counted", st["idle_closed"] >= 1, st)
        c.check("logged", "idle past limits.idle_timeout_s" in d.log())
        sub.close()


def fd_budget(c):
    # The daemon may hold 96 descriptors, fewer than max_connections asks
    # for: it takes as many clients as they leave room for and refuses the
    # rest like those past max_connections, before any accept fails.
    with Daemon("limits.max_connections=1000", nofile=96) as d:
        r = d.rpc()
        c.check("the low limit is reported at start",
                "but only 96 file descriptors allowed" in d.log(),
                d.log()[-1500:])
        held = [socket.create_connection(d.ports["graphite"], timeout=10)
                for _ in range(60)]
        st = wait_for(lambda: (lambda x: x["clients"] + x["refused"] == 61
                               and x)(r.call("stats")))
        c.check("clients past the budget refused",
                st and st["accept_errors"] == 0 and st["refused"] > 0 and
                st["clients"] + st["refused"] == 61, r.call("stats"))
        c.check("the limit is logged once, named",
                d.log().count("connection limit reached (the file "
                              "descriptor limit = ") == 1,
                d.log()[-1500:])
        c.check("the RPC client is still served", r.call("ping")["pong"])
        for s in held:
            s.close()
        c.check("a new client is served once some leave",
                wait_for(lambda: ping_new(d), timeout=30))
        r.close()


def emfile(c):
    # The descriptor limit lowered under a running daemon (prlimit), so
    # accept() itself fails with EMFILE: libuv accepts and closes the
    # waiting clients with its reserve descriptor (no busy loop), the
    # daemon serves its clients meanwhile and takes new ones as soon as
    # descriptors free up.
    import resource
    with Daemon() as d:
        r = d.rpc()
        held = [socket.create_connection(d.ports["graphite"], timeout=10)
                for _ in range(30)]
        wait_for(lambda: r.call("stats")["clients"] == 31)
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (40, 40))
        late = [socket.create_connection(d.ports["graphite"], timeout=10)
                for _ in range(30)]
        turned = sum(until_closed(s, timeout=5)[1] for s in late)
        c.check("past EMFILE, clients are turned away", turned > 0,
                turned)
        c.check("the clients held are served meanwhile",
                r.call("ping")["pong"])
        for s in held + late:
            s.close()
        c.check("a new client is served once descriptors free up",
                wait_for(lambda: ping_new(d), timeout=30))
        r.close()


def series_limit(c):
    # The cardinality limit at a small scale (test_load.py runs the 100k
    # burst; this one also runs under the sanitizers).
    with Daemon("limits.max_series=2") as d:
        r = d.rpc()
        ack = r.call("push", {"samples": [["a", 1e9, 1.0], ["b", 1e9, 1.0],
                                          ["c", 1e9, 1.0], ["a", 1e9 + 60,
                                                            2.0],
                                          ["d;k=v", 1e9, 1.0]]})
        c.check("new series past max_series refused by name",
                ack["accepted"] == 3 and
                [(x["index"], x["code"], x.get("series"))
                 for x in ack["rejected"]] == [(2, 3, "c"), (4, 3, "d;k=v")],
                ack)
        st = r.call("stats")
        c.check("counted", st["series_refused"] == 2 and st["series"] == 2,
                st)
        c.check("the log names the first", "new series 'c' refused: "
                "limits.max_series = 2 reached" in d.log(), d.log()[-800:])
        r.close()


def conn_buffer_input(c):
    # Frames may be 1 MiB and lines 64 KiB, but a connection may hold only
    # 4 KiB of either while it is incomplete.
    with Daemon("limits.conn_buffer=4K", "limits.rpc_max_frame=1M",
                "limits.max_line=64K") as d:
        s = socket.create_connection(d.ports["rpc"], timeout=10)
        # [0, 1, "ping", bin32 of 100,000 bytes]: valid, but only 6000
        # bytes of it ever come.
        frame = b"\x94\x00\x01\xa4ping\xc6" + struct.pack(">I", 100000)
        s.sendall(frame + b"x" * 6000)
        c.check("an RPC frame held past conn_buffer: closed",
                until_closed(s)[1])
        s.close()
        ok = d.rpc()
        c.check("a whole frame under the bound still works",
                ok.call("push", {"samples": [["a", -1, 1.0]]}) is not None)
        line = socket.create_connection(d.ports["graphite"], timeout=10)
        line.sendall(b"x" * 5000)
        c.check("a partial line held past conn_buffer: closed",
                until_closed(line)[1])
        line.close()
        d.send_lines("graphite", b"short.line 1 -1\n")
        st = ok.call("stats")
        c.check("both counted in over_buffer", st["over_buffer"] == 2, st)
        c.check("the reason is logged", "partial frame over "
                "limits.conn_buffer" in d.log() and "partial line over "
                "limits.conn_buffer" in d.log(), d.log()[-2000:])
        c.check("other clients unaffected", st["lines"] >= 1, st)
        ok.close()


def conn_buffer_output(c):
    # A client that sends requests and never reads the replies: once the
    # kernel's buffers are full, the daemon holds at most conn_buffer.
    with Daemon("limits.conn_buffer=16K") as d:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(d.ports["rpc"])
        req = b"".join(msgpack.packb([0, i, "stats", {}])
                       for i in range(20000))
        try:
            s.sendall(req)
        except (ConnectionResetError, BrokenPipeError):
            pass
        r = d.rpc()
        st = wait_for(lambda: (lambda x: x["slow_clients"] >= 1 and x)(
            r.call("stats")), timeout=30)
        c.check("a client not reading its replies is closed", st, st)
        c.check("the reason names conn_buffer", "not reading: output over "
                "limits.conn_buffer" in d.log(), d.log()[-2000:])
        c.check("the others are served", r.call("ping")["pong"])
        s.close()
        r.close()


def slow_sender(c):
    with Daemon("limits.min_rate=50", "limits.min_rate_window_s=2",
                "limits.idle_timeout_s=30") as d:
        trickle = socket.create_connection(d.ports["graphite"], timeout=10)
        frame = socket.create_connection(d.ports["rpc"], timeout=10)
        steady = socket.create_connection(d.ports["graphite"], timeout=10)
        # One byte a second, never a whole line; the same for a frame.
        # Meanwhile a whole line every second, which is far less than 50
        # bytes/s on average, as a small collectd sends: it stays.
        # [0, 1, "ping", bin16 of 4096 bytes], one byte at a time.
        body = b"\x94\x00\x01\xa4ping\xc5\x10\x00" + b"x" * 4096
        ended = [False, False]
        t0 = time.time()
        i = 0
        while not all(ended) and time.time() - t0 < 20:
            for k, sock in enumerate((trickle, frame)):
                if ended[k]:
                    continue
                try:
                    sock.sendall(b"a" if k == 0 else body[i:i + 1])
                except (ConnectionResetError, BrokenPipeError):
                    ended[k] = True
                    continue
                sock.settimeout(0.001)
                try:
                    if sock.recv(1) == b"":
                        ended[k] = True
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    ended[k] = True
            steady.sendall(b"steady.sender %d -1\n" % i)
            i += 1
            time.sleep(1)
        c.check("a line trickled at 1 byte/s is closed", ended[0])
        c.check("a frame trickled at 1 byte/s is closed", ended[1])
        r = d.rpc()
        st = r.call("stats")
        c.check("counted in slow_senders", st["slow_senders"] == 2, st)
        c.check("the reason is logged", "slower than limits.min_rate"
                in d.log(), d.log()[-2000:])
        steady.sendall(b"steady.sender %d -1\n" % i)
        steady.shutdown(socket.SHUT_WR)
        steady.settimeout(10)
        steady.recv(1)
        n = wait_for(lambda: r.call("info", {"series": "steady.sender"})
                     ["samples"] == i + 1)
        c.check("a sparse whole-line sender stays: all its lines arrived",
                n, (i + 1, r.call("info", {"series": "steady.sender"})))
        c.check("no bad frame: the rate check closed the frame",
                st["bad_frames"] == 0, st)
        c.check("nothing counted as idle", st["idle_closed"] == 0, st)
        r.close()


def never_sends(c):
    # A client that connects and sends nothing has no line in progress:
    # the idle timeout, not the rate check, closes it.
    with Daemon("limits.min_rate=50", "limits.min_rate_window_s=1",
                "limits.idle_timeout_s=2") as d:
        s = socket.create_connection(d.ports["influx"], timeout=10)
        c.check("closed", until_closed(s)[1])
        s.close()
        st = d.rpc().call("stats")
        c.check("as idle, not as slow", st["idle_closed"] == 1 and
                st["slow_senders"] == 0, st)


if __name__ == "__main__":
    c = Checks()
    c.run(max_connections)
    c.run(idle_timeout)
    c.run(fd_budget)
    c.run(emfile)
    c.run(series_limit)
    c.run(conn_buffer_input)
    c.run(conn_buffer_output)
    c.run(slow_sender)
    c.run(never_sends)
    c.summary()
