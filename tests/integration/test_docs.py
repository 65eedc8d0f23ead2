"""The reference pages against the code they describe, read from the
source so that they stay right when a default or a method changes:

- docs/CONFIG.md lists exactly the settings and [series] keys of
  config/table.c, in its order, with its types and defaults (parsed from
  the C source here, independently of cfg_write_doc), and
  `statecastd --print-config` prints those defaults;
- every setting README.md and docs/*.md name exists, and the defaults the
  README states in prose (ports, socket, commit window, queue bound...)
  are the table's;
- docs/RPC.md has a section for exactly the methods daemon/rpc_methods.c
  dispatches (plus auth), the README's list of methods is the same, the
  error codes and push rejection codes are io/rpc.h's and
  daemon/tick.h's, and the fields RPC.md lists for `stats` and `info` are
  the fields a real daemon returns, no more, no fewer;
- every request/response example of docs/RPC.md, sent as written to a real
  daemon over TCP (with the samples that make it happen), gets a reply of
  the shape shown, with the same values where they do not depend on the
  model or the clock.
"""
import glob
import os
import re
import socket
import subprocess
import time

import msgpack

from statecast_test import DAEMON, ROOT, Checks, Daemon, wait_for


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


# ---- config ---------------------------------------------------------------

TYPES = {"INT": "integer", "SECS": "duration", "SIZE": "size",
         "STR": "string", "ENUM": "choice", "BOOL": "boolean",
         "ADDR": "address"}
SECTIONS = ("listen", "store", "model", "ingest", "limits", "rpc", "metrics",
            "http", "log")


def table_entries():
    """(settings, series keys) of config/table.c: [(name, type, default)],
    read from the C initializers."""
    src = read("config/table.c")
    row = re.compile(r'\{"([a-z_.]+)",\s*CFG_([A-Z]+),\s*"((?:[^"\\]|\\.)*)"')
    a = src.index("entries[] = {")
    b = src.index("series_entries[] = {")
    c = src.index("};", b)
    return row.findall(src[a:b]), row.findall(src[b:c])


def doc_rows(text, ncols):
    """Rows `| \\`name\\` | type | \\`default\\` or text | ...` of a table."""
    out = []
    for line in text.splitlines():
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(cells) == ncols and cells[0].startswith("`"):
            d = cells[2]
            if d.startswith("`") and d.endswith("`"):
                d = d[1:-1]
            out.append((cells[0].strip("`"), cells[1], d))
    return out


def secs(v):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h|d)?", v)
    k = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
    return float(m.group(1)) * k[m.group(2)]


def size(v):
    m = re.fullmatch(r"([0-9.]+)([KMG])?", v)
    return float(m.group(1)) * {None: 1, "K": 1 << 10, "M": 1 << 20,
                                "G": 1 << 30}[m.group(2)]


def same_value(kind, a, b):
    if kind == "SECS":
        return secs(a) == secs(b)
    if kind == "SIZE":
        return size(a) == size(b)
    if kind == "BOOL":
        t = ("true", "yes", "on", "1")
        return (a in t) == (b in t)
    return a == b


