#!/usr/bin/python3
"""bench/lat_sched.py: who held the cores while the slow samples waited.

    bench/lat_sched.py [--slow US] [--cores N] TIMEHIST LAT DAEMON_PID LOADGEN_PID [...]
    bench/lat_sched.py --delays US [--cores N] TIMEHIST LAT DAEMON_PID LOADGEN_PID [...]

Each group of four arguments is one run: TIMEHIST, `perf sched timehist`'s
text of a `perf sched record -k CLOCK_MONOTONIC -a` taken over the run
(every context switch of the machine: when each task ran, on which core);
LAT, loadgen's --lat-trace file of the same run (sent, arrived, latency
in us, CLOCK_MONOTONIC); the pids of the daemon and of the timing loadgen.

A slow sample (latency over --slow, default 2000 us) waited from its send
to its arrival; the 16 timed samples of a slice are sent together, so the
slow ones of one send make one window, from the send to the last arrival.
Each task's time on a core inside the windows is summed by who it belongs
to (windows that overlap, as in a backlog, are merged first): the
daemon's loop thread (its pid), its store writer, its other
threads (the compute pool's helpers, ckpt-sync), the load generator that
times the run (sender and reader), and every other program of the
machine, named by its command; what is left of the windows' core time
(cores x wall) is idle. bench/lat_trace.py tells what the loop did in a
window (its CPU, its run delay); this tells who had the cores instead:
a window filled by other programs is the machine's (other tenants, the
host), not the daemon's, whatever the daemon would have done with a core.

Prints a markdown table: per category, the core time in the windows, its
share, and the windows it held most of.

--delays US: the windows are the loop thread's own waits for a core
instead: each stretch in which it was runnable without one (timehist's
scheduling delay: from its wake-up, or from the preemption that took its
core, to its next run) of US or more, inside the timed span of the run
(LAT's first send to its last arrival). Whether or not a sample was slow
by then, this says who had the cores whenever the loop waited (lat16,
8 runs boosted at load 7-9: other programs 91% of that core time, the
daemon's store writer 7%, its pool helpers and ckpt-sync under 1%).
"""
import bisect
import collections
import os
import re
import sys

# "   33400.356495 [0001]  loadgen[14052/14050]   39.359   19.607   0.163"
# (time the task left the core, core, comm[tid/pid] or comm[tid], wait,
# scheduling delay, run time in ms); comm may hold spaces.
LINE = re.compile(r'^\s*([\d.]+)\s+\[(\d+)\]\s+(.*)\[(\d+)(?:/(\d+))?\]'
                  r'\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$')


def runs_of(timehist):
    """(start s, end s, comm, tid, pid) of every stretch a task ran."""
    out = []
    for line in open(timehist):
        m = LINE.match(line)
        if not m:
            continue
        end = float(m.group(1))
        run = float(m.group(8)) * 1e-3
        tid = m.group(4)
        out.append((end - run, end, m.group(3).strip(), tid,
                    m.group(5) or tid))
    out.sort()
    return out


def category(comm, tid, pid, dpid, lpid):
    if pid == dpid:
        if tid == dpid:
            return 'daemon: loop thread'
        if comm == 'store-writer':
            return 'daemon: store writer'
        return 'daemon: other threads (pool helpers, ckpt-sync)'
    if pid == lpid:
        return 'load generator (sender, reader)'
    return 'other: ' + comm


def windows(lat, slow_us):
    """[(a, b, sends)] in seconds: per send time, send -> its last slow
    arrival; windows that overlap (a backlog: the next send was slow too
    before the last one arrived) are merged, so no core time counts
    twice."""
    last = {}
    for line in open(lat):
        f = line.split()
        if len(f) < 3 or float(f[2]) <= slow_us:
            continue
        s, r = float(f[0]) * 1e-6, float(f[1]) * 1e-6
        last[s] = max(last.get(s, r), r)
    out = []
    for a, b in sorted(last.items()):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]), out[-1][2] + 1)
        else:
            out.append((a, b, 1))
    return out


