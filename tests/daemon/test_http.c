/*
 * tests/daemon/test_http.c: the HTTP seam over a real loopback socket.
 * An "owner" thread plays the loop: it waits for want(), asks which pages
 * are wanted and publishes them, as statecastd's loop thread does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http.h"
#include "tests/harness.h"

typedef struct owner {
	srv_http *h;
	sem_t wake;
	int quit;
	int renders[SRV_HTTP_NPAGES];
	pthread_t th;
} owner;

static void want(void *arg)
{
	owner *o = arg;
	sem_post(&o->wake);
}

static void *owner_main(void *arg)
{
	owner *o = arg;
	char *body;
	int p;

	for (;;) {
		unsigned w;
		sem_wait(&o->wake);
		if (o->quit)
			return NULL;
		w = srv_http_wanted(o->h);
		for (p = 0; p < SRV_HTTP_NPAGES; p++) {
			if (!(w & (1u << p)))
				continue;
			o->renders[p]++;
			body = malloc(64);
			snprintf(body, 64, "page %d render %d\n", p,
				 o->renders[p]);
			srv_http_publish(o->h, p, body, strlen(body));
		}
	}
}

/* Sends a raw request, returns the whole response (malloc'd). */
static char *request(int port, const char *req)
{
	struct sockaddr_in a;
	char *buf = malloc(65536);
	size_t n = 0;
	ssize_t k;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	buf[0] = '\0';
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return buf;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return buf;
	}
	while (n < 65535 && (k = read(fd, buf + n, 65535 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void start(owner *o, int with_want)
{
	srv_http_config c;

	memset(&c, 0, sizeof c);
	memset(o, 0, sizeof *o);
	c.host = "127.0.0.1";
	c.port = 0;
	c.want = with_want ? want : NULL;
	c.want_arg = o;
	c.wait_ms = 5000;
	sem_init(&o->wake, 0, 0);
	CHECK(srv_http_start(&o->h, &c) == 0);
	CHECK(srv_http_port(o->h) > 0);
	pthread_create(&o->th, NULL, owner_main, o);
}

static void stop(owner *o)
{
	srv_http_stop(o->h);
	o->quit = 1;
	sem_post(&o->wake);
	pthread_join(o->th, NULL);
	sem_destroy(&o->wake);
}

static void test_serves_fresh_snapshots(void)
{
	owner o;
	char *r;

	start(&o, 1);
	r = request(srv_http_port(o.h), "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strncmp(r, "HTTP/1.0 200", 12) == 0 ||
	      strncmp(r, "HTTP/1.1 200", 12) == 0);
	CHECK(strstr(r, "Content-Type: text/plain; version=0.0.4") != NULL);
	CHECK(strstr(r, "\r\n\r\npage 0 render 1\n") != NULL);
	free(r);
	/* Each request waits for a render newer than itself. */
	r = request(srv_http_port(o.h), "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, "\r\n\r\npage 0 render 2\n") != NULL);
	free(r);
	r = request(srv_http_port(o.h), "GET / HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, "Content-Type: text/html") != NULL);
	CHECK(strstr(r, "Content-Security-Policy: default-src 'none'") != NULL);
	CHECK(strstr(r, "\r\n\r\npage 1 render 1\n") != NULL);
	free(r);
	r = request(srv_http_port(o.h), "HEAD / HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 200 ") != NULL);
	CHECK(strstr(r, "page 1") == NULL);
	free(r);
	stop(&o);
}

static void test_errors(void)
{
	owner o;
	char *r;

	start(&o, 1);
	r = request(srv_http_port(o.h), "GET /nope HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 404 ") != NULL);
	free(r);
	r = request(srv_http_port(o.h),
		    "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	CHECK(strstr(r, " 405 ") != NULL);
	CHECK(strstr(r, "Allow: GET, HEAD") != NULL);
	free(r);
	CHECK_EQ_INT(o.renders[0] + o.renders[1], 0);
	stop(&o);
}

static void test_owner_never_publishes(void)
{
	owner o;
	char *r;
	char *body;

	/* Without want() the server serves what was published, and 503
	 * before anything was. */
	start(&o, 0);
	r = request(srv_http_port(o.h), "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, " 503 ") != NULL);
	free(r);
	body = strdup("static\n");
	CHECK(srv_http_publish(o.h, SRV_HTTP_METRICS, body, 7) == 0);
	r = request(srv_http_port(o.h), "GET /metrics HTTP/1.0\r\n\r\n");
	CHECK(strstr(r, "\r\n\r\nstatic\n") != NULL);
	free(r);
	CHECK(srv_http_wanted(o.h) == 1u << SRV_HTTP_METRICS);
	CHECK(srv_http_wanted(o.h) == 0);
	CHECK(srv_http_publish(o.h, 7, strdup("x"), 1) == -EINVAL);
	stop(&o);
}

static void test_bad_address_and_busy_port(void)
{
	srv_http_config c;
	srv_http *a, *b;

	memset(&c, 0, sizeof c);
	c.host = "localhost"; /* not numeric */
	CHECK(srv_http_start(&a, &c) == -EINVAL);
	CHECK(a == NULL);
	c.host = "127.0.0.1";
	CHECK(srv_http_start(&a, &c) == 0);
	c.port = srv_http_port(a);
	CHECK(srv_http_start(&b, &c) < 0);
	srv_http_stop(a);
	srv_http_stop(NULL);
}

int main(void)
{
	TH_RUN(test_serves_fresh_snapshots);
	TH_RUN(test_errors);
	TH_RUN(test_owner_never_publishes);
	TH_RUN(test_bad_address_and_busy_port);
	return th_summary();
}
