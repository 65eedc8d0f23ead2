/*
 * daemon/tick.h: samples of one loop iteration, stepped as one batch.
 *
 * Read callbacks only validate and queue (srv_ingest); a uv_check handle,
 * which libuv runs right after each poll phase, steps everything queued in
 * that iteration: round r holds every series' r-th sample of the tick
 * (every round of the series a subscription watches comes before the
 * rounds of the rest), and each round is cut into ssm_model_step_batch
 * calls of at most batch_max series (series whose forecast is due and
 * watched by a subscription first, their notifications written at once;
 * then the other due ones; then the rest), which the compute pool
 * (daemon/pool.h, model.threads) may run on several threads.
 * Then the tick's accepted samples, the refreshed forecasts and the push
 * requests waiting on them go to the sink (daemon/sink.h) in one call.
 *
 * Ownership: pending entries point at registry series; a series dropped
 * during the tick is marked and skipped, and freed after the sink has run.
 */
#ifndef STATECAST_DAEMON_TICK_H
#define STATECAST_DAEMON_TICK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/pool.h"
#include "ssm/model.h"

struct srv;
struct srv_series;
struct srv_push;

/* Why a sample was refused; stable, used in `push` replies. */
enum srv_reject {
	SRV_ACCEPTED = 0,
	SRV_REJ_ORDER = 1,  /* t not after the series' last accepted t */
	SRV_REJ_VALUE = 2,  /* value NaN or infinite, or t not finite */
	SRV_REJ_LIMIT = 3,  /* a new series past limits.max_series */
	SRV_REJ_NAME = 4,   /* empty or invalid series name */
	SRV_REJ_NOMEM = 5,  /* out of memory */
	SRV_REJ_SHAPE = 6,  /* push: not a [series, t, value] triple */
	SRV_REJ_FUTURE = 7, /* push: t beyond now + ingest.max_skew_s */
};
const char *srv_reject_reason(int code);

/* One accepted sample of the tick. */
typedef struct srv_sample {
	struct srv_series *s;
	double t, value;
} srv_sample;

/* One sample waiting for its model step, in its series' round. */
typedef struct srv_step {
	struct srv_series *s;
	ssm_sample in;
	uint32_t round;
	int16_t due;   /* its forecast is refreshed by this step: 2 when a
			  subscription watches the series, else 1; 0 if not
			  due */
	int16_t quiet; /* a stored sample stepped again (srv_ingest_replay):
			  no notification */
} srv_step;

/* Rows [a, a + n) of the round arrays; fc: their forecast is due. */
typedef struct srv_chunk {
	int a, n, fc;
	int quiet; /* replayed samples: no notifications */
	int rc;	   /* ssm_model_step_batch's return */
} srv_chunk;

/* Samples parsed from one read, waiting to be looked up together
 * (srv_ingest_add): at 100k series each lookup misses the cache twice (the
 * map's slot, the series), so a batch prefetches every slot, then every
 * series, then ingests in order. */
#define SRV_INGEST_BATCH 32

typedef struct srv_qsample {
	uint64_t hash; /* srv_registry_hash of the name */
	double t, value;
	size_t off, len; /* the name in srv_tick.qnames */
} srv_qsample;

typedef struct srv_tick {
	uv_check_t check;
	uv_prepare_t prep; /* STATECAST_TRACE only: marks each poll */
	srv_sample *acc;   /* accepted this tick, arrival order */
	size_t nacc, capacc;
	srv_step *steps; /* to step this tick */
	size_t nsteps, capsteps;
	uint32_t rounds;  /* 1 + the highest round queued */
	srv_step *sorted; /* steps in stepping order, when rounds > 1: the
			     watched series' rounds, then the others' */
	size_t capsorted;
	size_t *start; /* slice bounds into sorted: rounds + 1, or with a
			  subscription 2 x rounds + 1 */
	size_t capstart;
	struct srv_push **push; /* replies waiting on this tick */
	size_t npush, cappush;
	struct srv_series **refreshed; /* distinct series, this tick */
	size_t nref, capref;
	struct srv_series **replayed; /* srv_ingest_replay's series, this
					 tick (their samples come in a run
					 each: a repeat is the last entry) */
	size_t nrep, caprep;
	uint64_t serial; /* tick counter, marks refreshed series */
	/* One round's series in stepping order (caprow rows), cut into
	 * chunks of at most bmax: one ssm_model_step_batch call each. */
	int bmax;
	size_t caprow;
	float **states;
	ssm_sample *in;
	ssm_forecast *out;
	int *status;
	struct srv_series **bs;
	srv_chunk *chunks;
	size_t capchunks;
	int coff; /* pool jobs j are chunks[coff + j] (a shared round's rest) */
	void *ws; /* the loop thread's workspace (bmax series) */
	srv_pool pool; /* model.threads: helpers stepping chunks */
	double row_s;  /* the loop's stepping time per row (s), learnt from
			  its unshared rounds: what a round would save when
			  shared (srv_pool_worth); 0 until measured */
	/* The batch of srv_ingest_add: nq samples, their names NUL-terminated
	 * one after another in qnames (qused of qcap bytes). */
	srv_qsample q[SRV_INGEST_BATCH];
	int nq;
	char *qnames;
	size_t qused, qcap;
} srv_tick;

