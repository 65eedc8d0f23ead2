#!/usr/bin/python3
"""bench/loadgen's two latency rulers against the real daemon: the push's
arrival at the subscriber's socket (the kernel's receive stamp,
SO_TIMESTAMPNS) and the moment loadgen's reader thread had it.

A paced run with a subscriber, --lat-trace kept: the kernel figure must
be there for (nearly) every timed sample, and for each sample it must lie
between the send and the reader's stamp (both on CLOCK_MONOTONIC, the
kernel's realtime stamp converted): a stamp taken from the wrong read, a
clock left unconverted or a send time taken after the arrival breaks one
of these orderings; the p99s loadgen prints must be the trace's, and
over the stamped samples the kernel's p99 must not exceed the reader's.
Orderings only: no figure is compared with a time budget. The first reads after the option is set may come unstamped (the
kernel turns its receive stamping on asynchronously), so a few samples
without a stamp are allowed, and counted as such by loadgen.
"""
import math
import os
import subprocess
import tempfile

from statecast_test import ROOT, Checks, Daemon

LOADGEN = os.path.join(ROOT, "build", "bench", "loadgen")
SERIES = 200
LAT_SERIES = 8


def fields(out):
    return dict(kv.split("=", 1) for kv in out.split() if "=" in kv)


def pct(v, p):
    """bench/loadgen.c's percentile: the ceil(p n)-th smallest."""
    v = sorted(v)
    return v[min(max(math.ceil(p * len(v)) - 1, 0), len(v) - 1)]


def stamps(c):
    # loadgen is the harness, built plain whatever build is under test.
    subprocess.run(["make", "-s", "-C", ROOT, "build/bench/loadgen"],
                   check=True)
    with Daemon() as d, tempfile.TemporaryDirectory() as tmp:
        g = "%s:%d" % d.ports["graphite"]
        r = "%s:%d" % d.ports["rpc"]
        common = [LOADGEN, "--graphite", g, "--series", str(SERIES),
                  "--prefix", "lat", "--latency-series", str(LAT_SERIES),
                  "--until-rpc", r]
        # Priming: a series forecasts once it has learnt its step.
        subprocess.run(common + ["--count", str(SERIES * 5)], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        trace = os.path.join(tmp, "lat.txt")
        p = subprocess.run(common + ["--rate", "10000", "--duration", "2",
                                     "--t0", str(1700000000 + 5 * 60),
                                     "--latency-rpc", r,
                                     "--lat-trace", trace],
                           capture_output=True, text=True, timeout=120)
        c.check("loadgen ran", p.returncode == 0, p.stdout + p.stderr)
        f = fields(p.stdout)
        n, kn = int(f.get("lat_n", 0)), int(f.get("lat_k_n", -1))
        c.check("samples timed", n >= SERIES and n > 0, p.stdout)
        c.check("kernel stamps for nearly every timed sample",
                kn >= 0.9 * n and kn + int(f["lat_k_missing"]) == n,
                p.stdout)
        c.check("both rulers reported",
                all(k in f for k in ("lat_p99_us", "lat_k_p99_us",
                                     "lat_k_p50_us", "lat_send_win_max_us")),
                p.stdout)
        c.check("clock offset steady over the run (no wall-clock step)",
                abs(float(f.get("lat_clock_step_us", "nan"))) <= 5,
                p.stdout)
        rows = [list(map(float, line.split())) for line in open(trace)]
        c.check("trace: one line per timed sample, five fields",
                len(rows) == n and all(len(x) == 5 for x in rows),
                rows[:3])
        stamped = [x for x in rows if not math.isnan(x[3])]
        c.check("trace: the stamped samples", len(stamped) == kn,
                (len(stamped), kn))
        # sent, reader had it, latency, at the socket, kernel latency (us);
        # 1 us of slack for the three-decimal print.
        late = [x for x in stamped if x[3] > x[1] + 0.001]
        c.check("at the socket no later than the reader had it", not late,
                late[:3])
        early = [x for x in stamped if x[3] < x[0] - 0.001]
        c.check("at the socket no earlier than the send", not early,
                early[:3])
        c.check("kernel latency = arrival - send",
                all(abs(x[4] - (x[3] - x[0])) < 0.01 for x in stamped))
        # The printed percentiles are the trace's: the reader's over every
        # timed sample, the kernel's over the stamped ones (%.0f of the
        # figure the trace prints to 1 ns).
        for key, vals in (("lat_p99_us", [x[2] for x in rows]),
                          ("lat_k_p99_us", [x[4] for x in stamped])):
            got = float(f.get(key, "nan"))
            c.check("%s is the trace's" % key,
                    vals and abs(got - pct(vals, 0.99)) <= 0.5 + 0.002,
                    (key, got, pct(vals, 0.99) if vals else None))
        # The two rulers' p99 over the same samples: the kernel's stamp
        # precedes the reader's in each, so each order statistic of the
        # kernel's latencies is at most the reader's. (loadgen's two p99s
        # are over different sets, every timed sample and the stamped
        # ones, and need not be ordered: a tail of a few late samples
        # puts the kernel's above the reader's.)
        kp = pct([x[4] for x in stamped], 0.99) if stamped else math.inf
        rp = pct([x[2] for x in stamped], 0.99) if stamped else -math.inf
        c.check("kernel p99 <= reader p99 over the stamped samples",
                kp <= rp + 0.001, (kp, rp))


if __name__ == "__main__":
    c = Checks()
    c.run(stamps)
    c.summary()
