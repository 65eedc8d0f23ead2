/*
 * daemon/http.c: see http.h. libmicrohttpd runs one thread per connection
 * (bounded by max_connections) so that a request waiting for a fresh
 * snapshot never delays another connection.
 */
#include "daemon/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* An immutable published page; freed by whoever drops the last ref. */
typedef struct snap {
	char *body;
	size_t len;
	int refs; /* guarded by srv_http.mu */
} snap;

struct srv_http {
	struct MHD_Daemon *mhd;
	int port;
	srv_http_config cfg;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* a page was published, or stopping */
	snap *cur[SRV_HTTP_NPAGES];
	unsigned long gen[SRV_HTTP_NPAGES]; /* publications so far */
	unsigned wanted;
	int stopping;
};

static const struct {
	const char *path;
	const char *type;
} pages[SRV_HTTP_NPAGES] = {
    [SRV_HTTP_METRICS] = {"/metrics", "text/plain; version=0.0.4; "
				      "charset=utf-8"},
    [SRV_HTTP_STATUS] = {"/", "text/html; charset=utf-8"},
};

/* Caller holds h->mu. */
static void snap_unref_locked(snap *s)
{
	if (s && --s->refs == 0) {
		free(s->body);
		free(s);
	}
}

typedef struct send_ref {
	srv_http *h;
	snap *s;
} send_ref;

/* libmicrohttpd is done with the buffer: drop the request's reference. */
static void sent(void *cls)
{
	send_ref *r = cls;

	pthread_mutex_lock(&r->h->mu);
	snap_unref_locked(r->s);
	pthread_mutex_unlock(&r->h->mu);
	free(r);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code,
				  const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Waits (bounded) for a snapshot of page p newer than this request. */
static snap *fresh_snapshot(srv_http *h, int p)
{
	struct timespec deadline;
	unsigned long gen0;
	snap *s;

	pthread_mutex_lock(&h->mu);
	gen0 = h->gen[p];
	h->wanted |= 1u << p;
	pthread_mutex_unlock(&h->mu);
	if (h->cfg.want)
		h->cfg.want(h->cfg.want_arg);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += h->cfg.wait_ms / 1000;
	deadline.tv_nsec += (long)(h->cfg.wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	while (h->cfg.want && h->gen[p] == gen0 && !h->stopping)
		if (pthread_cond_timedwait(&h->cv, &h->mu, &deadline) ==
		    ETIMEDOUT)
			break;
	s = h->cur[p];
	if (s)
		s->refs++;
	pthread_mutex_unlock(&h->mu);
	return s;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	static int first_call_marker;
	srv_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	send_ref *ref;
	snap *s;
	int p;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL) {
		/* Headers only so far; answer on the next call. */
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* Discard any body first: a response can be queued only
		 * once the upload is consumed. */
		if (*upload_data_size != 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed\n");
	}
	for (p = 0; p < SRV_HTTP_NPAGES; p++)
		if (strcmp(url, pages[p].path) == 0)
			break;
	if (p == SRV_HTTP_NPAGES)
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: try / or /metrics\n");
	s = fresh_snapshot(h, p);
	if (!s)
		return reply_text(
		    c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "statecastd has not rendered this page yet\n");
	ref = malloc(sizeof *ref);
	r = ref ? MHD_create_response_from_buffer_with_free_callback_cls(
		      s->len, s->body, sent, ref)
		: NULL;
	if (!r) {
		free(ref);
		pthread_mutex_lock(&h->mu);
		snap_unref_locked(s);
		pthread_mutex_unlock(&h->mu);
		return MHD_NO;
	}
	ref->h = h;
	ref->s = s;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, pages[p].type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (p == SRV_HTTP_STATUS)
		/* The page is self-contained: inline CSS and SVG only. */
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; "
					"style-src 'unsafe-inline'; "
					"img-src data:");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int srv_http_start(srv_http **out, const srv_http_config *c)
{
	struct addrinfo hints, *ai = NULL;
	const union MHD_DaemonInfo *info;
	unsigned flags;
	srv_http *h;
	char port[16];
	int err;

	*out = NULL;
	if (!c->host || c->port < 0 || c->port > 65535)
		return -EINVAL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof port, "%d", c->port);
	if (getaddrinfo(c->host, port, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	h = calloc(1, sizeof *h);
	if (!h) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	h->cfg = *c;
	h->cfg.host = NULL; /* not kept: the caller's string */
	if (h->cfg.wait_ms <= 0)
		h->cfg.wait_ms = 1000;
	if (h->cfg.max_connections <= 0)
		h->cfg.max_connections = 16;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	flags = MHD_USE_THREAD_PER_CONNECTION |
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->mhd = MHD_start_daemon(
	    flags, (uint16_t)c->port, NULL, NULL, handle, h,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)h->cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)10, MHD_OPTION_END);
	err = errno;
	freeaddrinfo(ai);
	if (!h->mhd) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return err == EADDRINUSE ? -EADDRINUSE : -EIO;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : c->port;
	*out = h;
	return 0;
}

int srv_http_port(const srv_http *h)
{
	return h->port;
}

unsigned srv_http_wanted(srv_http *h)
{
	unsigned w;

	pthread_mutex_lock(&h->mu);
	w = h->wanted;
	h->wanted = 0;
	pthread_mutex_unlock(&h->mu);
	return w;
}

int srv_http_publish(srv_http *h, int page, char *body, size_t len)
{
	snap *s;

	if (page < 0 || page >= SRV_HTTP_NPAGES || !body) {
		free(body);
		return -EINVAL;
	}
	s = malloc(sizeof *s);
	if (!s) {
		free(body);
		return -ENOMEM;
	}
	s->body = body;
	s->len = len;
	s->refs = 1; /* the server's own */
	pthread_mutex_lock(&h->mu);
	snap_unref_locked(h->cur[page]);
	h->cur[page] = s;
	h->gen[page]++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

void srv_http_stop(srv_http *h)
{
	int p;

	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	/* Joins every connection thread: no request runs after this. */
	MHD_stop_daemon(h->mhd);
	for (p = 0; p < SRV_HTTP_NPAGES; p++)
		snap_unref_locked(h->cur[p]);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
