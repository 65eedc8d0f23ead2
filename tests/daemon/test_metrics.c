/*
 * tests/daemon/test_metrics.c: the Prometheus exposition renderer.
 *
 * Every rendered line is parsed back by a strict reader of the text format
 * (below) so that escaping is checked by round trip, not by eye; the whole
 * exposition also goes through `promtool check metrics` (Debian prometheus).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "tests/harness.h"

/* One parsed sample line. */
typedef struct sample {
	char name[128];
	int nl;
	char key[4][32];
	char val[4][256];
	double value;
} sample;

/* Parses "name{k="v",...} value" strictly; returns 0 or -1. */
static int parse_sample(const char *line, sample *s)
{
	const char *p = line;
	size_t n = 0;
	char *end;

	memset(s, 0, sizeof *s);
	if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':'))
		return -1;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':') {
		if (n + 1 >= sizeof s->name)
			return -1;
		s->name[n++] = *p++;
	}
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = 0, v = 0;
			if (s->nl == 4)
				return -1;
			while (isalnum((unsigned char)*p) || *p == '_')
				s->key[s->nl][k++] = *p++;
			if (k == 0 || *p++ != '=' || *p++ != '"')
				return -1;
			while (*p != '"') {
				char c = *p++;
				if (c == '\0' || c == '\n')
					return -1;
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return -1;
				}
				if (v + 1 >= sizeof s->val[0])
					return -1;
				s->val[s->nl][v++] = c;
			}
			p++;
			s->nl++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return -1;
		}
		p++;
	}
	if (*p++ != ' ')
		return -1;
	if (strcmp(p, "+Inf") == 0)
		s->value = INFINITY;
	else if (strcmp(p, "-Inf") == 0)
		s->value = -INFINITY;
	else if (strcmp(p, "NaN") == 0)
		s->value = NAN;
	else {
		s->value = strtod(p, &end);
		if (end == p || *end != '\0')
			return -1;
	}
	return 0;
}

/* Checks every line of text parses; returns the number of samples. */
static int check_lines(const char *text)
{
	char line[1024];
	const char *p = text;
	int ns = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len;
		sample s;

		CHECK(nl != NULL); /* every line ends with \n */
		if (!nl)
			break;
		len = (size_t)(nl - p);
		CHECK(len < sizeof line);
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			/* fine */
		} else if (parse_sample(line, &s) == 0) {
			ns++;
		} else {
			th_fail(__FILE__, __LINE__, "bad line: %s", line);
		}
		p = nl + 1;
	}
	return ns;
}

/* Finds the sample with this name and first label value (or none). */
static int find(const char *text, const char *name, const char *v0, sample *out)
{
	const char *p = text;
	char line[1024];

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len < sizeof line) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (line[0] != '#' && parse_sample(line, out) == 0 &&
			    strcmp(out->name, name) == 0 &&
			    (!v0 ||
			     (out->nl > 0 && strcmp(out->val[0], v0) == 0)))
				return 1;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

static void test_label_escaping_round_trips(void)
{
	static const char *names[] = {
	    "plain.name", "with\"quote",	  "back\\slash",
	    "new\nline",  "host;dc=eu-1;role=db", "caf\xc3\xa9 \xe2\x82\xac",
	};
	io_tb b;
	size_t i;

	io_tb_init(&b);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *kv[2] = {"series", names[i]};
		sample s;

		io_tb_reset(&b);
		srv_prom_sample(&b, "m", kv, 1, 1.5);
		CHECK(b.data[b.len - 1] == '\n');
		b.data[--b.len] = '\0';
		CHECK(strchr(b.data, '\n') == NULL);
		CHECK(parse_sample(b.data, &s) == 0);
		CHECK(strcmp(s.val[0], names[i]) == 0);
		CHECK(s.value == 1.5);
	}
	io_tb_release(&b);
}

static void test_invalid_utf8_replaced(void)
{
	const char *kv[2] = {"series", "bad\xff\xc0z"};
	io_tb b;

	io_tb_init(&b);
	srv_prom_sample(&b, "m", kv, 1, 0);
	CHECK(strcmp(b.data,
		     "m{series=\"bad\xef\xbf\xbd\xef\xbf\xbdz\"} 0\n") == 0);
	io_tb_release(&b);
}

