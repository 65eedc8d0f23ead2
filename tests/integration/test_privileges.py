#!/usr/bin/python3
"""statecastd started as root: it drops to the configured `user` after
binding, for good (all uids, no capability, no_new_privs), refuses users it
cannot or must not become, and its unix socket is 0660 with every peer
checked by SO_PEERCRED. Needs root (CI and the dev container run tests as
root). Prints "N passed, N failed".
"""
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
import statecast_test as st  # noqa: E402

T = opslib.Tally()
NOBODY = 65534

# Connects to a unix socket as uid/gid nobody, sends an RPC ping, prints
# "connected" and what came back ("reply" or "closed"), or the errno name.
CLIENT = r"""
import errno, socket, sys, msgpack
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(errno.errorcode[e.errno]); sys.exit(0)
try:  # the daemon may close before, during or after the request
    s.sendall(msgpack.packb([0, 1, "ping", {}]))
    print("connected", "reply" if s.recv(4096) else "closed")
except OSError:
    print("connected closed")
"""


def proc_status(pid):
    out = {}
    for line in open("/proc/%d/status" % pid):
        k, _, v = line.partition(":")
        out[k] = v.split()
    return out


def test_drop_to_user():
    if not T.check(os.geteuid() == 0, "needs root"):
        return
    d = st.Daemon("user=nobody")
    try:
        s = proc_status(d.proc.pid)
        T.check(s["Uid"] == [str(NOBODY)] * 4, "uids %s" % s["Uid"])
        T.check(s["Gid"][0] != "0" and "0" not in s["Gid"],
                "gids %s" % s["Gid"])
        T.check(s["Groups"] == [] or "0" not in s["Groups"],
                "groups %s" % s["Groups"])
        T.check(int(s["CapEff"][0], 16) == 0 and
                int(s["CapPrm"][0], 16) == 0, "no capabilities left")
        T.check(s["NoNewPrivs"] == ["1"], "no_new_privs set")
        # Still a working daemon: a push is acknowledged after its COMMIT.
        r = d.rpc()
        res = r.call("push", {"samples": [["priv.a", 1700000000, 1.5]]})
        T.check(res.get("accepted") == 1, "push acknowledged: %s" % res)
        r.close()
        # The store was opened as root before the drop: its files are
        # given to the user, who must be able to write them next time.
        owners = {suf: os.stat(os.path.join(d.dir, "db" + suf)).st_uid
                  for suf in ("", "-wal", "-shm")
                  if os.path.exists(os.path.join(d.dir, "db" + suf))}
        T.check("" in owners and set(owners.values()) == {NOBODY},
                "store files owned by nobody: %s" % owners)
    finally:
        T.check(d.stop() == 0, "clean exit as nobody")


def test_store_dir_made_for_user():
    """A store directory the daemon creates as root goes to the user too;
    an existing directory and files outside the store are left alone, and
    a symlink planted as the -shm file is not followed."""
    if not T.check(os.geteuid() == 0, "needs root"):
        return
    victim = os.path.join(st.tempfile.mkdtemp(prefix="sc-victim-"), "f")
    open(victim, "w").close()
    base = st.tempfile.mkdtemp(prefix="sc-priv-")
    sub = os.path.join(base, "var")
    try:
        os.mkdir(sub)
        os.symlink(victim, os.path.join(sub, "db-shm"))
        d = st.Daemon("user=nobody", "store.path=" + os.path.join(sub, "db"))
        d.stop()
        started = "started"
    except RuntimeError:  # refusing to start is the expected outcome
        started = "refused"
    T.check(os.stat(victim).st_uid == 0,
            "a planted -shm symlink is not followed (%s)" % started)
    T.check(os.stat(base).st_uid == 0, "an existing directory stays root's")
    fresh = os.path.join(base, "new")
    d = st.Daemon("user=nobody", "store.path=" + os.path.join(fresh, "db"))
    try:
        T.check(os.stat(fresh).st_uid == NOBODY,
                "a directory made for the store is given to the user")
        T.check(os.stat(os.path.join(fresh, "db")).st_uid == NOBODY,
                "its database too")
    finally:
        d.stop()
    st.shutil.rmtree(base, ignore_errors=True)
    st.shutil.rmtree(os.path.dirname(victim), ignore_errors=True)


def refused(user, needle):
    try:
        d = st.Daemon("user=" + user)
    except RuntimeError as e:
        T.check(needle in str(e), "refused with '%s': %s" % (needle,
                                                             str(e)[-300:]))
        return
    d.stop()
    T.check(False, "daemon started with user=%s" % user)


def test_refusals():
    if not T.check(os.geteuid() == 0, "needs root"):
        return
    refused("root", "refusing to run as root")
    refused("0", "refusing to run as root")
    refused("no-such-user-sc", "no-such-user-sc")


def as_nobody(path):
    r = subprocess.run(["/usr/bin/python3", "-c", CLIENT, path],
                       capture_output=True, text=True, timeout=30,
                       user=NOBODY, group=NOBODY, extra_groups=[])
    return r.stdout.strip() or r.stderr.strip()[-200:]


def test_unix_socket_mode_and_peer():
    if not T.check(os.geteuid() == 0, "needs root"):
        return
    d = st.Daemon()
    try:
        mode = stat.S_IMODE(os.stat(d.sock).st_mode)
        T.check(mode == 0o660, "socket mode %o" % mode)
        # The test's temporary directory is 0700: open the way to the
        # socket so that only the socket's own permissions decide.
        os.chmod(d.dir, 0o755)
        T.check(as_nobody(d.sock) == "EACCES",
                "another user cannot connect to a 0660 root socket")
        os.chmod(d.sock, 0o666)  # loosened by mistake
        T.check(as_nobody(d.sock) == "connected closed",
                "SO_PEERCRED: the daemon closes a stranger's connection")
        T.check(st.wait_for(lambda: "refused peer" in d.log() and
                            "uid %d" % NOBODY in d.log(), timeout=10),
                "the refusal is logged with the peer's uid")
        r = d.rpc(unix=True)
        T.check(r.call("ping") is not None, "root still served")
        r.close()
    finally:
        d.stop()


if __name__ == "__main__":
    T.run(test_drop_to_user)
    T.run(test_store_dir_made_for_user)
    T.run(test_refusals)
    T.run(test_unix_socket_mode_and_peer)
    sys.exit(T.summary())
