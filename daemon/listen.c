/*
 * daemon/listen.c: listeners, connections, reads and bounded writes
 * (see conn.h).
 */
#include "daemon/conn.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/methods.h"
#include "daemon/order.h"
#include "daemon/persist.h"
#include "daemon/privdrop.h"
#include "daemon/server.h"
#include "daemon/trace.h"
#include "io/graphite.h"
#include "io/influx.h"

/* Bytes offered to each read: big enough for thousands of lines. */
#define READ_CHUNK (64u * 1024)
/* ... to a line connection's read: a few hundred lines, so that the tick
 * bound (SRV_TICK_SAMPLES) is checked every few hundred samples. */
#define LINE_READ (16u * 1024)

const char *srv_proto_name(srv_proto p)
{
	switch (p) {
	case SRV_GRAPHITE:
		return "graphite";
	case SRV_INFLUX:
		return "influx";
	case SRV_RPC:
		return "rpc";
	}
	return "?";
}

/* host (IPv4, IPv6 or a name such as localhost) and port -> sockaddr.
 * Resolving may block: it runs only at start. */
static int resolve(const char *host, int port, struct sockaddr_storage *ss)
{
	struct addrinfo hints, *res;
	char svc[16];

	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0 ||
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(svc, sizeof svc, "%d", port);
	if (getaddrinfo(host, svc, &hints, &res) != 0)
		return UV_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static void format_addr(const struct sockaddr_storage *ss, char *out,
			size_t cap)
{
	char ip[64] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		uv_ip6_name(a, ip, sizeof ip);
		port = ntohs(a->sin6_port);
		snprintf(out, cap, "[%s]:%d", ip, port);
		return;
	}
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		uv_ip4_name(a, ip, sizeof ip);
		port = ntohs(a->sin_port);
	}
	snprintf(out, cap, "%s:%d", ip, port);
}

/* ---- connections ----------------------------------------------------- */

void srv_conn_ref(srv_conn *c)
{
	c->refs++;
}

void srv_conn_unref(srv_conn *c)
{
	if (--c->refs > 0)
		return;
	srv_order_release(c);
	free(c->lbuf);
	free(c->rbuf);
	free(c->nbuf);
	free(c->scan);
	if (c->dec)
		rpc_dec_free(c->dec);
	free(c);
}

static void on_close(uv_handle_t *h)
{
	srv_conn *c = h->data;
	srv *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	srv_subs_drop_conn(s, c);
	srv_conn_unref(c);
}

void srv_conn_close(srv_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (why)
		srv_log(LOG_NOTICE, "%s client %" PRIu64 " (%s) closed: %s",
			srv_proto_name(c->proto), c->id, c->peer, why);
	uv_read_stop(&c->h.stream);
	uv_close((uv_handle_t *)&c->h.stream, on_close);
}

static void on_write(uv_write_t *w, int status)
{
	(void)status; /* a failed write shows up as a read error too */
	free(w);
}

