#!/usr/bin/python3
"""Renders statecastd's HTTP pages under load and photographs the status
page with headless Chromium (Debian `chromium`; kept out of `make test`
because a browser start takes seconds).

    /usr/bin/python3 bench/status_page.py [--series N] [--samples M]

Starts a real statecastd on ephemeral loopback ports, feeds N series of M
samples over Graphite (a few with level shifts, so the anomaly table is not
empty), then measures, in the same run, the median wall time of:
  - GET /metrics  (loop-thread render of counters + exported forecasts),
  - GET /         (status page: top series picked, sparklines rendered),
  - the peers: GET /nope (same HTTP path, a 404 with no rendering) and an
    RPC `ping` round trip,
and writes bench/results/status_page.md (machine, command, figures,
ratios) and bench/results/status_page.png (the screenshot).
"""
import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from statecast_test import Daemon  # noqa: E402

RESULTS = os.path.join(HERE, "results")


def feed(d, nseries, nsamples):
    t0 = int(time.time()) - nsamples * 60
    chunk = []
    for i in range(nsamples):
        for k in range(nseries):
            v = 100 + 10 * k % 37 + 20 * math.sin(
                (i + 3 * k) * 2 * math.pi / 48) + (i * 7919 + k) % 5
            if k % 7 == 3 and i == nsamples - 1:
                v += 200  # a last-sample spike: an anomaly now
            name = "host%02d.%s" % (k // 4, ("cpu", "mem", "net.rx",
                                             "req.rate")[k % 4])
            chunk.append("%s %.4f %d\n" % (name, v, t0 + 60 * i))
        if len(chunk) > 20000:
            d.send_lines("graphite", "".join(chunk).encode())
            chunk = []
    if chunk:
        d.send_lines("graphite", "".join(chunk).encode())


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def screenshot(url, path, tmp):
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("status_page: needs Debian's chromium "
                 "(apt-get install chromium)")
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + os.path.join(tmp, "chr"),
            "--hide-scrollbars", "--window-size=1200,1100",
            "--screenshot=" + path, url]
    t = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120, check=True)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=400)
    ap.add_argument("--samples", type=int, default=240)
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    cmd = "/usr/bin/python3 bench/status_page.py --series %d --samples %d " \
        "--reps %d" % (a.series, a.samples, a.reps)
    with Daemon("listen.http=127.0.0.1:0", "metrics.forecasts=host0*",
                "metrics.max_forecast_series=100",
                "http.status_series=16") as d:
        feed(d, a.series, a.samples)
        base = "http://127.0.0.1:%d" % d.ports["http"][1]
        rpc = d.rpc()
        metrics_len = len(get(base + "/metrics"))
        page_len = len(get(base + "/"))
        t_metrics = timed(lambda: get(base + "/metrics"), a.reps)
        t_page = timed(lambda: get(base + "/"), a.reps)
        t_ping = timed(lambda: rpc.call("ping"), a.reps)

        def not_found():
            try:
                get(base + "/nope")
            except urllib.error.HTTPError:
                pass
        t_404 = timed(not_found, a.reps)
        rpc.close()
        tmp = tempfile.mkdtemp(prefix="statecast-shot-")
        png = os.path.join(RESULTS, "status_page.png")
        try:
            t_shot = screenshot(base + "/", png, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rc = d.stop()
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    md = os.path.join(RESULTS, "status_page.md")
    with open(md, "w") as f:
        f.write("# HTTP pages of statecastd: render and serve time\n\n")
        f.write("Written by `%s` on %s UTC.\n\n" % (
            cmd, time.strftime("%Y-%m-%d %H:%M", time.gmtime())))
        f.write("Machine: %s, %d cores, Linux %s (shared, noisy: read the "
                "ratios).\n\n" % (cpu, os.cpu_count(), platform.release()))
        f.write("%d series x %d samples fed over Graphite; /metrics exports "
                "the forecasts of the series matching `host0*` (at most "
                "100); / shows 16 series. Median of %d sequential requests "
                "over loopback, each a new HTTP connection (urllib). Peers "
                "measured in the same run: GET /nope (the HTTP path without "
                "rendering: 404) and an RPC `ping` round trip on one open "
                "connection.\n\n"
                % (a.series, a.samples, a.reps))
        f.write("| request | bytes | median ms | x GET /nope |\n"
                "|---|---|---|---|\n")
        f.write("| RPC ping (peer) | - | %.3f | %.2f |\n" % (
            t_ping * 1e3, t_ping / t_404))
        f.write("| GET /nope (peer) | - | %.3f | 1 |\n" % (t_404 * 1e3))
        f.write("| GET /metrics | %d | %.3f | %.1f |\n" % (
            metrics_len, t_metrics * 1e3, t_metrics / t_404))
        f.write("| GET / | %d | %.3f | %.1f |\n\n" % (
            page_len, t_page * 1e3, t_page / t_404))
        f.write("Screenshot of / in headless Chromium (%.1f s including the "
                "browser start): `status_page.png`.\n\n" % t_shot)
        f.write("statecastd exit status after SIGTERM: %s.\n" % rc)
    print(open(md).read())


if __name__ == "__main__":
    main()
