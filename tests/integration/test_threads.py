"""Which thread runs at which priority. The store's writer runs in the
background: SCHED_IDLE by default (store.writer_priority = idle), so that
the loop thread, the compute pool's helpers and the clients take its core
the moment they wake instead of at the scheduler's next tick (the tail in
bench/results/latency3.md); SCHED_BATCH at nice +5 from the loop with
store.writer_priority = batch. The loop and the helpers keep the process'
own policy and nice value. Threads are named: store-writer, store-wal (the
WAL checkpointer, at the writer's policy), pool-helper,
ckpt-sync (the checkpoint's writebacks and fsync, daemon/bg.h: not libuv's
thread pool, whose completions can hold the loop in a spin).
test_backpressure.py runs with the default, idle writer: a writer that
gets too little CPU still holds the senders back through store.max_queue.

The starvation guard: an idle writer next to programs that keep every core
busy gets next to no CPU, so once its queue passes a quarter of
store.max_queue it is raised to SCHED_BATCH (nice +5), and back to idle at a
sixteenth. Leaving SCHED_IDLE needs RLIMIT_NICE >= 15 or CAP_SYS_NICE: the
writer probes it at start and, refused, stays at batch and says why.

The scheduling slice (model.slice_us, daemon/sched.h): by default (0) the
loop thread and the pool's helpers keep the kernel's; set, they ask the
kernel for that slice, so that they take a core sooner when they wake; the
kernel shows each thread's slice in /proc/PID/task/TID/sched (se.slice,
ns). A kernel without per-thread slices (before Linux 6.12) keeps its own,
and the daemon says so at start."""
import os
import subprocess
import sys
import threading
import time

from statecast_test import (Checks, Daemon, thread_sched, threads, wait_for,
                            wait_progress)

SCHED_OTHER, SCHED_BATCH, SCHED_IDLE = 0, 3, 5


def can_leave_idle():
    """Whether a process started from here, at the writer's nice +5, may
    leave SCHED_IDLE (CAP_SYS_NICE, or RLIMIT_NICE >= 15): as the writer's
    own probe, in a throwaway process, since a refusal is for good."""
    code = ("import os\n"
            "os.setpriority(os.PRIO_PROCESS, 0, "
            "os.getpriority(os.PRIO_PROCESS, 0) + 5)\n"
            "p = os.sched_param(0)\n"
            "os.sched_setscheduler(0, os.SCHED_IDLE, p)\n"
            "os.sched_setscheduler(0, os.SCHED_BATCH, p)\n")
    return subprocess.run([sys.executable, "-c", code],
                          stderr=subprocess.DEVNULL).returncode == 0


def check_threads(c, writer_policy, writer_stat, *overrides):
    with Daemon("model.threads=2", *overrides) as d:
        pid = d.proc.pid
        r = d.rpc()
        # The writer lowers its own priority as it starts (probing with a
        # thread of its own first), then says so in the stats.
        wait_for(lambda: r.call("stats")["store_writer_sched"] != "")
        ts = threads(pid)
        loop_policy, loop_nice, _ = ts[pid]
        low = [t for t, (p, _, _) in ts.items() if p != SCHED_OTHER]
        c.check("the loop thread keeps the normal policy",
                loop_policy == SCHED_OTHER, ts)
        # The WAL checkpointer (io/store_wal.c) starts from the writer
        # and runs at its policy and nice.
        c.check("two background threads, the store's writer and its WAL "
                "checkpointer",
                sorted(ts[t][2] for t in low) == ["store-wal",
                                                  "store-writer"] and
                all(ts[t][0] == writer_policy for t in low), ts)
        if low and writer_policy == SCHED_BATCH:
            c.check("the writer runs at nice +5 from the loop",
                    all(ts[t][1] == min(19, loop_nice + 5) for t in low),
                    ts)
        others = [t for t in ts if t != pid and t not in low]
        helpers = [t for t in others if ts[t][2] == "pool-helper"]
        c.check("a pool helper besides the loop and the writer",
                len(helpers) == 1, ts)
        c.check("every other thread as the loop (policy and nice)",
                all(ts[t][:2] == (SCHED_OTHER, loop_nice) for t in others),
                ts)
        st = r.call("stats")
        c.check("stats names the writer's scheduling",
                st.get("store_writer_sched") == writer_stat, st)
        # The daemon still stores: a push is acknowledged after COMMIT.
        res = r.call("push", {"samples": [["thr.a", 1700000000, 1.0]]})
        c.check("a push is acknowledged with the writer in the background",
                res.get("accepted") == 1, res)
        r.close()


