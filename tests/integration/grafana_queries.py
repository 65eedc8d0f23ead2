"""The PromQL queries of docs/GRAFANA.md (dashboard JSON and ```promql
blocks), with the dashboard variables filled in. Shared by the tests."""
import json
import os
import re

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "GRAFANA.md")


def _split_promql(body):
    """One expression per balanced-parenthesis run of lines; # comments
    at the end of a line are dropped."""
    out, cur, depth = [], "", 0
    for line in body.splitlines():
        line = re.sub(r"\s+#.*$", "", line)
        if not line.strip():
            continue
        cur += line + "\n"
        depth += line.count("(") - line.count(")")
        if depth == 0:
            out.append(cur.strip())
            cur = ""
    if cur.strip():
        out.append(cur.strip())
    return out


def dashboard():
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    return json.loads(blocks[0])


def queries(series, horizon="5", offset="5m"):
    """[(where, expr)] for every query on the page."""
    text = open(DOC, encoding="utf-8").read()
    out = []
    for p in dashboard()["panels"]:
        for t in p["targets"]:
            out.append(("panel %r" % p["title"], t["expr"]))
    for body in re.findall(r"```promql\n(.*?)```", text, re.S):
        for e in _split_promql(body):
            out.append(("promql block", e))

    def fill(e):
        e = e.replace("$series", series).replace("$horizon", horizon)
        e = e.replace("$offset", offset)
        return e.replace('"web.requests"', '"%s"' % series)

    return [(w, fill(e)) for w, e in out]