def config(c):
    entries, series = table_entries()
    c.check("config/table.c parsed", len(entries) > 30 and len(series) >= 5,
            (len(entries), len(series)))
    doc = read("docs/CONFIG.md")
    main, blocks = doc.split("## Per-pattern blocks")
    want = [(n, TYPES[t], d if d else '""') for n, t, d in entries]
    have = doc_rows(main, 6)
    c.check("docs/CONFIG.md lists exactly table.c's settings, in order",
            [h[0] for h in have] == [w[0] for w in want],
            set(h[0] for h in have) ^ set(w[0] for w in want))
    bad = [(h, w) for h, w in zip(have, want) if h != w]
    c.check("docs/CONFIG.md: every setting's type and default are table.c's",
            not bad and len(have) == len(want), bad)
    want_s = [(n, TYPES[t], d) for n, t, d in series]
    have_s = doc_rows(blocks, 5)
    c.check("docs/CONFIG.md lists exactly table.c's [series] keys with "
            "their defaults", have_s == want_s, (have_s, want_s))

    # --print-config: the defaults the daemon actually starts with.
    p = subprocess.run([DAEMON, "--print-config"], capture_output=True,
                       text=True, timeout=10)
    printed, sect = {}, ""
    for line in p.stdout.splitlines():
        m = re.match(r"\[(\w+)\]$", line)
        if m:
            sect = m.group(1) + "."
            continue
        m = re.match(r"(\w+) = (.*)$", line)
        if m:
            printed[sect + m.group(1)] = m.group(2)
    bad = [(n, d, printed.get(n)) for n, t, d in entries
           if n not in printed or not same_value(t, d, printed[n])]
    c.check("statecastd --print-config prints table.c's defaults",
            p.returncode == 0 and not bad and
            len(printed) == len(entries), bad or p.stderr)

    # Every setting the README and docs/ name exists.
    names = set(n for n, _, _ in entries)
    pat = re.compile(r"`((?:%s)\.[a-z_]+)(?:[ =][^`]*)?`" % "|".join(SECTIONS))
    unknown = []
    for path in ["README.md"] + sorted(glob.glob(os.path.join(ROOT, "docs",
                                                          "*.md"))):
        rel = os.path.relpath(os.path.join(ROOT, path), ROOT)
        for m in pat.finditer(read(rel)):
            # `listen.c`, `log.h`: file names, not settings.
            if m.group(1).rsplit(".", 1)[1] in ("c", "h", "md", "py", "sh"):
                continue
            if m.group(1) not in names:
                unknown.append((rel, m.group(1)))
    c.check("every setting README.md and docs/*.md name exists", not unknown,
            unknown)

    # Defaults the README states in prose.
    d = dict((n, v) for n, _, v in entries)
    readme = re.sub(r"\s+", " ", read("README.md"))
    port = lambda n: d[n].rsplit(":", 1)[1]
    claims = [
        (r"Graphite plaintext on TCP (\d+)", port("listen.graphite")),
        (r"InfluxDB line protocol on TCP (\d+)", port("listen.influx")),
        (r"msgpack-RPC on TCP (\d+)", port("listen.rpc")),
        (r"on the unix socket `([^`]+)`", d["listen.socket"]),
        (r"`listen.http` \(default ([0-9.:]+)\)", d["listen.http"]),
        (r"group-commit window \((\d+) ms by default\)",
         d["store.commit_ms"]),
        (r"`store.max_queue` \((\d+) MiB by default",
         "%d" % (size(d["store.max_queue"]) / (1 << 20))),
        (r"`metrics.forecasts` \(a glob, default (none)",
         "none" if d["metrics.forecasts"] == "" else d["metrics.forecasts"]),
        (r"`store.synchronous = (\w+)`\*\* \(default\)",
         d["store.synchronous"].upper()),
        (r"loopback ports, data under (\./var)",
         os.path.dirname(d["store.path"])),
    ]
    for rx, value in claims:
        m = re.search(rx, readme)
        c.check("README: " + rx.replace("\\", "")[:50] + " = " + value,
                m is not None and m.group(1) == value,
                m.group(1) if m else "phrase not found")
    learn = re.search(r"#define SSM_LEARN_SAMPLES (\d+)",
                      read("ssm/nominal.h")).group(1)
    c.check("README and RPC.md: the step is learnt from SSM_LEARN_SAMPLES "
            "samples", "learned from its first %s samples" % learn in readme
            and "first %s samples" % learn in read("docs/RPC.md"), learn)


# ---- what the README's commands need -----------------------------------------

# Tools the README's commands run -> the Debian package deploy/deps.txt must
# list for them to work on a fresh Debian 12 (make deps installs it).
TOOLS = [("nc -q0", "netcat-openbsd"), ("import socket, msgpack",
                                        "python3-msgpack"),
         ("make compile_commands.json", "bear"),
         ("make check-format", "clang-format"), ("make fuzz", "clang"),
         ("make fuzz", "libfuzzer-14-dev"), ("systemctl", "systemd")]


def readme_needs(c):
    readme = read("README.md")
    deps = set(x.strip() for x in read("deploy/deps.txt").splitlines()
               if x.strip() and not x.startswith("#"))
    for needle, pkg in TOOLS:
        c.check("README's `%s` has %s in deploy/deps.txt" % (needle, pkg),
                needle in readme and pkg in deps,
                "not in the README" if needle not in readme else deps)
    # Every results file and bench/ script the README cites exists.
    cited = set(re.findall(r"bench/(?:results/)?[\w.-]+\.(?:md|sh|py|png)",
                           readme))
    missing = sorted(x for x in cited if not os.path.exists(
        os.path.join(ROOT, x)))
    c.check("every bench/ file the README cites exists (%d)" % len(cited),
            cited and not missing, missing)


# ---- RPC: the lists ---------------------------------------------------------

def methods_in_source():
    src = read("daemon/rpc_methods.c")
    a = src.index("methods[] = {")
    return re.findall(r'\{"(\w+)", m_\w+\}', src[a:src.index("};", a)])


