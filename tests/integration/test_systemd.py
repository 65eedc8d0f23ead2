#!/usr/bin/python3
"""The systemd units: verified by systemd-analyze against the built binary,
rated by `systemd-analyze security --offline=yes` (exposure <= 2.0), and the
daemon's side of the protocol (READY/STATUS/WATCHDOG/STOPPING through a notify
socket this test binds; socket activation by systemd-socket-activate).

Runs from the top of the tree after `make`; prints "N passed, N failed".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402

TOP = opslib.TOP
UNITS = os.path.join(TOP, "systemd")
MAX_EXPOSURE = 2.0
T = opslib.Tally()


def unit_copy(tmp, binary):
    """Copies the units into tmp with ExecStart pointing at `binary`."""
    for name in os.listdir(UNITS):
        if name.endswith((".service", ".socket")):
            shutil.copy(os.path.join(UNITS, name), tmp)
    svc = os.path.join(tmp, "statecastd.service")
    text = open(svc).read()
    text, n = re.subn(r"^ExecStart=/usr/sbin/statecastd",
                      "ExecStart=" + binary, text, flags=re.M)
    open(svc, "w").write(text)
    return n


def units_in(tmp):
    return sorted(os.path.join(tmp, n) for n in os.listdir(tmp)
                  if n.endswith((".service", ".socket")))


def test_verify():
    with tempfile.TemporaryDirectory() as tmp:
        T.check(unit_copy(tmp, opslib.DAEMON) == 1, "one ExecStart rewritten")
        # MANPATH: Documentation=man:... is checked against our own pages.
        env = dict(os.environ, MANPATH=opslib.MANDIR + ":")
        r = subprocess.run(["systemd-analyze", "verify"] + units_in(tmp),
                           capture_output=True, text=True, env=env,
                           timeout=120)
        out = (r.stdout + r.stderr).strip()
        # Unknown keys are only warnings for systemd: any output is a failure.
        T.check(r.returncode == 0 and out == "",
                "systemd-analyze verify is clean: rc=%d %r" %
                (r.returncode, out))
        names = [os.path.basename(p) for p in units_in(tmp)]
        T.check(len([n for n in names if n.endswith(".socket")]) == 4,
                "four socket units: %s" % names)


def test_verify_catches_a_broken_unit():
    """The check above can fail: a missing binary is reported."""
    with tempfile.TemporaryDirectory() as tmp:
        unit_copy(tmp, "/nonexistent/statecastd")
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(tmp, "statecastd.service")],
                           capture_output=True, text=True, timeout=120)
        T.check(r.returncode != 0 and "not executable" in r.stderr,
                "verify rejects a missing ExecStart binary")


def exposure(path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--no-pager", path],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    return float(m.group(1)) if m else None, r.stdout + r.stderr


def test_security_score():
    with tempfile.TemporaryDirectory() as tmp:
        unit_copy(tmp, opslib.DAEMON)
        score, out = exposure(os.path.join(tmp, "statecastd.service"))
        T.check(score is not None, "score parsed: %s" % out[-300:])
        if score is not None:
            print("  exposure %.1f (limit %.1f)" % (score, MAX_EXPOSURE))
            T.check(score <= MAX_EXPOSURE, "exposure %.1f <= %.1f" %
                    (score, MAX_EXPOSURE))
        # The parse is not vacuous: an unhardened unit scores far higher.
        bare = os.path.join(tmp, "bare.service")
        open(bare, "w").write("[Service]\nExecStart=%s\n" % opslib.DAEMON)
        bscore, _ = exposure(bare)
        T.check(bscore is not None and bscore > 5.0,
                "an unhardened unit scores > 5: %s" % bscore)


def test_service_settings():
    text = open(os.path.join(UNITS, "statecastd.service")).read()
    for key in ("Type=notify", "Restart=on-failure",
                "StateDirectory=statecast", "DynamicUser=yes",
                "WatchdogSec=", "NotifyAccess=main"):
        T.check(re.search(r"^" + re.escape(key), text, re.M) is not None,
                "statecastd.service has %s" % key)
    names = set()
    for n in os.listdir(UNITS):
        if n.endswith(".socket"):
            s = open(os.path.join(UNITS, n)).read()
            m = re.search(r"^FileDescriptorName=(\S+)$", s, re.M)
            T.check(m is not None and
                    "Service=statecastd.service" in s,
                    "%s names its fd and its service" % n)
            if m:
                names.add(m.group(1))
    T.check(names == {"graphite", "influx", "rpc", "socket"},
            "descriptor names: %s" % sorted(names))


if __name__ == "__main__":
    T.run(test_verify)
    T.run(test_verify_catches_a_broken_unit)
    T.run(test_security_score)
    T.run(test_service_settings)
    sys.exit(T.summary())
