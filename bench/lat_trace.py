#!/usr/bin/python3
"""bench/lat_trace.py: where a timed sample's latency went.

    bench/lat_trace.py TRACE LAT [--md] [--slow US]
    bench/lat_trace.py --attr TRACE LAT [TRACE LAT ...] [--slow US]
                       [--ruler socket|reader]
    bench/lat_trace.py --parts TRACE LAT [TRACE LAT ...]
    bench/lat_trace.py --stalls TRACE LAT [PERF_SCRIPT] [--cpu US] [--between XY]

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

--attr: the slow samples of all the runs given, attributed to causes
(a markdown table). A trace written with the loop's CPU time, involuntary
switches and run delay (daemon/trace.h: 7 fields a line) cuts the loop's
timeline into phases between the events that read the run delay (poll
-> tick, tick -> pool round, pool round -> rest of the tick, tick end ->
next poll, checkpoint slices, snapshot slices, store completions); each
phase's wall time is split into CPU (work), run delay (runnable without
a core) and the rest (asleep: in the poll, or on a helper's chunk in a
pool round). A slow sample's daemon part (send -> notification written)
is summed per cause over the phases it overlaps, and the sample counted
under the cause that holds most of it; one mostly in delivery is counted
there. --ruler: which latency says a sample is slow, and where its
delivery ends: socket (the default since pool15: the kernel's receive
stamp on the subscriber's socket, loadgen's lat_k_*, the ruler issue 9's
target is judged on; samples without a stamp are counted and left out,
never given the reader's figure) or reader (loadgen's reader thread had
it, the ruler before lat11, which counts the reader's wait for a core as
delivery).

--parts: every timed sample of the runs given (not only the slow ones),
its latency cut into consecutive parts at the loop's events: send ->
the start of the tick that wrote its notification (of which: waiting
for the loop's next read, and waiting for an earlier tick still running
when it was sent), that tick's start -> the notification written (the
stepping ahead of it in its tick), and the delivery. A markdown table of
each part's p50, mean and p99 over all samples (percentiles of parts do
not add up; means do).

--stalls: the stretches between two consecutive events of the loop's
trace in which the loop thread itself ran more than US microseconds of
CPU (default 1500) within the timed span, with the events around them,
as a markdown table and their sum (--between XY: only those from an
event of kind X to one of kind Y, e.g. pD: poll -> store completions);
given PERF_SCRIPT (`perf script -F
time,ip,sym,dso` of a `perf record -k CLOCK_MONOTONIC -t <loop tid>` of
the same run: bench/lat_stall.sh), what the loop's samples inside those
stretches were, by symbol and library. Found with it (lat8): after every
COMMIT the loop spun in libuv's async handle (sched_yield) while the idle
store writer that held it waited for a core.
"""
import bisect
import sys


def load(trace, latf):
    ev = []
    for line in open(trace):
        if line.startswith('#'):
            continue
        f = line.split()
        e = (float(f[0]), f[1], int(f[2]), int(f[3]))
        if len(f) >= 7:  # cpu us, involuntary switches, run delay us
            e += (int(f[4]), int(f[5]), int(f[6]))
        ev.append(e)
    # sent, reader had it, latency (us); loadgen since lat11 adds the
    # kernel's arrival and latency, which this split does not use.
    lat = sorted(tuple(map(float, l.split()[:3])) for l in open(latf))
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


# Phases of the loop, named by the event that opens them (one of
# daemon/trace.h's SRV_TRACE_WAIT_KINDS), and what their CPU and their
# sleep stand for.
PHASE = {
    'p': ('read', 'poll_idle'),   # poll -> first tick: reads, parsing
    'T': ('tick', 'tick_sleep'),  # tick begins / between pool rounds
    'Q': ('tick', 'tick_sleep'),
    'P': ('pool', 'pool_wait'),   # a round shared with the helpers
    'E': ('other', 'other_sleep'),  # tick end -> next poll: callbacks
    'D': ('store', 'store_sleep'),  # store completions
    'C': ('ckpt', 'ckpt_sleep'),    # checkpoint slice
    'S': ('snapshot', 'snap_sleep'),
}
# Closing events of a span go back to the phase around it.
# Store completions run in the poll phase (uv_async), checkpoint and
# snapshot slices in the timers after a tick.
RESUME = {'d': 'p', 'c': 'E', 's': 'E'}