/*
 * Samples one tick takes from the line protocols, about: once the tick
 * holds this many, a Graphite or Influx connection is not read again
 * until the tick has run (srv_lines_pause / srv_lines_resume, conn.h), so
 * after a stall the backlog is stepped in slices of about a millisecond
 * of model work, each one's forecasts pushed before the next is read,
 * instead of in one tick that reads (and parses, and stores) everything
 * first. Past the bound, each connection readable in the same poll still
 * brings one read of at most 16 KiB (a few hundred lines), so no sender
 * loses its turn; RPC `push` is not counted (its frames are bounded by
 * limits.rpc_max_frame). (Reads sized to what the tick still takes made
 * flat-out ticks of ~300 samples instead of ~2600 and cost 15% of the
 * sustained rate, for no p99 gain measurable on this shared machine:
 * bench/results/latency4-sized-reads.md.)
 */
#define SRV_TICK_SAMPLES 256

int srv_tick_init(struct srv *s);
void srv_tick_release(struct srv *s);

/*
 * Validates one sample and queues it: finds or creates the series (tags
 * are expected normalized by the parser), refuses a t not after the last
 * accepted one. t <= 0 means now. Returns SRV_ACCEPTED or a SRV_REJ_*;
 * the counters in srv.st and the series are updated either way.
 */
int srv_ingest(struct srv *s, const char *name, size_t len, double t,
	       double value);

/*
 * A stored sample of a restored series, stepped again (daemon/persist.h:
 * the replay at start-up and the catch-up): ingested like srv_ingest's
 * for the series, but not handed to the sink (it is stored already).
 */
int srv_ingest_replay(struct srv *s, struct srv_series *se, double t,
		      double value);

/*
 * The same for the line protocols, in batches (SRV_INGEST_BATCH above):
 * the parser writes the name (at most lines.max_name bytes and a NUL)
 * where srv_ingest_name points, srv_ingest_add queues it, and
 * srv_ingest_flush ingests the batch, each sample exactly as srv_ingest
 * would and in the same order (a full batch is flushed by the calls
 * themselves). The read callback flushes before it returns, so nothing
 * waits between reads and srv_ingest's other callers see every earlier
 * line ingested. Rejections are counted as by srv_ingest; no code comes
 * back (the line protocols have no reply).
 */
char *srv_ingest_name(struct srv *s);
void srv_ingest_add(struct srv *s, size_t len, double t, double value);
void srv_ingest_flush(struct srv *s);

/* Holds a push request until this tick's samples reached the sink. */
int srv_tick_hold_push(struct srv *s, struct srv_push *p);

/* Steps and sinks everything queued (the check callback; also shutdown). */
void srv_tick_run(struct srv *s);

/* The horizon h (1..H) of the series' last forecast that t falls on (the
 * nearest nominal step after the origin) and its interval there: the
 * lowest and highest quantile levels. 0 when no forecast covers t. */
int srv_forecast_interval(const ssm_model *m, const struct srv_series *se,
			  double t, double *lo, double *hi);

/* How far value at t falls outside the series' last forecast interval
 * (lowest to highest quantile level at the horizon t lands on), in
 * interval widths; 0 inside or when no forecast covers t. */
float srv_anomaly_score(const ssm_model *m, const struct srv_series *se,
			double t, double value);

#endif
