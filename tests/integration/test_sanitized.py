"""The integration tests again, against the ASan+UBSan build (build/san,
made by `make test`): real traffic through a daemon that aborts on the
first memory error, undefined behaviour or leak at exit."""
import os
import re
import subprocess
import sys

from statecast_test import ROOT, Checks

TESTS = ["test_ingest.py", "test_rpc.py", "test_subscribe.py",
         "test_cli.py", "test_bitexact.py", "test_lifecycle.py",
         "test_limits.py", "test_reads.py"]


def sanitized(c):
    san = os.path.join(ROOT, "build", "san")
    if not os.path.exists(os.path.join(san, "statecastd")):
        c.check("build/san/statecastd exists (make test builds it)", False)
        return
    env = dict(os.environ, STATECAST_BUILD="build/san",
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1")
    here = os.path.dirname(os.path.abspath(__file__))
    for t in TESTS:
        p = subprocess.run(["/usr/bin/python3", os.path.join(here, t)],
                           env=env, capture_output=True, text=True,
                           timeout=600)
        last = (p.stdout.strip().splitlines() or [""])[-1]
        m = re.match(r"(\d+) passed, (\d+) failed$", last)
        ok = p.returncode == 0 and m and int(m.group(2)) == 0
        c.check("sanitized %s: %s" % (t, last), ok,
                (p.stdout + p.stderr)[-4000:])


if __name__ == "__main__":
    c = Checks()
    c.run(sanitized)
    c.summary()
