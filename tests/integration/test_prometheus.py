"""The real Prometheus (Debian package) scrapes statecastd's /metrics.

Starts statecastd on ephemeral loopback ports with listen.http on, feeds it
series over Graphite (one with quotes and a backslash in its name), checks
the exposition with `promtool check metrics`, runs Prometheus with a 1 s
scrape interval and a temporary storage directory, waits for two scrapes,
and reads the forecasts back through Prometheus' HTTP API: same values as
/metrics, same (unescaped) series names. Then every PromQL query of
docs/GRAFANA.md runs against that Prometheus. Also checks the status page.
Everything runs on 127.0.0.1 and is killed at the end.
"""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.dom.minidom

import grafana_queries
import opslib
from statecast_test import Checks, Daemon

NAMES = ["web.a", "web.b", 'web.q"uo\\te', "db.x"]
HTTP_ON = "listen.http=127.0.0.1:0"


def feed(d, t0, n, step=10, timeout=10):
    """n samples of every name in NAMES over Graphite, step s apart;
    timeout bounds each socket call, the last one waiting for the daemon
    to close after it has taken them all (send_lines)."""
    lines = []
    for i in range(n):
        for k, name in enumerate(NAMES):
            v = 50 + 10 * k + 5 * math.sin(i * 2 * math.pi / 24)
            lines.append("%s %.6f %d\n" % (name, v, t0 + step * i))
    d.send_lines("graphite", "".join(lines).encode(), timeout=timeout)


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


def get_rendered(url, timeout=60, tries=30):
    """get(), asking again while the daemon answers 503 "has not rendered
    this page yet": its loop renders a page within http's 1 s wait, which a
    daemon under valgrind on a loaded machine can miss."""
    for k in range(tries):
        try:
            return get(url, timeout=timeout)
        except urllib.error.HTTPError as e:
            if e.code != 503 or k == tries - 1:
                raise
            time.sleep(0.5)


def wait_until(fn, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def parse_exposition(text):
    """{(name, frozenset(labels)): value} of the sample lines."""
    out = {}
    lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\w+)(\{.*\})? (\S+)$", line)
        if not m:
            continue
        labels = {}
        for k, v in lab.findall(m.group(2) or ""):
            labels[k] = re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(
                x.group(1), x.group(1)), v)
        out[(m.group(1), frozenset(labels.items()))] = m.group(3)
    return out


def scrape(c):
    with Daemon(HTTP_ON, "metrics.forecasts=web.*",
                "metrics.max_forecast_series=2") as d:
        run(c, d)
        c.check("statecastd exits cleanly with HTTP on", d.stop() == 0)


