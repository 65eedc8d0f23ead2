"""Connection limits of statecastd: limits.max_connections refuses the
clients past it (and takes new ones again once some leave), and
limits.idle_timeout_s closes connections that send nothing, except
subscribers, which only listen."""
import socket
import time


from statecast_test import Checks, Daemon, wait_for


def closed(s, timeout=15):
    """True once the daemon has closed s (EOF or reset)."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def max_connections(c):
    with Daemon("limits.max_connections=3") as d:
        held = [d.rpc() for _ in range(3)]
        for r in held:
            r.call("ping")
        extra = socket.create_connection(d.ports["rpc"], timeout=10)
        c.check("the 4th client is closed", closed(extra))
        extra.close()
        line = socket.create_connection(d.ports["graphite"], timeout=10)
        c.check("the limit counts every listener", closed(line))
        line.close()
        st = held[0].call("stats")
        c.check("refusals counted", st["refused"] == 2 and
                st["clients"] == 3, st)
        c.check("logged once for the episode", d.log().count(
            "connection limit reached") == 1, d.log())
        held.pop().close()
        again = wait_for(lambda: _ping_new(d))
        c.check("a client is taken again once one left", again)
        for r in held:
            r.close()


def _ping_new(d):
    try:
        r = d.rpc()
        ok = r.call("ping")["pong"]
        r.close()
        return ok
    except (ConnectionError, OSError):
        return False


def idle_timeout(c):
    with Daemon("limits.idle_timeout_s=1") as d:
        silent = socket.create_connection(d.ports["graphite"], timeout=10)
        sub = d.rpc()
        sub.call("subscribe", {"pattern": "*"})
        c.check("a silent connection is closed", closed(silent))
        silent.close()
                # The subscriber says nothing after subscribing, for longer than
        # the timeout: still open.
        time.sleep(1.5)
        c.check("a subscriber is not idle", sub.call("ping")["pong"])
        st = sub.call("stats")
        c.check("idle closes counted", st["idle_closed"] >= 1, st)
        c.check("logged", "idle past limits.idle_timeout_s" in d.log())
        sub.close()


if __name__ == "__main__":
    c = Checks()
    c.run(max_connections)
    c.run(idle_timeout)
    c.summary()
