/*
 * bench/parsers_bench.c: what the wire parsers cost and what the msgpack
 * pre-scan saves. Writes a markdown report (argv[1], default stdout).
 *
 *   build/bench/parsers_bench bench/results/parsers.md
 *
 * 1. Memory with msgpack bombs: each input goes, in a fresh child process
 *    (address space capped at 4 GiB so a runaway cannot hurt the shared
 *    machine), through our path (rpc_scan_frame, then rpc_decode if
 *    admitted) and through msgpack-c alone (msgpack_unpack, the peer). The
 *    child's peak RSS comes from wait4().
 * 2. Throughput, medians of 7 runs, each peer measured in the same run:
 *    Graphite lines via io_lines + io_graphite_parse vs a hand-rolled
 *    sscanf/strtod parser on NUL-terminated lines (what many small daemons
 *    do); RPC push frames (100 triples) via pre-scan + rpc_decode + reading
 *    every triple vs msgpack_unpack alone + the same reads on msgpack_object.
 *    Influx lines are reported alone (no peer in the tree).
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/graphite.h"
#include "io/influx.h"
#include "io/rpc.h"

static double now_s(void)
{
	struct timespec ts;

	/* CPU time of this thread: the machine is shared, wall time is not
	   ours. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* ---- 1. bombs ---------------------------------------------------------- */

typedef struct bomb {
	const char *name;
	unsigned char bytes[64];
	size_t len;
	size_t nils; /* that many 0xc0 bytes follow bytes[] */
} bomb;

/* The input of b, built in the child (the big one is 16 MiB). */
static unsigned char *materialize(const bomb *b, size_t *len)
{
	unsigned char *p = malloc(b->len + b->nils);

	memcpy(p, b->bytes, b->len);
	memset(p + b->len, 0xc0, b->nils);
	*len = b->len + b->nils;
	return p;
}

/* Returns the child's exit code; *rss_kb its peak RSS. */
static int in_child(int ours, const bomb *b, long *rss_kb)
{
	struct rusage ru;
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = {4UL << 30, 4UL << 30};
		size_t len;
		const char *in = (const char *)materialize(b, &len);
		setrlimit(RLIMIT_AS, &rl);
		if (ours) {
			rpc_limits lim;
			rpc_scan s;
			size_t fl;
			int r;
			rpc_limits_default(&lim);
			rpc_scan_init(&s);
			r = rpc_scan_frame(&s, in, len, &lim, &fl);
			if (r == 1) {
				rpc_dec *d = rpc_dec_new();
				rpc_msg m;
				r = rpc_decode(d, in, fl, &m);
				_exit(r == RPC_OK ? 0 : 10 - r);
			}
			_exit(r == 0 ? 2 : 10 - r); /* 2 = waits for more */
		} else {
			msgpack_zone z;
			msgpack_object o;
			size_t off = 0;
			msgpack_unpack_return r;
			msgpack_zone_init(&z, 8192);
			r = msgpack_unpack(in, len, &off, &z, &o);
			_exit(r == MSGPACK_UNPACK_SUCCESS	? 0
			      : r == MSGPACK_UNPACK_NOMEM_ERROR ? 3
			      : r == MSGPACK_UNPACK_CONTINUE	? 2
								: 4);
		}
	}
	wait4(pid, &st, 0, &ru);
	*rss_kb = ru.ru_maxrss;
	if (WIFSIGNALED(st))
		return 100 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static const char *outcome(int ours, int code)
{
	static char buf[64];

	if (code == 0)
		return "decoded";
	if (code == 2)
		return ours ? "waits for more bytes (bounded)"
			    : "waits for more bytes";
	if (!ours && code == 3)
		return "allocation failed (NOMEM)";
	if (!ours && code == 4)
		return "parse error";
	if (code >= 100) {
		snprintf(buf, sizeof(buf), "killed by signal %d", code - 100);
		return buf;
	}
	if (ours && code > 10) {
		snprintf(buf, sizeof(buf), "refused: %s",
			 rpc_strerror(10 - code));
		return buf;
	}
	snprintf(buf, sizeof(buf), "exit %d", code);
	return buf;
}

