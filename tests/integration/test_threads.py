"""Which thread runs at which priority. The store's writer runs in the
background: SCHED_IDLE by default (store.writer_priority = idle), so that
the loop thread, the compute pool's helpers and the clients take its core
the moment they wake instead of at the scheduler's next tick (the tail in
bench/results/latency3.md); SCHED_BATCH at nice +5 from the loop with
store.writer_priority = batch. The loop and the helpers keep the process'
own policy and nice value. Threads are named: store-writer, pool-helper.
test_backpressure.py runs with the default, idle writer: a writer that
gets too little CPU still holds the senders back through store.max_queue."""
import os

from statecast_test import Checks, Daemon, wait_for

SCHED_OTHER, SCHED_BATCH, SCHED_IDLE = 0, 3, 5


def sched(pid, tid):
    """(policy, nice, name) of one thread, from /proc/PID/task/TID."""
    base = "/proc/%d/task/%d/" % (pid, tid)
    with open(base + "stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    with open(base + "comm") as f:
        name = f.read().strip()
    # rest[0] is field 3 (state): nice is field 19, policy field 41.
    return int(rest[41 - 3]), int(rest[19 - 3]), name


def threads(pid):
    return {int(t): sched(pid, int(t))
            for t in os.listdir("/proc/%d/task" % pid)}


def check_threads(c, writer_policy, writer_stat, *overrides):
    with Daemon("model.threads=2", *overrides) as d:
        pid = d.proc.pid
        # The writer lowers its own priority as it starts.
        wait_for(lambda: any(p == writer_policy
                             for p, _, _ in threads(pid).values()))
        ts = threads(pid)
        loop_policy, loop_nice, _ = ts[pid]
        low = [t for t, (p, _, _) in ts.items() if p != SCHED_OTHER]
        c.check("the loop thread keeps the normal policy",
                loop_policy == SCHED_OTHER, ts)
        c.check("exactly one background thread, the store's writer",
                len(low) == 1 and ts[low[0]][0] == writer_policy and
                ts[low[0]][2] == "store-writer", ts)
        if low and writer_policy == SCHED_BATCH:
            c.check("the writer runs at nice +5 from the loop",
                    ts[low[0]][1] == min(19, loop_nice + 5), ts)
        others = [t for t in ts if t != pid and t not in low]
        helpers = [t for t in others if ts[t][2] == "pool-helper"]
        c.check("a pool helper besides the loop and the writer",
                len(helpers) == 1, ts)
        c.check("every other thread as the loop (policy and nice)",
                all(ts[t][:2] == (SCHED_OTHER, loop_nice) for t in others),
                ts)
        r = d.rpc()
        st = r.call("stats")
        c.check("stats names the writer's scheduling",
                st.get("store_writer_sched") == writer_stat, st)
        # The daemon still stores: a push is acknowledged after COMMIT.
        res = r.call("push", {"samples": [["thr.a", 1700000000, 1.0]]})
        c.check("a push is acknowledged with the writer in the background",
                res.get("accepted") == 1, res)
        r.close()


def idle_writer(c):
    check_threads(c, SCHED_IDLE, "idle")


def batch_writer(c):
    check_threads(c, SCHED_BATCH, "batch", "store.writer_priority=batch")


if __name__ == "__main__":
    c = Checks()
    c.run(idle_writer)
    c.run(batch_writer)
    c.summary()