static void test_histogram_cumulative(void)
{
	static const double le[3] = {0.001, 0.01, 0.1};
	srv_hist h;
	io_tb b;
	sample s;

	CHECK(srv_hist_init(&h, le, 3) == 0);
	srv_hist_observe(&h, 0.0005);
	srv_hist_observe(&h, 0.001); /* le is inclusive */
	srv_hist_observe(&h, 0.05);
	srv_hist_observe(&h, 7);
	srv_hist_observe(&h, NAN); /* ignored */
	io_tb_init(&b);
	srv_prom_histogram(&b, "x_seconds", "help", &h);
	CHECK(strstr(b.data, "# TYPE x_seconds histogram\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_bucket{le=\"0.001\"} 2\n"
			     "x_seconds_bucket{le=\"0.01\"} 2\n"
			     "x_seconds_bucket{le=\"0.1\"} 3\n"
			     "x_seconds_bucket{le=\"+Inf\"} 4\n") != NULL);
	CHECK(find(b.data, "x_seconds_sum", NULL, &s) &&
	      fabs(s.value - 7.0515) < 1e-12);
	CHECK(find(b.data, "x_seconds_count", NULL, &s) && s.value == 4);
	CHECK(check_lines(b.data) == 6);
	io_tb_release(&b);

	CHECK(srv_hist_init(&h, (const double[]){2, 1}, 2) < 0);
	srv_hist_init_latency(&h);
	CHECK_EQ_INT(h.nb, 22);
	CHECK(h.le[0] == 1e-6 && h.le[21] == 10);
}

/* A full exposition with two exported forecasts. */
static void render_example(io_tb *b, srv_hist *step, srv_hist *commit)
{
	static const float levels[3] = {0.1f, 0.5f, 0.9f};
	static const float q1[2 * 3] = {1, 2, 3, 1.5f, 2.5f, 3.5f};
	static const float m1[2] = {2, 2.5f};
	static const float q2[2 * 3] = {-1, 0, 1, -2, 0, 2};
	static const srv_metrics_count ing[2] = {{"graphite", 100},
						 {"influx", 7}};
	static const srv_metrics_count drop[2] = {{"out_of_order", 3},
						  {"parse_error", 1}};
	srv_metrics_forecast fc[2] = {
	    {"cpu.load;host=a\"b", 2, 3, levels, q1, m1, 1.7e9, 60, 0, 2.25},
	    {"disk\\free", 2, 3, levels, q2, NULL, 1.7e9 + 30, 10, 2.5f, NAN},
	};
	static const srv_metrics_behind bh[1] = {{"net\"in", 1.7e9 + 20}};
	srv_metrics m;

	memset(&m, 0, sizeof m);
	m.version = "0.1.0";
	m.start_time_s = 1.7e9;
	m.ingested = ing;
	m.ningested = 2;
	m.dropped = drop;
	m.ndropped = 2;
	m.series = 2;
	m.connections = 1;
	m.subscribers = 0;
	srv_hist_init_latency(step);
	srv_hist_observe(step, 3e-6);
	srv_hist_init_latency(commit);
	srv_hist_observe(commit, 0.004);
	m.step_latency = step;
	m.commit_latency = commit;
	m.wal_bytes = 4096;
	m.fc = fc;
	m.nfc = 2;
	m.fc_omitted = 5;
	/* Three left out as catching up, one within the cap. */
	m.fc_catching_up = 3;
	m.bh = bh;
	m.nbh = 1;
	srv_metrics_render(b, &m);
}

