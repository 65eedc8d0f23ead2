/*
 * bench/loadgen.c: Graphite plaintext load for statecastd and its peers.
 *
 * Streams S distinct series over K TCP connections, one sample per series per
 * round (series i always on connection i % K, so each series' samples stay
 * in order), at a fixed total rate or flat out, for a sample count or a
 * duration, then stops by itself. Loopback use only.
 *
 * What "sustained" means: the receiver has processed every sample, not that
 * the kernel took the bytes. So the run ends when one of the --until probes
 * says everything arrived:
 *   --until-rpc HOST:PORT     statecastd's `stats` RPC counters `stepped`
 *                             (through the model) plus `rejected` reach it
 *   --until-sink PORT         loadgen listens on PORT as the relay's
 *                             destination and counts the lines it receives
 *   --until-metric HOST:PORT/PATH NAME   an HTTP /metrics text counter
 *                             (VictoriaMetrics' rows inserted) reaches it
 * The reported rate is samples / (time from the first byte sent to the
 * probe's success), probed every 5 ms. With --drain (and --until-rpc) it
 * then waits until statecastd's store has committed every row it was
 * handed (`stats`: store_queued_rows 0) and also reports drained_s and
 * drained_rate = samples / (first byte to that moment): the stricter
 * figure, since a daemon whose writer lags has not finished the work. The wait
 * gives up after 10 s without progress (statecastd: neither its processed count
 * rose nor its store queue shrank, so a daemon holding reads while SQLite
 * drains is still waited for); then complete=0, rate= is what was processed by
 * the last progress over the time to it, and the exit status is 1.
 *
 * Latency (--latency-rpc HOST:PORT, statecastd only): the first M series are
 * named PREFIX.lat<j> (also without --latency-rpc when --latency-series M is
 * given, so a first run can prime those series: a new series forecasts only
 * once it has learnt its step); loadgen subscribes to PREFIX.lat* and measures,
 * for every forecast notification, the time from the send of the sample that
 * produced it to the notification, by two rulers:
 *   kernel (lat_k_*): the push arrived at the subscriber's socket, the
 *     kernel's receive stamp (SO_TIMESTAMPNS) of the read that completed
 *     the notification. On loopback the kernel stamps it inside the
 *     daemon's own write(): this is the daemon's latency, and the one
 *     issue 9's target (p99 < 2 ms) is judged on. TCP gives a read the
 *     stamp of the last segment it took bytes from, so reads are of at
 *     most LAT_READ bytes: a notification whose read ran on into a later
 *     write's bytes gets that later stamp (an over-estimate, never an
 *     under-estimate).
 *   user (lat_*, the figure of every run before lat11): loadgen's reader
 *     thread had it, i.e. plus the time that thread waited for a core,
 *     which on a loaded machine was most of the slow samples
 *     (bench/results/lat10.md).
 * The send is the moment the write() that carried the sample to the
 * Graphite socket returned, the stamp taken right after it; a notification
 * that reached the subscriber's socket before that (the daemon preempted
 * the sender inside its write, or between the write and the stamp) is
 * timed from the stamp taken right before that write instead (until lat8
 * such samples were dropped, and a daemon that answered that fast lost its
 * fastest samples from the count, bench/results/lat8.md). Both rulers use
 * the same send time for a sample, so the kernel figure is never above the
 * user one. lat_early counts those notifications; lat_send_win_*: how long
 * the timed samples' writes took from the first stamp to the second, the
 * most a preempted sender can have moved a send time. Without kernel stamps
 * (no control message came) loadgen says so on stderr and prints
 * lat_k_n=0 and no kernel figure.
 *
 * Timestamps: series i's sample of round r is stamped T0 + r x STEP (--step,
 * 60 s). T0 is --t0 (1.7e9 by default, November 2023: every figure before
 * session 15 was taken with it), or --end T|now|now-SEC puts the last round
 * at T (a benchmark of throughput should: statecastd's retention cutoff is
 * the wall clock minus store.retention_s / store.forecast_retention_s, so
 * samples three years old make its store writer delete what the run
 * stores, bench/results/wal15.md section 0). A run whose last timestamp
 * would be after the wall clock is refused: statecastd rejects samples
 * past now + ingest.max_skew_s (10 min), and no live feed sends them.
 *
 * Output: one line of key=value pairs (tests and bench/perf.sh parse it);
 * t_first and t_last are the first and last timestamps sent.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tools/client.h"

#define OUTBUF (64 * 1024)
/* The subscriber's reads, in bytes: small, for fine kernel stamps (see the
 * header); at 50k/s that is about 1000 reads a second. */
