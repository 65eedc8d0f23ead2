/*
 * tests/config/test_cfg.c: the settings table, the INI parser (every error
 * with file:line), -o overrides, [series] blocks, --print-config round trip,
 * --check-config, the SIGHUP diff.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "tests/harness.h"

static char reports[4096];

static void rep(void *ctx, const char *file, int line, const char *msg)
{
	size_t n = strlen(reports);

	(void)ctx;
	snprintf(reports + n, sizeof(reports) - n, "%s:%d: %s\n", file, line,
		 msg);
}

static void test_defaults(void)
{
	cfg c;

	CHECK_EQ_INT(cfg_init(&c), CFG_OK);
	CHECK(strcmp(c.listen.graphite.host, "127.0.0.1") == 0);
	CHECK_EQ_INT(c.listen.graphite.port, 2003);
	CHECK_EQ_INT(c.listen.influx.port, 8094);
	CHECK_EQ_INT(c.listen.rpc.port, 7411);
	CHECK_EQ_INT(c.listen.http.port, 9477);
	CHECK(strcmp(c.store.path, "./var/statecast.db") == 0);
	CHECK(strcmp(c.model.path, "models/default.model") == 0);
	CHECK_EQ_INT(c.store.commit_ms, 100);
	CHECK_EQ_INT(c.store.synchronous, CFG_SYNC_NORMAL);
	CHECK_NEAR(c.store.retention_s, 30 * 86400.0, 0);
	CHECK_EQ_INT(c.limits.max_line, 4096);
	CHECK_EQ_INT(c.limits.subscriber_queue, 4 << 20);
	CHECK_EQ_INT(c.log.level, CFG_LOG_INFO);
	CHECK_EQ_INT(c.ingest.influx_precision, 0);
	CHECK_EQ_INT(cfg_validate(&c, rep, NULL), CFG_OK);
	cfg_release(&c);
}

static void test_file_values(void)
{
	cfg c;
	const char *text = "user = statecast\n"
			   "# comment\n"
			   "[listen]\n"
			   "graphite = 0.0.0.0:0\n"
			   "influx =\n"
			   "rpc = [::1]:7500\n"
			   "[store]\n"
			   "synchronous = full ; inline comment\n"
			   "retention_s = 90m\n"
			   "commit_ms = 250\n"
			   "[limits]\n"
			   "max_line = 8K\n"
			   "subscriber_queue = 2MiB\n"
			   "idle_timeout_s = 1500ms\n"
			   "[metrics]\n"
			   "forecasts = web.*\n"
			   "max_forecast_series = 7\n"
			   "[http]\n"
			   "status_series = 3\n"
			   "[ingest]\n"
			   "influx_precision = ms\n";

	reports[0] = '\0';
	cfg_init(&c);
	CHECK_EQ_INT(cfg_load_string(&c, text, "t.conf", rep, NULL), CFG_OK);
	CHECK_EQ_INT(reports[0], '\0');
	CHECK(strcmp(c.user, "statecast") == 0);
	CHECK_EQ_INT(c.listen.graphite.port, 0);
	CHECK_EQ_INT(c.listen.graphite.enabled, 1);
	CHECK_EQ_INT(c.listen.influx.enabled, 0);
	CHECK(strcmp(c.listen.rpc.host, "::1") == 0);
	CHECK(cfg_addr_is_loopback(&c.listen.rpc));
	CHECK_EQ_INT(c.store.synchronous, CFG_SYNC_FULL);
	CHECK_NEAR(c.store.retention_s, 5400, 0);
	CHECK_EQ_INT(c.store.commit_ms, 250);
	CHECK_EQ_INT(c.limits.max_line, 8192);
	CHECK_EQ_INT(c.limits.subscriber_queue, 2 << 20);
	CHECK_NEAR(c.limits.idle_timeout_s, 1.5, 1e-12);
	CHECK(strcmp(c.metrics.forecasts, "web.*") == 0);
	CHECK_EQ_INT(c.metrics.max_forecast_series, 7);
	CHECK_EQ_INT(c.http.status_series, 3);
	CHECK_EQ_INT(c.ingest.influx_precision, 2);
	cfg_release(&c);
}

static void test_errors_with_lines(void)
{
	cfg c;
	const char *text = "[store]\n"
			   "commit_ms = 0\n"	  /* 2: below bound */
			   "commit_ms = abc\n"	  /* 3 */
			   "bogus = 1\n"	  /* 4: unknown */
			   "just words\n"	  /* 5: no '=' */
			   "[listen\n"		  /* 6: no ']' */
			   "[listen]\n"		  /* 7 */
			   "rpc = host\n"	  /* 8: no port */
			   "graphite = a:70000\n" /* 9 */
			   "[series]\n"		  /* 10 */
			   "period = 3\n"	  /* 11: series w/o glob */
			   "[series \"x.*\"]\n"	  /* 12 */
			   "colour = red\n"	  /* 13 */
			   "[log]\n"		  /* 14 */
			   "level = loud\n";	  /* 15 */

	reports[0] = '\0';
	cfg_init(&c);
	CHECK_EQ_INT(cfg_load_string(&c, text, "bad.conf", rep, NULL),
		     CFG_EINVAL);
	CHECK(strstr(reports, "bad.conf:2: store.commit_ms: expected an "
			      "integer from 1 to 60000, got \"0\""));
	CHECK(strstr(reports, "bad.conf:3: store.commit_ms"));
	CHECK(strstr(reports, "bad.conf:4: unknown setting \"store.bogus\""));
	CHECK(strstr(reports, "bad.conf:5: expected \"name = value\""));
	CHECK(strstr(reports, "bad.conf:6: expected \"]\""));
	CHECK(strstr(reports, "bad.conf:8: listen.rpc: expected an address"));
	CHECK(strstr(reports, "bad.conf:9: listen.graphite"));
	CHECK(strstr(reports, "bad.conf:11: [series]: expected [series "));
	CHECK(strstr(reports, "bad.conf:13: [series \"x.*\"]: unknown key"));
	CHECK(strstr(reports, "bad.conf:15: log.level: expected one of "
			      "err|warning|notice|info|debug"));
	/* refused values keep the previous ones */
	CHECK_EQ_INT(c.store.commit_ms, 100);
	CHECK_EQ_INT(c.listen.rpc.port, 7411);
	cfg_release(&c);
}

