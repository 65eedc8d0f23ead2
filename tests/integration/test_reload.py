"""SIGHUP: statecastd reads its file again; reloadable settings apply at
once, the others are reported as needing a restart, an invalid file
changes nothing, and connections and series survive."""
import os
import shutil
import signal
import socket
import tempfile
import time

import msgpack

from statecast_test import Checks, Daemon, wait_for

T0 = int(time.time()) - 3600


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def hup(d, marker):
    """Sends SIGHUP and waits for the log line that ends the reload."""
    before = d.log().count(marker)
    d.proc.send_signal(signal.SIGHUP)
    return wait_for(lambda: d.log().count(marker) > before, timeout=15)


def reload(c):
    tmp = tempfile.mkdtemp(prefix="statecast-reload-")
    conf = os.path.join(tmp, "statecast.conf")
    write(conf, "[limits]\nmax_series = 1000\nmax_line = 4096\n")
    with Daemon(config=conf) as d:
        held = d.rpc()  # a connection from before the reload
        d.send_lines("graphite", b"".join(
            b"r.%d 1 %d\n" % (k, T0 + i) for i in range(5) for k in (1, 2)))
        c.check("two series before the reload",
                wait_for(lambda: held.call("stats")["series"] == 2))

        write(conf, "[limits]\nmax_series = 2\nmax_line = 9000\n")
        c.check("SIGHUP reloads", hup(d, "reload of "))
        log = d.log()
        c.check("a reloadable change is applied and logged",
                "reload: limits.max_series: 1000 -> 2" in log, log[-800:])
        c.check("a change that needs a restart is named as such",
                "reload: limits.max_line: 4K -> 9000 takes effect at "
                "the next start" in log, log[-800:])
        c.check("the summary counts both",
                "1 setting(s) applied, 1 need a restart" in log)
        rej = held.call("stats")["rejected"]
        d.send_lines("graphite", b"r.3 1 %d\nr.1 2 %d\n" % (T0, T0 + 5))
        st = wait_for(lambda: (lambda s: s if s["rejected"] > rej and
                               s["samples"] >= 11 else None)(
            held.call("stats")))
        c.check("the new max_series refuses a third series, the others "
                "go on", st and st["series"] == 2, st)
        c.check("a connection from before the reload still works",
                held.call("ping")["pong"])

        write(conf, "[limits]\nmax_series = lots\n")
        c.check("an invalid file: SIGHUP logs it", hup(d, "nothing changed"))
        log = d.log()
        c.check("the error names file and line",
                "reload: %s:2:" % conf in log, log[-600:])
        c.check("the daemon still serves", held.call("ping")["pong"])

        write(conf, "[rpc]\ntoken = t0ken\n")
        c.check("SIGHUP with rpc.token", hup(d, "reload of "))
        s = socket.create_connection(d.ports["rpc"], timeout=10)
        s.sendall(msgpack.packb([0, 1, "ping", {}]))
        s.settimeout(10)
        data = b""
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        msgs = _unpack(data)
        c.check("a new connection must now auth",
                not msgs or (msgs[0][2] and msgs[0][2][0] == 7), msgs)
        c.check("the held connection keeps its session",
                held.call("ping")["pong"])
        held.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _unpack(data):
    u = msgpack.Unpacker(raw=False)
    u.feed(data)
    return list(u)


if __name__ == "__main__":
    c = Checks()
    c.run(reload)
    c.summary()