#define LAT_READ 256
/* Reads whose bytes are still buffered in the client (a ring). */
#define LAT_RX 8192

typedef struct opts {
	const char *graphite, *until_rpc, *until_metric, *metric_name;
	const char *latency_rpc, *prefix, *lat_trace;
	int conns, until_sink, lat_series, drain;
	long series;
	long long count;
	double rate, duration, step, t0;
	const char *end; /* --end: the last sample at or before it */
} opts;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Connects to "host:port" (numeric or resolvable). */
static int dial(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res;
	int fd, one = 1;

	if (!colon || (size_t)(colon - addr) >= sizeof host) {
		fprintf(stderr, "loadgen: bad address '%s' (HOST:PORT)\n",
			addr);
		exit(2);
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
		fprintf(stderr, "loadgen: cannot resolve '%s'\n", addr);
		exit(1);
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
		die(addr);
	freeaddrinfo(res);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Decimal of a non-negative integer; returns its length. */
static int utoa(char *out, unsigned long long v)
{
	char tmp[24];
	int n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* ---- msgpack-RPC: tools/client.h, the CLI's own client ---- */

static void rpcc_open(client *c, const char *addr)
{
	client_opts o;

	memset(&o, 0, sizeof o);
	o.rpc = addr;
	if (client_connect(c, &o))
		exit(1);
}

/* The receiver's processed count: samples through the model, plus those
 * it refused (out of order ones included). Not accepted samples: those
 * are counted as they are parsed, and one poll phase may read a whole run
 * before the tick that steps it. *queued (if not NULL): rows waiting for
 * its store, 0 without one. */
/* statecastd's ticks (loop iterations that stepped) and the most samples
 * one tick stepped (NAN from a daemon that does not count it), from the
 * last `stats` answer: how the run was cut into ticks. */
static double stat_ticks, stat_tick_max = NAN;
/* ... and the seconds its loop spent in those ticks, by the clock and in
 * CPU time (NAN from a daemon that does not count them). */
static double stat_tick_wall = NAN, stat_tick_cpu = NAN;

static double rpcc_stats_processed(client *c, double *queued)
{
	rpc_msg resp;

	rpc_put_map(client_begin(c, "stats"), 0);
	if (client_call(c, &resp, NULL, NULL))
		exit(1);
	if (queued)
		*queued = client_num(resp.result, "store_queued_rows", 0);
	stat_ticks = client_num(resp.result, "ticks", NAN);
	stat_tick_max = client_num(resp.result, "tick_max", NAN);
	stat_tick_wall = client_num(resp.result, "tick_wall_s", NAN);
	stat_tick_cpu = client_num(resp.result, "tick_cpu_s", NAN);
	return client_num(resp.result, "stepped", NAN) +
	       client_num(resp.result, "rejected", NAN);
}

/* ---- the sink: counts newlines from every connection ---- */

typedef struct sink {
	int lfd;
	volatile long long lines;
	pthread_mutex_t mu;
} sink;

static void *sink_conn(void *arg)
{
	void **a = arg;
	sink *s = a[0];
	int fd = (int)(intptr_t)a[1];
	char buf[1 << 16];
	ssize_t n;

	free(a);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		long long k = 0;
		ssize_t i;
		for (i = 0; i < n; i++)
			k += buf[i] == '\n';
		pthread_mutex_lock(&s->mu);
		s->lines += k;
		pthread_mutex_unlock(&s->mu);
	}
	close(fd);
	return NULL;
}

static void *sink_accept(void *arg)
{
	sink *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		pthread_t th;
		void **a;
		if (fd < 0)
			return NULL;
		a = malloc(2 * sizeof *a);
		a[0] = s;
		a[1] = (void *)(intptr_t)fd;
		pthread_create(&th, NULL, sink_conn, a);
		pthread_detach(th);
	}
}

static void sink_start(sink *s, int port)
{
	struct sockaddr_in sa = {0};
	int one = 1;
	pthread_t th;

	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(s->lfd, 64) < 0)
		die("sink bind");
	pthread_mutex_init(&s->mu, NULL);
	pthread_create(&th, NULL, sink_accept, s);
	pthread_detach(th);
}

/* ---- an HTTP /metrics counter (VictoriaMetrics) ---- */

