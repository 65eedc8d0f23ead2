/*
 * daemon/main.c: statecastd entry point: options, configuration, model,
 * then the loop until SIGTERM or SIGINT.
 *
 *   statecastd [-c FILE] [-o key=value]... [--check-config] [--print-config]
 *
 * Exit status: 0 after a clean shutdown (or a successful check/print), 1
 * when the configuration, the model or a listener is unusable at start, 2
 * for a usage error. Misconfiguration is the only reason the daemon exits;
 * bad input never is.
 */
#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "daemon/log.h"
#include "daemon/persist.h"
#include "daemon/privdrop.h"
#include "daemon/server.h"
#include "io/model_open.h"
#include "ssm/nominal.h"

/* Settings the config table does not (yet) carry. */
enum {
	BATCH_MAX = 256,     /* series per batched model step */
	HISTORY_RING = 4096, /* samples per series kept for `history` */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: statecastd [-c FILE] [-o key=value]... "
		   "[--check-config] [--print-config]\n"
		   "  -c FILE          read settings from FILE (INI)\n"
		   "  -o key=value     override one setting (repeatable)\n"
		   "  --check-config   check the configuration and exit\n"
		   "  --print-config   print the effective configuration\n"
		   "  --help, --version\n");
}

static void report(void *ctx, const char *file, int line, const char *msg)
{
	(void)ctx;
	if (line > 0)
		srv_log(LOG_ERR, "%s:%d: %s", file, line, msg);
	else
		srv_log(LOG_ERR, "%s: %s", file, msg);
}

/* The configured model, or the untrained default when the file is absent
 * (io/model_open.h: the CLI picks the same way). */
static ssm_model *load_model(const char *path, const char **desc)
{
	ssm_model *m = NULL;
	char msg[256];
	int is_default;

	if (io_model_open(path, &m, &is_default, msg, sizeof msg)) {
		srv_log(LOG_ERR, "cannot load model %s: %s", path, msg);
		return NULL;
	}
	if (is_default) {
		srv_log(LOG_NOTICE,
			"model file %s absent: using the untrained default "
			"model (seed %d)",
			path, IO_MODEL_DEFAULT_SEED);
		*desc = "untrained default";
	} else {
		srv_log(LOG_INFO, "model %s loaded", path);
		*desc = path;
	}
	return m;
}

static void settings_from(const cfg *c, srv_settings *t)
{
	memset(t, 0, sizeof *t);
	t->listen_graphite = &c->listen.graphite;
	t->listen_influx = &c->listen.influx;
	t->listen_rpc = &c->listen.rpc;
	t->listen_socket = c->listen.socket;
	t->subscriber_queue = c->limits.subscriber_queue;
	io_limits_default(&t->lines);
	t->lines.max_line = c->limits.max_line;
	t->lines.max_name = c->limits.max_name;
	t->lines.max_tags = c->limits.max_tags;
	t->lines.max_skew_s = c->ingest.max_skew_s;
	t->influx_precision = (io_precision)c->ingest.influx_precision;
	rpc_limits_default(&t->rpc);
	t->rpc.max_frame = c->limits.rpc_max_frame;
	t->rpc.max_depth = c->limits.rpc_max_depth;
	t->rpc.max_elems = (uint32_t)c->limits.rpc_max_elems;
	t->forecast_every = c->model.forecast_every;
	t->default_period = c->model.period;
	t->default_step = c->model.step_s;
	t->learn_samples = SSM_LEARN_SAMPLES;
	t->batch_max = BATCH_MAX;
	t->history_ring = HISTORY_RING;
	t->max_series = (size_t)c->limits.max_series;
	t->max_connections = c->limits.max_connections;
	t->idle_timeout_s = c->limits.idle_timeout_s;
	t->cfg = c;
	t->rpc_token = c->rpc.token;
	t->store_path = c->store.path;
	store_opts_default(&t->store);
	t->store.synchronous = c->store.synchronous;
	t->store.commit_ms = c->store.commit_ms;
	t->store.commit_rows = c->store.commit_rows;
	t->store.sample_retention_s = c->store.retention_s;
	t->store.forecast_retention_s = c->store.forecast_retention_s;
	t->store.retry_rows = (size_t)c->store.retry_rows;
	/* A byte bound on the file, as SQLite pages (4 KiB by default). */
	t->store.max_page_count = (int64_t)(c->store.max_size / 4096);
	t->snapshot_s = c->store.snapshot_s;
	t->forecast_every_s = c->store.forecast_every_s;
	t->rebuild_window_s = c->store.rebuild_window_s;
}

