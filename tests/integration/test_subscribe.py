"""Subscriptions: forecast notifications carry the `forecast` map,
anomalies are pushed when a sample leaves its interval, and a subscriber
that stops reading is disconnected while the others carry on."""
import math
import socket
import threading
import time

from statecast_test import Checks, Daemon, wait_for

T0 = float(int(time.time()) - 86400)


def notifications(c):
    with Daemon() as d:
        r = d.rpc()
        w = d.rpc()
        sub = w.call("subscribe", {"pattern": "eq.*"})["subscription"]
        only_anom = d.rpc()
        only_anom.call("subscribe", {"pattern": "*", "forecasts": False})
        pts = [["eq.x", T0 + 60 * i, 10 + math.sin(i / 2.0)]
               for i in range(30)]
        pts.append(["other", T0, 1.0])
        r.call("push", {"samples": pts})
        got = []
        while len(got) < 30:
            n = w.note()
            if n[1] == "forecast":
                got.append(n)
        c.check("one forecast notification per refresh, in order",
                [n[2]["t"] for n in got] == [p[1] for p in pts[:30]],
                [n[2]["t"] for n in got][:5])
        last = dict(got[-1][2])
        c.check("notification names its subscription",
                last.pop("subscription") == sub)
        fc = r.call("forecast", {"series": "eq.x"})
        c.check("notification map == forecast result", last == fc)

        r.call("push", {"samples": [["eq.x", T0 + 60 * 30, 1e6]]})
        n = w.note()
        while n[1] != "anomaly" or n[2]["value"] != 1e6:
            n = w.note()
        a = n[2]
        c.check("anomaly notification: outside the interval",
                a["series"] == "eq.x" and a["value"] == 1e6 and
                a["score"] > 0 and a["upper"] < 1e6 and
                a["horizon"] == 1 and a["origin"] == T0 + 60 * 29, a)
        kinds = set()
        while True:
            n = only_anom.note()
            kinds.add(n[1])
            if n[2]["value"] == 1e6:
                break
        c.check("forecasts: false -> only anomalies",
                kinds == {"anomaly"}, kinds)
        info = r.call("info", {"series": "eq.x"})
        c.check("info counts the anomaly", info["anomalies"] >= 1 and
                info["anomaly"] > 0, info["anomalies"])
        for x in (r, w, only_anom):
            x.close()


def slow_subscriber(c):
    with Daemon("limits.subscriber_queue=64K") as d:
        r = d.rpc()
        # A subscriber that never reads, with a small receive window so
        # the daemon's output backs up quickly.
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(30)
        slow.connect(d.ports["rpc"])
        import msgpack
        slow.sendall(msgpack.packb([0, 1, "subscribe", {"pattern": "*"}]))
        good = d.rpc()
        good.call("subscribe", {"pattern": "s.0"})
        # Both subscriptions are registered before the burst (a fixed
        # sleep here lost that race on a loaded machine).
        c.check("both subscriptions registered",
                wait_for(lambda: r.call("stats")["subscriptions"] == 2,
                         timeout=60))
        nseries, n = 40, 300
        lines = "".join("s.%d %d %d\n" % (k, (i * 7 + k) % 13, T0 + i)
                        for i in range(n) for k in range(nseries))
        # The reading subscriber reads while the burst goes in: its 300
        # forecasts are ~330 KB, past limits.subscriber_queue, and held
        # back unread (send_lines waits for the daemon to take all 12000
        # lines) they fit only while the kernel grows its socket buffers.
        # The sender's bound is for the whole burst on a loaded machine
        # (the sanitized build steps it several times slower).
        sent = []
        sender = threading.Thread(target=lambda: sent.append(
            d.send_lines("graphite", lines.encode(), timeout=120)))
        sender.start()
        seen = 0
        try:
            while seen < n:
                m = good.note(timeout=120)
                if m[1] == "forecast":
                    seen += 1
        finally:
            sender.join(timeout=180)
        c.check("the burst was taken", sent == [None], sent)
        c.check("the reading subscriber got every forecast", seen == n)
        st = wait_for(lambda: r.call("stats")["slow_clients"] >= 1 and
                      r.call("stats"))
        c.check("the silent subscriber was disconnected and counted",
                st and st["slow_clients"] == 1, st)
        c.check("the disconnect is logged",
                "not reading: output over limits.subscriber_queue"
                in d.log())
        # Its socket ends once the kernel buffers drain.
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        total, data = 0, b"x"
        try:
            while data:
                data = slow.recv(1 << 16)
                total += len(data)
            ended = True
        except ConnectionResetError:
            ended = True
        except socket.timeout:
            ended = False  # still open 30 s after the disconnect
        c.check("the silent subscriber's connection ends", ended, total)
        slow.close()
        d.send_lines("graphite", b"s.0 1 %d\n" % (T0 + n))
        # An anomaly may come first, and on a loaded machine forecasts of
        # the burst may still be in flight: the new sample's forecast must
        # arrive, after them and in order.
        ts = []
        m = good.note(timeout=10)
        while not (m[1] == "forecast" and m[2]["t"] == T0 + n):
            if m[1] == "forecast":
                ts.append(m[2]["t"])
            m = good.note(timeout=10)
        c.check("others keep receiving",
                ts == sorted(ts) and all(t < T0 + n for t in ts), ts)
        c.check("subscriptions of the closed client removed",
                r.call("stats")["subscriptions"] == 1)
        good.close()
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(notifications)
    c.run(slow_subscriber)
    c.summary()
