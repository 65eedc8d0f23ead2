"""Backpressure: when the rows waiting for their COMMIT pass store.max_queue,
statecastd stops reading Graphite connections (the sender blocks in its
socket) and reads them again once half is committed; nothing is dropped,
RPC keeps answering meanwhile, and the guards do not close a held sender.

The store is made slow on purpose (one COMMIT every 3 s at most) so the
queue passes a 1 MiB bound with a few tens of thousands of samples."""
import re
import socket
import threading
import time

from statecast_test import Checks, Daemon, wait_for, wait_progress

SERIES = 500
ROUNDS = 60
T0 = int(time.time()) - 7 * 86400
MAX_QUEUE = 1 << 20  # store.max_queue=1M


def held_then_drained(c):
    with Daemon("store.max_queue=1M", "store.commit_ms=3000",
                "store.commit_rows=10000000",
                "limits.idle_timeout_s=2", "limits.min_rate=1000000",
                "limits.min_rate_window_s=1") as d:
        r = d.rpc()
        done = threading.Event()
        err = []

        def send():
            # No socket timeout: a hold lasts as long as the store takes
            # to drain half the queue, the machine's load; the waits
            # below watch the daemon's progress instead.
            try:
                with socket.create_connection(d.ports["graphite"],
                                              timeout=None) as g:
                    for k in range(ROUNDS):
                        g.sendall("".join(
                            "bp.s%d %d %d\n" % (i, (i * 7 + k) % 13,
                                                T0 + 60 * k)
                            for i in range(SERIES)).encode())
            except OSError as e:
                err.append(e)
            done.set()

        th = threading.Thread(target=send, daemon=True)
        th.start()
        seen_held = wait_for(lambda: r.call("stats")["held"], timeout=60,
                             step=0.01)
        c.check("the queue passed store.max_queue: line reads held",
                seen_held, r.call("stats"))
        st = r.call("stats")
        c.check("RPC answers while line reads are held",
                st["version"] and st["store_queued_bytes"] > 0, st)
        total = SERIES * ROUNDS

        def moved():
            s = r.call("stats")
            return s["samples"], s["store_rows_committed"]

        got = wait_progress(lambda: r.call("stats")["samples"] >= total,
                            moved)
        wait_progress(done.is_set, moved)
        st = r.call("stats")
        c.check("the sender was never cut off", done.is_set() and not err,
                err)
        c.check("every sample taken, none dropped",
                got and st["samples"] == total and st["lines_bad"] == 0,
                st)
        c.check("held and released at least once, not closed as idle or "
                "slow", st["holds"] >= 1 and st["idle_closed"] == 0 and
                st["slow_senders"] == 0, st)
        c.check("released in the end",
                wait_progress(lambda: not r.call("stats")["held"], moved),
                r.call("stats"))
        log = open(d.logpath, errors="replace").read()
        c.check("the hold and its end are logged",
                "store.max_queue" in log and "reading Graphite" in log)
        # When the hold starts and lifts: at the submit that takes the
        # queued bytes past store.max_queue, at the completion that brings
        # them to half of it; each line says the count it was decided on.
        holds = [int(b) for b in re.findall(
            r"store queue at (\d+) bytes, past store.max_queue", log)]
        lifts = [int(b) for b in re.findall(
            r"store queue drained to (\d+) bytes", log)]
        c.check("one log line per hold and per lift, alternating",
                len(holds) == st["holds"] and len(lifts) == len(holds) and
                re.findall(r"store queue (at|drained)", log) ==
                ["at", "drained"] * len(holds), (holds, lifts, st["holds"]))
        c.check("every hold started past store.max_queue",
                holds and all(b > MAX_QUEUE for b in holds), holds)
        c.check("every hold lifted at or under half of it",
                lifts and all(b <= MAX_QUEUE // 2 for b in lifts), lifts)
        c.check("the queue empty once drained",
                wait_progress(
                    lambda: r.call("stats")["store_queued_bytes"] == 0,
                    moved), r.call("stats"))
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(held_then_drained)
    c.summary()
