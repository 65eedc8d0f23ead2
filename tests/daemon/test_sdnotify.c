/*
 * tests/daemon/test_sdnotify.c: daemon/sdnotify against a real notify socket
 * (a unix datagram socket this test binds, as systemd would) and real
 * passed descriptors (LISTEN_FDS set up in a forked child, because adoption
 * needs the descriptors at fixed numbers 3, 4, ...).
 */
#include "daemon/sdnotify.h"
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char sock_path[108];

/* Binds a datagram socket at a fresh path and points NOTIFY_SOCKET at it. */
static int notify_socket_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sock_path, sizeof(sock_path), "/tmp/sc-notify-%d.sock",
		 (int)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setenv("NOTIFY_SOCKET", sock_path, 1);
	return fd;
}

static void notify_socket_close(int fd)
{
	close(fd);
	unlink(sock_path);
	unsetenv("NOTIFY_SOCKET");
}

/* Next datagram as a string, or "" if none arrives within 2 s. */
static const char *recv_msg(int fd, char *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	buf[0] = 0;
	if (poll(&p, 1, 2000) != 1)
		return buf;
	n = recv(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void test_no_manager_is_not_an_error(void)
{
	srv_sd_watchdog wd;
	srv_sd_listen l;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("LISTEN_FDS");
	CHECK_EQ_INT(srv_sd_ready("serving"), 0);
	CHECK_EQ_INT(srv_sd_status(0, "replaying %d", 3), 0);
	CHECK_EQ_INT(srv_sd_stopping(), 0);
	CHECK_EQ_INT(srv_sd_watchdog_start(&wd, uv_default_loop()), 0);
	CHECK_EQ_INT(wd.active, 0);
	srv_sd_watchdog_close(&wd, NULL); /* must be harmless */
	CHECK_EQ_INT(srv_sd_listen_init(&l), 0);
	CHECK_EQ_INT(l.n, 0);
	CHECK_EQ_INT(srv_sd_listen_take(&l, "rpc"), -ENOENT);
	CHECK_EQ_INT(srv_sd_listen_release(&l), 0);
}

static void test_ready_status_stopping(void)
{
	char buf[1024];
	int fd = notify_socket_open();

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ_INT(
	    srv_sd_status(30000000, "replaying %d of %d series", 5, 10), 0);
	CHECK(strcmp(recv_msg(fd, buf, sizeof(buf)),
		     "STATUS=replaying 5 of 10 series\n"
		     "EXTEND_TIMEOUT_USEC=30000000") == 0);
	CHECK_EQ_INT(srv_sd_status(0, "two\nlines"), 0);
	CHECK(strcmp(recv_msg(fd, buf, sizeof(buf)), "STATUS=two lines") == 0);
	CHECK_EQ_INT(srv_sd_ready("serving 3 listeners"), 0);
	CHECK(strcmp(recv_msg(fd, buf, sizeof(buf)),
		     "READY=1\nSTATUS=serving 3 listeners") == 0);
	CHECK_EQ_INT(srv_sd_reloading(), 0);
	CHECK(strcmp(recv_msg(fd, buf, sizeof(buf)), "RELOADING=1") == 0);
	CHECK_EQ_INT(srv_sd_stopping(), 0);
	CHECK(strcmp(recv_msg(fd, buf, sizeof(buf)), "STOPPING=1") == 0);
	notify_socket_close(fd);
	/* A notify socket nobody listens on is an error the caller sees. */
	setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock", 1);
	CHECK(srv_sd_ready(NULL) < 0);
	unsetenv("NOTIFY_SOCKET");
}

struct wd_ctx {
	srv_sd_watchdog *wd;
	int ticks;
};

/* A ref'd timer that ends the run once three pings went out (or gives up). */
static void wd_poll_cb(uv_timer_t *t)
{
	struct wd_ctx *c = t->data;

	if (c->wd->pings >= 3 || ++c->ticks > 2000)
		uv_close((uv_handle_t *)t, NULL);
}

static void test_watchdog_pings_from_loop(void)
{
	char buf[256];
	char pid[32];
	uv_loop_t loop;
	uv_timer_t poll_t;
	srv_sd_watchdog wd;
	struct wd_ctx ctx = {&wd, 0};
	int fd = notify_socket_open(), got = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_USEC", "20000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	uv_loop_init(&loop);
	CHECK_EQ_INT(srv_sd_watchdog_start(&wd, &loop), 1);
	CHECK_EQ_INT(wd.period_usec, 20000);
	CHECK_EQ_INT(uv_timer_get_repeat(&wd.timer), 10); /* half, in ms */
	uv_timer_init(&loop, &poll_t);
	poll_t.data = &ctx;
	uv_timer_start(&poll_t, wd_poll_cb, 5, 5);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(wd.pings >= 3);
	srv_sd_watchdog_close(&wd, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	while (got < 3 &&
	       strcmp(recv_msg(fd, buf, sizeof(buf)), "WATCHDOG=1") == 0)
		got++;
	CHECK_EQ_INT(got, 3);

	/* WATCHDOG_PID naming another process: not ours, no timer. */
	setenv("WATCHDOG_PID", "1", 1);
	uv_loop_init(&loop);
	CHECK_EQ_INT(srv_sd_watchdog_start(&wd, &loop), 0);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_socket_close(fd);
}

static int fails; /* in the forked child */
#define CCHECK(c)                                                        \
	do {                                                             \
		if (!(c)) {                                              \
			fprintf(stderr, "  child %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                           \
			fails++;                                         \
		}                                                        \
	} while (0)

static int accepted;
static void on_conn(uv_stream_t *server, int status)
{
	uv_tcp_t *c = malloc(sizeof(*c));

	CCHECK(status == 0);
	uv_tcp_init(server->loop, c);
	CCHECK(uv_accept(server, (uv_stream_t *)c) == 0);
	uv_close((uv_handle_t *)c, (uv_close_cb)free);
	accepted++;
	uv_close((uv_handle_t *)server, NULL);
}

/* Runs in a child: descriptors 3 (TCP "rpc"), 4 (unix "socket"), 5 (TCP
 * "extra", never claimed). */
static int activation_child(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(in);
	char pid[32], upath[108];
	int t = socket(AF_INET, SOCK_STREAM, 0);
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	int x = socket(AF_INET, SOCK_STREAM, 0);
	int c, port, t2, u2, x2;
	srv_sd_listen l;
	uv_loop_t loop;
	uv_tcp_t th, wrong;
	uv_pipe_t ph;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(upath, sizeof(upath), "/tmp/sc-act-%d.sock", (int)getpid());
	unlink(upath);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", upath);
	CCHECK(bind(t, (struct sockaddr *)&in, sizeof(in)) == 0);
	CCHECK(listen(t, 8) == 0);
	CCHECK(getsockname(t, (struct sockaddr *)&in, &len) == 0);
	port = ntohs(in.sin_port);
	CCHECK(bind(u, (struct sockaddr *)&un, sizeof(un)) == 0);
	CCHECK(listen(u, 8) == 0);
	in.sin_port = 0;
	CCHECK(bind(x, (struct sockaddr *)&in, sizeof(in)) == 0);
	CCHECK(listen(x, 8) == 0);
	/* Move them above 100 first so the dup2 to 3..5 cannot clobber one. */
	t2 = fcntl(t, F_DUPFD, 100);
	u2 = fcntl(u, F_DUPFD, 100);
	x2 = fcntl(x, F_DUPFD, 100);
	CCHECK(t2 >= 100 && u2 >= 100 && x2 >= 100);
	close(t), close(u), close(x);
	CCHECK(dup2(t2, 3) == 3 && dup2(u2, 4) == 4 && dup2(x2, 5) == 5);
	close(t2), close(u2), close(x2);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "3", 1);
	setenv("LISTEN_FDNAMES", "rpc:socket:extra", 1);

	CCHECK(srv_sd_listen_init(&l) == 0);
	CCHECK(l.n == 3);
	CCHECK(getenv("LISTEN_FDS") == NULL); /* not inherited by children */
	uv_loop_init(&loop);
	uv_tcp_init(&loop, &th);
	uv_tcp_init(&loop, &wrong);
	uv_pipe_init(&loop, &ph, 0);
	CCHECK(srv_sd_adopt_tcp(&l, SRV_SD_FD_GRAPHITE, &th) == -ENOENT);
	/* The unix socket offered as TCP: refused, and closed. */
	CCHECK(srv_sd_adopt_tcp(&l, SRV_SD_FD_SOCKET, &wrong) == -ENOTSOCK);
	CCHECK(fcntl(4, F_GETFD) < 0);
	CCHECK(srv_sd_adopt_tcp(&l, SRV_SD_FD_RPC, &th) == 0);
	CCHECK(srv_sd_adopt_pipe(&l, SRV_SD_FD_RPC, &ph) == -ENOENT);
	CCHECK(srv_sd_listen_release(&l) == 1); /* "extra" */
	CCHECK(fcntl(5, F_GETFD) < 0);
	CCHECK(uv_listen((uv_stream_t *)&th, 8, on_conn) == 0);

	c = socket(AF_INET, SOCK_STREAM, 0);
	in.sin_port = htons((uint16_t)port);
	CCHECK(connect(c, (struct sockaddr *)&in, sizeof(in)) == 0);
	uv_close((uv_handle_t *)&wrong, NULL);
	uv_close((uv_handle_t *)&ph, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CCHECK(accepted == 1);
	CCHECK(uv_loop_close(&loop) == 0);
	close(c);
	unlink(upath);
	return fails;
}

static void test_socket_activation_adopts_named_fds(void)
{
	int status = -1;
	pid_t p;

	fflush(stdout);
	fflush(stderr);
	p = fork();
	if (p == 0)
		_exit(activation_child() ? 1 : 0);
	CHECK(p > 0);
	CHECK(waitpid(p, &status, 0) == p);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_strerror(void)
{
	CHECK(strstr(srv_sd_strerror(-ENOENT), "no socket") != NULL);
	CHECK(strstr(srv_sd_strerror(-ENOTSOCK), "listening") != NULL);
	CHECK(srv_sd_strerror(-EINVAL) != NULL);
}

int main(void)
{
	TH_RUN(test_no_manager_is_not_an_error);
	TH_RUN(test_ready_status_stopping);
	TH_RUN(test_watchdog_pings_from_loop);
	TH_RUN(test_socket_activation_adopts_named_fds);
	TH_RUN(test_strerror);
	return th_summary();
}
