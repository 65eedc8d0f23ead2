/*
 * tools/client.c: the CLI's blocking msgpack-RPC client (see client.h).
 */
#include "tools/client.h"
#include "tools/shard_route.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/grow.h"

#define DEFAULT_RPC "127.0.0.1:7411"
#define OUT_MAX	    (64u << 20)

int client_options(int argc, char **argv, const char *usage, client_opts *o,
		   const char *const *extra, const char **extra_val)
{
	int i, k;

	memset(o, 0, sizeof *o);
	o->rpc = getenv("STATECAST_RPC");
	o->token = getenv("STATECAST_TOKEN");
	if (!o->rpc || !o->rpc[0])
		o->rpc = DEFAULT_RPC;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int matched = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: statecast %s\n", usage);
			exit(0);
		}
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--rpc") == 0 && i + 1 < argc) {
			o->rpc = argv[++i];
			o->socket = NULL;
			continue;
		}
		if (strcmp(a, "--socket") == 0 && i + 1 < argc) {
			o->socket = argv[++i];
			continue;
		}
		for (k = 0; extra && extra[k]; k++) {
			if (strcmp(a, extra[k]) == 0 && i + 1 < argc) {
				extra_val[k] = argv[++i];
				matched = 1;
				break;
			}
		}
		if (matched)
			continue;
		if (a[0] == '-' && a[1] != '\0' &&
		    !(a[1] >= '0' && a[1] <= '9') && a[1] != '.') {
			fprintf(stderr, "statecast: unknown option '%s'\n", a);
			fprintf(stderr, "usage: statecast %s\n", usage);
			return 2;
		}
		if (o->npos == 8) {
			fprintf(stderr, "usage: statecast %s\n", usage);
			return 2;
		}
		o->pos[o->npos++] = a;
	}
	return client_shard_route(o, argc, argv, usage);
}

