/*
 * daemon/catchup.h: serving before a crash restart's replay ends (the
 * persist module's catch-up, docs/STATE_DUMP.md "Serving before the
 * replay ends"); the hooks the rest of the daemon calls are in
 * daemon/persist.h (srv_persist_catch_up...).
 *
 * The walk of the database (srv_persist_open, io/store.h store_recover)
 * places every series (its checkpoint slot or snapshot) and hands over the
 * stored samples after it. Instead of stepping them there, before the
 * daemon serves, it keeps them here (srv__catchup_add: t and value, 16
 * bytes a sample, up to SRV_CATCHUP_MAX_SAMPLES in all; past that the walk
 * steps them itself, as before). Such a series is "behind": its store_seq
 * already names its last stored sample (so live samples take the seqs
 * after it), its state and counters are still those of its record.
 *
 * A behind series steps its samples through srv_ingest_replay (the ingest
 * and tick live samples take, without the sink: they are stored) before
 * anything reads or writes its state: its next live sample (queued behind
 * them in the same tick), a query, a snapshot, a checkpoint slice, the
 * state dump; a drop forgets them. The rest are stepped in the
 * background, in walk order, SRV_CATCHUP_SLICE samples and a tick per
 * loop iteration (a uv_idle handle: the loop polls without waiting while
 * it runs, and live input keeps its turn between slices). The environment
 * variable STATECAST_CATCHUP_SLICE sets the slice (0: no background
 * catch-up, only on use; for tests). Since every reader catches a series
 * up first, any state read or written equals the one of a daemon that
 * never stopped.
 *
 * Progress: srv.st.behind_series / behind_samples (stats, /metrics), a log
 * line when the catch-up starts and one when it ends. Everything is freed
 * when the last series has caught up. Loop thread only.
 */
#ifndef STATECAST_DAEMON_CATCHUP_H
#define STATECAST_DAEMON_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

#include "io/store.h"

struct srv;
struct srv_series;

/* Samples kept for the catch-up at most (16 bytes each: 512 MiB). */
#define SRV_CATCHUP_MAX_SAMPLES (32u << 20)
/* Samples stepped per background slice (one tick). */
#define SRV_CATCHUP_SLICE 2048
/* Samples still behind above which a stop leaves them to the next start
 * (srv__catchup_leave): about 1.3 s of stepping. */
#define SRV_CATCHUP_STOP_MAX 100000

typedef struct srv_catchup srv_catchup;

/* Before the walk: s->catchup. 0 or -1 (out of memory: the walk steps
 * everything itself). */
int srv__catchup_new(struct srv *s);
/*
 * During the walk: n stored samples of se (seq ascending, after its
 * state), kept for later. 0, or -1 when they do not fit: the caller steps
 * them now, after srv__catchup_take_back(se) (so must it every later
 * sample of se).
 */
int srv__catchup_add(struct srv *s, struct srv_series *se,
		     const store_sample *sm, size_t n);
/* During the walk: steps se's kept samples now (queued through
 * srv_ingest_replay) and forgets them. */
void srv__catchup_take_back(struct srv *s, struct srv_series *se);
/* The walk was abandoned (the registry is emptied): forget all. */
void srv__catchup_reset(struct srv *s);
/* The walk ended and the daemon is about to serve: everything kept
 * becomes the catch-up (counters, index, background, log line). t0: the
 * restore's start (srv_now), for the log. */
void srv__catchup_start(struct srv *s, double t0);
/* Every replay step queued is in a tick that ran (srv_persist_tick). */
void srv__catchup_ticked(struct srv *s);
/* After the loop ended: frees what is left (a stop before the end lost
 * nothing: the samples are stored). */
void srv__catchup_free(struct srv *s);
/*
 * The stop (srv_persist_close): 1 when more than SRV_CATCHUP_STOP_MAX
 * samples are still to step (the environment variable
 * STATECAST_CATCHUP_STOP_MAX sets it; for tests). Stepping them before the
 * state dump costs ~12.5 us of CPU each (1.67M after a 1M-series crash:
 * tens of seconds of stop, against the 30 s TimeoutStopSec grants a step);
 * instead the stop writes no dump and no final snapshot, and the next
 * start, like one after a crash, restores every series from its
 * checkpoint record or snapshot and replays what followed from the
 * database, where every one of these samples is stored: nothing is lost,
 * and the states are those a daemon that never stopped would hold. Below
 * the bound the stop catches up and dumps as before (a dump's start is
 * faster than a walk of the database).
 */
int srv__catchup_leave(struct srv *s);

#endif