static double metric_value(const char *spec, const char *name)
{
	char addr[256], req[512], *buf;
	const char *slash = strchr(spec, '/');
	size_t cap = 1 << 22, len = 0;
	double sum = 0;
	int fd, found = 0;
	ssize_t n;
	char *line;

	if (!slash || (size_t)(slash - spec) >= sizeof addr)
		return NAN;
	memcpy(addr, spec, (size_t)(slash - spec));
	addr[slash - spec] = '\0';
	fd = dial(addr);
	snprintf(req, sizeof req,
		 "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
		 slash, addr);
	write_all(fd, req, strlen(req));
	buf = malloc(cap + 1);
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	/* Sum every sample of the family: NAME or NAME{labels}. */
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		size_t nl = strlen(name);
		if (strncmp(line, name, nl) == 0 &&
		    (line[nl] == ' ' || line[nl] == '{')) {
			char *sp = strrchr(line, ' ');
			if (sp) {
				sum += strtod(sp + 1, NULL);
				found = 1;
			}
		}
	}
	free(buf);
	return found ? sum : 0;
}

/* ---- latency ---- */

/* One read of the subscriber's socket: where it ended in the byte stream
 * and the kernel's arrival stamp (CLOCK_MONOTONIC seconds, NAN: none). */
typedef struct lat_rx {
	uint64_t end;
	double k;
} lat_rx;

typedef struct lat {
	client c;
	const opts *o;
	/* [lat_series * rounds]: when the write() carrying sample (j, r)
	 * returned (0 until it has), and when that write began (0 until
	 * then). */
	double *sent, *start;
	long long rounds;
	double *got;  /* latencies, seconds: the reader had it */
	double *kgot; /* ... arrived at the socket (NAN: no kernel stamp) */
	double *at;   /* when each arrived, reader (--lat-trace) */
	double *kat;  /* ... and kernel (NAN: none) */
	long long ngot, cap;
	long long early; /* arrived before their write returned */
	double *win;	 /* the timed writes' durations, seconds */
	long long nwin;
	pthread_mutex_t mu;
	/* The reader thread's own: its reads not yet consumed, and counts. */
	lat_rx rx[LAT_RX];
	unsigned rx_head, rx_n;
	long long reads, kreads;
	int tsopt;	/* SO_TIMESTAMPNS was accepted */
	int64_t off_ns; /* clock_offset_ns() at the start */
} lat;

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns: the kernel's receive stamps are
 * on the first, the send stamps (and statecastd's trace) on the second.
 * The realtime read between two monotonic ones, the narrowest bracket of
 * 16 (a preemption inside one would skew it). NTP slews both clocks
 * alike; a step of the wall clock during the run would show as
 * lat_clock_step_us, measured again at the end. */
static int64_t clock_offset_ns(void)
{
	int64_t best = 0, width = INT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		struct timespec m1, r, m2;
		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		if (ts_ns(&m2) - ts_ns(&m1) < width) {
			width = ts_ns(&m2) - ts_ns(&m1);
			best = ts_ns(&r) - (ts_ns(&m1) + ts_ns(&m2)) / 2;
		}
	}
	return best;
}

/* The client's reads (client.recv_fn): recvmsg() of at most LAT_READ
 * bytes, noting the kernel's arrival stamp of each. */
static ssize_t lat_recv(void *ctx, int fd, void *buf, size_t n)
{
	lat *L = ctx;
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, n < LAT_READ ? n : LAT_READ};
	struct msghdr mh = {0};
	struct cmsghdr *cm;
	lat_rx *e;
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	r = recvmsg(fd, &mh, 0);
	if (r <= 0)
		return r;
	L->reads++;
	if (L->rx_n == LAT_RX) { /* not expected: forget the oldest */
		L->rx_head = (L->rx_head + 1) % LAT_RX;
		L->rx_n--;
	}
	e = &L->rx[(L->rx_head + L->rx_n++) % LAT_RX];
	e->end = L->c.rx_bytes + (uint64_t)r;
	e->k = NAN;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof ts);
			if (ts.tv_sec || ts.tv_nsec) {
				e->k = (double)(ts_ns(&ts) - L->off_ns) * 1e-9;
				L->kreads++;
			}
		}
	return r;
}

/* The kernel stamp of the notification client_next handed out last: that
 * of the read that brought its last byte. */
