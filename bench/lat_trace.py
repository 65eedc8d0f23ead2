#!/usr/bin/python3
"""bench/lat_trace.py: where a timed sample's latency went.

    bench/lat_trace.py TRACE LAT [--md] [--slow US]

TRACE: statecastd's STATECAST_TRACE file (daemon/trace.h), LAT: loadgen's
--lat-trace file (bench/loadgen.c), both on CLOCK_MONOTONIC. Each timed
sample (sent, arrived) is split at the last forecast notification the
daemon wrote before the sample arrived (its own or one of its round's,
written together):
  daemon:   sent -> notification written (read, queue, step, write)
  delivery: notification written -> loadgen's reader had it (loopback,
            and the reader thread getting a core)
and the daemon part is further told by the loop's timeline: the wait
from the send to the loop's next read (the loop was busy elsewhere or
had no core), pool rounds (P..Q: the loop waiting for a helper's chunk),
ticks' wall against CPU time, snapshot slices and store completions.
Prints one line of key=value (bench/latency.sh parses it), or with --md a
short markdown report. --slow: what counts as slow (default 2000 us).
"""
import bisect
import sys


def load(trace, latf):
    ev = []
    for line in open(trace):
        if line.startswith('#'):
            continue
        t, k, a, b = line.split()
        ev.append((float(t), k, int(a), int(b)))
    lat = sorted(tuple(map(float, l.split())) for l in open(latf))
    return ev, lat


def pct(v, q):
    if not v:
        return float('nan')
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(q * len(v) + 0.999999) - 1))]


def analyse(ev, lat, slow_us):
    if not lat:
        return {}
    t_first, t_last = lat[0][0], max(x[1] for x in lat)
    # Forecast notifications only (anomalies are shorter: 133 bytes for
    # a 7-char series name against over 1000 for a forecast).
    nt = [e[0] for e in ev if e[1] == 'N' and e[2] > 400]
    rt = [e[0] for e in ev if e[1] == 'r']
    daemon, deliv, readw = [], [], []
    for s, a, _ in lat:
        i = bisect.bisect_right(nt, a) - 1
        n = nt[i] if i >= 0 else s
        daemon.append(max(0.0, n - s))
        deliv.append(a - n)
        j = bisect.bisect_left(rt, s)
        readw.append(rt[j] - s if j < len(rt) else 0.0)
    lats = [x[2] for x in lat]
    slow = [i for i, x in enumerate(lat) if x[2] > slow_us]
    # Of the slow samples: which side had most of it.
    by_delivery = sum(1 for i in slow if deliv[i] > lats[i] / 2)
    # Ticks and pool waits within the measured span.
    ticks, pools, cur, pcur = [], [], None, None
    for e in ev:
        if e[0] < t_first - 2000 or e[0] > t_last:
            continue
        if e[1] == 'T':
            cur = e
        elif e[1] == 'E' and cur:
            ticks.append((cur[0], e[0] - cur[0], e[2], cur[2]))
            cur = None
        elif e[1] == 'P':
            pcur = e
        elif e[1] == 'Q' and pcur:
            pools.append((e[0] - pcur[0], pcur[3], e[3]))
            pcur = None
    span = (t_last - t_first) or 1
    wall = sum(t[1] for t in ticks)
    cpu = sum(t[2] for t in ticks)
    pool_wall = sum(p[0] for p in pools)
    snaps = [e for e in ev if e[1] == 'S' and t_first <= e[0] <= t_last]
    r = {
        'n': len(lat), 'slow': len(slow),
        'p50_us': pct(lats, .5), 'p99_us': pct(lats, .99),
        'daemon_p50_us': pct(daemon, .5), 'daemon_p99_us': pct(daemon, .99),
        'delivery_p50_us': pct(deliv, .5),
        'delivery_p99_us': pct(deliv, .99),
        'readwait_p50_us': pct(readw, .5), 'readwait_p99_us': pct(readw, .99),
        'slow_by_delivery': by_delivery,
        'ticks': len(ticks),
        'tick_p50_us': pct([t[1] for t in ticks], .5),
        'tick_p99_us': pct([t[1] for t in ticks], .99),
        'tick_max_us': max([t[1] for t in ticks] or [0]),
        'steps_p99': pct([t[3] for t in ticks], .99),
        'tick_busy': wall / span, 'tick_cpu_wall': cpu / wall if wall else 0,
        'pool_rounds': len(pools),
        'pool_p99_us': pct([p[0] for p in pools], .99),
        'pool_max_us': max([p[0] for p in pools] or [0]),
        'pool_share': pool_wall / wall if wall else 0,
        'steals': sum(p[2] for p in pools),
        'snapshots': len(snaps),
    }
    return r


def main():
    args = sys.argv[1:]
    md = '--md' in args
    slow_us = 2000.0
    if '--slow' in args:
        slow_us = float(args[args.index('--slow') + 1])
        del args[args.index('--slow'):args.index('--slow') + 2]
    args = [a for a in args if a != '--md']
    if len(args) != 2:
        sys.exit(__doc__)
    ev, lat = load(*args)
    r = analyse(ev, lat, slow_us)
    if not md:
        print(' '.join('%s=%s' % (k, ('%.2f' % v if isinstance(v, float) and v < 10 else '%.0f' % v) if isinstance(v, float) else v) for k, v in r.items()))
        return
    print('| samples | p50 | p99 | daemon p50 | daemon p99 | delivery p50 | delivery p99 | read wait p99 | slow (> %.0f us) | of which mostly delivery | tick p99 | tick max | loop in ticks | tick CPU/wall | pool rounds | pool round p99 | pool max | pool share of tick wall |' % slow_us)
    print('|' + '---|' * 18)
    print('| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %d | %.0f | %.0f | %.2f | %.2f | %d | %.0f | %.0f | %.2f |' % (
        r['n'], r['p50_us'], r['p99_us'], r['daemon_p50_us'], r['daemon_p99_us'],
        r['delivery_p50_us'], r['delivery_p99_us'], r['readwait_p99_us'],
        r['slow'], r['slow_by_delivery'], r['tick_p99_us'], r['tick_max_us'],
        r['tick_busy'], r['tick_cpu_wall'], r['pool_rounds'], r['pool_p99_us'],
        r['pool_max_us'], r['pool_share']))


if __name__ == '__main__':
    main()