static void test_full_exposition(void)
{
	srv_hist step, commit;
	io_tb b;
	sample s;

	io_tb_init(&b);
	render_example(&b, &step, &commit);
	CHECK(io_tb_ok(&b));
	CHECK(check_lines(b.data) > 40);
	CHECK(find(b.data, "statecast_samples_dropped_total", "out_of_order",
		   &s) &&
	      s.value == 3 && strcmp(s.key[0], "reason") == 0);
	CHECK(strstr(b.data,
		     "statecast_forecast{series=\"cpu.load;host=a\\\"b\","
		     "horizon=\"2\",quantile=\"0.9\"} 3.5\n") != NULL);
	CHECK(strstr(b.data, "statecast_forecast{series=\"disk\\\\free\","
			     "horizon=\"1\",quantile=\"0.1\"} -1\n") != NULL);
	CHECK(strstr(b.data, "statecast_forecast_mean{series=\"cpu.load;host=a"
			     "\\\"b\",horizon=\"2\"} 2.5\n") != NULL);
	/* The series without means exports none. */
	CHECK(!find(b.data, "statecast_forecast_mean", "disk\\free", &s));
	CHECK(find(b.data, "statecast_anomaly_score", "disk\\free", &s) &&
	      s.value == 2.5);
	CHECK(find(b.data, "statecast_wal_bytes", NULL, &s) && s.value == 4096);
	CHECK(
	    find(b.data, "statecast_series_value", "cpu.load;host=a\"b", &s) &&
	    s.value == 2.25);
	CHECK(find(b.data, "statecast_series_value", "disk\\free", &s) &&
	      isnan(s.value));
	CHECK(find(b.data, "statecast_forecast_series_omitted", NULL, &s) &&
	      s.value == 5);
	CHECK(find(b.data, "statecast_forecast_series_catching_up", NULL, &s) &&
	      s.value == 3);
	CHECK(find(b.data,
		   "statecast_series_catching_up_stored_timestamp_seconds",
		   "net\"in", &s) &&
	      s.value == 1.7e9 + 20);
	CHECK(!find(b.data, "statecast_forecast", "net\"in", &s));
	/* No timestamps: every sample line has exactly one space. */
	{
		const char *p = b.data;
		int bad = 0;
		while (*p) {
			const char *nl = strchr(p, '\n');
			const char *sp = strrchr(p, '}');
			if (*p != '#') {
				const char *from = sp && sp < nl ? sp : p;
				const char *q =
				    memchr(from, ' ', (size_t)(nl - from));
				if (!q ||
				    memchr(q + 1, ' ', (size_t)(nl - q - 1)))
					bad++;
			}
			p = nl + 1;
		}
		CHECK_EQ_INT(bad, 0);
	}
	io_tb_release(&b);
}

static void test_without_store_or_forecasts(void)
{
	srv_metrics m;
	io_tb b;

	memset(&m, 0, sizeof m);
	m.wal_bytes = -1;
	io_tb_init(&b);
	srv_metrics_render(&b, &m);
	CHECK(strstr(b.data, "statecast_wal_bytes") == NULL);
	CHECK(strstr(b.data, "statecast_commit_latency") == NULL);
	CHECK(strstr(b.data, "statecast_forecast{") == NULL);
	CHECK(strstr(b.data, "statecast_forecast_series_catching_up 0\n") !=
	      NULL);
	CHECK(strstr(b.data, "catching_up_stored") == NULL);
	CHECK(strstr(b.data, "version=\"unknown\"") != NULL);
	CHECK(check_lines(b.data) > 5);
	io_tb_release(&b);
}

/* promtool (Debian prometheus, in deploy/deps.txt) lints the exposition. */
static void test_promtool_accepts(void)
{
	char path[] = "/tmp/statecast_metrics_XXXXXX";
	char cmd[256], out[4096];
	srv_hist step, commit;
	io_tb b;
	FILE *f, *p;
	size_t n;
	int fd, rc;

	io_tb_init(&b);
	render_example(&b, &step, &commit);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (p) {
		n = fread(out, 1, sizeof out - 1, p);
		out[n] = '\0';
		rc = pclose(p);
		if (rc != 0 || n != 0)
			th_fail(__FILE__, __LINE__, "promtool (%d): %s", rc,
				out);
	}
	unlink(path);
	io_tb_release(&b);
}

int main(void)
{
	TH_RUN(test_label_escaping_round_trips);
	TH_RUN(test_invalid_utf8_replaced);
	TH_RUN(test_histogram_cumulative);
	TH_RUN(test_full_exposition);
	TH_RUN(test_without_store_or_forecasts);
	TH_RUN(test_promtool_accepts);
	return th_summary();
}
