"""The proof that serving and offline stepping agree: a forecast served by
statecastd for a CSV streamed into it equals, bit for bit, the forecast
`statecast eval` computes for the same series at the same origin (EVAL.md's
rolling origins, --forecasts dumps them), and the one `statecast replay`
computes by stepping the same model one sample at a time through
ssm_model_step_batch (same model, same learned or configured step, same
origin). The daemon steps the series inside batches of other series
(B > 1, several rounds per tick); eval and replay step it alone (B = 1)."""
import json
import math
import os
import struct
import time

from statecast_test import MODEL, Checks, Daemon, run_cli

T0 = int(time.time()) - 30 * 86400


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("t,value\n")
        for t, v in rows:
            f.write("%r,%r\n" % (t, v))


def f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def same_bits(a, b):
    """Forecast maps equal, values compared as float32 bit patterns."""
    if a["t"] != b["t"] or a["step"] != b["step"]:
        return False
    if a["quantiles"] != b["quantiles"]:
        return False
    va = [f32(x) for row in a["values"] for x in row] + [
        f32(x) for x in a["mean"]]
    vb = [f32(x) for row in b["values"] for x in row] + [
        f32(x) for x in b["mean"]]
    return va == vb and len(va) > 0


def replay(csv, *extra):
    p = run_cli(["replay", csv, "--model", MODEL, "--json"] + list(extra))
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return json.loads(p.stdout)


def rows_for(seed, n):
    rows = []
    t = T0
    for i in range(n):
        v = 50 + 10 * math.sin(2 * math.pi * i / 24) + ((i * seed) % 7)
        rows.append((float(t), round(v, 3)))
        # Mostly hourly, with a gap of 3 steps now and then.
        t += 3600 * (3 if i % 97 == 50 else 1)
    return rows


def streamed(c):
    with Daemon() as d:
        rows = rows_for(3, 600)
        csv = os.path.join(d.dir, "s.csv")
        write_csv(csv, rows)
        # Same data as Graphite lines, interleaved with 20 other series so
        # that each tick steps many series and each series several times.
        lines = []
        for i, (t, v) in enumerate(rows):
            lines.append("bit.graphite %r %d\n" % (v, t))
            lines += ["noise.%d %d %d\n" % (k, (i + k) % 9, t)
                      for k in range(20)]
        d.send_lines("graphite", "".join(lines).encode())
        p = d.cli("send", csv, "bit.rpc")
        c.check("CSV sent", p.returncode == 0, p.stderr)
        r = d.rpc()
        ref = replay(csv)
        for name in ("bit.graphite", "bit.rpc"):
            fc = r.call("forecast", {"series": name})
            c.check("%s: daemon forecast == replay, bit for bit" % name,
                    same_bits(fc, ref),
                    (fc["t"], ref["t"], fc["values"][1][:3],
                     ref["values"][1][:3]))
        st = r.call("stats")
        c.check("the daemon really batched (batch_max > 1, irregular > 0)",
                st["batch_max"] > 1 and st["irregular"] > 0, st)
        # The replay is sensitive: a different history gives other bits.
        other = os.path.join(d.dir, "o.csv")
        write_csv(other, rows[:-1] + [(rows[-1][0], rows[-1][1] + 1)])
        c.check("a changed last value changes the forecast",
                not same_bits(replay(other), ref))
        r.close()


def configured(c):
    with Daemon() as d0:
        cfgpath = os.path.join(d0.dir, "statecast.conf")
        with open(cfgpath, "w") as f:
            f.write('[series "cfg.*"]\nperiod = 24\nstep = 1h\n'
                    'horizon = 6\n')
        with Daemon(config=cfgpath) as d:
            rows = rows_for(5, 300)
            csv = os.path.join(d.dir, "c.csv")
            write_csv(csv, rows)
            d.cli("send", csv, "cfg.a")
            r = d.rpc()
            info = r.call("info", {"series": "cfg.a"})
            c.check("[series] block: period, step, horizon applied",
                    info["period"] == 24 and info["step"] == 3600.0 and
                    info["horizon"] == 6, info)
            fc = r.call("forecast", {"series": "cfg.a"})
            c.check("[series] horizon: 6 horizons served",
                    len(fc["mean"]) == 6 and
                    all(len(v) == 6 for v in fc["values"]), fc["mean"])
            ref = replay(csv, "--step", "3600", "--period", "24",
                         "--horizon", "6")
            c.check("configured step and period: daemon == replay",
                    same_bits(fc, ref))
            r.close()


def against_eval(c):
    """Two series in EVAL.md's data layout; the daemon gets the samples up
    to each of three of eval's origins, and its forecast then must equal
    eval's at that origin: mean, 0.1 and 0.9 quantiles, every horizon."""
    series = {"ev.hourly": (24, 12, 3600.0, 3), "ev.minutely": (1, 8, 60.0,
                                                                 4)}
    with Daemon() as d0:
        data = os.path.join(d0.dir, "data")
        os.mkdir(data)
        conf = os.path.join(d0.dir, "statecast.conf")
        rows = {}
        with open(os.path.join(data, "manifest.tsv"), "w") as man, \
                open(conf, "w") as cf:
            man.write("name\tperiod\thorizon\tstep_s\tn\tsource\n")
            for name, (period, horizon, step, seed) in series.items():
                rs = [(float(T0 + step * i), v) for i, (_, v) in
                      enumerate(rows_for(seed, 160))]
                rows[name] = rs
                write_csv(os.path.join(data, name + ".csv"), rs)
                man.write("%s\t%d\t%d\t%r\t%d\ttest\n" %
                          (name, period, horizon, step, len(rs)))
                cf.write('[series "%s"]\nperiod = %d\nstep = %r\n' %
                         (name, period, step))
        dump = os.path.join(d0.dir, "forecasts.tsv")
        p = run_cli(["eval", "--data", data, "--model", MODEL,
                     "--forecasts", dump, "--no-timing"])
        c.check("statecast eval --model --forecasts ran", p.returncode == 0,
                p.stdout + p.stderr)
        ev = {}
        with open(dump) as f:
            next(f)
            for line in f:
                name, origin, t, h, point, lo, hi = line.split("\t")
                ev.setdefault((name, int(origin)), []).append(
                    (float(point), float(lo), float(hi)))
        with Daemon(config=conf) as d:
            r = d.rpc()
            for name in series:
                origins = sorted(o for (n, o) in ev if n == name)
                pick = [origins[0], origins[len(origins) // 2], origins[-1]]
                sent, same = 0, []
                for o in pick:
                    r.call("push", {"samples": [
                        [name, t, v] for t, v in rows[name][sent:o]]})
                    sent = o
                    fc = r.call("forecast", {"series": name})
                    lv = fc["quantiles"]
                    klo, khi = lv.index(0.1), lv.index(0.9)
                    got = [(fc["mean"][h], fc["values"][klo][h],
                            fc["values"][khi][h])
                           for h in range(len(ev[(name, o)]))]
                    same.append(fc["t"] == rows[name][o - 1][0] and
                                [tuple(map(f32, x)) for x in got] ==
                                [tuple(map(f32, x)) for x in ev[(name, o)]])
                c.check("%s: daemon == statecast eval at origins %s, bit "
                        "for bit" % (name, pick), all(same), same)
            r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(streamed)
    c.run(configured)
    c.run(against_eval)
    c.summary()
