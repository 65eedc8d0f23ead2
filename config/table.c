/*
 * config/table.c: THE table of statecastd's settings. Everything else about
 * configuration (parser, --print-config, config/statecast.conf,
 * docs/CONFIG.md) is derived from these rows; add a setting here and run
 * `make config-files`.
 *
 * Rows are grouped by section, in the order the files show them. Bounds are
 * inclusive; for SIZE they are bytes, for SECS seconds.
 */
#include <stddef.h>
#include <string.h>

#include "config/cfg.h"

#define F(field) offsetof(cfg, field)
#define S(field) offsetof(cfg_series, field)
#define KIB	 1024.0
#define MIB	 (1024.0 * 1024.0)
#define GIB	 (1024.0 * 1024.0 * 1024.0)
#define DAY	 86400.0
#define NOB	 0, 0 /* no bounds */

static const cfg_entry entries[] = {
    {"user", CFG_STR, "", NOB, NULL, 0,
     "after binding, drop privileges to this user (\"\" = stay)", F(user)},

    {"listen.graphite", CFG_ADDR, "127.0.0.1:2003", NOB, NULL, 0,
     "Graphite plaintext over TCP, host:port (\"\" = off)", F(listen.graphite)},
    {"listen.influx", CFG_ADDR, "127.0.0.1:8094", NOB, NULL, 0,
     "InfluxDB line protocol over TCP, host:port (\"\" = off)",
     F(listen.influx)},
    {"listen.rpc", CFG_ADDR, "127.0.0.1:7411", NOB, NULL, 0,
     "msgpack-RPC over TCP; off loopback it needs rpc.token", F(listen.rpc)},
    {"listen.socket", CFG_STR, "./var/statecast.sock", NOB, NULL, 0,
     "msgpack-RPC over a unix socket, mode 0660 (\"\" = off)",
     F(listen.socket)},
    {"listen.http", CFG_ADDR, "127.0.0.1:9477", NOB, NULL, 0,
     "HTTP health and Prometheus metrics, host:port (\"\" = off)",
     F(listen.http)},

    {"store.path", CFG_STR, "./var/statecast.db", NOB, NULL, 0,
     "SQLite database holding samples, forecasts and snapshots", F(store.path)},
    {"store.synchronous", CFG_ENUM, "normal", NOB, "off|normal|full", 0,
     "SQLite PRAGMA synchronous (WAL mode)", F(store.synchronous)},
    {"store.commit_ms", CFG_INT, "100", 1, 60000, NULL, 0,
     "group commit: at most this many ms between transactions",
     F(store.commit_ms)},
    {"store.commit_rows", CFG_INT, "10000", 1, 10000000, NULL, 0,
     "group commit: or after this many rows", F(store.commit_rows)},
    {"store.retention_s", CFG_SECS, "30d", 0, 3650 * DAY, NULL, 0,
     "delete samples older than this (0 = keep forever)", F(store.retention_s)},
    {"store.snapshot_s", CFG_SECS, "10m", 1, DAY, NULL, 0,
     "snapshot each changed series' state into SQLite this often (bounds "
     "the replay of a restart without checkpoint, and what retention keeps)",
     F(store.snapshot_s)},
    {"store.checkpoint_s", CFG_SECS, "60s", 0, DAY, NULL, 0,
     "write every state to <store.path>.ckpt0/1 over this period, for a fast "
     "restart after a crash (docs/STATE_DUMP.md; 0 = off)",
     F(store.checkpoint_s)},
    {"store.forecast_every_s", CFG_SECS, "5m", 0, DAY, NULL, 1,
     "store a series' forecast at most this often, series time (0 = never); "
     "queries and pushes always get the latest",
     F(store.forecast_every_s)},
    {"store.forecast_retention_s", CFG_SECS, "7d", 0, 3650 * DAY, NULL, 0,
     "delete stored forecasts older than this (0 = keep forever)",
     F(store.forecast_retention_s)},
    {"store.rebuild_window_s", CFG_SECS, "7d", 0, 3650 * DAY, NULL, 0,
     "model changed: rebuild each state from this much stored history",
     F(store.rebuild_window_s)},
    {"store.state_dump", CFG_BOOL, "true", NOB, NULL, 0,
     "clean stop: write every state to <store.path>.dump for a fast restart "
     "(docs/STATE_DUMP.md)",
     F(store.state_dump)},
    {"store.max_size", CFG_SIZE, "0", 0, 1024 * GIB, NULL, 0,
     "refuse writes past this database size, as on a full disk (0 = none)",
     F(store.max_size)},
    {"store.retry_rows", CFG_INT, "1000000", 0, 100000000, NULL, 0,
     "line-ingest rows held in memory while writes fail (more are dropped)",
     F(store.retry_rows)},
    {"store.max_queue", CFG_SIZE, "256M", 1 * MIB, 64 * GIB, NULL, 0,
     "rows waiting for their COMMIT, in bytes: past it Graphite and Influx "
     "connections are not read until half of it is committed",
     F(store.max_queue)},
    {"store.log_max_samples", CFG_INT, "8388608", 1, 1 << 30, NULL, 0,
     "compact the sample log into per-series chunks once it holds 128 "
     "samples per series, at least 65536 and at most this many",
     F(store.log_max_samples)},
    {"store.wal_size", CFG_SIZE, "256M", 0, 64 * GIB, NULL, 0,
     "copy SQLite's write-ahead log into the database once it holds about "
     "this much, or every 30 s (0 = by time only): a thread of its own "
     "copies it beside the writer's commits from three quarters of this; "
     "the WAL file keeps 1.25x this on disk. Larger spaces out "
     "checkpoints, each of which copies every page changed since the "
     "last one",
     F(store.wal_size)},
    {"store.compact_step", CFG_INT, "131072", 1, 1 << 26, NULL, 0,
     "log samples one compaction step moves at most (one short transaction "
     "between ingest commits; bounds the writer's pause and its memory)",
     F(store.compact_step)},
    {"store.writer_priority", CFG_ENUM, "idle", NOB, "idle|batch", 0,
     "the store's writer thread: idle (SCHED_IDLE: any other thread that "
     "wakes takes its core at once; it gets only spare CPU, and is raised "
     "to batch while a quarter of store.max_queue waits, back at a "
     "sixteenth; needs RLIMIT_NICE >= 15, LimitNICE=15 in the unit, else "
     "batch is used) or batch (SCHED_BATCH, nice +5: a fair share against "
     "other programs)",
     F(store.writer_priority)},

    {"model.path", CFG_STR, "models/default.model", NOB, NULL, 0,
     "the model file every series uses unless a [series] block says",
     F(model.path)},
    {"model.forecast_every", CFG_INT, "1", 1, 1000000, NULL, 1,
     "refresh a series' forecast every k samples", F(model.forecast_every)},
    {"model.threads", CFG_INT, "0", 0, 16, NULL, 0,
     "threads stepping a tick's series, the loop's included (0 = one per "
     "core the daemon may use)",
     F(model.threads)},
    {"model.share_rows", CFG_INT, "0", 0, 65536, NULL, 0,
     "share a tick's round with the compute pool's helpers from this many "
     "rows per thread (0 = from 48 always, from 16 when the helpers' part "
     "of the round outweighs their measured wake-up)",
     F(model.share_rows)},
    {"model.slice_us", CFG_INT, "0", 0, 100000, NULL, 0,
     "scheduling slice (microseconds) the loop thread and the compute "
     "pool's helpers ask of the kernel: shorter, they take a core sooner "
     "when they wake, in shorter pieces (Linux 6.12+, clamped to "
     "100..100000; 0 = the kernel's default, 1.4 ms on two cores; 200 "
     "measured no lower p99 here and about 10% less flat-out throughput)",
     F(model.slice_us)},
    {"model.period", CFG_INT, "1", 1, 100000, NULL, 0,
     "default seasonal period in nominal steps (1 = none)", F(model.period)},
    {"model.step_s", CFG_SECS, "0", 0, 366 * DAY, NULL, 0,
     "default nominal step (0 = learn from the first samples)",
     F(model.step_s)},

    {"ingest.influx_precision", CFG_ENUM, "ns", NOB, "ns|us|ms|s", 1,
     "unit of Influx line protocol timestamps", F(ingest.influx_precision)},
    {"ingest.max_skew_s", CFG_SECS, "10m", 0, 365 * DAY, NULL, 1,
     "refuse samples stamped later than now + this (0 = no check)",
     F(ingest.max_skew_s)},

    {"limits.max_series", CFG_INT, "1000000", 1, 1000000000, NULL, 1,
     "new series past this many are refused; existing ones continue",
     F(limits.max_series)},
    {"limits.max_connections", CFG_INT, "1024", 1, 1000000, NULL, 1,
     "client connections over all listeners", F(limits.max_connections)},
    {"limits.max_line", CFG_SIZE, "4K", 64, 1 * MIB, NULL, 0,
     "longest ingest line; the rest of a longer line is discarded",
     F(limits.max_line)},
    {"limits.max_name", CFG_SIZE, "1K", 16, 64 * KIB, NULL, 0,
     "longest series name, tags included", F(limits.max_name)},
    {"limits.max_tags", CFG_INT, "32", 0, 64, NULL, 1, "tags per series",
     F(limits.max_tags)},
    {"limits.idle_timeout_s", CFG_SECS, "5m", 0, 7 * DAY, NULL, 1,
     "close connections silent for this long (0 = never)",
     F(limits.idle_timeout_s)},
    {"limits.min_rate", CFG_SIZE, "100", 0, 1 * GIB, NULL, 1,
     "slowest bytes/s for a line or frame in progress (0 = no check)",
     F(limits.min_rate)},
    {"limits.min_rate_window_s", CFG_SECS, "30s", 1, 3600, NULL, 1,
     "how long a line or frame may be in progress before its rate counts",
     F(limits.min_rate_window_s)},
    {"limits.conn_buffer", CFG_SIZE, "1M", 4 * KIB, 1 * GIB, NULL, 1,
     "bytes a connection may hold as partial input, and as unsent replies",
     F(limits.conn_buffer)},
    {"limits.subscriber_queue", CFG_SIZE, "4M", 4 * KIB, 1 * GIB, NULL, 1,
     "output queued for a subscriber before it is disconnected",
     F(limits.subscriber_queue)},
    {"limits.rpc_max_frame", CFG_SIZE, "1M", 64, 256 * MIB, NULL, 0,
     "largest msgpack-RPC frame accepted", F(limits.rpc_max_frame)},
    {"limits.rpc_max_depth", CFG_INT, "16", 1, 32, NULL, 1,
     "deepest nesting of containers in a frame", F(limits.rpc_max_depth)},
    {"limits.rpc_max_elems", CFG_INT, "262144", 16, 67108864, NULL, 1,
     "objects declared by a frame's containers (map entries count 2)",
     F(limits.rpc_max_elems)},

    {"rpc.token", CFG_STR, "", NOB, NULL, 1,
     "shared secret clients send in an `auth` call first (\"\" = none)",
     F(rpc.token)},

    {"metrics.forecasts", CFG_STR, "", NOB, NULL, 0,
     "glob of series whose latest forecast /metrics exports (\"\" = none)",
     F(metrics.forecasts)},
    {"metrics.max_forecast_series", CFG_INT, "100", 0, 100000, NULL, 0,
     "at most this many series' forecasts on /metrics (cardinality bound)",
     F(metrics.max_forecast_series)},

    {"http.status_series", CFG_INT, "50", 0, 1000, NULL, 0,
     "series shown with sparklines on the / status page, anomalous first",
     F(http.status_series)},

    {"log.level", CFG_ENUM, "info", NOB, "err|warning|notice|info|debug", 1,
     "least severe syslog priority written to stderr", F(log.level)},
};

/* Keys of a [series "GLOB"] block; a key not given keeps the default. */
static const cfg_entry series_entries[] = {
    {"period", CFG_INT, "model.period", 1, 100000, NULL, 0,
     "seasonal period in nominal steps (1 = none)", S(period)},
    {"step", CFG_SECS, "model.step_s", 0, 366 * DAY, NULL, 0,
     "nominal step (0 = learn)", S(step_s)},
    {"horizon", CFG_INT, "the model's", 0, 100000, NULL, 0,
     "horizons to serve (0 = all the model has)", S(horizon)},
    {"model", CFG_STR, "model.path", NOB, NULL, 0, "model file", S(model)},
    {"retention", CFG_SECS, "store.retention_s", 0, 3650 * DAY, NULL, 0,
     "sample retention (0 = keep forever)", S(retention_s)},
};

const cfg_entry *cfg_entries(size_t *n)
{
	*n = sizeof(entries) / sizeof(entries[0]);
	return entries;
}

const cfg_entry *cfg_series_entries(size_t *n)
{
	*n = sizeof(series_entries) / sizeof(series_entries[0]);
	return series_entries;
}

const cfg_entry *cfg_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}