def checkpoint_thread(c):
    """While a checkpoint generation is written, its writebacks and fsync
    run on ckpt-sync, at the loop's policy and nice value; libuv's own
    thread pool never starts (its threads would inherit the loop's name,
    as OpenBLAS's do: no thread of that name may appear once a generation
    has been written). A SIGTERM then stops the daemon cleanly (the
    thread ends, its wake-up handle closes)."""
    with Daemon("store.checkpoint_s=1", "store.snapshot_s=1d") as d:
        pid = d.proc.pid
        # Nothing stored yet: no generation has begun.
        before = set(threads(pid))
        r = d.rpc()
        t0 = 1700000000
        res = r.call("push", {"samples": [
            ["thr.ck%d" % k, t0 + 60 * i, float((i * 7 + k) % 11)]
            for k in range(20) for i in range(12)]})
        c.check("samples pushed", res.get("accepted") == 240, res)
        r.close()
        c.check("a checkpoint generation recorded",
                wait_for(lambda: "series recorded" in d.log(), timeout=60),
                d.log()[-600:])
        ts = threads(pid)
        ck = [t for t in ts if ts[t][2] == "ckpt-sync"]
        c.check("one ckpt-sync thread, at the loop's policy and nice",
                len(ck) == 1 and ts[ck[0]][:2] == ts[pid][:2], ts)
        c.check("no thread of libuv's pool (no new thread named as the "
                "loop)",
                not [t for t in ts if t not in before and
                     ts[t][2] == ts[pid][2]], (before, ts))
        rc = d.stop()
        c.check("SIGTERM stops it cleanly", rc == 0, d.last_log)


def idle_writer(c):
    if can_leave_idle():
        check_threads(c, SCHED_IDLE, "idle")
    else:
        # The guard could not raise it: the writer runs at batch
        # (no_rlimit_nice_falls_back).
        print("note: no CAP_SYS_NICE nor RLIMIT_NICE >= 15 here: "
              "the default writer is batch")
        check_threads(c, SCHED_BATCH, "batch")


def batch_writer(c):
    check_threads(c, SCHED_BATCH, "batch", "store.writer_priority=batch")


def writer_tid(pid):
    for t, (_, _, name) in threads(pid).items():
        if name == "store-writer":
            return t
    return None


def guard_raises_and_returns(c):
    """A slow store (one COMMIT every 3 s at most) fills the queue past a
    quarter of a 1 MiB store.max_queue: the writer is raised to batch while
    it drains and goes back to idle once the queue is low."""
    if not can_leave_idle():
        print("note: no CAP_SYS_NICE nor RLIMIT_NICE >= 15 here: "
              "the guard is not armed, not tested")
        return
    series, rounds = 500, 30
    t0 = int(time.time()) - 7 * 86400
    with Daemon("store.max_queue=1M", "store.commit_ms=3000",
                "store.commit_rows=10000000") as d:
        pid = d.proc.pid
        r = d.rpc()
        wait_for(lambda: r.call("stats")["store_writer_sched"] != "")
        tid = writer_tid(pid)
        st = r.call("stats")
        c.check("idle while the queue is empty",
                st["store_writer_sched"] == "idle" and
                st["store_writer_raised"] == 0 and
                os.sched_getscheduler(tid) == SCHED_IDLE, st)
        data = "".join("guard.s%d %d %d\n" % (i, (i * 7 + k) % 13,
                                               t0 + 60 * k)
                       for k in range(rounds)
                       for i in range(series)).encode()
        done = threading.Event()

        def send():
            # Held back for as long as the store drains (the machine's
            # load): no socket timeout, the wait below watches progress.
            d.send_lines("graphite", data, timeout=None)
            done.set()

        th = threading.Thread(target=send, daemon=True)
        th.start()
        seen = {}

        def raised():
            s = r.call("stats")
            if s["store_writer_sched"] == "batch":
                seen["stats"] = s
                seen["policy"] = thread_sched(pid, tid)
                return True
            return False

        c.check("raised to batch once the queue passed a quarter of "
                "store.max_queue", wait_for(raised, timeout=60, step=0.01),
                r.call("stats"))
        loop_nice = thread_sched(pid, pid)[1]
        c.check("raised: SCHED_BATCH at nice +5, counted",
                seen.get("policy", (None,))[:2] ==
                (SCHED_BATCH, min(19, loop_nice + 5)) and
                seen["stats"]["store_writer_raised"] >= 1 and
                seen["stats"]["store_queued_bytes"] > 1024 * 1024 // 16,
                seen)
        def moved():
            s = r.call("stats")
            return s["samples"], s["store_rows_committed"]

        c.check("every sample sent", wait_progress(done.is_set, moved))
        total = series * rounds
        wait_progress(lambda: r.call("stats")["store_queued_rows"] == 0 and
                      r.call("stats")["samples"] >= total, moved)
        back = wait_for(lambda: r.call("stats")["store_writer_sched"] ==
                        "idle", timeout=30, step=0.05)
        st = r.call("stats")
        c.check("back to idle once the queue is low",
                back and os.sched_getscheduler(tid) == SCHED_IDLE and
                thread_sched(pid, tid)[1] == min(19, loop_nice + 5), st)
        c.check("nothing lost", st["samples"] == total and
                st["store_rows_dropped"] == 0, st)
        r.close()


