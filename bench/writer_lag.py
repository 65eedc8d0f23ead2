#!/usr/bin/python3
"""The store writer's lag over a run: statecastd's `stats` (samples stepped,
rows queued for their COMMIT and their bytes, commits, the writer's
scheduling class) and the CPU of its threads (/proc), every INTERVAL
seconds, one TSV line each, until the daemon exits or STOPFILE appears.
bench/drain_tail.sh runs it beside loadgen and reads the lines.

    bench/writer_lag.py PID RPC_PORT OUT.tsv [INTERVAL] [STOPFILE]

    bench/writer_lag.py --summary OUT.tsv SAMPLES
    bench/writer_lag.py --summaries OUT.tsv...

The second form reads such a file of a run of SAMPLES samples and prints
one line of key=value: when the run's first sample was stepped (t_first),
its last (t_done) and when no row was left queued after that
(t_drained); the tail (t_drained - t_done), its longest stretch without
a commit (commit_stall_tail_s: a checkpoint holds the commits), and what
the writer had then
(rows and bytes queued at t_done, its CPU, commits and rows committed in
the tail); over the run (t_first to t_done) the writer's CPU, the share
of polls it ran raised (batch) and the largest queue; and the writer's
CPU and bytes written from t_first to the last poll (settled: the caller
polls on after the drain, so that a checkpoint left until then counts).
--summaries prints that line for each file, SAMPLES read from the file.

Columns: t (s, monotonic, from the first poll), stepped, queued_rows,
queued_bytes, commits, rows_committed, retention_deleted, writer_sched
(idle / batch), then CPU seconds (utime + stime) of the threads
store-writer, statecastd (the loop), pool-helper (summed), all (the
process), then the writer's time on a CPU and waiting for one
(/proc/.../schedstat: the rest of its wall time it slept: a futex, or I/O
such as a checkpoint's fsync) and the bytes it wrote (io: wchar, write
calls: WAL frames and checkpoint copies), and the WAL checkpoints
completed (stats store_checkpoints; -1 for a build without it), then the
CPU of store-wal (the WAL checkpointer's thread, io/store_wal.c; 0 for a
build without it) and its PASSIVE passes (stats store_wal_passes, -1
without it), and the size of its WAL file. Summaries add, settled, store-wal's CPU and the
writer's and store-wal's together (store_cpu_settled_s: what the store's
writes cost, wherever the checkpoint ran) and the whole process's.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from statecast_test import Rpc  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds by thread name (names repeated: summed), and the
    writer's (run_s, wait_s, wchar): schedstat and io."""
    out, w = {}, (0.0, 0.0, 0)
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            with open("%s/%s/stat" % (base, tid)) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        # utime and stime are fields 14 and 15: 12 and 13 after the name.
        out[name] = out.get(name, 0.0) + (int(f[11]) + int(f[12])) / HZ
        if name == "store-writer":
            try:
                with open("%s/%s/schedstat" % (base, tid)) as f:
                    run, wait = f.read().split()[:2]
                with open("%s/%s/io" % (base, tid)) as f:
                    io = dict(ln.split(": ") for ln in f.read().split("\n")
                              if ": " in ln)
                w = (int(run) / 1e9, int(wait) / 1e9, int(io["wchar"]))
            except (OSError, ValueError, KeyError):
                pass
    return out, w


def wal_bytes(pid):
    """The size of the daemon's open WAL file (<db>-wal), -1 if none."""
    base = "/proc/%d/fd" % pid
    for fd in os.listdir(base):
        try:
            path = os.readlink("%s/%s" % (base, fd))
            if path.endswith("-wal"):
                return os.stat(path).st_size
        except OSError:
            continue
    return -1


def longest_stall(rows):
    """The longest time (s) between polls with the same commit count."""
    best, i = 0.0, 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1]["commits"] == rows[i]["commits"]:
            j += 1
        best = max(best, rows[j]["t"] - rows[i]["t"])
        i = j + 1
    return best


