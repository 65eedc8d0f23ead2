"""The proof that serving and offline stepping agree: a forecast served by
statecastd for a CSV streamed into it equals, bit for bit, the forecast
`statecast replay` computes by stepping the same model one sample at a time
through ssm_model_step_batch (same model, same learned or configured step,
same origin). The daemon steps the series inside batches of other series
(B > 1, several rounds per tick); the replay steps it alone (B = 1)."""
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
            f.write('[series "cfg.*"]\nperiod = 24\nstep = 1h\n')
        with Daemon(config=cfgpath) as d:
            rows = rows_for(5, 300)
            csv = os.path.join(d.dir, "c.csv")
            write_csv(csv, rows)
            d.cli("send", csv, "cfg.a")
            r = d.rpc()
            info = r.call("info", {"series": "cfg.a"})
            c.check("[series] block: period and step applied",
                    info["period"] == 24 and info["step"] == 3600.0, info)
            fc = r.call("forecast", {"series": "cfg.a"})
            ref = replay(csv, "--step", "3600", "--period", "24")
            c.check("configured step and period: daemon == replay",
                    same_bits(fc, ref))
            r.close()


if __name__ == "__main__":
    c = Checks()
    c.run(streamed)
    c.run(configured)
    c.summary()
