"""Which thread runs at which priority. The store's writer runs in the
background (SCHED_BATCH, nice +5 from the loop), so that a COMMIT never
preempts the loop thread on a busy core and stalls the sample -> forecast
path (bench/results/latency.md); the loop and the compute pool's helpers
keep the process' own policy and nice value."""
import os

from statecast_test import Checks, Daemon, wait_for

SCHED_OTHER, SCHED_BATCH = 0, 3


def sched(pid, tid):
    """(policy, nice) of one thread, from /proc/PID/task/TID/stat."""
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state): nice is field 19, policy field 41.
    return int(rest[41 - 3]), int(rest[19 - 3])


def threads(pid):
    return {int(t): sched(pid, int(t))
            for t in os.listdir("/proc/%d/task" % pid)}


def priorities(c):
    with Daemon("model.threads=2") as d:
        pid = d.proc.pid
        # The writer lowers its own priority as it starts.
        wait_for(lambda: any(p == SCHED_BATCH
                             for p, _ in threads(pid).values()))
        ts = threads(pid)
        loop_policy, loop_nice = ts[pid]
        batch = [t for t, (p, _) in ts.items() if p == SCHED_BATCH]
        c.check("the loop thread keeps the normal policy",
                loop_policy == SCHED_OTHER, ts)
        c.check("exactly one background thread (the store's writer)",
                len(batch) == 1, ts)
        if batch:
            c.check("the writer runs at nice +5 from the loop",
                    ts[batch[0]][1] == min(19, loop_nice + 5), ts)
        others = [t for t in ts if t != pid and t not in batch]
        c.check("a pool helper besides the loop and the writer",
                len(others) >= 1, ts)
        c.check("every other thread as the loop (policy and nice)",
                all(ts[t] == (SCHED_OTHER, loop_nice) for t in others), ts)
        # The daemon still stores: a push is acknowledged after COMMIT.
        r = d.rpc()
        res = r.call("push", {"samples": [["thr.a", 1700000000, 1.0]]})
        c.check("a push is acknowledged with the writer in the background",
                res.get("accepted") == 1, res)
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(priorities)
    c.summary()
