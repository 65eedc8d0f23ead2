/*
 * daemon/privdrop.c: see privdrop.h. Order matters in srv_priv_drop():
 * groups and gid must change while we are still root, and the checks run
 * after the fact, because a drop that silently kept the saved uid 0 (a bare
 * seteuid) could be undone by any code execution bug later.
 */
#include "daemon/privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int code, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-code));
	return code;
}

/* Looks `user` up by name, else as a number. */
static int lookup(const char *user, uid_t *uid, gid_t *gid, char *name,
		  size_t namecap)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	char *end;
	unsigned long n;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
		snprintf(name, namecap, "%s", pw.pw_name);
		return 0;
	}
	errno = 0;
	n = strtoul(user, &end, 10);
	if (*user && !*end && errno == 0 && n < (unsigned long)(uid_t)-1) {
		*uid = (uid_t)n;
		*gid = (gid_t)n;
		name[0] = 0; /* no passwd entry: no supplementary groups */
		if (getpwuid_r(*uid, &pw, buf, sizeof(buf), &res) == 0 && res) {
			*gid = pw.pw_gid;
			snprintf(name, namecap, "%s", pw.pw_name);
		}
		return 0;
	}
	return -ENOENT;
}

/* No effective, permitted or inheritable capability left. */
static int no_capabilities(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return 0;
	return 1;
}

int srv_priv_drop(const char *user, char *err, size_t errlen)
{
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;
	char name[256];

	err[0] = 0;
	if (getuid() != 0 && geteuid() != 0)
		return 0; /* not root: nothing to drop */
	if (!user || !*user)
		return fail(err, errlen, -EINVAL,
			    "started as root with no user to drop to");
	if (lookup(user, &uid, &gid, name, sizeof(name)) < 0) {
		snprintf(err, errlen, "user '%s' does not exist", user);
		return -ENOENT;
	}
	if (uid == 0) {
		snprintf(err, errlen,
			 "user '%s' is root: refusing to run as root", user);
		return -EPERM;
	}
	if ((name[0] ? initgroups(name, gid) : setgroups(1, &gid)) != 0)
		return fail(err, errlen, -errno, "setting groups");
	if (setresgid(gid, gid, gid) != 0)
		return fail(err, errlen, -errno, "setresgid");
	if (setresuid(uid, uid, uid) != 0)
		return fail(err, errlen, -errno, "setresuid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS");

	/* Prove it cannot be undone. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		snprintf(err, errlen,
			 "privileges could be regained after "
			 "dropping to '%s': refusing to run",
			 user);
		return -EPERM;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		snprintf(err, errlen, "ids after the drop are not all '%s'",
			 user);
		return -EPERM;
	}
	if (!no_capabilities()) {
		snprintf(err, errlen,
			 "capabilities remain after dropping to "
			 "'%s': refusing to run",
			 user);
		return -EPERM;
	}
	return 0;
}

int srv_priv_ids(const char *user, uid_t *uid, gid_t *gid)
{
	char name[256];

	return lookup(user, uid, gid, name, sizeof(name));
}

int srv_priv_give(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode) &&
		 !(S_ISREG(st.st_mode) && st.st_nlink == 1))
		rc = -EPERM;
	else if ((st.st_uid != uid || st.st_gid != gid) &&
		 fchown(fd, uid, gid) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int srv_unix_protect(const char *path, gid_t gid)
{
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)
		return -errno;
	if (chmod(path, 0660) != 0)
		return -errno;
	return 0;
}

int srv_peer_allowed(int fd, gid_t sock_gid, srv_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	memset(peer, 0, sizeof(*peer));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	if (sock_gid == (gid_t)-1)
		return 0;
	if (cred.gid == sock_gid)
		return 1;
	/* Supplementary groups (Linux 4.13+); older kernels: primary only. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == sock_gid)
				return 1;
	}
	return 0;
}
