/*
 * daemon/metrics.c: see metrics.h. The exposition text format is specified
 * in Prometheus' "Exposition formats" document (version 0.0.4): one HELP and
 * one TYPE line per family, samples of a family together, label values in
 * double quotes with \\, \" and \n escaped, floats in Go's ParseFloat syntax.
 */
#include "daemon/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int srv_hist_init(srv_hist *h, const double *bounds, int nb)
{
	int i;

	memset(h, 0, sizeof *h);
	if (nb < 0 || nb > SRV_HIST_MAX)
		return -1;
	for (i = 0; i < nb; i++) {
		if (!isfinite(bounds[i]) ||
		    (i > 0 && bounds[i] <= bounds[i - 1]))
			return -1;
		h->le[i] = bounds[i];
	}
	h->nb = nb;
	return 0;
}

void srv_hist_init_latency(srv_hist *h)
{
	/* Literals, so the le labels print as written (2.5e-06, not the
	 * product 2.4999999999999998e-06). */
	static const double b[] = {
	    1e-6, 2.5e-6, 5e-6,	  1e-5, 2.5e-5, 5e-5,	1e-4, 2.5e-4,
	    5e-4, 1e-3,	  2.5e-3, 5e-3, 1e-2,	2.5e-2, 5e-2, 0.1,
	    0.25, 0.5,	  1,	  2.5,	5,	10,
	};

	srv_hist_init(h, b, (int)(sizeof b / sizeof b[0]));
}

void srv_hist_observe(srv_hist *h, double v)
{
	int lo = 0, hi = h->nb;

	if (isnan(v))
		return;
	/* First bound >= v (le is inclusive); nb when above them all. */
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (h->le[mid] >= v)
			hi = mid;
		else
			lo = mid + 1;
	}
	h->n[lo]++;
	h->sum += v;
	h->count++;
}

/* HELP text escapes only backslash and newline. */
static void help_text(io_tb *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			io_tb_puts(b, "\\\\");
		else if (*s == '\n')
			io_tb_puts(b, "\\n");
		else
			io_tb_putc(b, *s);
	}
}

void srv_prom_family(io_tb *b, const char *name, const char *type,
		     const char *help)
{
	io_tb_printf(b, "# HELP %s ", name);
	help_text(b, help);
	io_tb_printf(b, "\n# TYPE %s %s\n", name, type);
}

static const char *label_esc(unsigned char c)
{
	return c == '\\'   ? "\\\\"
	       : c == '"'  ? "\\\""
	       : c == '\n' ? "\\n"
			   : NULL;
}

void srv_prom_label_value(io_tb *b, const char *v)
{
	io_tb_escape(b, v, label_esc);
}

void srv_prom_sample_text(io_tb *b, const char *name, const char *const *kv,
			  int nl, const char *value)
{
	int i;

	io_tb_puts(b, name);
	if (nl > 0) {
		io_tb_putc(b, '{');
		for (i = 0; i < nl; i++) {
			if (i)
				io_tb_putc(b, ',');
			io_tb_puts(b, kv[2 * i]);
			io_tb_puts(b, "=\"");
			srv_prom_label_value(b, kv[2 * i + 1]);
			io_tb_putc(b, '"');
		}
		io_tb_putc(b, '}');
	}
	io_tb_putc(b, ' ');
	io_tb_puts(b, value);
	io_tb_putc(b, '\n');
}

void srv_prom_sample(io_tb *b, const char *name, const char *const *kv, int nl,
		     double value)
{
	char v[IO_FMT_MAX];

	io_fmt_double(v, value);
	srv_prom_sample_text(b, name, kv, nl, v);
}

void srv_prom_histogram(io_tb *b, const char *name, const char *help,
			const srv_hist *h)
{
	char le[IO_FMT_MAX], full[128];
	const char *kv[2] = {"le", le};
	uint64_t cum = 0;
	int i;

	srv_prom_family(b, name, "histogram", help);
	snprintf(full, sizeof full, "%s_bucket", name);
	for (i = 0; i < h->nb; i++) {
		cum += h->n[i];
		io_fmt_double(le, h->le[i]);
		srv_prom_sample(b, full, kv, 1, (double)cum);
	}
	snprintf(le, sizeof le, "+Inf");
	srv_prom_sample(b, full, kv, 1, (double)h->count);
	snprintf(full, sizeof full, "%s_sum", name);
	srv_prom_sample(b, full, NULL, 0, h->sum);
	snprintf(full, sizeof full, "%s_count", name);
	srv_prom_sample(b, full, NULL, 0, (double)h->count);
}

static void counts(io_tb *b, const char *name, const char *help,
		   const char *label, const srv_metrics_count *c, int n)
{
	const char *kv[2] = {label, NULL};
	int i;

	srv_prom_family(b, name, "counter", help);
	for (i = 0; i < n; i++) {
		kv[1] = c[i].label;
		srv_prom_sample(b, name, kv, c[i].label ? 1 : 0,
				(double)c[i].n);
	}
}

