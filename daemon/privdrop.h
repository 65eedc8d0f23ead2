/*
 * daemon/privdrop.h: running with no more privilege than needed.
 *
 * - srv_priv_drop(): a daemon started as root binds its sockets first (ports
 *   below 1024, a unix socket in /run), then calls this to become `user`
 *   for good: supplementary groups, gid, then uid, then
 *   PR_SET_NO_NEW_PRIVS. It then proves the drop is permanent (setuid(0)
 *   and setgid(0) must fail, real/effective/saved ids must all be the
 *   user's, no capability may remain) and returns an error otherwise: the
 *   caller must refuse to continue. Not root: nothing to do, returns 0.
 *   Under systemd (DynamicUser=yes) the daemon never starts as root, so
 *   this is for the `statecastd` started by hand or by another supervisor.
 *
 * - srv_priv_ids() and srv_priv_give(): files the daemon made as root
 *   before the drop (the store's database, WAL and shared-memory index,
 *   which are opened before binding so that the series are restored before
 *   anyone connects) are given to `user` just before it, so that the daemon
 *   after the drop, its next start as that user, and tools run as that user
 *   can still write them.
 *
 * - srv_unix_protect(): the RPC unix socket is mode 0660, optionally owned
 *   by a group whose members may use it.
 *
 * - srv_peer_allowed(): every accepted unix connection's peer is checked
 *   with SO_PEERCRED (and SO_PEERGROUPS for supplementary groups): root,
 *   the daemon's own user, and members of the socket's group may talk to
 *   it. The file mode already enforces this for a socket in the
 *   filesystem; the check also covers sockets passed by the service manager
 *   and paths whose directory permissions were loosened by mistake.
 *
 * Errors: 0 or a negative errno; err gets a sentence naming what failed.
 */
#ifndef STATECAST_DAEMON_PRIVDROP_H
#define STATECAST_DAEMON_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* Drops from root to `user` (a name or a numeric uid) permanently. */
int srv_priv_drop(const char *user, char *err, size_t errlen);

/* The uid and gid srv_priv_drop() would take for `user`; 0 or -ENOENT. */
int srv_priv_ids(const char *user, uid_t *uid, gid_t *gid);

/*
 * chown path to uid:gid. Only a regular file with one link or a directory
 * is given, and a symlink is never followed (the check and the chown are on
 * the same open descriptor), so a path planted in a writable directory
 * cannot make root hand over another file. A path that does not exist: 0.
 */
int srv_priv_give(const char *path, uid_t uid, gid_t gid);

/*
 * chmod 0660 on the socket at `path`; if gid != (gid_t)-1, also chown its
 * group to gid (only root or a member of gid can do that).
 */
int srv_unix_protect(const char *path, gid_t gid);

/* What SO_PEERCRED reported, for the log line of a refused peer. */
typedef struct srv_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
} srv_peer;

/*
 * 1: the peer of the connected unix socket fd may use the daemon; 0: it
 * may not (close the connection and log *peer); < 0: the credentials could
 * not be read (treat as refused). sock_gid is the socket's group, or
 * (gid_t)-1 when no group is granted access.
 */
int srv_peer_allowed(int fd, gid_t sock_gid, srv_peer *peer);

#endif
