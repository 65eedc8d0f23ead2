#!/usr/bin/python3
"""bench/lat_sched.py (bench/latency.sh --sched) on a hand-made run whose
answer is known: which task held which core while slow samples waited.

The switch log is `perf sched timehist`'s text format (time a task left
its core, core, comm[tid/pid], wait, scheduling delay, run time in ms);
the latency file is loadgen's --lat-trace format (sent, arrived, latency
in us). Two cores, times in seconds on CLOCK_MONOTONIC:

  core 0: the daemon's loop (pid 100) 10.000-10.001, another program's
          cc1 10.001-10.004, the loop again 10.004-10.005;
  core 1: the daemon's store writer (tid 101) 10.000-10.002, loadgen's
          reader (tid 201, pid 200) 10.002-10.003, idle, then
          "kworker x" (a space in its name) 10.0055-10.006;
  far outside: a long run of "other prog" (spaces in its name) that
          must not be counted.

Slow sends: three samples sent at 10.000 arriving at 10.003, 10.004 and
(fast) 10.0005; one sent at 10.0035 arriving at 10.006 (overlaps the
first window: merged into 10.000-10.006); one fast send at 10.010.
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, 'bench', 'lat_sched.py')

HEAD = """           time    cpu  task name                       wait time  sch delay   run time
                        [tid/pid]                          (msec)     (msec)     (msec)
--------------- ------  ------------------------------  ---------  ---------  ---------
"""
# (end s, core, task, run ms)
RUNS = [
    (10.001, 0, 'statecastd[100]', 1.0),
    (10.004, 0, 'cc1[300]', 3.0),
    (10.005, 0, 'statecastd[100]', 1.0),
    (10.002, 1, 'store-writer[101/100]', 2.0),
    (10.003, 1, 'loadgen[201/200]', 1.0),
    (9.0, 1, 'other prog[400]', 500.0),
    (10.006, 1, 'kworker x[500]', 0.5),
]
# The loop's scheduling delay (ms) before a stretch: its second run,
# 10.004-10.005, waited 3 ms for core 0 (from 10.001, while cc1 ran there
# and the writer, then loadgen, then nobody had core 1).
DELAY = {(10.005, 'statecastd[100]'): 3.0}
LAT = [
    (10.000, 10.003),
    (10.000, 10.004),
    (10.000, 10.0005),
    (10.0035, 10.006),
    (10.010, 10.0101),
]


def run(cores='2', slow='2000', delays=None):
    with tempfile.TemporaryDirectory() as d:
        th = os.path.join(d, 'sched.txt')
        lat = os.path.join(d, 'lat.txt')
        with open(th, 'w') as f:
            f.write(HEAD)
            for end, core, task, ms in sorted(RUNS):
                f.write('%15.6f [%04d]  %-30s  %9.3f  %9.3f  %9.3f\n'
                        % (end, core, task, 0.0, DELAY.get((end, task), 0.0),
                           ms))
        with open(lat, 'w') as f:
            for s, r in LAT:
                f.write('%.3f %.3f %.3f\n' % (s * 1e6, r * 1e6,
                                              (r - s) * 1e6))
        opt = ['--slow', slow] if delays is None else ['--delays', delays]
        p = subprocess.run([sys.executable, TOOL, '--cores', cores] + opt +
                           [th, lat, '100', '200'],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError('lat_sched failed: ' + p.stderr)
        return p.stdout


def table(out):
    rows = {}
    for line in out.splitlines():
        f = [x.strip() for x in line.strip('|').split('|')]
        if len(f) == 4 and f[1].replace('.', '').isdigit():
            rows[f[0]] = float(f[1])
    return rows


def check(name, got, want):
    ok = abs(got - want) < 1e-6
    print('%s %s: %g (want %g)' % ('ok  ' if ok else 'FAIL', name, got, want))
    return ok


def main():
    out = run()
    rows = table(out)
    good = True
    # One merged window, 10.000-10.006: 6 ms of wall time, 12 of cores.
    good &= check('merged windows: 2 sends in 1 window',
                  float('2 sends in 1 windows' in out), 1)
    good &= check('loop', rows.get('daemon: loop thread', -1), 2.0)
    good &= check('writer', rows.get('daemon: store writer', -1), 2.0)
    good &= check('other program', rows.get('other: cc1', -1), 3.0)
    good &= check('load generator',
                  rows.get('load generator (sender, reader)', -1), 1.0)
    good &= check('a name with a space', rows.get('other: kworker x', -1),
                  0.5)
    good &= check('idle (2 cores x 6 ms - 8.5 ms run)',
                  rows.get('idle (no task on a core)', -1), 3.5)
    good &= check('a run outside every window is not counted',
                  float('other: other prog' in out), 0)
    # --delays: the loop's one wait of 3 ms, 10.001-10.004.
    out = run(delays='300')
    rows = table(out)
    good &= check('--delays: one wait', float(': 1, 3.0 ms' in out), 1)
    good &= check('--delays: cc1', rows.get('other: cc1', -1), 3.0)
    good &= check('--delays: writer (10.001-10.002)',
                  rows.get('daemon: store writer', -1), 1.0)
    good &= check('--delays: load generator',
                  rows.get('load generator (sender, reader)', -1), 1.0)
    good &= check('--delays: idle (6 ms of cores - 5 ms run)',
                  rows.get('idle (no task on a core)', -1), 1.0)
    good &= check('--delays: the loop is not on a core in its own wait',
                  float('daemon: loop thread' in out), 0)
    out = run(delays='5000')
    good &= check('--delays over every wait: none',
                  float(': 0, 0.0 ms' in out), 1)
    # With a threshold above every latency there is no window at all.
    out = run(slow='10000')
    good &= check('no slow sample: no window',
                  float('0 sends in 0 windows' in out), 1)
    sys.exit(0 if good else 1)


if __name__ == '__main__':
    main()