def delay_windows(timehist, lat, dpid, min_us):
    """[(a, b, 1)] in seconds: the loop thread's (tid dpid) waits for a
    core of min_us or more, from its scheduling delay (timehist's column
    of the stretch that ended it), inside LAT's timed span."""
    t0 = t1 = None
    for line in open(lat):
        f = line.split()
        if len(f) < 3:
            continue
        s, r = float(f[0]) * 1e-6, float(f[1]) * 1e-6
        t0 = s if t0 is None else min(t0, s)
        t1 = r if t1 is None else max(t1, r)
    out = []
    if t0 is None:
        return out
    for line in open(timehist):
        m = LINE.match(line)
        if not m or m.group(4) != dpid:
            continue
        delay = float(m.group(7)) * 1e-3
        start = float(m.group(1)) - float(m.group(8)) * 1e-3
        if delay * 1e6 >= min_us and start > t0 and start - delay < t1:
            out.append((start - delay, start, 1))
    out.sort()
    return out


def main(argv):
    slow, cores, delays = 2000.0, os.cpu_count() or 1, None
    while argv and argv[0].startswith('--'):
        if argv[0] == '--slow':
            slow = float(argv[1])
        elif argv[0] == '--delays':
            delays = float(argv[1])
        elif argv[0] == '--cores':
            cores = int(argv[1])
        else:
            sys.exit('lat_sched: unknown option ' + argv[0])
        argv = argv[2:]
    if not argv or len(argv) % 4:
        sys.exit(__doc__.split('\n\n')[1])
    held = collections.Counter()  # category -> core seconds
    most = collections.Counter()  # category -> windows it held most of
    nwin, nsend, wall = 0, 0, 0.0
    for i in range(0, len(argv), 4):
        th, lat, dpid, lpid = argv[i:i + 4]
        runs = runs_of(th)
        starts = [r[0] for r in runs]
        longest = max((r[1] - r[0] for r in runs), default=0)
        wins = (windows(lat, slow) if delays is None
                else delay_windows(th, lat, dpid, delays))
        for a, b, n in wins:
            nwin += 1
            nsend += n
            wall += b - a
            w = collections.Counter()
            # Stretches that start before a but reach into the window:
            # none is longer than the longest stretch of the run.
            j = bisect.bisect_left(starts, a - longest)
            while j < len(runs) and runs[j][0] < b:
                s, e, comm, tid, pid = runs[j]
                ov = min(e, b) - max(s, a)
                if ov > 0:
                    w[category(comm, tid, pid, dpid, lpid)] += ov
                j += 1
            used = sum(w.values())
            w['idle (no task on a core)'] += max(0.0, cores * (b - a) - used)
            held.update(w)
            most[w.most_common(1)[0][0]] += 1
    total = sum(held.values())
    if delays is None:
        print('Slow windows (a send of timed samples -> the last of them '
              'arrived, > %.0f us; overlapping ones merged): %d sends in %d '
              'windows, %.1f ms of wall time, %d cores.'
              % (slow, nsend, nwin, wall * 1e3, cores))
    else:
        print('The loop\'s waits for a core of %.0f us or more in the timed '
              'span: %d, %.1f ms of wall time, %d cores.'
              % (delays, nwin, wall * 1e3, cores))
    print()
    print('| who held a core | core ms in the windows | share | '
          'windows it held most of |')
    print('|---|---|---|---|')
    others = collections.Counter()
    for k, v in held.most_common():
        if k.startswith('other: ') and v < 0.02 * total:
            others['other programs (each < 2%)'] += v
            continue
        print('| %s | %.1f | %.2f | %d |'
              % (k, v * 1e3, v / total if total else 0, most[k]))
    for k, v in others.items():
        print('| %s | %.1f | %.2f | - |'
              % (k, v * 1e3, v / total if total else 0))
    mine = sum(v for k, v in held.items() if k.startswith('daemon: '))
    other = sum(v for k, v in held.items() if k.startswith('other: '))
    print()
    print('Summed: the daemon %.2f, the load generator %.2f, other programs '
          '%.2f, idle %.2f.'
          % tuple(x / total if total else 0 for x in (
              mine, held['load generator (sender, reader)'], other,
              held['idle (no task on a core)'])))


if __name__ == '__main__':
    main(sys.argv[1:])