CAUSES = [
    ('core_wait', 'loop runnable without a core (run delay: preempted, or woken late)'),
    ('poll_idle', 'loop asleep in the poll (the sample not yet readable: in loadgen or the kernel)'),
    ('read', 'reading and parsing (loop CPU, poll -> tick)'),
    ('tick', 'the tick on the loop, outside pool rounds (CPU: its own rounds, bookkeeping, notifications, sink)'),
    ('pool', 'pool rounds, the loop stepping its chunks (CPU)'),
    ('pool_wait', 'pool rounds, the loop asleep until a helper\'s chunk is in (join)'),
    ('other', 'between tick end and poll (CPU: write completions, timers)'),
    ('store', 'store completions (CPU)'),
    ('ckpt', 'checkpoint slices (CPU)'),
    ('snapshot', 'snapshot slices (CPU)'),
    ('asleep_other', 'asleep elsewhere (a blocking syscall in a tick or callback)'),
    ('delivery', 'delivery: notification written -> loadgen\'s reader had it'),
]


def phases(ev):
    """[(t0, t1, phase_opener, cpu, wait)] between consecutive events
    that carry the run delay (7-field traces only)."""
    out, prev, cur = [], None, None
    for e in ev:
        if len(e) < 7 or e[6] < 0:
            continue
        if prev is not None:
            dt = e[0] - prev[0]
            out.append((prev[0], e[0], cur, max(0, e[4] - prev[4]),
                        max(0, e[6] - prev[6])))
        k = e[1]
        cur = RESUME.get(k, k) if k in PHASE or k in RESUME else cur
        prev = e
    return out


def attribute(ev, lat, slow_us, acc):
    """lat: (sent, arrived, latency us) by the ruler chosen."""
    ph = phases(ev)
    if not ph:
        return False
    starts = [x[0] for x in ph]
    nt = [e[0] for e in ev if e[1] == 'N' and e[2] > 400]
    for s, a, l in lat:
        if l <= slow_us:
            continue
        i = bisect.bisect_right(nt, a) - 1
        n = nt[i] if i >= 0 else s
        acc['n'] += 1
        share = {'delivery': a - max(n, s)}
        j = max(0, bisect.bisect_right(starts, s) - 1)
        while j < len(ph) and ph[j][0] < n:
            t0, t1, k, cpu, wait = ph[j]
            j += 1
            ov = min(t1, n) - max(t0, s)
            if ov <= 0 or k not in PHASE:
                continue
            dt = t1 - t0
            f = ov / dt
            wait = min(wait, dt)
            cpu = min(cpu, dt - wait)
            work, sleep = PHASE[k]
            if sleep not in ('poll_idle', 'pool_wait'):
                sleep = 'asleep_other'
            share['core_wait'] = share.get('core_wait', 0) + f * wait
            share[work] = share.get(work, 0) + f * cpu
            share[sleep] = share.get(sleep, 0) + f * (dt - cpu - wait)
        top = max(share, key=share.get)
        acc['top'][top] = acc['top'].get(top, 0) + 1
        for c, v in share.items():
            acc['us'][c] = acc['us'].get(c, 0) + v
        acc['lat_us'] += l
    return True


def by_socket(lat, latf):
    """load()'s samples as (sent, at the socket, kernel latency), those
    without a kernel stamp left out; and how many were."""
    karr = kernel_arrivals(latf)
    out = [(s, k, k - s) for (s, a, l), k in zip(lat, karr) if k == k]
    return out, len(lat) - len(out)