static double lat_frame_stamp(lat *L)
{
	uint64_t end = L->c.frame_end;

	while (L->rx_n && L->rx[L->rx_head].end < end) {
		L->rx_head = (L->rx_head + 1) % LAT_RX;
		L->rx_n--;
	}
	return L->rx_n ? L->rx[L->rx_head].k : NAN;
}

static void *lat_reader(void *arg)
{
	lat *L = arg;
	rpc_msg m;
	size_t plen = strlen(L->o->prefix);

	while (client_next(&L->c, &m) == 0) {
		double arrive = now_s(), karrive = lat_frame_stamp(L);
		double when, a, t;
		const rpc_val *p;
		rpc_str sr;
		long j;
		long long r;

		if (!rpc_str_eq(m.method, "forecast"))
			continue;
		p = rpc_val_at(m.params, 0);
		if (!p)
			p = m.params;
		if (rpc_val_str(rpc_val_get(p, "series"), &sr) ||
		    rpc_val_f64(rpc_val_get(p, "t"), &t) || sr.n <= plen + 4)
			continue;
		{
			char num[24];
			size_t k = sr.n - plen - 4 < sizeof num - 1
				       ? sr.n - plen - 4
				       : sizeof num - 1;
			memcpy(num, sr.p + plen + 4, k);
			num[k] = '\0';
			j = strtol(num, NULL, 10);
		}
		r = llround((t - L->o->t0) / L->o->step);
		if (j < 0 || j >= L->o->lat_series || r < 0 || r >= L->rounds)
			continue;
		pthread_mutex_lock(&L->mu);
		/* From the write's return, or if the notification was at the
		 * socket before that (without a kernel stamp: the write had
		 * not returned when the reader had it), from its start. */
		a = L->sent[j * L->rounds + r];
		when =
		    a > 0 && !(karrive < a) ? a : L->start[j * L->rounds + r];
		if (when > 0 && L->ngot < L->cap) {
			L->early += !(a > 0 && !(karrive < a));
			L->at[L->ngot] = arrive;
			L->kat[L->ngot] = karrive;
			L->kgot[L->ngot] = karrive - when;
			L->got[L->ngot++] = arrive - when;
		}
		pthread_mutex_unlock(&L->mu);
	}
	return NULL;
}

/* --lat-trace FILE: one line per timed sample, in arrival order:
 * "<sent us> <reader had it us> <latency us> <at the socket us> <kernel
 * latency us>" on CLOCK_MONOTONIC, the clock of statecastd's
 * STATECAST_TRACE (daemon/trace.h), to join the two; the last two are nan
 * without a kernel stamp. */
static void lat_trace_write(const lat *L, const char *path)
{
	FILE *f = fopen(path, "w");
	long long i;

	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return;
	}
	for (i = 0; i < L->ngot; i++)
		fprintf(f, "%.3f %.3f %.3f %.3f %.3f\n",
			(L->at[i] - L->got[i]) * 1e6, L->at[i] * 1e6,
			L->got[i] * 1e6, L->kat[i] * 1e6, L->kgot[i] * 1e6);
	fclose(f);
}

/* Sets at[x] = t for each timed sample x of pend on connection conn
 * (series j is on connection j % conns) whose at[x] is unset; returns how
 * many it set. */
static int stamp_lines(lat *L, double *at, double t, const long long *pend,
		       long long npend, int conn, int conns)
{
	long long q;
	int k = 0;

	pthread_mutex_lock(&L->mu);
	for (q = 0; q < npend; q++)
		if ((pend[q] / L->rounds) % conns == conn && at[pend[q]] == 0) {
			at[pend[q]] = t;
			k++;
		}
	pthread_mutex_unlock(&L->mu);
	return k;
}

/* Writes connection conn's buffer, stamping the timed samples in it (pend:
 * those of the current slice, as j * rounds + r) with the time right
 * before the write and right after it returned. */
static void send_conn(lat *L, int fd, const char *buf, size_t n,
		      const long long *pend, long long npend, int conn,
		      int conns)
{
	double b = now_s(), a;
	int timed =
	    npend ? stamp_lines(L, L->start, b, pend, npend, conn, conns) : 0;

	write_all(fd, buf, n);
	if (!timed)
		return;
	a = now_s();
	stamp_lines(L, L->sent, a, pend, npend, conn, conns);
	pthread_mutex_lock(&L->mu);
	if (L->nwin < L->cap)
		L->win[L->nwin++] = a - b;
	pthread_mutex_unlock(&L->mu);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, long long n, double p)
{
	long long k;

	if (n == 0)
		return NAN;
	k = (long long)ceil(p * (double)n) - 1;
	if (k < 0)
		k = 0;
	return v[k < n ? k : n - 1];
}