def rpc_lists(c):
    rpc = read("docs/RPC.md")
    src = methods_in_source()
    c.check("daemon/rpc_methods.c's method table parsed", len(src) >= 10,
            src)
    doc = re.findall(r"^### (\w+)$", rpc, re.M)
    c.check("docs/RPC.md has a section for exactly the dispatched methods "
            "and auth", sorted(doc) == sorted(src + ["auth"]),
            set(doc) ^ set(src + ["auth"]))
    readme = re.sub(r"\s+", " ", read("README.md"))
    m = re.search(r"docs/RPC.md documents every method \(([^)]*)\)", readme)
    listed = re.findall(r"`(\w+)`", m.group(1)) if m else []
    c.check("README's list of methods is the daemon's (auth included)",
            sorted(listed) == sorted(src + ["auth"]), listed)

    codes = dict((int(v), k.lower()) for k, v in re.findall(
        r"RPC_CODE_(\w+) = (\d+)", read("io/rpc.h")))
    names = re.search(r"names\[\] = \{([^}]*)\}", read("io/rpc_enc.c"))
    names = re.findall(r'"(\w+)"', names.group(1))
    sect = rpc[rpc.index("## Error codes"):rpc.index("## Methods")]
    doc = [(int(a), b) for a, b in re.findall(
        r"^\| (\d+) \| (\w+) \|", sect, re.M)]
    c.check("RPC.md's error codes are io/rpc.h's, named as rpc_code_name",
            doc and all(codes.get(n) is not None and names[n] == name
                        for n, name in doc) and len(doc) == len(codes),
            (doc, codes, names))

    rej = dict((int(v), k) for k, v in re.findall(
        r"SRV_REJ_(\w+) = (\d+)", read("daemon/tick.h")))
    sect = rpc[rpc.index("### push"):rpc.index("### forecast")]
    doc = [int(a) for a in re.findall(r"^\| (\d+) \| ", sect, re.M)]
    c.check("RPC.md's push rejection codes are daemon/tick.h's",
            sorted(doc) == sorted(rej), (doc, rej))


# ---- RPC: against a real daemon ---------------------------------------------

def doc_fields(rpc, method, start, end=None):
    """The backticked field names of a method's result paragraph."""
    s = rpc.index("### " + method)
    sect = rpc[s:rpc.index("###", s + 4)]
    sect = sect[sect.index(start):sect.index(end) if end else None]
    return set(re.findall(r"`([a-z_0-9]+)`", sect))


def literal(text):
    """An RPC.md example as a Python value: nil/true/false, and `...`
    (elided fields or elements) as the string "..."."""
    text = re.sub(r"\bnil\b", "None", text)
    text = re.sub(r"\btrue\b", "True", text)
    text = re.sub(r"\bfalse\b", "False", text)
    text = text.replace("...", "ELIDED")
    text = re.sub(r"ELIDED(?=,\s*\")", '"...": "..."', text)
    text = text.replace("ELIDED", '"..."')
    return eval(text, {"__builtins__": {}})  # noqa: S307 - our own doc


def examples(rpc):
    """[(direction, value)] of every `->` / `<-` example, in order; an
    example continues on the indented lines below it."""
    out, cur = [], None
    for line in rpc.splitlines():
        m = re.match(r"    (->|<-) (.*)$", line)
        if m:
            cur = [m.group(1), m.group(2)]
            out.append(cur)
        elif cur and line.startswith("     ") and line.strip():
            cur[1] += " " + line.strip()
        else:
            cur = None
    return [(d, literal(t)) for d, t in out]


# Values that depend on the model, the clock or the build: only their type
# is compared.
FREE = {"values", "mean", "score", "lower", "upper"}


def like(want, got, key="", path="", free=()):
    """Differences between an example value and a reply ([] if alike)."""
    if key in FREE or key in free:
        num = (int, float)
        ok = (isinstance(want, num) and isinstance(got, num)) or \
            type(want) is type(got)
        return [] if ok else ["%s: %r vs %r" % (path, want, got)]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return ["%s: not a map: %r" % (path, got)]
        out = []
        for k, v in want.items():
            if k == "...":
                continue
            if k not in got:
                out.append("%s.%s missing" % (path, k))
            else:
                out += like(v, got[k], k, path + "." + k, free)
        if "..." not in want and set(got) - set(want):
            out.append("%s: fields not shown %s" % (path,
                                                    set(got) - set(want)))
        return out
    if isinstance(want, list):
        if not isinstance(got, list):
            return ["%s: not an array: %r" % (path, got)]
        n = want.index("...") if "..." in want else len(want)
        if ("..." in want and len(got) < n) or \
                ("..." not in want and len(got) != n):
            return ["%s: %d elements vs %d" % (path, len(got), len(want))]
        out = []
        for i in range(n):
            out += like(want[i], got[i], key, "%s[%d]" % (path, i), free)
        return out
    if isinstance(want, float) or isinstance(got, float):
        ok = isinstance(got, (int, float)) and \
            abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(want))
        return [] if ok else ["%s: %r vs %r" % (path, want, got)]
    return [] if want == got else ["%s: %r vs %r" % (path, want, got)]


