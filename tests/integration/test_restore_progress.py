"""Restore progress at start (io/progress.h through daemon/persist.c):
statecastd restarted on a store of 40 series logs the restore's closing
progress line and sends it to systemd as STATUS= (a fake NOTIFY_SOCKET
here), and the commit latency histogram appears on /metrics once the store
has committed."""
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.request

from statecast_test import Checks
from storelib import Daemon


def restore(c):
    tmp = tempfile.mkdtemp(prefix="statecast-restore-")
    notify = os.path.join(tmp, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify)
    ns.settimeout(0.5)
    d = Daemon(tmp, "r")
    try:
        cl = d.start()
        t0 = int(time.time()) - 3600
        cl.call("push", [["s.%d" % k, t0 + 10 * i, float(i % 7)]
                         for k in range(40) for i in range(30)])
        cl.close()
        c.check("first run stops cleanly", d.term() == 0)
        os.environ["NOTIFY_SOCKET"] = notify
        try:
            cl = d.start(extra=("listen.http=127.0.0.1:0",))
        finally:
            del os.environ["NOTIFY_SOCKET"]
        status = []
        try:
            while True:
                status.append(ns.recv(4096).decode())
        except socket.timeout:
            pass
        log = open(os.path.join(tmp, "r.log")).read()
        c.check("restore: closing progress line in the log",
                re.search(r"restore \(series\): done 40 in ", log),
                log[-800:])
        c.check("restore: the same line as systemd STATUS=",
                any("STATUS=restore (series): done 40" in m
                    for m in status), status)
        port = re.findall(r"listening http on 127\.0\.0\.1:(\d+)", log)[-1]
        cl.call("push", [["s.0", t0 + 400, 1.0]])  # acked after COMMIT
        text = urllib.request.urlopen(
            "http://127.0.0.1:%s/metrics" % port, timeout=30).read().decode()
        m = re.search(r"^statecast_commit_latency_seconds_count (\d+)$",
                      text, re.M)
        c.check("commit latency histogram counts the commits",
                m and int(m.group(1)) >= 1, text[-600:])
        cl.close()
        c.check("second run stops cleanly", d.term() == 0)
    finally:
        d.stop()
        ns.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    checks = Checks()
    checks.run(restore)
    checks.summary()
