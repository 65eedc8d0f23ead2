"""bench/thread_cats.py: a `perf record -e cpu-clock` of statecastd split by
thread (comm) and by kind of code, in microseconds of CPU per sample:
front (ssm/smooth*, ssm/model_front), step (the rest of ssm/, OpenBLAS,
libm), store (SQLite, io/store*, daemon/persist), libc, kernel, other
(daemon and io code: parse, registry, tick, forecast serving).
bench/thread_split.sh prints it.

    python3 bench/thread_cats.py PERF.DATA FREQ N BUILD_DIR
"""
import collections
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cpu_split import defined_symbols  # noqa: E402

KINDS = ("front", "step", "store", "other", "libc", "kernel")


def kind(sym, dso, ssm, front):
    if sym in front:
        return "front"
    if sym in ssm or "openblas" in dso or "libm." in dso or \
            "libblas" in dso or "lapack" in dso:
        return "step"
    if sym.startswith(("sqlite3", "store_", "store__", "srv_persist",
                       "pbatch")) or "sqlite" in dso:
        return "store"
    if "kernel" in dso:
        return "kernel"
    if "libc." in dso:
        return "libc"
    return "other"


def main():
    data, freq, n, build = sys.argv[1:5]
    freq, n = float(freq), float(n)
    ssm, front = defined_symbols(build + "/libssm.a")
    out = subprocess.run(["perf", "script", "-i", data, "-G", "-F",
                          "comm,ip,sym,dso"], capture_output=True,
                         text=True).stdout
    per = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        f = line.split(None, 2)
        if len(f) < 3:
            continue
        comm, rest = f[0], f[2]
        dso = rest[rest.rfind("(") + 1:].rstrip(")") if "(" in rest else ""
        sym = rest[:rest.rfind("(")].strip() if "(" in rest else rest
        sym = sym.split("+")[0].split(".")[0]
        per[comm][kind(sym, dso, ssm, front)] += 1
    print("| thread | " + " | ".join(KINDS) + " | total |")
    print("|---" * (len(KINDS) + 2) + "|")
    tot = collections.Counter()
    for comm in sorted(per):
        c = per[comm]
        tot.update(c)
        print("| %s | " % comm + " | ".join(
            "%.2f" % (c[k] / freq / n * 1e6) for k in KINDS) +
            " | %.2f |" % (sum(c.values()) / freq / n * 1e6))
    print("| all | " + " | ".join(
        "%.2f" % (tot[k] / freq / n * 1e6) for k in KINDS) +
        " | %.2f |" % (sum(tot.values()) / freq / n * 1e6))


if __name__ == "__main__":
    main()