class Conn:
    def __init__(self, addr):
        self.s = socket.create_connection(addr, timeout=15)
        self.u = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.got = []

    def send(self, v):
        self.s.sendall(msgpack.packb(v, use_bin_type=True))

    def read(self, pred, timeout=15):
        """The first message received (now or before) for which pred is
        true."""
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.got):
                if pred(m):
                    return self.got.pop(i)
            if time.time() > deadline:
                return None
            self.s.settimeout(max(0.1, deadline - time.time()))
            data = self.s.recv(65536)
            if not data:
                return None
            self.u.feed(data)
            self.got.extend(self.u)


T0 = 1764330000


def rpc_examples(c):
    rpc = read("docs/RPC.md")
    ex = examples(rpc)
    c.check("RPC.md has its examples", len(ex) >= 14, len(ex))
    # The examples' world: token s3cret, cpu.load every 60 s up to T0 - 60
    # (0.40 at T0 - 120, 0.41 at T0 - 60), so that the push example brings
    # it to 1440 samples at T0. Old timestamps: retention off.
    with Daemon("rpc.token=s3cret", "store.retention_s=0",
                "store.forecast_retention_s=0") as d:
        with open(os.path.join(d.dir, "feed"), "w") as f:
            for k in range(1439, 0, -1):
                v = {2: 0.40, 1: 0.41}.get(k, 0.3 + 0.01 * (k % 7))
                f.write("cpu.load %.2f %d\n" % (v, T0 - 60 * k))
        with open(os.path.join(d.dir, "feed"), "rb") as f:
            d.send_lines("graphite", f.read())
        conn = Conn(d.ports["rpc"])
        # The feed is stored within the commit window: wait for it.
        conn.send([0, 99, "auth", {"token": "s3cret"}])
        conn.read(lambda m: m[:2] == [1, 99])
        ok = wait_for(lambda: (conn.send([0, 98, "history", {
            "series": "cpu.load", "limit": 2000}]) or
            len(conn.read(lambda m: m[:2] == [1, 98])[3]["points"]) == 1439),
            timeout=20)
        c.check("the examples' history is in place", ok)
        pending = []  # responses and notifications still to come
        for n, (direction, value) in enumerate(ex):
            if direction == "->":
                if value[2] == "subscribe":
                    pending.append(value)
                conn.send(value)
                continue
            if value[0] == 2:
                # A notification: make the sample that causes it.
                t = value[2]["t"]
                v = value[2].get("value", 0.41)
                conn.send([0, 100 + n, "push", {
                    "samples": [["cpu.load", t, v]]}])
                got = conn.read(lambda m: m[0] == 2 and m[1] == value[1]
                                and m[2].get("t") == t)
                conn.read(lambda m: m[:2] == [1, 100 + n])
            else:
                got = conn.read(lambda m: m[0] == 1 and m[1] == value[1])
            free = ("t",) if value[0] == 1 and \
                isinstance(value[3], dict) and "pong" in value[3] else ()
            diff = like(value, got, free=free) if got else ["no reply"]
            c.check("RPC.md example %d (%s %s) as the daemon answers" % (
                n, direction, value[1]), not diff, (diff, got))

        # stats and info: the fields RPC.md lists are the fields returned.
        conn.send([0, 200, "stats", {}])
        stats = conn.read(lambda m: m[:2] == [1, 200])[3]
        doc = doc_fields(rpc, "stats", "No params")
        c.check("RPC.md's stats fields are the daemon's (with a store)",
                set(stats) == doc, (set(stats) - doc, doc - set(stats)))
        conn.send([0, 201, "info", {"series": "cpu.load"}])
        info = conn.read(lambda m: m[:2] == [1, 201])[3]
        doc = doc_fields(rpc, "info", "Result:", "Errors:")
        c.check("RPC.md's info fields are the daemon's", set(info) == doc,
                (set(info) - doc, doc - set(info)))
        conn.s.close()


if __name__ == "__main__":
    c = Checks()
    c.run(config)
    c.run(readme_needs)
    c.run(rpc_lists)
    c.run(rpc_examples)
    c.summary()
