/*
 * bench/echo_peer.c: the floor of bench/latency.sh's measurement.
 *
 * A trivial stand-in for statecastd as bench/loadgen.c sees it: it reads
 * Graphite lines and, for every line of a series whose name has the
 * latency prefix (PREFIX.lat<j>) while a subscriber is connected, writes
 * at once a "forecast" notification of the same size as statecastd's
 * (the name, t, and padding standing for the quantiles) to the
 * subscriber; no model, no store, no batching. Its RPC side answers only
 * what loadgen asks: `subscribe` and `stats` (stepped = lines read). Run
 * the same way as the daemon in the same run, it tells how much of a
 * measured latency is loadgen, the kernel's loopback and the scheduler
 * (loadgen's two threads and this one getting a core on a shared
 * machine) rather than statecastd.
 *
 *   echo_peer GRAPHITE_PORT RPC_PORT [NOTIFY_BYTES]
 *
 * One thread, poll(2); loopback only; runs until killed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/rpc.h"

#define MAXFD 64
#define BUFSZ (64 * 1024)

typedef struct peer {
	int fd, rpc, sub;
	char *buf;
	size_t len;
	rpc_scan scan;
} peer;

static peer conns[MAXFD];
static int nconns;
static unsigned long long lines;
static size_t pad = 1000; /* a default-model forecast is ~1090 bytes */

static int listen_on(int port)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 64) < 0) {
		perror("echo_peer: listen");
		exit(1);
	}
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the reader went away: loadgen is done */
		p += w;
		n -= (size_t)w;
	}
}

static void reply(peer *c, const rpc_msg *m, rpc_buf *b)
{
	rpc_buf_reset(b);
	if (rpc_str_eq(m->method, "subscribe")) {
		c->sub = 1;
		rpc_put_result(b, m->id);
		rpc_put_map(b, 1);
		rpc_put_cstr(b, "id");
		rpc_put_u64(b, 1);
	} else if (rpc_str_eq(m->method, "stats")) {
		rpc_put_result(b, m->id);
		rpc_put_map(b, 3);
		rpc_put_cstr(b, "stepped");
		rpc_put_u64(b, lines);
		rpc_put_cstr(b, "rejected");
		rpc_put_u64(b, 0);
		rpc_put_cstr(b, "store_queued_rows");
		rpc_put_u64(b, 0);
	} else {
		rpc_put_error(b, m->id, -32601, "echo_peer: not served");
	}
	if (!b->err)
		send_all(c->fd, b->p, b->len);
}

static void read_rpc(peer *c, rpc_dec *d, rpc_buf *b, const rpc_limits *lim)
{
	size_t off = 0, flen;
	rpc_msg m;

	while (rpc_scan_frame(&c->scan, c->buf + off, c->len - off, lim,
			      &flen) == 1) {
		if (rpc_decode(d, c->buf + off, flen, &m) == RPC_OK &&
		    m.kind == RPC_REQUEST)
			reply(c, &m, b);
		off += flen;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

/* "name value t": a forecast notification for a latency series. */
static void echo_line(const char *l, size_t n, const char *match, rpc_buf *b,
		      const char *padding)
{
	const char *sp1 = memchr(l, ' ', n), *sp2;
	double t;
	int i;

	lines++;
	if (!sp1 || (size_t)(sp1 - l) < strlen(match) ||
	    memcmp(l, match, strlen(match)) != 0)
		return;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
	if (!sp2)
		return;
	t = strtod(sp2 + 1, NULL);
	rpc_buf_reset(b);
	rpc_put_notify(b, "forecast");
	rpc_put_map(b, 4);
	rpc_put_cstr(b, "series");
	rpc_put_str(b, l, (size_t)(sp1 - l));
	rpc_put_cstr(b, "t");
	rpc_put_f64(b, t);
	rpc_put_cstr(b, "sub");
	rpc_put_u64(b, 1);
	rpc_put_cstr(b, "q");
	rpc_put_bin(b, padding, pad);
	if (b->err)
		return;
	for (i = 0; i < nconns; i++)
		if (conns[i].sub)
			send_all(conns[i].fd, b->p, b->len);
}

static void read_lines(peer *c, const char *match, rpc_buf *b,
		       const char *padding)
{
	size_t off = 0;
	char *nl;

	while ((nl = memchr(c->buf + off, '\n', c->len - off))) {
		echo_line(c->buf + off, (size_t)(nl - (c->buf + off)), match, b,
			  padding);
		off = (size_t)(nl - c->buf) + 1;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

int main(int argc, char **argv)
{
	struct pollfd pf[MAXFD + 2];
	int lg, lr, i;
	rpc_dec *d = rpc_dec_new();
	rpc_buf b;
	rpc_limits lim;
	char *padding;
	const char *match = getenv("ECHO_MATCH"); /* default: lat.lat */

	if (argc < 3) {
		fprintf(stderr,
			"usage: echo_peer GRAPHITE_PORT RPC_PORT [BYTES]\n");
		return 2;
	}
	if (argc > 3)
		pad = (size_t)atol(argv[3]);
	if (!match)
		match = "lat.lat";
	signal(SIGPIPE, SIG_IGN);
	padding = calloc(1, pad + 1);
	rpc_buf_init(&b, 1 << 20);
	rpc_limits_default(&lim);
	lg = listen_on(atoi(argv[1]));
	lr = listen_on(atoi(argv[2]));
	for (;;) {
		int n = 0;
		pf[n].fd = lg;
		pf[n++].events = POLLIN;
		pf[n].fd = lr;
		pf[n++].events = POLLIN;
		for (i = 0; i < nconns; i++) {
			pf[n].fd = conns[i].fd;
			pf[n++].events = POLLIN;
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < 2; i++) {
			int fd, one = 1;
			if (!(pf[i].revents & POLLIN) || nconns >= MAXFD)
				continue;
			fd = accept(pf[i].fd, NULL, NULL);
			if (fd < 0)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof one);
			memset(&conns[nconns], 0, sizeof conns[nconns]);
			conns[nconns].fd = fd;
			conns[nconns].rpc = i == 1;
			conns[nconns].buf = malloc(BUFSZ);
			rpc_scan_init(&conns[nconns].scan);
			nconns++;
		}
		for (i = 2; i < n; i++) {
			peer *c;
			ssize_t r;
			int k;
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			for (k = 0; k < nconns && conns[k].fd != pf[i].fd; k++)
				;
			if (k == nconns)
				continue;
			c = &conns[k];
			r = read(c->fd, c->buf + c->len, BUFSZ - c->len);
			if (r <= 0 || (c->len + (size_t)r >= BUFSZ && c->rpc)) {
				close(c->fd);
				free(c->buf);
				conns[k] = conns[--nconns];
				continue;
			}
			c->len += (size_t)r;
			if (c->rpc)
				read_rpc(c, d, &b, &lim);
			else
				read_lines(c, match, &b, padding);
			if (c->len == BUFSZ) /* a line longer than the buffer */
				c->len = 0;
		}
	}
}