static void bombs(FILE *out)
{
	static bomb b[] = {
	    {"array32 of 2^32-1 (`dd ff ff ff ff`)",
	     {0xdd, 0xff, 0xff, 0xff, 0xff},
	     5,
	     0},
	    {"map32 of 2^28 (`df 10 00 00 00`)",
	     {0xdf, 0x10, 0x00, 0x00, 0x00},
	     5,
	     0},
	    {"request whose params are an array32 of 2^31",
	     {0x94, 0x00, 0x01, 0xa1, 'x', 0xdd, 0x80, 0x00, 0x00, 0x00},
	     10,
	     0},
	    {"str32 declaring 2 GiB", {0xdb, 0x7f, 0xff, 0xff, 0xff}, 5, 0},
	    {"60 nested arrays", {0}, 61, 0},
	    {"array32 of 2^24 followed by 2^24 nils (16 MiB)",
	     {0xdd, 0x01, 0x00, 0x00, 0x00},
	     5,
	     1u << 24},
	};
	int i, k;

	memset(b[4].bytes, 0x91, 60);
	b[4].bytes[60] = 0xc0;
	fprintf(out,
		"## Memory with msgpack bombs\n\n"
		"Default limits (limits.rpc_max_frame 1M, rpc_max_depth 16, "
		"rpc_max_elems 262144).\nPeak RSS of a fresh child process "
		"(the baseline of an empty child is\nincluded), address space "
		"capped at 4 GiB.\n\n"
		"| input | bytes | ours: outcome | ours: peak RSS | msgpack-c "
		"alone: outcome | msgpack-c alone: peak RSS |\n"
		"|---|---|---|---|---|---|\n");
	for (i = 0; i < (int)(sizeof(b) / sizeof(b[0])); i++) {
		long rss[2];
		int code[2];
		char o0[64];
		for (k = 0; k < 2; k++)
			code[k] = in_child(k == 0, &b[i], &rss[k]);
		snprintf(o0, sizeof(o0), "%s", outcome(1, code[0]));
		fprintf(out, "| %s | %zu | %s | %.1f MiB | %s | %.1f MiB |\n",
			b[i].name, b[i].len + b[i].nils, o0, rss[0] / 1024.0,
			outcome(0, code[1]), rss[1] / 1024.0);
	}
}

/* ---- 2. throughput ----------------------------------------------------- */

#define NLINES 200000

static char *graphite_text(size_t *len)
{
	char *t = malloc((size_t)NLINES * 64);
	size_t o = 0;
	int i;

	for (i = 0; i < NLINES; i++)
		o += (size_t)sprintf(t + o,
				     "srv%03d.cpu.load;dc=eu;host=h%d %d.%d "
				     "%d\n",
				     i % 1000, i % 37, i % 100, i % 10,
				     1700000000 + i);
	*len = o;
	return t;
}

static double sink_sum;
static io_limits glim;
static char gname[2048];

static void on_gline(void *ctx, const char *line, size_t len)
{
	io_sample s;

	(void)ctx;
	if (io_graphite_parse(line, len, 1700000000.0, &glim, gname,
			      sizeof(gname), &s) == IO_OK)
		sink_sum += s.value;
}

static double run_graphite_ours(const char *t, size_t len)
{
	char buf[4096];
	io_lines l;
	size_t off;
	double t0 = now_s();

	io_lines_init(&l, buf, sizeof(buf));
	for (off = 0; off < len; off += 65536) {
		size_t n = len - off < 65536 ? len - off : 65536;
		io_lines_feed(&l, t + off, n, on_gline, NULL);
	}
	return now_s() - t0;
}

/* The peer: copy each line, sscanf the three fields, strtod the value. */
static double run_graphite_peer(const char *t, size_t len)
{
	const char *p = t, *end = t + len;
	char line[4096], name[2048], val[64];
	double ts, t0 = now_s();

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		if (sscanf(line, "%2047s %63s %lf", name, val, &ts) == 3)
			sink_sum += strtod(val, NULL);
		p = nl + 1;
	}
	return now_s() - t0;
}

static void influx_sink(void *ctx, const io_sample *s)
{
	(void)ctx;
	sink_sum += s->value;
}

static double run_influx(void)
{
	static char lines[1000][160];
	static size_t lens[1000];
	static char *scratch;
	size_t cap = io_influx_scratch_size(&glim);
	double t0;
	int i, r;

	if (!scratch) {
		scratch = malloc(cap);
		for (i = 0; i < 1000; i++)
			lens[i] = (size_t)snprintf(
			    lines[i], sizeof(lines[i]),
			    "cpu,host=h%d,dc=eu usage_user=%d.5,usage_sys=%di "
			    "1700000000%09d",
			    i % 37, i % 100, i % 7, i);
	}
	t0 = now_s();
	for (r = 0; r < NLINES / 1000; r++)
		for (i = 0; i < 1000; i++)
			io_influx_parse(lines[i], lens[i], 1700000001.0,
					IO_PREC_NS, &glim, scratch, cap,
					influx_sink, NULL, NULL);
	return now_s() - t0;
}

#define NFRAMES	 2000
#define NTRIPLES 100

static void push_frame(rpc_buf *b, int k)
{
	int i;
	char name[32];

	rpc_put_request(b, (uint32_t)k, "push");
	rpc_put_array(b, 1);
	rpc_put_array(b, NTRIPLES);
	for (i = 0; i < NTRIPLES; i++) {
		snprintf(name, sizeof(name), "srv%03d.cpu", i);
		rpc_put_array(b, 3);
		rpc_put_cstr(b, name);
		rpc_put_f64(b, 1700000000.0 + k);
		rpc_put_f64(b, i * 0.5);
	}
}

