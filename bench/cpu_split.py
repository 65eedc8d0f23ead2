"""bench/cpu_split.py: CPU per sample of statecastd split into parse, step
and store, from a `perf record -F FREQ -e cpu-clock` of the daemon (every
thread) during a run that processed N samples. bench/perf.sh runs it.

    python3 bench/cpu_split.py PERF.DATA FREQ N PID BUILD_DIR

A sample is one 1/FREQ s tick of some thread's CPU. It counts as
  step   in ssm/ code (symbols of libssm.a), OpenBLAS, libm, or any tick of
         a compute-pool helper thread (daemon/pool.c) outside those;
  store  in SQLite or io/store*.c / daemon/persist.c code, or any tick of the
         store's writer thread (its kernel time: write, fsync);
  parse  everything else on the loop thread: socket reads (kernel), line
         splitting and parsing, the registry, queueing, notifications.
Threads are told apart by what they run most: the loop thread is the
process id, the writer runs SQLite, a pool helper runs ssm/.
The step is split again into the smoothing front (symbols of ssm/smooth*.c
and ssm/model_front.c) and the rest (network, OpenBLAS, libm); of parse, the loop thread's
kernel time is given again on its own (cpu_parse_kernel_us).
Prints one line of key=value pairs: microseconds of CPU per sample."""
import collections
import subprocess
import sys


def defined_symbols(lib):
    """All text symbols of lib, and those of its front objects."""
    out = subprocess.run(["nm", "-A", "--defined-only", lib],
                         capture_output=True, text=True).stdout
    every, front = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) != 3 or f[1] not in "tTwW":
            continue
        # A function built for several targets (target_clones) is
        # NAME.arch_x86_64_v3 / NAME.default: samples are looked up by the
        # name before the first '.', so that is the name stored.
        name = f[2].split(".")[0]
        every.add(name)
        obj = f[0].split(":")[-2]  # LIB:OBJ:ADDRESS
        if obj.startswith(("smooth", "model_front")):
            front.add(name)
    return every, front


def main():
    data, freq, n, pid, build = sys.argv[1:6]
    freq, n = float(freq), float(n)
    ssm, front = defined_symbols(build + "/libssm.a")
    out = subprocess.run(["perf", "script", "-i", data, "-G", "-F",
                          "tid,ip,sym,dso"], capture_output=True,
                         text=True).stdout
    kinds = collections.Counter()
    per_tid = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        f = line.split(None, 2)
        if len(f) < 3 or not f[0].isdigit():
            continue
        tid, rest = f[0], f[2]
        dso = rest[rest.rfind("(") + 1:].rstrip(")") if "(" in rest else ""
        sym = rest[:rest.rfind("(")].strip() if "(" in rest else rest
        sym = sym.split("+")[0].split(".")[0]
        if sym in front:
            k = "front"
        elif sym in ssm or "openblas" in dso or "libm." in dso or \
                "libblas" in dso or "lapack" in dso:
            k = "step"
        elif sym.startswith(("sqlite3", "store_", "store__", "srv_persist",
                             "pbatch")) or "sqlite" in dso:
            k = "store"
        elif "kernel" in dso:
            k = "kernel"
        else:
            k = "other"
        per_tid[tid][k] += 1
    for tid, c in per_tid.items():
        if tid == pid:
            role = "parse"
        elif c["store"] >= c["step"]:
            role = "store"
        else:
            role = "step"
        for k, v in c.items():
            kinds[k if k in ("front", "step", "store") else role] += v
    # Kernel ticks of the loop thread (socket reads, page faults of new
    # series' memory, wake-ups): a part of parse, reported beside it.
    parse_kernel = per_tid[pid]["kernel"] if pid in per_tid else 0
    total = sum(kinds.values())
    us = {k: kinds[k] / freq / n * 1e6
          for k in ("parse", "front", "step", "store")}
    print("cpu_parse_us=%.2f cpu_step_us=%.2f cpu_front_us=%.2f "
          "cpu_store_us=%.2f cpu_total_us=%.2f perf_samples=%d threads=%d "
          "cpu_parse_kernel_us=%.2f" %
          (us["parse"], us["step"] + us["front"], us["front"], us["store"],
           total / freq / n * 1e6, total, len(per_tid),
           parse_kernel / freq / n * 1e6))


if __name__ == "__main__":
    main()