int srv_conn_write(srv_conn *c, const void *data, size_t len)
{
	size_t queued, bound;
	uv_write_t *w;
	uv_buf_t buf;
	int rc;

	if (c->closing)
		return -1;
	/* One message larger than the bound still goes to an idle reader;
	 * a backlog past the bound means the reader stopped reading. A
	 * subscriber's notifications come in bursts and have their own
	 * bound; replies to requests share the connection's. */
	queued = uv_stream_get_write_queue_size(&c->h.stream);
	bound =
	    c->nsubs ? c->srv->set.subscriber_queue : c->srv->set.conn_buffer;
	if (queued > 0 && queued + len > bound) {
		c->srv->st.slow_clients++;
		srv_conn_close(c, c->nsubs ? "not reading: output over "
					     "limits.subscriber_queue"
					   : "not reading: output over "
					     "limits.conn_buffer");
		return -1;
	}
	w = malloc(sizeof *w + len);
	if (!w) {
		srv_conn_close(c, "out of memory");
		return -1;
	}
	memcpy(w + 1, data, len);
	buf = uv_buf_init((char *)(w + 1), (unsigned)len);
	rc = uv_write(w, &c->h.stream, &buf, 1, on_write);
	if (rc) {
		free(w);
		srv_conn_close(c, uv_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- reading --------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	srv_conn *c = h->data;
	(void)hint;

	if (c->proto != SRV_RPC) {
		/* Lines are consumed within the read callback, so every
		 * line connection can share one buffer. */
		*buf = uv_buf_init(c->srv->rbuf, LINE_READ);
		return;
	}
	if (c->rcap - c->rlen < READ_CHUNK) {
		size_t cap = c->rlen + READ_CHUNK;
		char *p = realloc(c->rbuf, cap);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	*buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void bad_line(srv_conn *c, int err, const char *line, size_t len)
{
	c->srv->st.lines_bad++;
	if (c->warned)
		return;
	c->warned = 1;
	srv_log(LOG_NOTICE,
		"%s client %" PRIu64 " (%s): bad line (%s): %.*s; "
		"further bad lines from it are only counted",
		srv_proto_name(c->proto), c->id, c->peer, io_strerror(err),
		(int)(len > 80 ? 80 : len), line);
}

/* Samples go to the tick in batches (srv_ingest_add): read_lines flushes
 * the batch before the read callback returns. */
static void on_influx_sample(void *ctx, const io_sample *x)
{
	srv_conn *c = ctx;
	char *name = srv_ingest_name(c->srv);

	memcpy(name, x->name, x->name_len);
	name[x->name_len] = '\0';
	srv_ingest_add(c->srv, x->name_len, x->t, x->value);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	srv_conn *c = ctx;
	srv *s = c->srv;
	int rc;

	s->st.lines++;
	if (c->proto == SRV_GRAPHITE) {
		io_sample x;
		rc = io_graphite_parse(line, len, s->now, &s->set.lines,
				       srv_ingest_name(s),
				       s->set.lines.max_name + 1, &x);
		if (rc == 0)
			srv_ingest_add(s, x.name_len, x.t, x.value);
	} else {
		rc = io_influx_parse(line, len, s->now, s->set.influx_precision,
				     &s->set.lines, s->scratch, s->scratch_cap,
				     on_influx_sample, c, NULL);
	}
	if (rc < 0)
		bad_line(c, rc, line, len);
}

static void read_lines(srv_conn *c, const char *data, size_t n, int eof)
{
	uint64_t before = c->lines.overlong;

	if (!c->lbuf)
		return; /* nothing was ever read: nothing is pending */

	c->srv->now = srv_now();
	if (n)
		io_lines_feed(&c->lines, data, n, on_line, c);
	if (eof)
		io_lines_finish(&c->lines, on_line, c);
	srv_ingest_flush(c->srv);
	c->srv->st.lines_long += c->lines.overlong - before;
}

/* Frames up to this size keep their connection's decoder between frames. */
#define DEC_KEEP_MAX (64 * 1024)

static void read_frames(srv_conn *c, size_t n)
{
	srv *s = c->srv;
	size_t off = 0, flen, big = 0;
	int rc = 0;

	c->rlen += n;
	if (!c->dec) {
		c->dec = rpc_dec_new();
		c->scan = malloc(sizeof *c->scan);
		if (!c->dec || !c->scan) {
			srv_conn_close(c, "out of memory");
			return;
		}
		rpc_scan_init(c->scan);
	}
	while (!c->closing) {
		rc = rpc_scan_frame(c->scan, c->rbuf + off, c->rlen - off,
				    &s->set.rpc, &flen);
		if (rc != 1)
			break;
		if (srv_rpc_frame(s, c, c->rbuf + off, flen)) {
			rc = RPC_EFORMAT;
			break;
		}
		off += flen;
		if (flen > big)
			big = flen;
	}
	if (rc < 0) {
		s->st.bad_frames++;
		srv_conn_close(c, rpc_strerror(rc));
		return;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	if (c->rlen == 0) {
		/* Most clients send whole frames: an idle connection then
		 * holds no input buffer at all. */
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
		/* msgpack-c keeps the zone's largest chunk after a frame: one
		 * big push would stay with an idle connection (50 clients after
		 * 200k-element pushes held 230 MiB, bench/reliability.sh). No
		 * decoded value outlives its frame, so drop the decoder; the
		 * next bytes bring a fresh one. */
		if (big > DEC_KEEP_MAX) {
			rpc_dec_free(c->dec);
			c->dec = NULL;
			free(c->scan);
			c->scan = NULL;
		}
	}
}

/* Lines are split into a buffer of max_line bytes, allocated at the first
 * read so that a connection that never sends costs no buffer. */
static int lines_setup(srv_conn *c)
{
	const io_limits *lim = &c->srv->set.lines;

	if (c->lbuf)
		return 0;
	c->lbuf = malloc(lim->max_line);
	if (!c->lbuf)
		return -1;
	io_lines_init(&c->lines, c->lbuf, lim->max_line);
	return 0;
}

size_t srv_conn_pending(const srv_conn *c)
{
	if (c->proto == SRV_RPC)
		return c->rlen;
	return c->lbuf ? c->lines.len + (size_t)(c->lines.discarding != 0) : 0;
}

/* limits.conn_buffer for input: the partial line or frame held after a
 * read. A frame is also bounded by limits.rpc_max_frame and a line by
 * limits.max_line; this bound holds whichever of them is set larger. */
static int over_buffer(srv_conn *c)
{
	size_t held = c->proto == SRV_RPC ? c->rlen : c->lines.len;

	if (held <= c->srv->set.conn_buffer)
		return 0;
	c->srv->st.over_buffer++;
	srv_conn_close(c, c->proto == SRV_RPC
			      ? "partial frame over limits.conn_buffer"
			      : "partial line over limits.conn_buffer");
	return 1;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	srv_conn *c = st->data;
	(void)buf;

	if (nread > 0) {
		c->last_read = uv_now(c->srv->loop);
		srv_rate_read(c, (size_t)nread);
		if (c->proto == SRV_RPC) {
			read_frames(c, (size_t)nread);
		} else if (lines_setup(c)) {
			srv_conn_close(c, "out of memory");
			return;
		} else {
			read_lines(c, buf->base, (size_t)nread, 0);
			srv_trace(SRV_TR_READ, nread,
				  (int64_t)c->srv->tick.nacc);
			if (c->srv->tick.nacc >= SRV_TICK_SAMPLES)
				srv_lines_pause(c);
		}
		if (!c->closing && !over_buffer(c))
			srv_rate_done(c);
		return;
	}
	if (nread == 0)
		return;
	if (c->proto != SRV_RPC && nread == UV_EOF)
		read_lines(c, NULL, 0, 1);
	if (nread == UV_ENOBUFS)
		srv_conn_close(c, "out of memory");
	else if (nread == UV_EOF)
		srv_conn_close(c, NULL);
	else
		srv_conn_close(c, uv_strerror((int)nread));
}

/* ---- accepting ------------------------------------------------------- */

static void peer_name(srv_conn *c, int is_pipe)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;

	if (is_pipe ||
	    uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len)) {
		snprintf(c->peer, sizeof c->peer, "unix");
		return;
	}
	format_addr(&ss, c->peer, sizeof c->peer);
}

/* SO_PEERCRED: root, our own user and the socket group's members only
 * (daemon/privdrop.h); the file mode says the same for a path in the
 * filesystem, this also holds when the mode was loosened. */
static int peer_allowed(srv_conn *c, const srv_listener *l)
{
	uv_os_fd_t fd;
	srv_peer peer;
	int r;

	if (uv_fileno((uv_handle_t *)&c->h.stream, &fd) != 0)
		return 0;
	r = srv_peer_allowed(fd, l->sock_gid, &peer);
	if (r != 1)
		srv_log(LOG_WARNING,
			"unix socket %s: refused peer pid %ld uid %ld gid %ld",
			l->addr, (long)peer.pid, (long)peer.uid,
			(long)peer.gid);
	return r == 1;
}

/* limits.max_connections, or fewer when RLIMIT_NOFILE leaves room for
 * fewer (srv_fd_budget): the newest connection (already counted) is
 * refused. Accepting and closing it, rather than not accepting, keeps the
 * listen backlog from filling with clients that would wait forever. */
static int over_limit(srv *s)
{
	size_t max = (size_t)s->set.max_connections;
	int by_fd = s->fd_clients && (max == 0 || s->fd_clients < max);

	if (by_fd)
		max = s->fd_clients;
	if (max == 0 || s->nconns <= max) {
		s->conn_limit_hit = 0;
		return 0;
	}
	s->st.refused++;
	if (!s->conn_limit_hit)
		srv_log(LOG_WARNING,
			"connection limit reached (%s = %zu): refusing new "
			"clients until some leave",
			by_fd ? "the file descriptor limit"
			      : "limits.max_connections",
			max);
	s->conn_limit_hit = 1;
	return 1;
}

static void on_connection(uv_stream_t *server, int status)
{
	srv_listener *l = server->data;
	srv *s = l->srv;
	srv_conn *c;
	int rc;

	if (status < 0) {
		/* EMFILE: libuv has already accepted and closed the waiting
		 * clients with its reserve descriptor, so nothing spins; the
		 * next accept after descriptors free up succeeds. Logged once
		 * per episode: every refused client would log again. */
		s->st.accept_errors++;
		if (!s->accept_failing)
			srv_log(LOG_WARNING,
				"%s listener %s: accept failed: %s; clients "
				"are turned away until descriptors free up "
				"(see limits.max_connections)",
				srv_proto_name(l->proto), l->addr,
				uv_strerror(status));
		s->accept_failing = 1;
		return;
	}
	if (s->accept_failing)
		srv_log(LOG_NOTICE, "%s listener %s: accepting again",
			srv_proto_name(l->proto), l->addr);
	s->accept_failing = 0;
	c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->srv = s;
	c->proto = l->proto;
	c->refs = 1;
	c->id = ++s->next_conn_id;
	if (l->is_pipe)
		rc = uv_pipe_init(s->loop, &c->h.pipe, 0);
	else
		rc = uv_tcp_init(s->loop, &c->h.tcp);
	if (rc) {
		free(c);
		return;
	}
	c->h.stream.data = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	c->last_read = uv_now(s->loop);
	if (uv_accept(server, &c->h.stream)) {
		srv_conn_close(c, "accept failed");
		return;
	}
	if (over_limit(s)) {
		srv_conn_close(c, NULL);
		return;
	}
	if (l->is_pipe && !peer_allowed(c, l)) {
		srv_conn_close(c, "peer not allowed on the unix socket");
		return;
	}
	s->st.connections++;
	c->authed = l->is_pipe || !s->set.rpc_token || !s->set.rpc_token[0];
	peer_name(c, l->is_pipe);
	if (!l->is_pipe && c->proto == SRV_RPC)
		uv_tcp_nodelay(&c->h.tcp, 1);
	if (!srv_conn_held(c))
		uv_read_start(&c->h.stream, on_alloc, on_read);
}

int srv_conn_held(const srv_conn *c)
{
	return c->srv->held && c->proto != SRV_RPC;
}

void srv_hold(srv *s, int on)
{
	uint64_t now = uv_now(s->loop);
	srv_conn *c;

	if (s->held == on)
		return;
	s->held = on;
	if (on) {
		s->st.holds++;
		srv_log(LOG_WARNING,
			"store queue at %zu bytes, past store.max_queue (%zu "
			"bytes): Graphite and Influx connections are not read "
			"until it drains",
			srv_persist_queued(s), s->set.store_max_queue);
	} else {
		srv_log(LOG_NOTICE,
			"store queue drained to %zu bytes: reading Graphite "
			"and Influx connections again",
			srv_persist_queued(s));
	}
	for (c = s->conns; c; c = c->next) {
		if (c->closing || c->proto == SRV_RPC)
			continue;
		if (on) {
			uv_read_stop(&c->h.stream);
		} else {
			/* The wait was ours, not the sender's. */
			c->last_read = now;
			c->rate_mark = now;
			c->rate_bytes = 0;
			uv_read_start(&c->h.stream, on_alloc, on_read);
		}
	}
}

void srv_lines_pause(srv_conn *c)
{
	srv *s = c->srv;

	if (c->paused || c->closing || srv_conn_held(c))
		return;
	if (!s->paused)
		s->st.tick_paused++;
	uv_read_stop(&c->h.stream);
	c->paused = 1;
	c->pnext = s->paused;
	s->paused = c;
}

void srv_lines_resume(srv *s)
{
	uint64_t now;

	if (!s->paused)
		return;
	/* The tick just ran: the loop's cached time is from before it. */
	uv_update_time(s->loop);
	now = uv_now(s->loop);
	while (s->paused) {
		srv_conn *c = s->paused;
		s->paused = c->pnext;
		c->pnext = NULL;
		c->paused = 0;
		/* The wait was ours, not the sender's (as srv_hold). */
		c->last_read = now;
		c->rate_mark = now;
		c->rate_bytes = 0;
		if (!c->closing && !srv_conn_held(c))
			uv_read_start(&c->h.stream, on_alloc, on_read);
	}
}

/* ---- listeners ------------------------------------------------------- */

static int listen_tcp(srv *s, srv_listener *l, const char *host, int port)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	int rc = resolve(host, port, &ss);

	if (rc)
		return rc;
	rc = uv_tcp_init(s->loop, &l->h.tcp);
	if (rc)
		return rc;
	l->open = 1;
	/* A socket passed by systemd under this protocol's name wins over
	 * the configured address (daemon/sdnotify.h). */
	rc = s->sd
		 ? srv_sd_adopt_tcp(s->sd, srv_proto_name(l->proto), &l->h.tcp)
		 : -ENOENT;
	l->adopted = rc == 0;
	if (rc == -ENOENT)
		rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&l->h.tcp, 511, on_connection);
	if (!rc)
		rc =
		    uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&ss, &len);
	if (!rc)
		format_addr(&ss, l->addr, sizeof l->addr);
	return rc;
}