def attr_main(args, slow_us, ruler):
    acc = {'n': 0, 'top': {}, 'us': {}, 'lat_us': 0.0}
    runs = missing = timed = 0
    for i in range(0, len(args) - 1, 2):
        ev, lat = load(args[i], args[i + 1])
        timed += len(lat)
        if ruler == 'socket':
            lat, m = by_socket(lat, args[i + 1])
            missing += m
        runs += attribute(ev, lat, slow_us, acc)
    if ruler == 'socket' and timed and missing == timed:
        sys.exit('lat_trace: no kernel receive stamps in these runs (a '
                 'loadgen before lat11?): --ruler reader')
    n = acc['n'] or 1
    what = {'socket': 'at the subscriber\'s socket (kernel stamp)',
            'reader': 'when loadgen\'s reader had it'}[ruler]
    print('Slow samples (> %.0f us %s) of %d traced runs: %d; their mean latency %.0f us.' % (
        slow_us, what, runs, acc['n'], acc['lat_us'] / n))
    if ruler == 'socket':
        print('Timed samples without a kernel stamp (left out): %d of %d.' % (
            missing, timed))
    print()
    print('| cause | slow samples it dominates | share | its mean us per slow sample | share of slow samples\' time |')
    print('|---|---|---|---|---|')
    tot = sum(acc['us'].values()) or 1
    for c, doc in CAUSES:
        if c == 'delivery' and ruler == 'socket':
            doc = 'delivery: notification written -> at the subscriber\'s socket'
        print('| %s | %d | %.2f | %.0f | %.2f |' % (
            doc, acc['top'].get(c, 0), acc['top'].get(c, 0) / n,
            acc['us'].get(c, 0) / n, acc['us'].get(c, 0) / tot))


def kernel_arrivals(latf):
    """The kernel's arrival stamps (us, nan: none) of a --lat-trace file
    from loadgen since lat11 (fields 4 and 5), in load()'s order; all nan
    for an older file."""
    rows = sorted(tuple(map(float, l.split())) for l in open(latf))
    return [r[3] if len(r) >= 5 else float('nan') for r in rows]


def parts(ev, lat, acc, karr=None):
    """Appends each timed sample's parts (us) to acc's lists; with karr
    (kernel_arrivals), also the delivery split at the subscriber's
    socket."""
    nt = [e[0] for e in ev if e[1] == 'N' and e[2] > 400]
    rt = [e[0] for e in ev if e[1] == 'r']
    ticks, cur = [], None
    for e in ev:
        if e[1] == 'T':
            cur = e[0]
        elif e[1] == 'E' and cur is not None:
            ticks.append((cur, e[0]))
            cur = None
    tstart = [t[0] for t in ticks]
    for idx, (s, a, l) in enumerate(lat):
        i = bisect.bisect_right(nt, a) - 1
        n = nt[i] if i >= 0 else s
        if n < s:  # no notification of its own: all delivery
            n = s
        k = karr[idx] if karr else float('nan')
        if k == k:  # a kernel stamp: the same cut at the socket
            acc.setdefault('total_k', []).append(k - s)
            j = bisect.bisect_right(nt, k) - 1
            nk = max(nt[j], s) if j >= 0 else s
            acc.setdefault('to_socket', []).append(k - nk)
            acc.setdefault('socket_reader', []).append(a - k)
        k = bisect.bisect_right(tstart, n) - 1
        t = tstart[k] if k >= 0 and tstart[k] >= s else s
        j = bisect.bisect_left(rt, s)
        r = rt[j] if j < len(rt) else s
        # A tick running when the sample was sent (began before it).
        m = bisect.bisect_right(tstart, s) - 1
        busy = max(0.0, min(ticks[m][1], t) - s) if m >= 0 else 0.0
        for key, v in (('total', l), ('to_tick', t - s),
                       ('read_wait', min(max(0.0, r - s), t - s)),
                       ('tick_running', busy), ('in_tick', n - t),
                       ('delivery', a - n)):
            acc.setdefault(key, []).append(v)


PARTS = [
    ('total', 'send -> notification received (loadgen)'),
    ('to_tick', 'send -> start of the tick that wrote its notification'),
    ('read_wait', '... of which send -> the loop\'s next read'),
    ('tick_running', '... of which an earlier tick still running at the send'),
    ('in_tick', 'tick start -> notification written (stepping ahead of it)'),
    ('delivery', 'notification written -> loadgen\'s reader had it'),
    ('total_k', 'send -> push at the subscriber\'s socket (kernel stamp)'),
    ('to_socket', 'notification written -> at the subscriber\'s socket'),
    ('socket_reader', 'at the socket -> loadgen\'s reader had it'),
]