static void test_long_line(void)
{
	cfg c;
	char *text = malloc(6000);

	memcpy(text, "[model]\npath = ", 15);
	memset(text + 15, 'p', 5000);
	strcpy(text + 5015, "\n[store]\ncommit_ms = 5\n");
	reports[0] = '\0';
	cfg_init(&c);
	CHECK_EQ_INT(cfg_load_string(&c, text, "l.conf", rep, NULL),
		     CFG_EINVAL);
	CHECK(strstr(reports, "l.conf:2: line longer than"));
	CHECK(strcmp(c.model.path, "models/default.model") == 0);
	CHECK_EQ_INT(c.store.commit_ms, 5); /* lines after it still parse */
	cfg_release(&c);
	free(text);
}

/* Strings are capped so that every printer holds them whole. */
static void test_long_string(void)
{
	cfg a, b;
	char v[1100], *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(v, 'p', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	cfg_init(&a);
	reports[0] = '\0';
	CHECK_EQ_INT(cfg_set(&a, "model.path", v, rep, NULL), CFG_EINVAL);
	CHECK(strstr(reports, "a string of at most 1023 bytes"));
	v[1023] = '\0';
	CHECK_EQ_INT(cfg_set(&a, "model.path", v, rep, NULL), CFG_OK);
	f = open_memstream(&text, &len);
	cfg_print(&a, f);
	fclose(f);
	cfg_init(&b);
	CHECK_EQ_INT(cfg_load_string(&b, text, "printed", rep, NULL), CFG_OK);
	CHECK(strcmp(b.model.path, v) == 0);
	cfg_release(&a);
	cfg_release(&b);
	free(text);
}

static void test_overrides_and_series(void)
{
	cfg c;
	const char *ov[] = {"store.commit_ms=7", "limits.max_tags = 3",
			    "series \"db.*\".period=24"};
	const char *text = "[series \"web.*\"]\nperiod = 1440\nstep = 1m\n"
			   "[series \"*\"]\nmodel = m2.model\n";
	const cfg_series *s;
	char path[] = "/tmp/statecast-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	reports[0] = '\0';
	CHECK_EQ_INT(cfg_load(&c, path, ov, 3, rep, NULL), CFG_OK);
	CHECK_EQ_INT(c.store.commit_ms, 7);
	CHECK_EQ_INT(c.limits.max_tags, 3);
	CHECK_EQ_INT(c.nseries, 3);
	s = cfg_series_match(&c, "web.front.latency");
	CHECK(s && s->period == 1440 && s->step_s == 60);
	CHECK(s && s->set == (CFG_SER_PERIOD | CFG_SER_STEP));
	/* the -o block comes after "*" in order, so "*" wins for db.q */
	CHECK(strcmp(c.series[2].pattern, "db.*") == 0);
	CHECK(c.series[2].period == 24 && c.series[2].set == CFG_SER_PERIOD);
	s = cfg_series_match(&c, "db.q;host=a");
	CHECK(s == &c.series[1]);
	s = cfg_series_match(&c, "other");
	CHECK(s && strcmp(s->model, "m2.model") == 0);
	cfg_release(&c);

	reports[0] = '\0';
	CHECK_EQ_INT(cfg_override(&c, "nodot", rep, NULL), CFG_EINVAL);
	CHECK(strstr(reports, "-o:0: expected section.key=value"));
	reports[0] = '\0';
	ov[0] = "store.nope=1";
	CHECK_EQ_INT(cfg_load(&c, path, ov, 1, rep, NULL), CFG_EINVAL);
	CHECK(strstr(reports, "unknown setting \"store.nope\""));
	CHECK_EQ_INT(cfg_load(&c, "/nonexistent/x.conf", NULL, 0, rep, NULL),
		     CFG_EIO);
	unlink(path);
}

static void test_validate_rpc_token(void)
{
	cfg c;
	const char *ov[] = {"listen.rpc=0.0.0.0:7411", "rpc.token=s3cret"};

	reports[0] = '\0';
	CHECK_EQ_INT(cfg_load(&c, NULL, ov, 1, rep, NULL), CFG_EINVAL);
	CHECK(strstr(reports, "listen.rpc:0: binding msgpack-RPC to 0.0.0.0"));
	CHECK_EQ_INT(cfg_load(&c, NULL, ov, 2, rep, NULL), CFG_OK);
	cfg_release(&c);
}

static void test_print_round_trip(void)
{
	cfg a, b;
	const char *ov[] = {"store.retention_s=1.25",
			    "limits.max_line=5000",
			    "listen.rpc=[::1]:0",
			    "listen.influx=",
			    "log.level=debug",
			    "series \"a*\".horizon=12",
			    "series \"a*\".retention=2h",
			    "ingest.max_skew_s=0.1",
			    "rpc.token=;tok"};
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK_EQ_INT(cfg_load(&a, NULL, ov, 9, rep, NULL), CFG_OK);
	f = open_memstream(&text, &len);
	cfg_print(&a, f);
	fclose(f);
	reports[0] = '\0';
	cfg_init(&b);
	CHECK_EQ_INT(cfg_load_string(&b, text, "printed", rep, NULL), CFG_OK);
	CHECK_EQ_INT(reports[0], '\0');
	CHECK_EQ_INT(cfg_diff(&a, &b, NULL, NULL), 0);
	CHECK(strstr(text, "[series \"a*\"]\nhorizon = 12\nretention = 2h\n"));
	CHECK(strstr(text, "retention_s = 1.25\n"));
	CHECK(strstr(text, "max_skew_s = 0.1\n"));
	/* Whole seconds that are no whole minute print as digits (the
	 * default min_rate_window_s of 30 once printed as "3e+01"). */
	CHECK(strstr(text, "min_rate_window_s = 30\n"));
	CHECK_NEAR(b.ingest.max_skew_s, 0.1, 0);
	CHECK(strcmp(b.rpc.token, ";tok") == 0); /* not an inline comment */
	cfg_release(&a);
	cfg_release(&b);
	free(text);
}

static int ndiff, nreload;
static void on_diff(void *ctx, const char *name, const char *o, const char *n,
		    int reloadable)
{
	(void)ctx;
	(void)o;
	(void)n;
	(void)name;
	ndiff++;
	nreload += reloadable;
}

static void test_diff(void)
{
	cfg a, b;
	const char *ov[] = {"log.level=debug", "listen.graphite=127.0.0.1:2004",
			    "series \"x\".period=2"};

	cfg_load(&a, NULL, NULL, 0, rep, NULL);
	cfg_load(&b, NULL, ov, 3, rep, NULL);
	ndiff = nreload = 0;
	CHECK_EQ_INT(cfg_diff(&a, &b, on_diff, NULL), 2);
	CHECK_EQ_INT(ndiff, 3);
	CHECK_EQ_INT(nreload, 1);
	cfg_release(&a);
	cfg_release(&b);
}

static void test_check(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *ov[] = {"store.commit_ms=x"};

	CHECK_EQ_INT(cfg_check(NULL, NULL, 0, f), 0);
	CHECK_EQ_INT(cfg_check(NULL, ov, 1, f), 1);
	fclose(f);
	CHECK(strstr(out, "configuration OK\n"));
	CHECK(strstr(out, "-o: store.commit_ms: expected an integer"));
	free(out);
}

/* Every table row's default parses, is in bounds and prints back. */
static void test_table(void)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);
	cfg c;
	char buf[512];

	cfg_init(&c);
	CHECK(n >= 30);
	for (i = 0; i < n; i++) {
		CHECK(e[i].doc && *e[i].doc);
		CHECK(cfg_find(e[i].name) == &e[i]);
		cfg_format(&c, &e[i], buf, sizeof(buf));
		CHECK_EQ_INT(cfg_set(&c, e[i].name, buf, rep, NULL), CFG_OK);
	}
	cfg_release(&c);
}

int main(void)
{
	TH_RUN(test_defaults);
	TH_RUN(test_file_values);
	TH_RUN(test_errors_with_lines);
	TH_RUN(test_long_line);
	TH_RUN(test_long_string);
	TH_RUN(test_overrides_and_series);
	TH_RUN(test_validate_rpc_token);
	TH_RUN(test_print_round_trip);
	TH_RUN(test_diff);
	TH_RUN(test_check);
	TH_RUN(test_table);
	return th_summary();
}