/* The kernel ruler's figures (the samples with a stamp; lat_k_missing:
 * those without), the reads, the early arrivals and the send windows;
 * without a single stamp, says so and prints no kernel figure. L->mu held.
 */
static void lat_report_kernel(lat *L)
{
	long long i, n = 0;

	for (i = 0; i < L->ngot; i++)
		if (!isnan(L->kgot[i]))
			L->kgot[n++] = L->kgot[i];
	printf(" lat_k_n=%lld lat_k_missing=%lld lat_reads=%lld "
	       "lat_reads_stamped=%lld lat_early=%lld lat_clock_step_us=%.0f",
	       n, L->ngot - n, L->reads, L->kreads, L->early,
	       (double)(clock_offset_ns() - L->off_ns) * 1e-3);
	if (n) {
		qsort(L->kgot, (size_t)n, sizeof(double), cmp_double);
		printf(" lat_k_p50_us=%.0f lat_k_p99_us=%.0f "
		       "lat_k_p999_us=%.0f",
		       pct(L->kgot, n, 0.5) * 1e6, pct(L->kgot, n, 0.99) * 1e6,
		       pct(L->kgot, n, 0.999) * 1e6);
	} else if (L->ngot) {
		fprintf(stderr,
			"loadgen: no kernel arrival stamps (%s): only the "
			"reader's figure (lat_p*) is reported\n",
			L->tsopt ? "recvmsg gave no SCM_TIMESTAMPNS"
				 : "SO_TIMESTAMPNS refused");
	}
	if (L->nwin) {
		qsort(L->win, (size_t)L->nwin, sizeof(double), cmp_double);
		printf(" lat_send_win_p99_us=%.0f lat_send_win_max_us=%.0f",
		       pct(L->win, L->nwin, 0.99) * 1e6,
		       L->win[L->nwin - 1] * 1e6);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --graphite HOST:PORT [--conns K] [--series S]\n"
		"         [--count N | --duration SEC] [--rate SAMPLES_PER_S]\n"
		"         [--prefix P] [--step SEC]\n"
		"         [--t0 T | --end T|now|now-SEC]\n"
		"         [--until-rpc HOST:PORT | --until-sink PORT |\n"
		"          --until-metric HOST:PORT/PATH --metric NAME]\n"
		"         [--drain] (with --until-rpc)\n"
		"         [--latency-rpc HOST:PORT --latency-series M]\n"
		"         [--lat-trace FILE] (with --latency-rpc)\n");
	exit(2);
}

/* --end's value: seconds since the epoch, "now" (the wall clock) or
 * "now-SEC"; -1 if it is none of them. */
static double end_time(const char *v)
{
	char *e;
	double d;

	if (!strncmp(v, "now", 3)) {
		d = (double)time(NULL);
		if (!v[3])
			return d;
		if (v[3] != '-')
			return -1;
		d -= strtod(v + 4, &e);
	} else {
		d = strtod(v, &e);
	}
	return *e || !(d > 0) ? -1 : floor(d);
}