static int connect_tcp(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *res, *ai;
	size_t hl;
	int rc, fd = -1, err = 0;

	if (!colon || (hl = (size_t)(colon - hostport)) >= sizeof host) {
		fprintf(stderr, "statecast: --rpc wants HOST:PORT, not '%s'\n",
			hostport);
		return -1;
	}
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		fprintf(stderr, "statecast: cannot resolve %s: %s\n", hostport,
			gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = err;
	return fd;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int client_connect(client *c, const client_opts *o)
{
	memset(c, 0, sizeof *c);
	c->next_id = 1;
	snprintf(c->where, sizeof c->where, "%s",
		 o->socket ? o->socket : o->rpc);
	c->fd = o->socket ? connect_unix(o->socket) : connect_tcp(o->rpc);
	if (c->fd < 0) {
		fprintf(stderr,
			"statecast: cannot reach statecastd at %s: %s\n"
			"  is the daemon running? choose it with "
			"--rpc HOST:PORT or --socket PATH\n",
			c->where, strerror(errno));
		return -1;
	}
	rpc_buf_init(&c->out, OUT_MAX);
	rpc_limits_default(&c->lim);
	/* Results (a long history, a big list) may exceed what the daemon
	 * accepts as a request. */
	c->lim.max_frame = 256u << 20;
	c->lim.max_elems = 1u << 30;
	rpc_scan_init(&c->scan);
	c->dec = rpc_dec_new();
	if (!c->dec) {
		close(c->fd);
		return -1;
	}
	/* A daemon with rpc.token wants `auth` first on TCP connections. */
	if (!o->socket && o->token && o->token[0]) {
		rpc_buf *b = client_begin(c, "auth");
		rpc_msg resp;
		rpc_put_map(b, 1);
		rpc_put_cstr(b, "token");
		rpc_put_cstr(b, o->token);
		if (client_call(c, &resp, NULL, NULL) != 0) {
			client_close(c);
			return -1;
		}
	}
	return 0;
}

void client_close(client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	rpc_buf_release(&c->out);
	free(c->in);
	if (c->dec)
		rpc_dec_free(c->dec);
	c->dec = NULL;
	c->in = NULL;
}

rpc_buf *client_begin(client *c, const char *method)
{
	rpc_buf_reset(&c->out);
	rpc_put_request(&c->out, c->next_id++, method);
	return &c->out;
}

static int send_all(client *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until one whole frame is buffered; decodes it into *m. */
static int read_msg(client *c, rpc_msg *m)
{
	size_t flen;
	int rc;

	/* Drop the frame handed out last time. */
	if (c->skip) {
		memmove(c->in, c->in + c->skip, c->inlen - c->skip);
		c->inlen -= c->skip;
		c->skip = 0;
	}
	for (;;) {
		rc = rpc_scan_frame(&c->scan, c->in, c->inlen, &c->lim, &flen);
		if (rc < 0) {
			fprintf(stderr, "statecast: bad reply from %s: %s\n",
				c->where, rpc_strerror(rc));
			return -1;
		}
		if (rc == 1)
			break;
		if (io_grow(&c->in, &c->incap, c->inlen + 65536, 1, 131072))
			return -1;
		ssize_t r =
		    c->recv_fn
			? c->recv_fn(c->recv_ctx, c->fd, c->in + c->inlen,
				     c->incap - c->inlen)
			: recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->inlen += (size_t)r;
		c->rx_bytes += (uint64_t)r;
	}
	c->skip = flen;
	c->frame_end = c->rx_bytes - (c->inlen - flen);
	rc = rpc_decode(c->dec, c->in, flen, m);
	if (rc) {
		fprintf(stderr, "statecast: bad reply from %s: %s\n", c->where,
			rpc_strerror(rc));
		return -1;
	}
	return 0;
}

int client_call(client *c, rpc_msg *resp, client_notify_fn fn, void *ctx)
{
	uint32_t id = c->next_id - 1;

	if (c->out.err) {
		fprintf(stderr, "statecast: request too large\n");
		return -1;
	}
	if (send_all(c, c->out.p, c->out.len)) {
		fprintf(stderr, "statecast: lost the connection to %s: %s\n",
			c->where, strerror(errno));
		return -1;
	}
	for (;;) {
		if (read_msg(c, resp)) {
			fprintf(stderr, "statecast: %s closed the connection\n",
				c->where);
			return -1;
		}
		if (resp->kind == RPC_NOTIFY) {
			if (fn)
				fn(ctx, resp);
			continue;
		}
		if (resp->kind == RPC_RESPONSE && resp->id == id)
			break;
	}
	if (resp->error) {
		fprintf(stderr, "statecast: error %lld (%s): %.*s\n",
			(long long)resp->err_code,
			rpc_code_name((int)resp->err_code),
			(int)resp->err_msg.n, resp->err_msg.p);
		return 1;
	}
	return 0;
}

int client_next(client *c, rpc_msg *m)
{
	for (;;) {
		if (read_msg(c, m))
			return -1;
		if (m->kind == RPC_NOTIFY)
			return 0;
	}
}

static void print_str(FILE *f, rpc_str s)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < s.n; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void client_print_json(FILE *f, const rpc_val *v)
{
	size_t i, n;
	double d;
	int64_t k;
	rpc_str s;
	int b;

	switch (rpc_val_type(v)) {
	case RPC_T_BOOL:
		rpc_val_bool(v, &b);
		fputs(b ? "true" : "false", f);
		break;
	case RPC_T_INT:
		if (rpc_val_i64(v, &k) == 0) {
			fprintf(f, "%lld", (long long)k);
			break;
		}
		rpc_val_f64(v, &d);
		fprintf(f, "%.17g", d);
		break;
	case RPC_T_FLOAT:
		rpc_val_f64(v, &d);
		/* %.17g is exact for doubles and for floats widened to
		 * double, so JSON carries the model's values bit for bit. */
		if (isfinite(d))
			fprintf(f, "%.17g", d);
		else
			fputs("null", f);
		break;
	case RPC_T_STR:
		rpc_val_str(v, &s);
		print_str(f, s);
		break;
	case RPC_T_ARRAY:
		n = rpc_val_len(v);
		fputc('[', f);
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			client_print_json(f, rpc_val_at(v, i));
		}
		fputc(']', f);
		break;
	case RPC_T_MAP:
		n = rpc_val_len(v);
		fputc('{', f);
		for (i = 0; i < n; i++) {
			const rpc_val *val;
			if (i)
				fputc(',', f);
			if (rpc_val_entry(v, i, &s, &val) != 0) {
				s.p = "?";
				s.n = 1;
			}
			print_str(f, s);
			fputc(':', f);
			client_print_json(f, val);
		}
		fputc('}', f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

double client_num(const rpc_val *map, const char *key, double def)
{
	double d;

	if (rpc_val_f64(rpc_val_get(map, key), &d) != 0)
		return def;
	return d;
}

const char *client_str(const rpc_val *map, const char *key, char *buf,
		       size_t cap)
{
	rpc_str s;

	buf[0] = '\0';
	if (rpc_val_str(rpc_val_get(map, key), &s) == 0)
		snprintf(buf, cap, "%.*s", (int)s.n, s.p);
	return buf;
}
