"""Memory of statecastd while msgpack bombs arrive on its RPC port.

Used by bench/reliability.sh; prints a Markdown table on stdout. One
daemon (plain build, store on, loopback ephemeral ports); for each bomb,
CONNS connections each send it at once, then every connection is read until
the daemon answers or closes it. The daemon's peak RSS is reset before each
bomb (writing 5 to /proc/PID/clear_refs) and read from VmHWM after it; the
peer is the same daemon's RSS at idle and under the same number of
well-formed `push` requests.

    /usr/bin/python3 bench/reliability_bombs.py [CONNS]
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import msgpack  # noqa: E402
import statecast_test as st  # noqa: E402

BOMBS = [
    ("`dd ff 00 00 00`: array32 declaring 4.28e9 elements (~96 GiB for "
     "msgpack-c)", b"\xdd\xff\x00\x00\x00"),
    ("`df ff ff ff ff`: map32 declaring 2^32-1 pairs",
     b"\xdf\xff\xff\xff\xff"),
    ("`db ff ff ff ff`: str32 declaring 4 GiB", b"\xdb\xff\xff\xff\xff"),
    ("`c6 ff ff ff ff`: bin32 declaring 4 GiB", b"\xc6\xff\xff\xff\xff"),
    ("100,000 nested arrays (`91` x 100000, then nil)",
     b"\x91" * 100000 + b"\xc0"),
    ("`push` request whose params declare 2^24 nils, then 1 MiB of them",
     b"\x94\x00\x01\xa4push\xdd\x01\x00\x00\x00" + b"\xc0" * (1 << 20)),
    ("`push` request whose params are 200,000 nils (200 KB: under "
     "rpc_max_frame and rpc_max_elems, so decoded)", b"\x94\x00\x01\xa4push\xdd\x00\x03\x0d\x40" +
     b"\xc0" * 200000),
]


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    return out


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def reply_kind(data):
    """'result', or the error's message, of the first reply in data."""
    u = msgpack.Unpacker(raw=False)
    u.feed(data)
    try:
        m = next(u)
    except (StopIteration, ValueError):
        return "unreadable reply"
    if isinstance(m, list) and len(m) == 4 and m[0] == 1:
        return "result" if m[2] is None else "error %r" % (m[2],)
    return "unexpected %r" % (m,)


def volley(d, payload, conns):
    """CONNS connections send payload; returns (answered, closed)."""
    socks = [socket.create_connection(d.ports["rpc"], timeout=20)
             for _ in range(conns)]
    for s in socks:
        try:
            s.sendall(payload)
        except OSError:
            pass
    answered = closed = 0
    what = set()
    for s in socks:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if data:
            answered += 1
            what.add(reply_kind(data))
        else:
            closed += 1
        s.close()
    return answered, closed, what


def describe(v):
    answered, closed, what = v
    text = "%d answered, %d closed" % (answered, closed)
    return text + ("" if not what else " (" + "; ".join(sorted(what)) + ")")


def main():
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    d = st.Daemon()
    pid = d.proc.pid
    rows = []
    try:
        time.sleep(0.5)
        reset_peak(pid)
        time.sleep(0.5)
        idle = status(pid)
        rows.append(("idle, 0.5 s after start", "-", idle))
        push = msgpack.packb([0, 1, "push", [{"samples": [
            ["bomb.s%d" % i, 1.7e9, float(i)] for i in range(100)]}]])
        reset_peak(pid)
        rows.append(("peer: a well-formed `push` of 100 samples",
                     describe(volley(d, push, conns)), status(pid)))
        for name, payload in BOMBS:
            reset_peak(pid)
            rows.append((name, describe(volley(d, payload, conns)),
                         status(pid)))
        r = d.rpc()
        alive = r.call("ping") is not None
        r.close()
    finally:
        code = d.stop()
    print("| input (%d connections at once) | daemon's reply | peak RSS "
          "(VmHWM) | RSS after |" % conns)
    print("|---|---|---|---|")
    for name, what, s in rows:
        print("| %s | %s | %.1f MiB | %.1f MiB |" % (
            name, what, s["VmHWM"], s["VmRSS"]))
    print()
    print("Daemon still answering ping afterwards: %s; exit status on "
          "SIGTERM: %s." % ("yes" if alive else "NO", code))
    return 0 if alive and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
