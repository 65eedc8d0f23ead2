"""bench/front4_compat.py OLD_STATECASTD THIS_STATECASTD [OUT.md]: states
written by an older statecastd (main's, say) opened by this tree's, when
the two differ in what a state means (its state format: 3 -> 4 when this
script was written for the smoothing front's member-major layout, 4 -> 5
for the head input and anomaly score after the layers).

The format enters the model hash, so this tree refuses the old dump,
checkpoint files and snapshots ("written by another model") and rebuilds
every series by replaying its stored samples. For each way the old daemon
can stop - SIGTERM (state dump) and SIGKILL (checkpoint files + snapshots)
- this checks that the new daemon says why it refused, keeps every
sample, and, after one more sample per series, serves the same forecast,
to the bit, as the old build does when it sees all the same samples
without a restart (a second old daemon on its own database). Retention off,
so that every sample is there to replay. Two builds of the same format
(the same hash) are no refusal: the old files are then used as they are,
which the report says. Prints what it found (and writes it to OUT.md with
the command, the machine and the two hashes when given); exits 1 when any
series differs."""
import math
import os
import sys
import re
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import storelib

main_bin, head_bin = sys.argv[1], sys.argv[2]
T0 = 1.7e9
NS, NT = 40, 300
# Snapshots and checkpoint files every second, so that the SIGKILL case
# leaves both behind (the old daemon is given 3 s to write them).
LINES = []
HASHES = []  # (old, this) model hashes from the refusal messages


def say(line):
    print(line)
    LINES.append(line)


OPTS = ["store.retention_s=0", "store.snapshot_s=1s", "store.checkpoint_s=1s"]


def value(k, i):
    if k == 77 and i == 3:
        return float("nan")
    # Seasonal (period 24) with trend and noise-like wiggle, positive for
    # even series (the log-scale members stay in), crossing zero for odd.
    base = 50 + i if i % 2 == 0 else 0.0
    return (base + 10 * math.sin(2 * math.pi * k / 24 + i)
            + 0.02 * k + math.sin(k * 1.7 + i * 0.3))


def push(c, k):
    c.call("push", {"samples": [["cmp.s%02d" % i, T0 + 60 * k, value(k, i)]
                                for i in range(NS)]})


def forecasts(c):
    out = {}
    for i in range(NS):
        n = "cmp.s%02d" % i
        out[n] = (c.call("forecast", {"series": n}),
                  c.call("info", {"series": n})["samples"])
    return out


def run(how):
    tmp = tempfile.mkdtemp(prefix="front4_compat.")
    # The reference: the old build, every sample, no restart.
    storelib.DAEMON = main_bin
    ref = storelib.Daemon(tmp, "r", opts=OPTS)
    c = ref.start()
    for k in range(NT + 1):
        push(c, k)
    want = forecasts(c)
    ref.term()
    # The old build writes NT samples and stops; this tree opens its files.
    old = storelib.Daemon(tmp, "c", opts=OPTS)
    c = old.start()
    for k in range(NT):
        push(c, k)
    if how == "kill":
        time.sleep(3)
        old.kill9()
    else:
        old.term()
    storelib.DAEMON = head_bin
    c = old.start()
    push(c, NT)
    got = forecasts(c)
    old.term()
    with open(old.log.name) as f:
        log = f.read().split("model untrained default")[-2]  # the new run
    why = re.findall(r"(?:checkpoint|state dump)[^\n]*another model[^\n]*", log)
    HASHES.extend(re.findall(r"another model \(hash (\w+), this model (\w+)\)",
                             log))
    rest = re.findall(r"restored \d+ series[^\n]*", log)
    bad = [n for n in want if repr(want[n]) != repr(got[n])]
    for n in bad[:3]:
        print("DIFF", n, want[n], got[n])
    say("%s: forecasts and sample counts after one more sample equal "
          "the old build's uninterrupted ones for %d of %d series" % (
              "SIGTERM (state dump)" if how == "term"
              else "SIGKILL (checkpoint files + snapshots)",
              NS - len(bad), NS))
    say("    new daemon's log: %s" % (why[0] if why else
                                        "(no refusal message)"))
    say("    %s" % (rest[0] if rest else "(no restore line)"))
    if not bad and not os.environ.get("KEEP"):
        storelib.shutil.rmtree(tmp)
    else:
        print("files kept in", tmp)
    return not bad


ok = run("term") & run("kill")
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as f:
        f.write("# States of an older build opened by this tree (%s)\n\n" % (
            "model hash %s -> %s" % HASHES[0] if HASHES else
            "the same model hash: nothing refused"))
        f.write("Written by `/usr/bin/python3 bench/front4_compat.py %s %s %s` on %s.\n" % (
            sys.argv[1], sys.argv[2], sys.argv[3],
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        f.write("Machine: %d cores; load average %s.\n\n" % (
                    os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
        f.write("%d series x %d samples (seasonal, trending, positive and "
                "sign-changing, one NaN), untrained default model, retention "
                "off.\n\n" % (NS, NT))
        for line in LINES:
            f.write("    " + line + "\n")
        f.write("\nThe new build %s, and then forecasts what the old build "
                "forecasts uninterrupted, %s.\n" % (
                    "refuses the old dump and checkpoint file (the state "
                    "format is part of the model hash) and rebuilds every "
                    "series from its stored samples" if HASHES else
                    "refused nothing (the same model hash: the same state "
                    "format)",
                    "to the bit" if ok else "NOT to the bit for some series "
                    "(listed above)"))
sys.exit(0 if ok else 1)
