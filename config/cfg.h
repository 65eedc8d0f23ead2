/*
 * config/cfg.h: statecastd's settings: one table, one parser, one printer.
 *
 * Every setting is one row of the table in config/table.c: name
 * (`section.key`, or a bare key before any section), type, default, bounds,
 * whether SIGHUP reloads it, and a one-line doc. The parser, --print-config,
 * the shipped config/statecast.conf and docs/CONFIG.md are all produced from
 * that table (cfg_print, cfg_write_conf, cfg_write_doc), so they cannot
 * disagree; tests/config checks the two checked-in files are not stale
 * (`make config-files` regenerates them).
 *
 * File format: INI, parsed by libinih. `key = value`, `[section]`, comments
 * starting with `#` or `;`. Per-pattern blocks `[series "GLOB"]` (fnmatch
 * globs over canonical series names, first matching block wins, in file
 * order) set period, step, horizon, model and retention for the series they
 * match. Values: integers; sizes with an optional K/M/G suffix (powers of
 * 1024); durations in seconds with an optional ms/s/m/h/d suffix; booleans
 * true/false/yes/no/on/off/1/0; addresses `host:port` or `[v6]:port` (port 0
 * = pick a free port; empty = listener off).
 *
 * Ownership: a cfg owns its strings; cfg_init() fills the defaults and
 * cfg_release() frees. Errors: 0 or a negative CFG_E* code; every problem is
 * also reported through a cfg_report_fn as file, line and what was expected.
 */
#ifndef STATECAST_CONFIG_CFG_H
#define STATECAST_CONFIG_CFG_H

#include <stddef.h>
#include <stdio.h>

enum {
	CFG_OK = 0,
	CFG_EINVAL = -1, /* at least one setting was refused (reported) */
	CFG_EIO = -2,	 /* the file could not be read */
	CFG_ENOMEM = -3,
};
const char *cfg_strerror(int err);

typedef enum cfg_type {
	CFG_STR,  /* char *, owned, "" allowed */
	CFG_ADDR, /* cfg_addr */
	CFG_INT,  /* int */
	CFG_SIZE, /* size_t, bytes, K/M/G suffix */
	CFG_SECS, /* double, seconds, ms/s/m/h/d suffix */
	CFG_BOOL, /* int 0/1 */
	CFG_ENUM, /* int: index into the entry's choices */
} cfg_type;

typedef struct cfg_addr {
	char host[256]; /* "" when the listener is off */
	int port;	/* 0..65535; 0 = any free port */
	int enabled;
} cfg_addr;

/* 1 if a resolves to loopback only (127.0.0.0/8, ::1, localhost). */
int cfg_addr_is_loopback(const cfg_addr *a);

/* store.synchronous values (SQLite PRAGMA synchronous). */
enum { CFG_SYNC_OFF = 0, CFG_SYNC_NORMAL = 1, CFG_SYNC_FULL = 2 };
/* store.writer_priority */
enum { CFG_WPRIO_IDLE = 0, CFG_WPRIO_BATCH = 1 };
/* log.level values; syslog priority = CFG_LOG_ERR + 3 ... (3..7). */
enum {
	CFG_LOG_ERR = 0,
	CFG_LOG_WARNING = 1,
	CFG_LOG_NOTICE = 2,
	CFG_LOG_INFO = 3,
	CFG_LOG_DEBUG = 4
};

/*
 * What a [series "GLOB"] block sets. Only the fields whose bit is in `set`
 * were given; the others are 0 / "" and the series uses the global setting
 * named in the table (model.period, model.step_s, the model's horizon,
 * model.path, store.retention_s).
 */
enum {
	CFG_SER_PERIOD = 1,
	CFG_SER_STEP = 2,
	CFG_SER_HORIZON = 4,
	CFG_SER_MODEL = 8,
	CFG_SER_RETENTION = 16
};
typedef struct cfg_series {
	char *pattern;	    /* the glob, owned */
	unsigned set;	    /* CFG_SER_* bits of the fields the block set */
	int period;	    /* nominal steps per season, 1 = none */
	double step_s;	    /* nominal step, seconds; 0 = learn */
	int horizon;	    /* horizons to serve; 0 = the model's */
	char *model;	    /* model file, owned; "" = model.path */
	double retention_s; /* sample retention; 0 = keep */
} cfg_series;