static double run_rpc_ours(const rpc_buf *b)
{
	rpc_limits lim;
	rpc_scan sc;
	rpc_dec *d = rpc_dec_new();
	size_t off = 0, fl;
	double t0 = now_s();

	rpc_limits_default(&lim);
	rpc_scan_init(&sc);
	while (rpc_scan_frame(&sc, b->p + off, b->len - off, &lim, &fl) == 1) {
		rpc_msg m;
		const rpc_val *arr;
		size_t i, n;
		if (rpc_decode(d, b->p + off, fl, &m) == RPC_OK) {
			arr = rpc_param_at(&m, 0);
			n = rpc_val_len(arr);
			for (i = 0; i < n; i++) {
				rpc_str s;
				double t, v;
				if (rpc_triple(arr, i, &s, &t, &v) == RPC_OK)
					sink_sum += v + (double)s.n;
			}
		}
		off += fl;
	}
	t0 = now_s() - t0;
	rpc_dec_free(d);
	return t0;
}

static double run_rpc_peer(const rpc_buf *b)
{
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	double t0;

	msgpack_zone_init(&z, 8192);
	t0 = now_s();
	while (off < b->len) {
		msgpack_zone_clear(&z);
		msgpack_unpack_return r =
		    msgpack_unpack(b->p, b->len, &off, &z, &o);
		if (r != MSGPACK_UNPACK_SUCCESS &&
		    r != MSGPACK_UNPACK_EXTRA_BYTES)
			break;
		if (o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 4 &&
		    o.via.array.ptr[3].type == MSGPACK_OBJECT_ARRAY &&
		    o.via.array.ptr[3].via.array.size > 0) {
			msgpack_object a = o.via.array.ptr[3].via.array.ptr[0];
			uint32_t i;
			for (i = 0; a.type == MSGPACK_OBJECT_ARRAY &&
				    i < a.via.array.size;
			     i++) {
				msgpack_object *e =
				    a.via.array.ptr[i].via.array.ptr;
				sink_sum += e[2].via.f64 + e[0].via.str.size;
			}
		}
	}
	t0 = now_s() - t0;
	msgpack_zone_destroy(&z);
	return t0;
}

static void throughput(FILE *out)
{
	enum { R = 7 };
	double go[R], gp[R], in[R], ro[R], rp[R];
	size_t glen;
	char *gt = graphite_text(&glen);
	rpc_buf b;
	int r, k;

	io_limits_default(&glim);
	rpc_buf_init(&b, (size_t)1 << 30);
	for (k = 0; k < NFRAMES; k++)
		push_frame(&b, k);
	for (r = 0; r < R; r++) {
		/* interleaved so that machine noise hits both alike */
		go[r] = run_graphite_ours(gt, glen);
		gp[r] = run_graphite_peer(gt, glen);
		in[r] = run_influx();
		ro[r] = run_rpc_ours(&b);
		rp[r] = run_rpc_peer(&b);
	}
	fprintf(out,
		"\n## Throughput (median of %d runs)\n\n"
		"| workload | ours | peer | ours / peer time |\n"
		"|---|---|---|---|\n",
		R);
	fprintf(out,
		"| Graphite, %d tagged lines in 64 KiB reads | %.2f M "
		"lines/s | sscanf+strtod: %.2f M lines/s | %.2f |\n",
		NLINES, NLINES / median(go, R) / 1e6,
		NLINES / median(gp, R) / 1e6, median(go, R) / median(gp, R));
	fprintf(out,
		"| Influx, %d lines of 2 fields + 2 tags | %.2f M lines/s "
		"| (none) | |\n",
		NLINES, NLINES / median(in, R) / 1e6);
	fprintf(out,
		"| RPC push, %d frames x %d triples (%.1f MiB) | %.0f k "
		"frames/s (pre-scan + decode) | msgpack_unpack alone: %.0f k "
		"frames/s | %.2f |\n",
		NFRAMES, NTRIPLES, b.len / 1048576.0,
		NFRAMES / median(ro, R) / 1e3, NFRAMES / median(rp, R) / 1e3,
		median(ro, R) / median(rp, R));
	fprintf(out, "\n(checksum %g, to keep the work observable)\n",
		sink_sum);
	rpc_buf_release(&b);
	free(gt);
}

int main(int argc, char **argv)
{
	FILE *out = stdout;
	struct utsname u;
	char host[256] = "?";
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc > 1 && !(out = fopen(argv[1], "w"))) {
		perror(argv[1]);
		return 1;
	}
	uname(&u);
	gethostname(host, sizeof(host));
	fprintf(out,
		"# Wire parsers: bombs and throughput\n\n"
		"Written by `build/bench/parsers_bench %s` (bench/"
		"parsers_bench.c, -O2 build).\nMachine: %s %s %s, %ld CPUs, "
		"shared with other jobs: compare ratios, not\nabsolute "
		"rates.\n\n",
		argc > 1 ? argv[1] : "", u.sysname, u.release, u.machine, ncpu);
	bombs(out);
	throughput(out);
	if (out != stdout)
		fclose(out);
	return 0;
}
