/*
 * tests/fuzz/fuzz_dispatch.c: libFuzzer target for the whole msgpack-RPC
 * path of statecastd, dispatcher included: a real daemon state (srv, the
 * untrained default model, no store) listening on a unix socket, one
 * client connection per input that writes the input's bytes (in chunks
 * whose size the first byte picks), then reads every reply until the
 * daemon closes. So the accept path, the read buffer, rpc_scan_frame,
 * rpc_decode, srv_rpc_frame and every method (push and its deferred
 * acknowledgement, subscriptions, history, drop, auth...) run as they do
 * in the daemon; libFuzzer's malloc limit catches any oversized
 * allocation.
 *
 * The daemon's state persists across inputs like a long-running daemon's
 * (series, counters); limits.max_series = 256 bounds it, and exercises the
 * refusal path. Bit 7 of the first byte makes the connection
 * unauthenticated with rpc.token set, so that `auth` is fuzzed too.
 *
 * Invariants: the daemon closes the connection after the client's EOF (it
 * never hangs), and every closed connection is freed (s->nconns back to 0);
 * every reply the daemon writes is a complete msgpack stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server.h"
#include "io/model_open.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static uv_loop_t loop;
static srv *S;
static char sock_path[108];

static void setup(void)
{
	static cfg_addr off; /* enabled = 0: no TCP listener */
	static srv_settings set;
	static char dir[] = "/tmp/statecast-fuzz-XXXXXX";
	ssm_model *m;
	int is_default;
	char msg[128];

	srv_log_set_level(LOG_ERR);
	check(mkdtemp(dir) != NULL);
	snprintf(sock_path, sizeof sock_path, "%s/s", dir);
	check(io_model_open("/nonexistent/statecast.model", &m, &is_default,
			    msg, sizeof msg) == 0);
	memset(&set, 0, sizeof set);
	set.listen_graphite = set.listen_influx = set.listen_rpc = &off;
	set.listen_socket = sock_path;
	set.subscriber_queue = 1 << 20;
	set.conn_buffer = 1 << 20;
	io_limits_default(&set.lines);
	rpc_limits_default(&set.rpc);
	set.rpc.max_frame = 64 << 10;
	set.rpc.max_elems = 4096;
	set.forecast_every = 1;
	set.default_period = 1;
	set.learn_samples = 4;
	set.batch_max = 64;
	set.history_ring = 16;
	set.max_series = 256;
	set.max_connections = 16;
	set.rpc_token = "fuzz-token";
	set.store_path = "";
	S = calloc(1, sizeof *S);
	check(S && uv_loop_init(&loop) == 0);
	check(srv_init(S, &loop, &set, m, "untrained default") == 0);
	check(srv_listen(S, &S->listeners[3], SRV_RPC, sock_path, -1) == 0);
	srv_idle_start(S);
}

/* Reads what the daemon wrote; 1 at EOF. */
static int drain(int fd, size_t *got)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return 1; /* ECONNRESET: closed with input unread */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un a;
	size_t chunk, off = 0, got = 0;
	int fd, eof = 0, spins;

	if (size == 0 || size > (256u << 10))
		return 0;
	if (!S)
		setup();
	chunk = (size_t)(data[0] & 0x7f) * 97 + 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	check(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
	check(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	uv_run(&loop, UV_RUN_NOWAIT); /* accept */
	check(S->nconns == 1);
	if (data[0] & 0x80)
		S->conns->authed = 0;
	data++;
	size--;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w = write(fd, data + off, n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			w = 0;
		} else if (w < 0) {
			break; /* the daemon closed: a bad frame */
		}
		off += (size_t)w;
		uv_run(&loop, UV_RUN_NOWAIT);
		eof = drain(fd, &got);
		if (eof)
			break;
	}
	shutdown(fd, SHUT_WR);
	/* After EOF the daemon closes at once; a deferred push reply comes
	 * from the tick that runs in the same iterations. */
	for (spins = 0; !eof && spins < 100000; spins++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		eof = drain(fd, &got);
	}
	check(eof);
	close(fd);
	for (spins = 0; S->nconns > 0 && spins < 1000; spins++)
		uv_run(&loop, UV_RUN_NOWAIT);
	check(S->nconns == 0);
	(void)got;
	return 0;
}
