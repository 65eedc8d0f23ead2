#!/usr/bin/python3
"""bench/ssm_compare.py: ssm/ step speed of two revisions, same machine state.

  bench/ssm_compare.py REV [--runs N] [--out FILE.md] [--model FILE]

Builds build/bench/ssm_bench of revision REV in a temporary clone and of the
work tree, then runs the two alternately N times (default 3; each run is
itself the median of 7 timings, see bench/ssm_bench.c), so both see the same
load. Writes the median over runs of every figure, before and after, and
their ratio (default bench/results/ssm-compare.md).

With --model FILE, each run is instead `ssm_bench --model FILE`: the whole
model's batched step as the daemon runs it (1024 series in batches of 64),
the figure a change to ssm/model_step.c moves.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW = re.compile(r"^\| (.+?) \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+)% \|$")


def build(tree):
    subprocess.run(["make", "-j2", "build/bench/ssm_bench"], cwd=tree,
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(tree, "build", "bench", "ssm_bench")


def run(binary, tmp):
    out = os.path.join(tmp, "r.md")
    subprocess.run([binary, out], check=True, stdout=subprocess.DEVNULL)
    fig = {}
    with open(out) as f:
        for line in f:
            m = ROW.match(line.strip())
            if m:
                key = "%s, B = %s" % (m.group(1), m.group(3))
                fig[key + ": ns/sample"] = float(m.group(4))
                fig[key + ": % of sgemm"] = float(m.group(6))
            m = re.search(r"sgemm 512x512x512 = \*\*([\d.]+) GFLOP/s", line)
            if m:
                fig["sgemm GFLOP/s (peer)"] = float(m.group(1))
            m = re.search(r"gap 2 \(ZOH by powering\) (\d+) ns, gap 2.5 "
                          r"\((?:complex exp|closed form, vectorized exp and "
                          r"sincos) per mode\) (\d+) ns", line)
            if m:
                fig["S4D gap 2: ns"] = float(m.group(1))
                fig["S4D gap 2.5: ns"] = float(m.group(2))
            m = re.search(r"Mamba (\d+) ns/sample, S4D (\d+) ns/sample", line)
            if m:
                fig["training Mamba: ns/sample"] = float(m.group(1))
                fig["training S4D: ns/sample"] = float(m.group(2))
    return fig


def run_model(binary, path):
    p = subprocess.run([binary, "--model", path], check=True,
                       capture_output=True, text=True).stdout
    fig = {}
    m = re.search(r"step_ns=(\d+) .*sgemm_gflops=([\d.]+) "
                  r"fraction=([\d.]+)", p)
    if m:
        fig["model step, B = 64 of 1024: ns/sample"] = float(m.group(1))
        fig["sgemm GFLOP/s (peer)"] = float(m.group(2))
        fig["model step: % of sgemm"] = 100 * float(m.group(3))
    return fig


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rev")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", help="time ssm_bench --model FILE instead")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                  "ssm-compare.md"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ssm-compare.")
    try:
        old_tree = os.path.join(tmp, "old")
        subprocess.run(["git", "clone", "-q", ROOT, old_tree], check=True)
        subprocess.run(["git", "checkout", "-q", a.rev], cwd=old_tree,
                       check=True)
        rev = subprocess.run(["git", "rev-parse", "--short", a.rev],
                             cwd=old_tree, check=True, capture_output=True,
                             text=True).stdout.strip()
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                              cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--",
                                "ssm", "bench/ssm_bench.c"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        old_bin, new_bin = build(old_tree), build(ROOT)
        with open("/proc/loadavg") as f:
            load0 = f.read().split()[0]
        old, new = [], []
        for i in range(a.runs):
            if a.model:
                old.append(run_model(old_bin, a.model))
                new.append(run_model(new_bin, a.model))
            else:
                old.append(run(old_bin, tmp))
                new.append(run(new_bin, tmp))
            print("run %d of %d done" % (i + 1, a.runs), file=sys.stderr)
        with open("/proc/loadavg") as f:
            load1 = f.read().split()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(a.out, "w") as f:
        f.write("# ssm/ step speed: before and after\n\n")
        f.write("Written by `bench/ssm_compare.py %s --runs %d%s` : "
                "build/bench/ssm_bench of %s (before) and of the work tree "
                "at %s%s (after), run alternately %d times each so both "
                "see the same machine state; 1-minute load average %s at "
                "the start, %s at the end (shared machine). Each figure is "
                "the median over the runs of ssm_bench's own median of 7.\n\n"
                % (a.rev, a.runs,
                   " --model " + a.model if a.model else "", rev, head,
                   " with uncommitted changes" if dirty else "", a.runs,
                   load0, load1))
        f.write("| figure | before | after | after / before |\n"
                "|---|---|---|---|\n")
        for k in new[0]:
            b = statistics.median(r[k] for r in old if k in r)
            n = statistics.median(r[k] for r in new)
            f.write("| %s | %.1f | %.1f | %.3f |\n" % (k, b, n, n / b))
        f.write("\nEvery run, before / after:\n\n")
        for k in new[0]:
            f.write("- %s: %s\n" % (k, ", ".join(
                "%.1f / %.1f" % (o.get(k, float("nan")), n[k])
                for o, n in zip(old, new))))
    print("wrote %s" % a.out)


if __name__ == "__main__":
    main()