typedef struct cfg {
	char *user; /* drop privileges to this user after binding */
	struct {
		cfg_addr graphite, influx, rpc, http;
		char *socket; /* unix socket path, "" = off */
	} listen;
	struct {
		char *path;
		int synchronous; /* CFG_SYNC_* */
		int commit_ms;
		int commit_rows;
		double retention_s;  /* 0 = keep forever */
		double snapshot_s;   /* snapshot period of a changed series */
		double checkpoint_s; /* checkpoint file period, 0 = off */
		double forecast_every_s;     /* forecast persistence, 0 = off */
		double forecast_retention_s; /* 0 = keep forever */
		double rebuild_window_s; /* history replayed on model change */
		int state_dump;		 /* write <path>.dump at a clean stop */
		int retry_rows;		 /* line rows held while writes fail */
		size_t max_queue;	 /* bytes awaiting COMMIT before reads
					    of line connections pause */
		size_t max_size;	 /* database size bound, 0 = none */
		int writer_priority;	 /* CFG_WPRIO_* */
		int log_max_samples;	 /* compaction trigger's cap */
		int compact_step;	 /* log samples moved per step */
		size_t wal_size;	 /* WAL bytes that start a checkpoint */
	} store;
	struct {
		char *path;
		int forecast_every; /* refresh the forecast every k samples */
		int threads;	    /* threads stepping series, 0 = per core */
		int share_rows;	    /* pool share threshold, 0 = learnt */
		int slice_us;	    /* stepping threads' slice, 0 = kernel's */
		int period;	    /* default seasonal period, steps */
		double step_s;	    /* default nominal step, 0 = learn */
	} model;
	struct {
		int influx_precision; /* io_precision: 0 ns, 1 us, 2 ms, 3 s */
		double max_skew_s;
	} ingest;
	struct {
		int max_series;
		int max_connections;
		size_t max_line;
		size_t max_name;
		int max_tags;
		double idle_timeout_s;
		size_t min_rate;	  /* bytes/s, 0 = no check */
		double min_rate_window_s; /* seconds */
		size_t conn_buffer;
		size_t subscriber_queue;
		size_t rpc_max_frame;
		int rpc_max_depth;
		int rpc_max_elems;
	} limits;
	struct {
		char *token; /* "" = no authentication */
	} rpc;
	struct {
		char *forecasts; /* glob of series whose forecasts /metrics
				    exports; "" = none */
		int max_forecast_series; /* cap on the series exported */
	} metrics;
	struct {
		int status_series; /* series shown on the / status page */
	} http;
	struct {
		int level; /* CFG_LOG_* */
	} log;
	cfg_series *series; /* nseries blocks in file order, owned */
	size_t nseries;
} cfg;

/* One row of the table. */
typedef struct cfg_entry {
	const char *name; /* "section.key" or "key" */
	cfg_type type;
	const char *def;     /* default, as written in a file */
	double min, max;     /* bounds for INT, SIZE, SECS (inclusive) */
	const char *choices; /* ENUM: "a|b|c" */
	int reloadable;	     /* 1: SIGHUP applies it */
	const char *doc;     /* one line */
	size_t off;	     /* offset of the field in cfg (or cfg_series) */
} cfg_entry;

/* The table of global settings, and of [series] block keys. */
const cfg_entry *cfg_entries(size_t *n);
const cfg_entry *cfg_series_entries(size_t *n);
const cfg_entry *cfg_find(const char *name);

/* Called once per problem; file is "-o" for overrides, line 0 if none. */
typedef void (*cfg_report_fn)(void *ctx, const char *file, int line,
			      const char *msg);

/* Defaults. Returns CFG_OK or CFG_ENOMEM. */
int cfg_init(cfg *c);
void cfg_release(cfg *c);

/*
 * Read a file / a string (name is used in reports) on top of what c holds.
 * Every refused line is reported (report may be NULL: stderr as
 * "file:line: msg"); returns CFG_OK, CFG_EINVAL, CFG_EIO or CFG_ENOMEM.
 */
int cfg_load_file(cfg *c, const char *path, cfg_report_fn report, void *ctx);
int cfg_load_string(cfg *c, const char *text, const char *name,
		    cfg_report_fn report, void *ctx);

/* Set one setting by name from text, as a file line would. */
int cfg_set(cfg *c, const char *name, const char *value, cfg_report_fn report,
	    void *ctx);
/* "-o section.key=value". */
int cfg_override(cfg *c, const char *kv, cfg_report_fn report, void *ctx);

/*
 * Checks across settings (e.g. listen.rpc off loopback needs rpc.token;
 * limits that must be ordered). CFG_OK or CFG_EINVAL, each reported.
 */
int cfg_validate(const cfg *c, cfg_report_fn report, void *ctx);

/*
 * The whole startup sequence: cfg_init, the file (path may be NULL), the
 * overrides in order, cfg_validate. On failure c is released.
 */
int cfg_load(cfg *c, const char *path, const char *const *overrides,
	     int noverrides, cfg_report_fn report, void *ctx);

/*
 * `statecastd --check-config`: cfg_load and print each problem as
 * "file:line: msg" to out, or "configuration OK". Returns the exit status.
 */
int cfg_check(const char *path, const char *const *overrides, int noverrides,
	      FILE *out);

/* The value of setting e in c as text, as cfg_set would accept it. */
int cfg_format(const cfg *c, const cfg_entry *e, char *buf, size_t cap);

/* --print-config: every setting's current value as a loadable INI file. */
void cfg_print(const cfg *c, FILE *f);
/* The shipped config/statecast.conf: every setting commented out with its
   doc and default. */
void cfg_write_conf(FILE *f);
/* docs/CONFIG.md. */
void cfg_write_doc(FILE *f);

/*
 * For SIGHUP: call fn for every setting whose value differs between old and
 * new (the [series] blocks count as one setting "series", not reloadable).
 * Returns the number of changes that need a restart.
 */
typedef void (*cfg_diff_fn)(void *ctx, const char *name, const char *old_v,
			    const char *new_v, int reloadable);
int cfg_diff(const cfg *old_c, const cfg *new_c, cfg_diff_fn fn, void *ctx);

/* The first [series] block whose glob matches name, or NULL. */
const cfg_series *cfg_series_match(const cfg *c, const char *name);

#endif