def slice_ns(pid, tid):
    """se.slice of one thread (ns), or None where the kernel shows none."""
    try:
        with open("/proc/%d/task/%d/sched" % (pid, tid)) as f:
            for line in f:
                if line.startswith("se.slice"):
                    return int(line.split(":")[1])
    except OSError:
        pass
    return None


def stepping_slices(c, want_us, *overrides):
    """The loop's and the helper's slice with model.slice_us = want_us
    (None: the default); the writer's is left to the kernel."""
    args = ("model.threads=2",) + overrides
    with Daemon(*args) as d:
        pid = d.proc.pid
        r = d.rpc()
        wait_for(lambda: r.call("stats")["store_writer_sched"] != "")
        ts = threads(pid)
        helper = [t for t in ts if ts[t][2] == "pool-helper"]
        writer = writer_tid(pid)
        # A helper asks as its thread starts: wait for it.
        if want_us and helper:
            wait_for(lambda: slice_ns(pid, helper[0]) == want_us * 1000,
                     timeout=5)
        log = d.log()
        loop_s = slice_ns(pid, pid)
        helper_s = slice_ns(pid, helper[0]) if helper else None
        writer_s = slice_ns(pid, writer)
        r.close()
    return log, loop_s, helper_s, writer_s


def slice_set(c):
    log, loop_s, helper_s, writer_s = stepping_slices(c, 200,
                                                      "model.slice_us=200")
    if "model.slice_us = 200 not applied" in log:
        print("note: this kernel has no per-thread slice: the default "
              "slice is not applied, which the log says")
        c.check("the refusal is logged once",
                log.count("model.slice_us = 200 not applied") == 1, log)
        return
    c.check("the start logs the slice",
            "run with a 200 us scheduling slice" in log, log)
    c.check("the loop thread runs with a 200 us slice",
            loop_s == 200000, loop_s)
    c.check("the pool's helper too", helper_s == 200000, helper_s)
    c.check("the store's writer keeps the kernel's",
            writer_s != 200000, writer_s)


def slice_default_and_other(c):
    """By default (model.slice_us = 0) the kernel's slice is left alone;
    another value is taken as given."""
    log, loop_s, helper_s, _ = stepping_slices(c, 0)
    c.check("default: nothing asked, nothing logged",
            "scheduling slice" not in log and "slice_us" not in log, log)
    c.check("default: the loop and the helper keep the kernel's slice",
            loop_s != 200000 and helper_s != 200000 and
            (loop_s is None or loop_s == helper_s), (loop_s, helper_s))
    log, loop_s, helper_s, _ = stepping_slices(c, 500, "model.slice_us=500")
    if "not applied" in log:
        print("note: no per-thread slice on this kernel")
        return
    c.check("500: both threads run with 500 us",
            loop_s == 500000 and helper_s == 500000, (loop_s, helper_s, log))


def no_rlimit_nice_falls_back(c):
    """Without CAP_SYS_NICE (dropped from the bounding set: the tests run as
    root) and with RLIMIT_NICE 0, the writer could enter SCHED_IDLE but never
    leave it: it stays at batch, and says why once."""
    wrap = ["prlimit", "--nice=0:0", "setpriv", "--bounding-set=-sys_nice",
            "--inh-caps=-sys_nice"]
    # valgrind= is the harness's command prefix.
    with Daemon("model.threads=2", valgrind=wrap) as d:
        pid = d.proc.pid
        r = d.rpc()
        wait_for(lambda: r.call("stats")["store_writer_sched"] != "")
        tid = writer_tid(pid)
        loop_nice = thread_sched(pid, pid)[1]
        st = r.call("stats")
        c.check("the writer runs at batch, nice +5",
                thread_sched(pid, tid)[:2] == (SCHED_BATCH,
                                        min(19, loop_nice + 5)) and
                st["store_writer_sched"] == "batch", (thread_sched(pid, tid), st))
        log = d.log()
        # 20 - the writer's nice: 15 at the usual nice 0, less when the
        # daemon itself runs under nice (make test under `nice`).
        need = 20 - min(19, loop_nice + 5)
        c.check("the fallback is logged once, with the limit it needs",
                log.count("store.writer_priority idle needs RLIMIT_NICE >= "
                          "%d (LimitNICE= in the unit); using batch" % need)
                == 1, log)
        res = r.call("push", {"samples": [["thr.b", 1700000000, 1.0]]})
        c.check("a push is still acknowledged", res.get("accepted") == 1,
                res)
        r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(checkpoint_thread)
    c.run(idle_writer)
    c.run(batch_writer)
    c.run(guard_raises_and_returns)
    c.run(no_rlimit_nice_falls_back)
    c.run(slice_set)
    c.run(slice_default_and_other)
    c.summary()
