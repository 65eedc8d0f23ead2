/*
 * tests/daemon/test_privdrop.c: the privilege drop and the unix-socket peer
 * check, for real. The drop runs in forked children (it cannot be undone,
 * which is the point); it needs root, which `make test` has in CI and in
 * the dev container. Run as non-root, the root-only tests report failure
 * rather than pass silently.
 */
#include "daemon/privdrop.h"
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

/* Runs fn in a child; returns its exit status (0 = all its checks held). */
static int in_child(int (*fn)(void))
{
	int status = -1;
	pid_t p;

	fflush(stdout);
	fflush(stderr);
	p = fork();
	if (p == 0)
		_exit(fn());
	if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static char secret[64];

static int drop_child(void)
{
	char err[256];
	uid_t r, e, s;
	int fails = 0;

	if (srv_priv_drop("nobody", err, sizeof(err)) != 0) {
		fprintf(stderr, "  child: %s\n", err);
		return 10;
	}
	getresuid(&r, &e, &s);
	fails += r != NOBODY || e != NOBODY || s != NOBODY;
	fails += setuid(0) == 0;
	fails += open(secret, O_RDONLY) >= 0 || errno != EACCES;
	/* Dropping again as non-root is a no-op, not an error. */
	fails += srv_priv_drop("nobody", err, sizeof(err)) != 0;
	return fails;
}

static int drop_numeric_child(void)
{
	char err[256];

	if (srv_priv_drop("65534", err, sizeof(err)) != 0)
		return 10;
	return getuid() != NOBODY || getgid() == 0;
}

static void test_drop_is_permanent(void)
{
	int fd;

	CHECK_EQ_INT(geteuid(), 0); /* these tests need root */
	if (geteuid() != 0)
		return;
	snprintf(secret, sizeof(secret), "/tmp/sc-secret-%d", (int)getpid());
	fd = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ_INT(in_child(drop_child), 0);
	CHECK_EQ_INT(in_child(drop_numeric_child), 0);
	unlink(secret);
}

static void test_refusals(void)
{
	char err[256];

	if (geteuid() != 0) {
		CHECK_EQ_INT(srv_priv_drop("root", err, sizeof(err)), 0);
		return;
	}
	/* These return before changing anything, so they run in-process. */
	CHECK_EQ_INT(srv_priv_drop("root", err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "refusing to run as root") != NULL);
	CHECK_EQ_INT(srv_priv_drop("0", err, sizeof(err)), -EPERM);
	CHECK_EQ_INT(srv_priv_drop("no-such-user-sc", err, sizeof(err)),
		     -ENOENT);
	CHECK(strstr(err, "no-such-user-sc") != NULL);
	CHECK_EQ_INT(srv_priv_drop("", err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(getuid(), 0);
}

static char sock_path[108];

/* Connects to sock_path as nobody; exit 0 if connected, 1 if refused. */
static int connect_as_nobody(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char err[256];
	int fd;

	if (srv_priv_drop("nobody", err, sizeof(err)) != 0)
		return 10;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return errno == EACCES ? 1 : 11;
	/* Keep it open until the parent has accepted and checked. */
	{
		char c;
		(void)!read(fd, &c, 1);
	}
	return 0;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4) != 0)
		return -1;
	return fd;
}

static void test_socket_mode_and_peer_check(void)
{
	struct stat st;
	srv_peer peer;
	int lfd, sv[2], c, status;
	pid_t p;

	/* A peer that is ourselves is always allowed. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_EQ_INT(srv_peer_allowed(sv[0], (gid_t)-1, &peer), 1);
	CHECK_EQ_INT(peer.pid, getpid());
	close(sv[0]);
	close(sv[1]);
	c = open("/dev/null", O_RDONLY); /* not a socket */
	CHECK(srv_peer_allowed(c, (gid_t)-1, &peer) < 0);
	close(c);
	if (geteuid() != 0) {
		CHECK(!"needs root");
		return;
	}

	snprintf(sock_path, sizeof(sock_path), "/tmp/sc-peer-%d.sock",
		 (int)getpid());
	lfd = listen_at(sock_path);
	CHECK(lfd >= 0);
	/* 0660 root:root: nobody cannot even connect. */
	CHECK_EQ_INT(srv_unix_protect(sock_path, (gid_t)-1), 0);
	CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0660);
	CHECK_EQ_INT(in_child(connect_as_nobody), 1);

	/* Mode loosened by mistake: the peer check still refuses nobody
	 * unless it belongs to the socket's group. */
	chmod(sock_path, 0666);
	fflush(stdout);
	p = fork();
	if (p == 0)
		_exit(connect_as_nobody());
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	CHECK_EQ_INT(srv_peer_allowed(c, (gid_t)-1, &peer), 0);
	CHECK_EQ_INT(peer.uid, NOBODY);
	CHECK_EQ_INT(peer.pid, p);
	CHECK_EQ_INT(srv_peer_allowed(c, 0, &peer), 0); /* nogroup != root */
	CHECK_EQ_INT(srv_peer_allowed(c, peer.gid, &peer), 1);
	close(c);
	CHECK(waitpid(p, &status, 0) == p && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	close(lfd);
	unlink(sock_path);
	CHECK_EQ_INT(srv_unix_protect(sock_path, (gid_t)-1), -ENOENT);
}

int main(void)
{
	TH_RUN(test_drop_is_permanent);
	TH_RUN(test_refusals);
	TH_RUN(test_socket_mode_and_peer_check);
	return th_summary();
}