def summary(path, samples):
    rows = []
    with open(path) as f:
        head = f.readline()
        while head.startswith("#"):
            head = f.readline()
        head = head.rstrip("\n").split("\t")
        for line in f:
            if line.startswith("#"):
                continue
            v = line.rstrip("\n").split("\t")
            rows.append({k: (x if k == "writer_sched" else float(x))
                         for k, x in zip(head, v)})
    if not rows:
        sys.exit("writer_lag: %s holds no poll" % path)
    s0 = rows[0]["stepped"]
    first = next((r for r in rows if r["stepped"] > s0), None)
    done = next((r for r in rows if r["stepped"] >= s0 + samples), None)
    if not first or not done:
        sys.exit("writer_lag: the run's %d samples were not all stepped "
                 "in %s" % (samples, path))
    drained = next((r for r in rows if r["t"] >= done["t"] and
                    r["queued_rows"] == 0), None)
    run = [r for r in rows if first["t"] <= r["t"] <= done["t"]]
    out = {
        "t_first": first["t"], "t_done": done["t"],
        "t_drained": drained["t"] if drained else float("nan"),
        "tail_s": (drained["t"] - done["t"]) if drained else float("nan"),
        "queued_rows_at_done": done["queued_rows"],
        "queued_mib_at_done": done["queued_bytes"] / 2**20,
        "sched_at_done": done["writer_sched"],
        "max_queued_mib": max(r["queued_bytes"] for r in run) / 2**20,
        "raised_share": sum(r["writer_sched"] == "batch" for r in run) /
        len(run),
        "run_s": done["t"] - first["t"],
        "writer_cpu_run_s": done["cpu_writer"] - first["cpu_writer"],
        "loop_cpu_run_s": done["cpu_loop"] - first["cpu_loop"],
        "pool_cpu_run_s": done["cpu_pool"] - first["cpu_pool"],
    }
    last = rows[-1]
    out.update({
        "writer_cpu_settled_s": last["cpu_writer"] - first["cpu_writer"],
        "writer_mib_settled": (last.get("w_wchar", 0) -
                               first.get("w_wchar", 0)) / 2**20,
        "wal_cpu_settled_s": last.get("cpu_wal", 0) - first.get("cpu_wal", 0),
        "store_cpu_settled_s": last["cpu_writer"] - first["cpu_writer"] +
        last.get("cpu_wal", 0) - first.get("cpu_wal", 0),
        "all_cpu_settled_s": last["cpu_all"] - first["cpu_all"],
        "checkpoints_settled": last["checkpoints"] - first["checkpoints"],
        "wal_mib_max": (max(r.get("wal_bytes", -1) for r in rows) / 2**20
                        if rows[0].get("wal_bytes", -1) >= 0 else "n/a"),
        "wal_passes_settled": (last["wal_passes"] - first["wal_passes"]
                               if last.get("wal_passes", -1) >= 0
                               else "n/a"),
    })
    if drained:
        tail = [r for r in rows if done["t"] <= r["t"] <= drained["t"]]
        out.update({
            "commit_stall_tail_s": longest_stall(tail),
            "checkpoints_tail": (drained["checkpoints"] - done["checkpoints"]
                                 if done.get("checkpoints", -1) >= 0
                                 else "n/a"),
            "writer_cpu_tail_s": drained["cpu_writer"] - done["cpu_writer"],
            "all_cpu_tail_s": drained["cpu_all"] - done["cpu_all"],
            "commits_tail": drained["commits"] - done["commits"],
            "rows_committed_tail": drained["rows_committed"] -
            done["rows_committed"],
            "commits_run": done["commits"] - first["commits"],
            "rows_committed_run": done["rows_committed"] -
            first["rows_committed"],
        })
    if drained and "w_run" in done:
        out.update({
            "writer_run_tail_s": drained.get("w_run", 0) - done.get("w_run", 0),
            "writer_runq_tail_s": drained.get("w_wait", 0) -
            done.get("w_wait", 0),
            "writer_sleep_tail_s": (drained["t"] - done["t"]) -
            (drained.get("w_run", 0) - done.get("w_run", 0)) -
            (drained.get("w_wait", 0) - done.get("w_wait", 0)),
            "writer_mib_tail": (drained.get("w_wchar", 0) -
                                done.get("w_wchar", 0)) / 2**20,
        })
    elif drained:
        out.update({k: "n/a" for k in (
            "writer_run_tail_s", "writer_runq_tail_s", "writer_sleep_tail_s",
            "writer_mib_tail")})
    print(" ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float)
                              else v) for k, v in out.items()))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--summary":
        summary(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--summaries":
        # Kept files (drain_tail.sh's BENCH_KEEP_LAG): each run's samples
        # are what its polls saw stepped.
        for path in sys.argv[2:]:
            with open(path) as f:
                st = [int(ln.split("\t")[1]) for ln in f
                      if ln[:1].isdigit()]
            print(os.path.basename(path), end=" ", flush=True)
            summary(path, max(st) - st[0])
        return
    if len(sys.argv) < 4:
        sys.exit("usage: bench/writer_lag.py PID RPC_PORT OUT.tsv "
                 "[INTERVAL] [STOPFILE]")
    pid, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dt = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05
    stop = sys.argv[5] if len(sys.argv) > 5 else None
    rpc = Rpc(addr=("127.0.0.1", port))
    t0 = time.monotonic()
    with open(out, "w") as f:
        # For a profile's timestamps (perf record --clockid monotonic).
        f.write("# t0_monotonic=%.6f\n" % t0)
        f.write("t\tstepped\tqueued_rows\tqueued_bytes\tcommits\t"
                "rows_committed\tretention_deleted\twriter_sched\t"
                "cpu_writer\tcpu_loop\tcpu_pool\tcpu_all\tw_run\tw_wait\t"
                "w_wchar\tcheckpoints\tcpu_wal\twal_passes\twal_bytes\n")
        while not (stop and os.path.exists(stop)):
            try:
                st = rpc.call("stats")
                cpu, w = thread_cpu(pid)
            except (OSError, ConnectionError, ValueError):
                break  # the daemon stopped
            t = time.monotonic() - t0
            f.write("%.3f\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%.2f\t%.2f\t%.2f\t"
                    "%.2f\t%.4f\t%.4f\t%d\t%d\t%.2f\t%d\t%d\n" % (
                        t, st.get("stepped", 0),
                        st.get("store_queued_rows", 0),
                        st.get("store_queued_bytes", 0),
                        st.get("store_commits", 0),
                        st.get("store_rows_committed", 0),
                        st.get("store_retention_deleted", 0),
                        st.get("store_writer_sched", "") or "-",
                        cpu.get("store-writer", 0.0),
                        cpu.get("statecastd", 0.0),
                        cpu.get("pool-helper", 0.0),
                        sum(cpu.values()), w[0], w[1], w[2],
                        st.get("store_checkpoints", -1),
                        cpu.get("store-wal", 0.0),
                        st.get("store_wal_passes", -1), wal_bytes(pid)))
            f.flush()
            time.sleep(dt)


if __name__ == "__main__":
    main()
