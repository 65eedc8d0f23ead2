"""rpc.token: with a token configured, a TCP RPC client must call `auth`
with it before anything else; a wrong token or any other method first is
answered with error 7 and the connection is closed. The unix socket (mode
0660, SO_PEERCRED) needs no token. Without a token `auth` is accepted and
changes nothing. The CLI authenticates with $STATECAST_TOKEN."""
import os
import socket
import subprocess

import msgpack

from statecast_test import CLI, Checks, Daemon, until_closed

TOKEN = "s3cret-token"


def raw(d, msg):
    s = socket.create_connection(d.ports["rpc"], timeout=10)
    s.sendall(msgpack.packb(msg))
    return s


def with_token(c):
    with Daemon("rpc.token=" + TOKEN) as d:
        s = raw(d, [0, 1, "ping", {}])
        got, ended = until_closed(s)
        c.check("a request before auth: error 7, then closed",
                ended and (got == [] or (got[0][2] is not None and
                                         got[0][2][0] == 7)), got)
        s.close()
        s = raw(d, [0, 1, "auth", {"token": "wrong"}])
        got, ended = until_closed(s)
        c.check("a wrong token: error 7, then closed",
                ended and (got == [] or got[0][2][0] == 7), got)
        s.close()
        s = raw(d, [0, 1, "auth", {"token": TOKEN[:-1]}])
        got, ended = until_closed(s)
        c.check("a prefix of the token is wrong too", ended, got)
        s.close()
        r = d.rpc()
        c.check("the right token", r.call("auth", {"token": TOKEN}) ==
                {"auth": True})
        c.check("then every method", r.call("ping")["pong"])
        r.close()
        u = d.rpc(unix=True)
        c.check("the unix socket needs no token", u.call("ping")["pong"])
        u.close()
        where = ["--rpc", "%s:%d" % d.ports["rpc"]]
        env = dict(os.environ, STATECAST_TOKEN=TOKEN)
        p = subprocess.run([CLI, "stats"] + where, capture_output=True,
                           text=True, timeout=30, env=env)
        c.check("the CLI with STATECAST_TOKEN", p.returncode == 0,
                p.stderr)
        env["STATECAST_TOKEN"] = "nope"
        p = subprocess.run([CLI, "stats"] + where, capture_output=True,
                           text=True, timeout=30, env=env)
        c.check("the CLI with a wrong token: exit 1, says why",
                p.returncode == 1 and "error 7" in p.stderr, p.stderr)
        c.check("refusals are logged", "wrong rpc.token" in d.log() and
                "request before auth" in d.log())


def without_token(c):
    with Daemon() as d:
        r = d.rpc()
        c.check("no token: methods without auth", r.call("ping")["pong"])
        c.check("no token: auth is accepted",
                r.call("auth", {"token": "anything"}) == {"auth": True})
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(with_token)
    c.run(without_token)
    c.summary()