def run(c, d):
    check = lambda cond, what: c.check(what, cond)  # noqa: E731
    check("http" in d.ports, "daemon logs its http port")
    http = "http://127.0.0.1:%d" % d.ports["http"][1]
    tmp = d.dir
    t0 = int(time.time()) - 3600
    feed(d, t0, 300)
    # One spike far outside db.x's band: the anomaly of the moment.
    d.send_lines("graphite", b"db.x 100000 %d\n" % (t0 + 3000))

    # /metrics: what statecastd says, checked by promtool.
    status, headers, body = get(http + "/metrics")
    text = body.decode()
    check(status == 200 and headers.get("Content-Type", "").startswith(
        "text/plain; version=0.0.4"), "/metrics answers in text format")
    pc = subprocess.run(["promtool", "check", "metrics"], input=body,
                        capture_output=True, timeout=60)
    check(pc.returncode == 0 and not pc.stdout.strip(),
          "promtool check metrics: " + (pc.stdout + pc.stderr).decode())
    samples = parse_exposition(text)
    fc_series = {dict(k[1])["series"] for k in samples
                 if k[0] == "statecast_forecast"}
    check(len(fc_series) == 2 and "db.x" not in fc_series,
          "forecasts of at most 2 series matching web.* exported: %r"
          % sorted(fc_series))
    check(samples.get(("statecast_forecast_series_omitted", frozenset()))
          == "1", "the third web.* series is counted as omitted")
    got = samples.get(("statecast_samples_ingested_total", frozenset()))
    check(got == str(300 * len(NAMES) + 1), "ingested counter: %s" % got)
    check(not re.search(r"^statecast_forecast\{.*\} \S+ \S+$", text, re.M),
          "forecast samples carry no timestamps")

    # The status page: well-formed, lists the series, no script.
    status, headers, body = get(http + "/")
    page = body.decode()
    check(status == 200 and "text/html" in headers.get("Content-Type", ""),
          "/ answers HTML")
    try:
        xml.dom.minidom.parseString(body)
        wf = True
    except Exception as e:  # noqa: BLE001
        print("  " + str(e))
        wf = False
    check(wf, "status page is well-formed")
    check(all(n.replace("&", "&amp;").replace('"', "&quot;") in page
              for n in NAMES) and "<script" not in page
          and page.count("<svg") == len(NAMES),
          "status page lists every series with a sparkline, no script")
    series_table = page[page.find("<h2>Series"):]
    first_row = re.search(r'<td class="name">([^<]*)</td>', series_table)
    check("Anomalies now (1)" in page and first_row and
          first_row.group(1) == "db.x",
          "the anomalous series is listed first and in the anomaly table")

    # WAL size: present exactly when SQLite's WAL file exists. The store
    # keeps committing (snapshots), so the file is sized right before and
    # right after a scrape and the gauge must lie between the two.
    wal = os.path.join(tmp, "db-wal")

    def wal_size():
        return os.path.getsize(wal) if os.path.exists(wal) else None
    before = wal_size()
    _, _, body2 = get(http + "/metrics")
    after = wal_size()
    got = parse_exposition(body2.decode()).get(
        ("statecast_wal_bytes", frozenset()))
    if before is None and after is None:
        wal_ok = got is None
    else:
        sizes = [x for x in (before, after) if x is not None]
        wal_ok = got is not None and (
            min(sizes) <= float(got) <= max(sizes) or
            (None in (before, after) and float(got) >= 0))
    check(wal_ok, "statecast_wal_bytes follows the WAL file (%s; %s..%s)"
          % (got, before, after))

    # The real Prometheus scrapes it.
    pport = opslib.free_port()
    cfgpath = os.path.join(tmp, "prometheus.yml")
    with open(cfgpath, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: statecast\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                % d.ports["http"][1])
    plog = open(os.path.join(tmp, "prometheus.log"), "wb")
    prom = subprocess.Popen(
        ["prometheus", "--config.file=" + cfgpath,
         "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
         "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
        stdout=plog, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        against_prometheus(check, prom, plog.name, pport, samples, fc_series)
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(30)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        plog.close()


def against_prometheus(check, prom, logpath, pport, samples, fc_series):
    api = "http://127.0.0.1:%d/api/v1/" % pport

    def query(q):
        url = api + "query?" + urllib.parse.urlencode({"query": q})
        try:
            return json.loads(get(url)[2])
        except (OSError, ValueError):
            if prom.poll() is not None:
                raise RuntimeError("prometheus exited:\n" + open(
                    logpath).read())
            return None

    def two_scrapes():
        r = query('count_over_time(up{job="statecast"}[1m])')
        if r and r["status"] == "success" and r["data"]["result"]:
            return float(r["data"]["result"][0]["value"][1]) >= 2
        return False
    wait_until(two_scrapes, 60, "two scrapes")
    check(True, "Prometheus scraped statecastd twice")
    r = query('up{job="statecast"}')
    check(r["data"]["result"][0]["value"][1] == "1", "target is up")

    # Forecasts read back through Prometheus equal /metrics (no new
    # samples since, so the forecast has not changed).
    ok = True
    for name in fc_series:
        for q in ("0.1", "0.5", "0.9"):
            sel = 'statecast_forecast{series=%s,horizon="3",quantile="%s"}' \
                % (json.dumps(name), q)
            r = query(sel)
            res = r["data"]["result"] if r else []
            want = samples.get(("statecast_forecast", frozenset(
                {"series": name, "horizon": "3", "quantile": q}.items())))
            if len(res) != 1 or want is None or \
                    float(res[0]["value"][1]) != float(want) or \
                    res[0]["metric"]["series"] != name:
                print("  %s: %r vs %r" % (sel, res, want))
                ok = False
    check(ok, "forecast quantiles read back through the API: %d series"
          % len(fc_series))
    r = query('statecast_anomaly_score')
    check(r and len(r["data"]["result"]) == 2, "anomaly scores scraped")

    # Every query of docs/GRAFANA.md runs.
    bad = []
    for where, q in grafana_queries.queries("web.a"):
        r = query(q)
        if not r or r.get("status") != "success":
            bad.append((where, q, r))
    for b in bad:
        print("  %s: %s -> %r" % b)
    check(not bad, "all %d GRAFANA.md queries run"
          % len(grafana_queries.queries("web.a")))
    dash = grafana_queries.dashboard()
    check(dash["panels"] and all(p["targets"] for p in dash["panels"]),
          "dashboard JSON has panels with targets")



def valgrind_http(c):
    """The HTTP threads, snapshots and async handle are all released:
    statecastd under valgrind, pages served, SIGTERM, nothing left."""
    if "san" in os.environ.get("STATECAST_BUILD", ""):
        return  # valgrind and ASan do not run together
    vg = shutil.which("valgrind")
    if not c.check("valgrind installed (deploy/deps.txt)", vg is not None):
        return
    logdir = tempfile.mkdtemp()
    vlog = os.path.join(logdir, "vg.log")
    try:
        d = Daemon(HTTP_ON, "metrics.forecasts=*",
                   valgrind=[vg, "--leak-check=full",
                             "--show-leak-kinds=definite,indirect,possible",
                             "--errors-for-leak-kinds=definite,indirect,"
                             "possible", "--error-exitcode=3",
                             "--log-file=" + vlog], wait=120)
        # Under valgrind the daemon takes the 160 samples (parse, step,
        # store) some 50 times slower than natively: 2.2 s at load 7,
        # past feed's usual 10 s at load 28. The bound is valgrind's, like
        # the start's and the stop's: a daemon that never takes them still
        # fails here.
        feed(d, int(time.time()) - 3600, 40, timeout=120)
        base = "http://127.0.0.1:%d" % d.ports["http"][1]
        sizes = [len(get_rendered(base + p)[2])
                 for p in ("/metrics", "/", "/metrics")]
        rc = d.stop(timeout=120)
        text = open(vlog).read()
        c.check("under valgrind with HTTP on: pages served, exit 0, no "
                "error, nothing leaked", all(sizes) and rc == 0 and
                "ERROR SUMMARY: 0 errors" in text and
                "All heap blocks were freed" in text, text[-1500:])
    finally:
        shutil.rmtree(logdir)


if __name__ == "__main__":
    checks = Checks()
    checks.run(scrape)
    checks.run(valgrind_http)
    checks.summary()