static int listen_pipe(srv *s, srv_listener *l, const char *path)
{
	struct stat sb;
	size_t len = sizeof l->addr;
	int rc;

	rc = uv_pipe_init(s->loop, &l->h.pipe, 0);
	if (rc)
		return rc;
	l->open = 1;
	l->sock_gid = (gid_t)-1;
	rc = s->sd ? srv_sd_adopt_pipe(s->sd, SRV_SD_FD_SOCKET, &l->h.pipe)
		   : -ENOENT;
	if (rc == 0) {
		/* systemd owns the path (and its mode, SocketMode=). */
		l->adopted = 1;
		rc = uv_pipe_getsockname(&l->h.pipe, l->addr, &len);
		if (rc)
			return rc;
	} else if (rc != -ENOENT) {
		return rc;
	} else {
		/* A socket file left by a daemon that died is stale: nothing
		 * can listen on it once its owner is gone, so it is replaced.
		 */
		if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			unlink(path);
		rc = uv_pipe_bind(&l->h.pipe, path);
		if (rc)
			return rc;
		/* Bound: the path is ours now, and unlinked when closing. */
		snprintf(l->addr, sizeof l->addr, "%s", path);
		rc = srv_unix_protect(path, (gid_t)-1);
		if (rc)
			srv_log(LOG_WARNING, "cannot chmod 0660 %s: %s", path,
				uv_strerror(rc));
	}
	if (stat(l->addr, &sb) == 0)
		l->sock_gid = sb.st_gid;
	return uv_listen((uv_stream_t *)&l->h.pipe, 511, on_connection);
}

int srv_listen(srv *s, srv_listener *l, srv_proto proto, const char *host,
	       int port)
{
	int is_pipe = port < 0;
	int rc;

	memset(l, 0, sizeof *l);
	l->srv = s;
	l->proto = proto;
	l->is_pipe = is_pipe;
	rc = is_pipe ? listen_pipe(s, l, host) : listen_tcp(s, l, host, port);
	if (rc) {
		srv_log(LOG_ERR, "cannot listen for %s on %s%s%d: %s",
			srv_proto_name(proto), host, is_pipe ? "" : ":",
			is_pipe ? 0 : port, uv_strerror(rc));
		srv_listener_close(l);
		return rc;
	}
	l->h.tcp.data = l;
	srv_log(LOG_INFO, "listening %s on %s%s", srv_proto_name(proto),
		l->addr, l->adopted ? " (socket-activated)" : "");
	return 0;
}

void srv_listener_close(srv_listener *l)
{
	if (!l->open)
		return;
	l->open = 0;
	uv_close((uv_handle_t *)&l->h.tcp, NULL);
	if (l->is_pipe && !l->adopted && l->addr[0])
		unlink(l->addr);
}