/*
 * Binds (or adopts from systemd) every listener, then drops root, then
 * starts the watchdog: the order systemd and a root start both need.
 */
static int adopt_start(srv *s, const cfg *c)
{
	srv_sd_listen sdl;
	char err[256];
	int rc, left;

	rc = srv_sd_listen_init(&sdl);
	if (rc < 0)
		srv_log(LOG_WARNING, "ignoring passed sockets: %s",
			srv_sd_strerror(rc));
	else if (sdl.n > 0)
		s->sd = &sdl;
	rc = srv_start(s);
	s->sd = NULL;
	left = srv_sd_listen_release(&sdl);
	if (left > 0)
		srv_log(LOG_WARNING,
			"%d passed socket(s) match no enabled listener "
			"(FileDescriptorName= graphite, influx, rpc, socket)",
			left);
	if (rc)
		return rc;
	if (geteuid() == 0 && !(c->user && c->user[0]))
		srv_log(LOG_WARNING, "running as root: set `user` to drop "
				     "privileges after binding");
	if (c->user && c->user[0] &&
	    srv_priv_drop(c->user, err, sizeof err) != 0) {
		srv_log(LOG_ERR, "not starting: %s", err);
		return -1;
	}
	rc = srv_sd_watchdog_start(&s->wd, s->loop);
	if (rc < 0)
		srv_log(LOG_WARNING, "watchdog not started: %s",
			srv_sd_strerror(rc));
	return 0;
}

static int run(const cfg *c)
{
	srv_settings set;
	const char *desc = NULL;
	ssm_model *m;
	uv_loop_t loop;
	srv *s;
	int rc = 1;

	m = load_model(c->model.path, &desc);
	if (!m)
		return 1;
	settings_from(c, &set);
	s = malloc(sizeof *s);
	if (!s || uv_loop_init(&loop)) {
		free(s);
		ssm_model_free(m);
		return 1;
	}
	if (srv_init(s, &loop, &set, m, desc) == 0 &&
	    (!set.store_path[0] || srv_persist_open(s) == 0) &&
	    adopt_start(s, c) == 0) {
		srv_log(LOG_INFO,
			"statecastd %s ready: model %s (horizon %d, %d "
			"quantiles)",
			SRV_VERSION, desc, ssm_model_horizon(m),
			ssm_model_nquantiles(m));
		srv_sd_ready("serving");
		rc = 0;
	}
	if (rc)
		srv_stop(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	srv_release(s);
	if (uv_loop_close(&loop) != 0) {
		srv_log(LOG_ERR, "handles left open at exit");
		rc = 1;
	}
	free(s);
	ssm_model_free(m);
	if (rc == 0)
		srv_log(LOG_INFO, "statecastd stopped");
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	const char **ov = calloc((size_t)argc, sizeof *ov);
	int nov = 0, check = 0, print = 0, i, rc;
	cfg c;

	if (!ov)
		return 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("statecastd %s\n", SRV_VERSION);
			free(ov);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			free(ov);
			return 0;
		} else if (strcmp(a, "--check-config") == 0) {
			check = 1;
		} else if (strcmp(a, "--print-config") == 0) {
			print = 1;
		} else if (strcmp(a, "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			ov[nov++] = argv[++i];
		} else {
			fprintf(stderr, "statecastd: unknown option '%s'\n", a);
			usage(stderr);
			free(ov);
			return 2;
		}
	}
	if (check) {
		rc = cfg_check(path, ov, nov, stdout);
		free(ov);
		return rc;
	}
	rc = cfg_load(&c, path, ov, nov, report, NULL);
	free(ov);
	if (rc) {
		srv_log(LOG_ERR, "not starting: %s", cfg_strerror(rc));
		return 1;
	}
	if (print) {
		cfg_print(&c, stdout);
		cfg_release(&c);
		return 0;
	}
	srv_log_set_level(LOG_ERR + c.log.level);
	/* The loop thread steps series in batches itself; OpenBLAS threads
	 * would only contend with it for the same cores. */
	openblas_set_num_threads(1);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&c);
	cfg_release(&c);
	return rc;
}