static void parse(opts *o, int argc, char **argv)
{
	int i, t0_given = 0;

	memset(o, 0, sizeof *o);
	o->conns = 4;
	o->series = 1000;
	o->prefix = "bench";
	o->step = 60;
	o->t0 = 1.7e9;
	o->metric_name = "vm_rows_inserted_total";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--drain")) {
			o->drain = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--graphite"))
			o->graphite = v;
		else if (!strcmp(a, "--conns"))
			o->conns = atoi(v);
		else if (!strcmp(a, "--series"))
			o->series = atol(v);
		else if (!strcmp(a, "--count"))
			o->count = atoll(v);
		else if (!strcmp(a, "--duration"))
			o->duration = atof(v);
		else if (!strcmp(a, "--rate"))
			o->rate = atof(v);
		else if (!strcmp(a, "--prefix"))
			o->prefix = v;
		else if (!strcmp(a, "--t0"))
			o->t0 = atof(v), t0_given = 1;
		else if (!strcmp(a, "--end"))
			o->end = v;
		else if (!strcmp(a, "--step"))
			o->step = atof(v);
		else if (!strcmp(a, "--until-rpc"))
			o->until_rpc = v;
		else if (!strcmp(a, "--until-sink"))
			o->until_sink = atoi(v);
		else if (!strcmp(a, "--until-metric"))
			o->until_metric = v;
		else if (!strcmp(a, "--metric"))
			o->metric_name = v;
		else if (!strcmp(a, "--latency-rpc"))
			o->latency_rpc = v;
		else if (!strcmp(a, "--latency-series"))
			o->lat_series = atoi(v);
		else if (!strcmp(a, "--lat-trace"))
			o->lat_trace = v;
		else
			usage();
	}
	if (!o->graphite || o->conns < 1 || o->series < 1 ||
	    (o->count <= 0 && o->duration <= 0) || o->lat_series < 0 ||
	    (o->drain && !o->until_rpc) || o->lat_series > o->series)
		usage();
	if (o->count <= 0) /* a duration needs a rate to bound the count */
		o->count = o->rate > 0 ? (long long)(o->rate * o->duration)
				       : (long long)4e9;
	/* --end places the run's last round at or before T: t0 = T minus the
	 * rounds before it, so a benchmark's samples are as recent as a live
	 * feed's (store retention, 7 d for forecasts, leaves them alone). */
	if (o->end) {
		double e = end_time(o->end);
		long long rounds = (o->count + o->series - 1) / o->series;
		if (t0_given || e < 0 || o->count >= (long long)4e9) {
			fprintf(stderr,
				"loadgen: --end takes T, now or now-SEC, "
				"not with --t0, and needs --count or "
				"--rate\n");
			exit(2);
		}
		o->t0 = e - (double)(rounds - 1) * o->step;
	}
	/* Never a sample stamped after the wall clock: statecastd refuses
	 * those past now + ingest.max_skew_s, and no live feed sends them. A
	 * flat-out --duration run (no count) is checked round by round. */
	if (o->count < (long long)4e9) {
		long long rounds = (o->count + o->series - 1) / o->series;
		double last = o->t0 + (double)(rounds - 1) * o->step;
		if (o->t0 < 0 || last > (double)time(NULL)) {
			fprintf(stderr,
				"loadgen: the samples would run from t=%.0f to "
				"%.0f: before 1970 or after the wall clock "
				"(%.0f); give another --t0 or --end\n",
				o->t0, last, (double)time(NULL));
			exit(2);
		}
	}
	if (o->latency_rpc && o->lat_series == 0)
		o->lat_series = o->series < 16 ? (int)o->series : 16;
	if (o->latency_rpc && o->rate <= 0) {
		fprintf(stderr, "loadgen: --latency-rpc needs --rate (flat "
				"out, the send time of a line is not known)\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	opts o;
	int *fd;
	char **buf, (*names)[64] = NULL;
	size_t *fill;
	int *namelen;
	long long sent = 0, rounds, base = 0, slice;
	double start, sent_s, done_s = NAN, processed = NAN, deadline;
	double drained_s = NAN;
	double last_processed = -1, last_progress, last_done = 0;
	double queued = 0, last_queued = INFINITY, ticks0 = NAN;
	double wall0 = NAN, cpu0 = NAN;
	sink sk = {0};
	client probe;
	lat L = {0};
	pthread_t lat_th;
	long i;
	long long *pend, npend = 0;
	int c;

	parse(&o, argc, argv);
	slice = o.rate > 1000 ? (long long)(o.rate / 1000) : 1;
	rounds = (o.count + o.series - 1) / o.series;
	/* Latency lines written in the current slice, as j * rounds + r: a
	 * slice spans at most slice / series + 2 rounds. */
	pend =
	    malloc(((size_t)o.lat_series * (size_t)(slice / o.series + 2) + 1) *
		   sizeof *pend);
	names = malloc((size_t)o.series * sizeof *names);
	namelen = malloc((size_t)o.series * sizeof *namelen);
	for (i = 0; i < o.series; i++)
		namelen[i] = snprintf(
		    names[i], sizeof names[i],
		    i < o.lat_series ? "%s.lat%ld " : "%s.s%ld ", o.prefix, i);
	if (o.until_sink)
		sink_start(&sk, o.until_sink);
	if (o.until_rpc) {
		rpcc_open(&probe, o.until_rpc);
		base = (long long)rpcc_stats_processed(&probe, NULL);
		ticks0 = stat_ticks;
		wall0 = stat_tick_wall;
		cpu0 = stat_tick_cpu;
	} else if (o.until_metric) {
		base = (long long)metric_value(o.until_metric, o.metric_name);
	}
	if (o.latency_rpc) {
		char pat[128];
		L.o = &o;
		L.rounds = rounds;
		int on = 1;
		L.sent =
		    calloc((size_t)(o.lat_series * rounds), sizeof(double));
		L.start =
		    calloc((size_t)(o.lat_series * rounds), sizeof(double));
		L.cap = o.lat_series * rounds;
		L.got = malloc((size_t)L.cap * sizeof(double));
		L.kgot = malloc((size_t)L.cap * sizeof(double));
		L.at = malloc((size_t)L.cap * sizeof(double));
		L.kat = malloc((size_t)L.cap * sizeof(double));
		L.win = malloc((size_t)L.cap * sizeof(double));
		pthread_mutex_init(&L.mu, NULL);
		rpc_msg resp;
		rpc_buf *b;
		rpcc_open(&L.c, o.latency_rpc);
		/* The kernel's receive stamps, read by lat_recv. */
		if (setsockopt(L.c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
			       sizeof on) == 0)
			L.tsopt = 1;
		else
			fprintf(stderr,
				"loadgen: SO_TIMESTAMPNS refused (%s): no "
				"kernel arrival stamps\n",
				strerror(errno));
		L.off_ns = clock_offset_ns();
		L.c.recv_fn = lat_recv;
		L.c.recv_ctx = &L;
		snprintf(pat, sizeof pat, "%s.lat*", o.prefix);
		b = client_begin(&L.c, "subscribe");
		rpc_put_map(b, 1);
		rpc_put_cstr(b, "pattern");
		rpc_put_cstr(b, pat);
		if (client_call(&L.c, &resp, NULL, NULL))
			exit(1);
		/* The response came: the subscription is registered. */
		pthread_create(&lat_th, NULL, lat_reader, &L);
	}
	fd = malloc((size_t)o.conns * sizeof *fd);
	buf = malloc((size_t)o.conns * sizeof *buf);
	fill = calloc((size_t)o.conns, sizeof *fill);
	for (c = 0; c < o.conns; c++) {
		fd[c] = dial(o.graphite);
		buf[c] = malloc(OUTBUF);
	}

	start = now_s();
	deadline = o.duration > 0 ? start + o.duration : INFINITY;
	for (long long r = 0; r < rounds && sent < o.count; r++) {
		unsigned long long ts = (unsigned long long)(o.t0 + r * o.step);
		if ((double)ts > (double)time(NULL)) {
			fprintf(stderr,
				"loadgen: stopped before round %lld: "
				"its samples would be stamped after "
				"the wall clock\n",
				r);
			break;
		}
		for (i = 0; i < o.series && sent < o.count; i++) {
			int k = (int)(i % o.conns);
			char *p;
			/* A bounded, slowly varying value per series. */
			unsigned long long v =
			    (unsigned long long)((i * 7 + r) % 97);

			if (fill[k] + 96 > OUTBUF) {
				send_conn(&L, fd[k], buf[k], fill[k], pend,
					  npend, k, o.conns);
				fill[k] = 0;
			}
			p = buf[k] + fill[k];
			memcpy(p, names[i], (size_t)namelen[i]);
			p += namelen[i];
			p += utoa(p, v);
			*p++ = ' ';
			p += utoa(p, ts);
			*p++ = '\n';
			fill[k] = (size_t)(p - buf[k]);
			sent++;
			/* Only a timed run records send times (flat out,
			 * the lines leave in 64 KiB buffers). */
			if (o.latency_rpc && i < o.lat_series)
				pend[npend++] = (long long)i * rounds + r;
			/* Rate limit in slices of 1 ms worth of samples:
			 * bigger slices would be bursts that a real
			 * sender at this rate does not make, and their
			 * queueing would count as the receiver's latency. */
			if (o.rate > 0 && sent % slice == 0) {
				double due = start + (double)sent / o.rate;
				double t;
				/* Each connection's write stamps the
				 * latency series' lines it carries. */
				for (c = 0; c < o.conns; c++)
					if (fill[c]) {
						send_conn(&L, fd[c], buf[c],
							  fill[c], pend, npend,
							  c, o.conns);
						fill[c] = 0;
					}
				npend = 0;
				while ((t = now_s()) < due)
					usleep(
					    (useconds_t)((due - t) * 1e6 > 1000
							     ? 1000
							     : (due - t) * 1e6 +
								   1));
			}
		}
		if (now_s() > deadline)
			break;
	}
	for (c = 0; c < o.conns; c++)
		if (fill[c])
			send_conn(&L, fd[c], buf[c], fill[c], pend, npend, c,
				  o.conns);
	sent_s = now_s() - start;

	/* Wait until the receiver has processed everything. */
	last_progress = now_s();
	for (;;) {
		double t;
		if (o.until_sink) {
			pthread_mutex_lock(&sk.mu);
			processed = (double)sk.lines;
			pthread_mutex_unlock(&sk.mu);
		} else if (o.until_rpc) {
			processed = rpcc_stats_processed(&probe, &queued) -
				    (double)base;
		} else if (o.until_metric) {
			processed =
			    metric_value(o.until_metric, o.metric_name) -
			    (double)base;
		} else {
			break;
		}
		/* The time the answer came, not the time the probe left: a
		 * receiver busy with the backlog answers late, and the probe's
		 * send time then made runs look up to 5x faster than they were
		 * (CPU had > 2 cores on 2 in bench/perf.sh's scaling rows). */
		t = now_s();
		if (processed >= (double)sent && isnan(done_s)) {
			done_s = t - start;
			last_progress = t;
		}
		/* Every sample was stepped, so each row it made was handed to
		 * the store in the same tick: none is left to count in. */
		if (!isnan(done_s) && (!o.drain || queued == 0)) {
			if (o.drain)
				drained_s = t - start;
			break;
		}
		/* Give up after 10 s without progress: the receiver dropped
		 * samples (a relay's full queue) or is stuck. */
		if (processed > last_processed) {
			last_processed = processed;
			last_progress = t;
			last_done = t - start;
		} else if (queued < last_queued) {
			last_progress = t; /* the store drains: it will read */
		} else if (t - last_progress > 10) {
			break;
		}
		last_queued = queued;
		usleep(5000);
	}
	for (c = 0; c < o.conns; c++) {
		close(fd[c]);
		free(buf[c]);
	}
	printf("sent=%lld series=%ld conns=%d send_s=%.3f send_rate=%.0f", sent,
	       o.series, o.conns, sent_s, sent / sent_s);
	/* The first and last timestamps sent (whether retention can touch
	 * what the run stores: tests compare them with the clock). */
	if (sent > 0)
		printf(" t_first=%.0f t_last=%.0f", o.t0,
		       o.t0 + (double)((sent - 1) / o.series) * o.step);
	/* Incomplete (the receiver stopped progressing): the rate of what it
	 * did process, up to its last progress, never a made-up 0. */
	if (!isnan(processed) && !isnan(done_s))
		printf(" processed=%.0f done_s=%.3f rate=%.0f complete=1",
		       processed, done_s, sent / done_s);
	else if (!isnan(processed))
		printf(" processed=%.0f done_s=nan rate=%.0f complete=0",
		       processed,
		       last_done > 0 ? last_processed / last_done : 0.0);
	if (o.drain)
		printf(" drained_s=%.3f drained_rate=%.0f", drained_s,
		       isnan(drained_s) ? NAN : sent / drained_s);
	/* statecastd: the run's ticks, and the largest tick since start
	 * (priming included). */
	if (o.until_rpc && !isnan(ticks0))
		printf(" ticks=%.0f tick_max=%.0f tick_wall_s=%.3f "
		       "tick_cpu_s=%.3f",
		       stat_ticks - ticks0, stat_tick_max,
		       stat_tick_wall - wall0, stat_tick_cpu - cpu0);
	if (o.latency_rpc) {
		usleep(200000); /* the last notifications */
		pthread_mutex_lock(&L.mu);
		if (o.lat_trace)
			lat_trace_write(&L, o.lat_trace);
		qsort(L.got, (size_t)L.ngot, sizeof(double), cmp_double);
		printf(" lat_n=%lld lat_p50_us=%.0f lat_p99_us=%.0f "
		       "lat_p999_us=%.0f",
		       L.ngot, pct(L.got, L.ngot, 0.5) * 1e6,
		       pct(L.got, L.ngot, 0.99) * 1e6,
		       pct(L.got, L.ngot, 0.999) * 1e6);
		lat_report_kernel(&L);
		pthread_mutex_unlock(&L.mu);
	}
	printf("\n");
	fflush(stdout);
	/* Threads blocked in read() end with the process. */
	return isnan(processed) ||
		       (!isnan(done_s) && !(o.drain && isnan(drained_s)))
		   ? 0
		   : 1;
}
