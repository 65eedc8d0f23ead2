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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "daemon/log.h"
#include "daemon/persist.h"
#include "daemon/privdrop.h"
#include "daemon/reload.h"
#include "daemon/sched.h"
#include "daemon/server.h"
#include "daemon/trace.h"
#include "io/model_open.h"
#include "ssm/nominal.h"

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
	/* Before srv_start and the drop from root: the limit a unit file or
	 * ulimit gave is raised to what the connections need. */
	srv_fd_budget(s);
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
	if (c->user && c->user[0] && geteuid() == 0 && s->persist) {
		uid_t uid;
		gid_t gid;
		/* The store was opened as root, before binding. */
		if (srv_priv_ids(c->user, &uid, &gid) == 0 &&
		    srv_persist_give(s, uid, gid) != 0) {
			srv_log(LOG_ERR, "not starting: the store's files "
					 "could not be given to the user");
			return -1;
		}
	}
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

/* model.slice_us: what the kernel made of the stepping threads' slice
 * (daemon/sched.h; the loop asked as the compute pool started). */
static void slice_report(srv *s)
{
	int rc = s->tick.pool.slice_rc;

	if (s->set.slice_us <= 0)
		return;
	if (rc == 0)
		srv_log(LOG_INFO,
			"model.slice_us: the stepping threads run "
			"with a %d us scheduling slice",
			srv_sched_slice_us());
	else
		srv_log(LOG_WARNING,
			"model.slice_us = %d not applied, the kernel's default "
			"slice is used: %s",
			s->set.slice_us,
			rc == EOPNOTSUPP ? "this kernel has no per-thread "
					   "slice (Linux 6.12 or later)"
					 : strerror(rc));
}

static int run(const cfg *c, const char *path, const char *const *ov, int nov)
{
	srv_reload rl;
	srv_settings set;
	const char *desc = NULL;
	ssm_model *m;
	uv_loop_t loop;
	srv *s;
	int rc = 1;

	m = load_model(c->model.path, &desc);
	if (!m)
		return 1;
	srv_settings_from(c, &set);
	s = malloc(sizeof *s);
	if (!s || uv_loop_init(&loop)) {
		free(s);
		ssm_model_free(m);
		return 1;
	}
	/* SIGHUP from here on reloads; its default action would end us. */
	if (srv_reload_start(&rl, s, &loop, c, path, ov, nov) != 0)
		srv_log(LOG_WARNING, "SIGHUP reload not available");
	if (srv_trace_open())
		srv_log(LOG_WARNING,
			"STATECAST_TRACE: out of memory, not tracing");
	if (srv_init(s, &loop, &set, m, desc) == 0 &&
	    (!set.store_path[0] || srv_persist_open(s) == 0) &&
	    adopt_start(s, c) == 0) {
		srv_log(LOG_INFO,
			"statecastd %s ready: model %s (horizon %d, %d "
			"quantiles)",
			SRV_VERSION, desc, ssm_model_horizon(m),
			ssm_model_nquantiles(m));
		srv_sd_ready("serving");
		slice_report(s);
		rc = 0;
	}
	if (rc)
		srv_stop(s);
	uv_run(&loop, UV_RUN_DEFAULT);
	srv_reload_close(&rl);
	uv_run(&loop, UV_RUN_DEFAULT);
	srv_release(s);
	if (srv_trace_close())
		srv_log(LOG_WARNING, "STATECAST_TRACE: cannot write %s",
			getenv("STATECAST_TRACE"));
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
	if (rc) {
		srv_log(LOG_ERR, "not starting: %s", cfg_strerror(rc));
		free(ov);
		return 1;
	}
	if (print) {
		cfg_print(&c, stdout);
		cfg_release(&c);
		free(ov);
		return 0;
	}
	srv_log_set_level(LOG_ERR + c.log.level);
	/* The loop thread steps series in batches itself; OpenBLAS threads
	 * would only contend with it for the same cores. */
	openblas_set_num_threads(1);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&c, path, ov, nov);
	cfg_release(&c);
	free(ov);
	return rc;
}