static void gauge(io_tb *b, const char *name, const char *help, double v)
{
	srv_prom_family(b, name, "gauge", help);
	srv_prom_sample(b, name, NULL, 0, v);
}

#define LEVELS_CACHED 16 /* quantile level labels formatted once per series */

static void forecasts(io_tb *b, const srv_metrics *m)
{
	const char *kv[6];
	char hz[24], lv[LEVELS_CACHED + 1][IO_FMT_MAX], val[IO_FMT_MAX];
	io_tb pre;
	size_t i;
	int h, k;

	if (m->nfc == 0)
		return;
	kv[0] = "series";
	kv[2] = "horizon";
	kv[3] = hz;
	/* Gauge values, declared "untyped": Prometheus stores both alike, and
	 * promtool's linter reserves the "quantile" label for summaries. */
	srv_prom_family(b, "statecast_forecast", "untyped",
			"Latest forecast quantile of a series, horizon in "
			"nominal steps after the forecast origin.");
	io_tb_init(&pre);
	for (i = 0; i < m->nfc; i++) {
		const srv_metrics_forecast *f = &m->fc[i];
		/* H x Q lines share the series label: escape it once. This
		 * loop is most of a scrape's cost, and it runs on the loop
		 * thread. */
		io_tb_reset(&pre);
		io_tb_puts(&pre, "statecast_forecast{series=\"");
		srv_prom_label_value(&pre, f->series);
		io_tb_puts(&pre, "\",horizon=\"");
		if (!io_tb_ok(&pre)) {
			b->failed = 1;
			break;
		}
		for (k = 0; k < f->Q && k < LEVELS_CACHED; k++)
			io_fmt_float(lv[k], f->levels[k]);
		for (h = 0; h < f->H; h++) {
			snprintf(hz, sizeof hz, "%d", h + 1);
			for (k = 0; k < f->Q; k++) {
				const char *ql = lv[k];
				if (k >= LEVELS_CACHED) {
					io_fmt_float(lv[LEVELS_CACHED],
						     f->levels[k]);
					ql = lv[LEVELS_CACHED];
				}
				io_fmt_float(val, f->q[h * f->Q + k]);
				io_tb_putn(b, pre.data, pre.len);
				io_tb_puts(b, hz);
				io_tb_puts(b, "\",quantile=\"");
				io_tb_puts(b, ql);
				io_tb_puts(b, "\"} ");
				io_tb_puts(b, val);
				io_tb_putc(b, '\n');
			}
		}
	}
	io_tb_release(&pre);
	srv_prom_family(b, "statecast_forecast_mean", "gauge",
			"Latest point forecast (mean) of a series.");
	for (i = 0; i < m->nfc; i++) {
		const srv_metrics_forecast *f = &m->fc[i];
		if (!f->mean)
			continue;
		kv[1] = f->series;
		for (h = 0; h < f->H; h++) {
			snprintf(hz, sizeof hz, "%d", h + 1);
			io_fmt_float(val, f->mean[h]);
			srv_prom_sample_text(b, "statecast_forecast_mean", kv,
					     2, val);
		}
	}
	srv_prom_family(b, "statecast_anomaly_score", "gauge",
			"Score of the latest sample against the forecast "
			"issued before it; 0 = inside the interval.");
	for (i = 0; i < m->nfc; i++) {
		kv[1] = m->fc[i].series;
		io_fmt_float(val, m->fc[i].anomaly);
		srv_prom_sample_text(b, "statecast_anomaly_score", kv, 1, val);
	}
	srv_prom_family(b, "statecast_series_value", "gauge",
			"The latest sample of a series, to compare with the "
			"forecast issued before it (PromQL offset).");
	for (i = 0; i < m->nfc; i++) {
		kv[1] = m->fc[i].series;
		srv_prom_sample(b, "statecast_series_value", kv, 1,
				m->fc[i].last_value);
	}
	srv_prom_family(b, "statecast_forecast_origin_timestamp_seconds",
			"gauge",
			"Unix time of the last sample the forecast saw.");
	for (i = 0; i < m->nfc; i++) {
		kv[1] = m->fc[i].series;
		srv_prom_sample(b,
				"statecast_forecast_origin_timestamp_seconds",
				kv, 1, m->fc[i].origin_t);
	}
	srv_prom_family(
	    b, "statecast_series_step_seconds", "gauge",
	    "Nominal step of a series: horizon h is h steps ahead.");
	for (i = 0; i < m->nfc; i++) {
		kv[1] = m->fc[i].series;
		srv_prom_sample(b, "statecast_series_step_seconds", kv, 1,
				m->fc[i].step_s);
	}
}

