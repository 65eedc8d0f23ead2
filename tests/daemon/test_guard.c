/*
 * tests/daemon/test_guard.c: the idle guard (daemon/guard.c) judges
 * silence by what the daemon could read, not by how late its own loop is.
 *
 * The loop is stalled once, inside a check callback (where a long tick
 * runs), for three idle timeouts, while a client writes a line. The guard's
 * timer is then due at the top of the next iteration, before the poll that
 * reads that line: a connection read in every poll must survive it, and a
 * connection that never sent anything must still be closed as idle. The
 * outcome depends on the order of the loop's phases only, never on how fast
 * the machine is: the live client writes before every iteration, so each
 * poll reads it, and the stall is three times the timeout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/server.h"
#include "ssm/model.h"
#include "tests/harness.h"

#define IDLE_S	 0.2
#define STALL_MS 600 /* 3 x IDLE_S */

static ssm_model *model;

typedef struct stall {
	uv_check_t h;
	int live_fd;
	int armed, done;
	int *written;
} stall;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int send_line(int fd, int i)
{
	char line[64];
	int n = snprintf(line, sizeof line, "guard.live %d %d\n", i,
			 1700000000 + i);

	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* The loop thread stuck in a long callback; the live client writes
 * meanwhile, as a client of a daemon busy with a backlog does. */
static void on_stall(uv_check_t *h)
{
	stall *st = h->data;

	if (!st->armed || st->done)
		return;
	st->done = 1;
	sleep_ms(STALL_MS / 2);
	if (send_line(st->live_fd, *st->written) == 0)
		(*st->written)++;
	sleep_ms(STALL_MS / 2);
}

static int connect_to(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the daemon closed fd's connection (EOF or reset), 0 while open. */
static int peer_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);

	if (n == 0)
		return 1;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
}

/* Runs loop iterations until s has `want` connections (bounded). */
static void accept_until(srv *s, uv_loop_t *loop, size_t want)
{
	int i;

	for (i = 0; i < 1000 && s->nconns < want; i++)
		uv_run(loop, UV_RUN_ONCE);
}

static void test_stall_is_not_silence(void)
{
	static const cfg_addr graphite = {"127.0.0.1", 0, 1};
	uv_loop_t loop;
	srv s;
	srv_settings set;
	stall st;
	struct sockaddr_storage ss;
	int len = sizeof ss, port, idle_fd, live_fd, written = 0, i;

	memset(&set, 0, sizeof set);
	set.listen_graphite = &graphite;
	set.subscriber_queue = 1 << 20;
	set.conn_buffer = 1 << 20;
	io_limits_default(&set.lines);
	rpc_limits_default(&set.rpc);
	set.forecast_every = 1;
	set.default_period = 1;
	set.default_step = 1;
	set.learn_samples = SSM_LEARN_SAMPLES;
	set.batch_max = 64;
	set.threads = 1;
	set.history_ring = 8;
	set.idle_timeout_s = IDLE_S;
	set.store_path = "";
	uv_loop_init(&loop);
	CHECK_EQ_INT(srv_init(&s, &loop, &set, model, "test"), 0);
	CHECK_EQ_INT(srv_start(&s), 0);
	CHECK_EQ_INT(uv_tcp_getsockname(&s.listeners[0].h.tcp,
					(struct sockaddr *)&ss, &len),
		     0);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);

	idle_fd = connect_to(port);
	live_fd = connect_to(port);
	CHECK(idle_fd >= 0 && live_fd >= 0);
	accept_until(&s, &loop, 2);
	CHECK_EQ_INT((int)s.nconns, 2);

	memset(&st, 0, sizeof st);
	st.live_fd = live_fd;
	st.written = &written;
	uv_check_init(&loop, &st.h);
	st.h.data = &st;
	uv_check_start(&st.h, on_stall);
	st.armed = 1;
	/* The live client writes before every iteration, so every poll
	 * reads it; the stall comes in the first iteration's check phase.
	 * Then the loop runs until the silent client is closed. */
	for (i = 0; i < 100000 && !(st.done && s.st.idle_closed >= 1); i++) {
		if (send_line(live_fd, written) == 0)
			written++;
		uv_run(&loop, UV_RUN_ONCE);
	}
	CHECK(st.done);
	CHECK_EQ_INT((int)s.st.idle_closed, 1);
	/* Every line written was read (the last may still be in flight). */
	for (i = 0; i < 1000 && s.st.lines < (uint64_t)written; i++)
		uv_run(&loop, UV_RUN_ONCE);
	CHECK_EQ_INT((int)s.st.lines, written);
	CHECK(peer_closed(idle_fd));
	CHECK(!peer_closed(live_fd));

	uv_close((uv_handle_t *)&st.h, NULL);
	close(idle_fd);
	close(live_fd);
	srv_stop(&s);
	uv_run(&loop, UV_RUN_DEFAULT);
	srv_release(&s);
	CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
	if (ssm_model_new_default(&model, 1))
		return 1;
	TH_RUN(test_stall_is_not_silence);
	ssm_model_free(model);
	return th_summary();
}