def parts_main(args):
    acc = {}
    for i in range(0, len(args) - 1, 2):
        ev, lat = load(args[i], args[i + 1])
        parts(ev, lat, acc, kernel_arrivals(args[i + 1]))
    n = len(acc.get('total', []))
    print('Timed samples of %d traced runs: %d.' % (len(args) // 2, n))
    print()
    print('| part | p50 (us) | mean (us) | p99 (us) |')
    print('|---|---|---|---|')
    for key, doc in PARTS:
        v = acc.get(key, [])
        if not v and key in ('total_k', 'to_socket', 'socket_reader'):
            continue  # a trace without kernel stamps
        print('| %s | %.0f | %.0f | %.0f |' % (
            doc, pct(v, .5), sum(v) / (len(v) or 1), pct(v, .99)))


def stalls_main(args, cpu_us, between):
    ev, lat = load(args[0], args[1])
    if not lat:
        sys.exit('lat_trace: no timed samples in %s' % args[1])
    t0, t1 = lat[0][0], max(x[1] for x in lat)
    rows = []
    for a, b in zip(ev, ev[1:]):
        if a[0] < t0 or b[0] > t1 or len(a) < 7 or len(b) < 7:
            continue
        if between and (a[1], b[1]) != (between[0], between[1]):
            continue
        if b[4] - a[4] > cpu_us:
            rows.append((a, b))
    print('Stretches of more than %.0f us of loop CPU between two events%s, '
          'in the timed %.1f s: %d, %.1f ms of loop CPU in all.' % (
              cpu_us, ' (%s -> %s)' % (between[0], between[1])
              if between else '', (t1 - t0) * 1e-6, len(rows),
              sum(b[4] - a[4] for a, b in rows) * 1e-3))
    print()
    print('| at (ms into the run) | from event | to event | wall (us) | '
          'loop CPU (us) | run delay (us) |')
    print('|---|---|---|---|---|---|')
    for a, b in rows:
        rd = b[6] - a[6] if a[6] >= 0 and b[6] >= 0 else float('nan')
        print('| %.1f | %s %d %d | %s %d %d | %.0f | %d | %.0f |' % (
            (a[0] - t0) * 1e-3, a[1], a[2], a[3], b[1], b[2], b[3],
            b[0] - a[0], b[4] - a[4], rd))
    if len(args) < 3:
        return
    # perf script lines: "<time s>: <ip> <sym> (<dso>)".
    count, inside, total = {}, 0, 0
    wins = [(a[0], b[0]) for a, b in rows]
    for line in open(args[2]):
        f = line.split()
        if len(f) < 3 or not f[0].endswith(':'):
            continue
        total += 1
        t = float(f[0][:-1]) * 1e6
        i = bisect.bisect_right(wins, (t, float('inf'))) - 1
        if i >= 0 and wins[i][0] <= t <= wins[i][1]:
            inside += 1
            key = ' '.join(f[2:])
            count[key] = count.get(key, 0) + 1
    print()
    print('perf samples of the loop thread inside those stretches: %d of '
          '%d.' % (inside, total))
    print()
    print('| samples | symbol (library) |')
    print('|---|---|')
    for k, v in sorted(count.items(), key=lambda x: -x[1])[:12]:
        print('| %d | %s |' % (v, k))


def main():
    args = sys.argv[1:]
    md = '--md' in args
    slow_us = 2000.0
    if '--slow' in args:
        slow_us = float(args[args.index('--slow') + 1])
        del args[args.index('--slow'):args.index('--slow') + 2]
    if '--stalls' in args:
        cpu_us = 1500.0
        if '--cpu' in args:
            cpu_us = float(args[args.index('--cpu') + 1])
            del args[args.index('--cpu'):args.index('--cpu') + 2]
        between = ''
        if '--between' in args:
            between = args[args.index('--between') + 1]
            del args[args.index('--between'):args.index('--between') + 2]
        rest = [a for a in args if a != '--stalls']
        if len(rest) not in (2, 3) or between and len(between) != 2:
            sys.exit(__doc__)
        stalls_main(rest, cpu_us, between)
        return
    if '--parts' in args:
        parts_main([a for a in args if a != '--parts'])
        return
    if '--attr' in args:
        ruler = 'socket'
        if '--ruler' in args:
            ruler = args[args.index('--ruler') + 1]
            del args[args.index('--ruler'):args.index('--ruler') + 2]
            if ruler not in ('socket', 'reader'):
                sys.exit('lat_trace: --ruler socket or reader, not %r' % ruler)
        attr_main([a for a in args if a != '--attr'], slow_us, ruler)
        return
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