/* The series left out as catching up, with what is known of them. */
static void catching_up(io_tb *b, const srv_metrics *m)
{
	const char *kv[2] = {"series", NULL};
	size_t i;

	if (m->nbh == 0)
		return;
	srv_prom_family(
	    b, "statecast_series_catching_up_stored_timestamp_seconds", "gauge",
	    "Unix time of the last stored sample of a series still "
	    "catching up after a crash restart: its forecast "
	    "follows once it has stepped its stored samples.");
	for (i = 0; i < m->nbh; i++) {
		kv[1] = m->bh[i].series;
		srv_prom_sample(
		    b, "statecast_series_catching_up_stored_timestamp_seconds",
		    kv, 1, m->bh[i].stored_t);
	}
}

static void counter(io_tb *b, const char *name, const char *help, double v)
{
	srv_prom_family(b, name, "counter", help);
	srv_prom_sample(b, name, NULL, 0, v);
}

static void compaction(io_tb *b, const srv_metrics *m)
{
	counter(b, "statecast_store_compactions_total",
		"Rounds of the sample log's compaction into chunks finished.",
		(double)m->compactions);
	counter(b, "statecast_store_compact_steps_total",
		"Compaction steps (one transaction each, between ingest "
		"commits).",
		(double)m->compact_steps);
	counter(b, "statecast_store_compacted_samples_total",
		"Log samples the compaction moved into chunks.",
		(double)m->compacted);
	counter(b, "statecast_store_compact_seconds_total",
		"Time the store's writer spent in compaction steps.",
		m->compact_s);
	gauge(b, "statecast_store_compact_step_max_seconds",
	      "The longest compaction step since start: the writer's longest "
	      "pause for it.",
	      m->compact_step_max_s);
}

/* An upgrade's move of version 6's forecasts (io/store_fc.c). */
static void forecast_move(io_tb *b, const srv_metrics *m)
{
	gauge(b, "statecast_store_forecast_move_running",
	      "1 while the forecasts of a schema-6 database move to schema 7 "
	      "(after an upgrade, in the writer's idle time).",
	      (double)m->fc_moving);
	counter(b, "statecast_store_forecast_moved_rows_total",
		"Schema-6 forecast rows moved to schema 7 since start.",
		(double)m->fc_moved);
	gauge(b, "statecast_store_forecast_move_left_rows",
	      "At most this many schema-6 forecast rows are left to move.",
	      (double)m->fc_move_left);
}

void srv_metrics_render(io_tb *b, const srv_metrics *m)
{
	const char *kv[2] = {"version", m->version ? m->version : "unknown"};

	srv_prom_family(b, "statecast_build_info", "gauge",
			"Always 1; the version is a label.");
	srv_prom_sample(b, "statecast_build_info", kv, 1, 1);
	gauge(b, "statecast_start_time_seconds",
	      "Unix time the daemon started.", m->start_time_s);
	counts(b, "statecast_samples_ingested_total", "Samples accepted.",
	       "protocol", m->ingested, m->ningested);
	counts(b, "statecast_samples_dropped_total",
	       "Samples dropped, by reason.", "reason", m->dropped,
	       m->ndropped);
	gauge(b, "statecast_series", "Live series.", (double)m->series);
	gauge(b, "statecast_connections", "Open client connections.",
	      (double)m->connections);
	gauge(b, "statecast_subscribers", "Forecast subscriptions.",
	      (double)m->subscribers);
	if (m->step_latency)
		srv_prom_histogram(b, "statecast_step_latency_seconds",
				   "Time to step one tick's samples.",
				   m->step_latency);
	if (m->commit_latency)
		srv_prom_histogram(
		    b, "statecast_commit_latency_seconds",
		    "Seconds from a batch's submit to its COMMIT.",
		    m->commit_latency);
	if (m->wal_bytes >= 0)
		gauge(b, "statecast_wal_bytes", "Size of the SQLite WAL file.",
		      (double)m->wal_bytes);
	if (m->has_store) {
		compaction(b, m);
		forecast_move(b, m);
		gauge(b, "statecast_restore_behind_series",
		      "Series restored after a crash whose stored samples are "
		      "not stepped yet (the catch-up).",
		      (double)m->behind_series);
		gauge(b, "statecast_restore_behind_samples",
		      "Stored samples the catch-up has still to step.",
		      (double)m->behind_samples);
		gauge(b, "statecast_slab_warmed_bytes",
		      "Bytes of the slots mapped from the state dump or "
		      "checkpoint copied into private memory in the "
		      "background since start (the warm-up).",
		      (double)m->slab_warmed_bytes);
	}
	gauge(b, "statecast_forecast_series_exported",
	      "Series whose forecast this exposition carries.", (double)m->nfc);
	gauge(b, "statecast_forecast_series_omitted",
	      "Series matching metrics.forecasts left out by "
	      "metrics.max_forecast_series.",
	      (double)m->fc_omitted);
	gauge(b, "statecast_forecast_series_catching_up",
	      "Series matching metrics.forecasts left out because they are "
	      "still catching up after a crash restart (their forecast is not "
	      "current); 0 = this exposition is complete.",
	      (double)m->fc_catching_up);
	catching_up(b, m);
	forecasts(b, m);
}
