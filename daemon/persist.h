/*
 * daemon/persist.h: the daemon's side of the SQLite store (io/store.h).
 *
 * When store.path is set, srv_sink_tick() hands each tick's accepted samples
 * (and due forecasts) to the store's writer thread as one batch and answers
 * the tick's `push` requests from the batch's completion, i.e. after the
 * COMMIT that holds their samples, or with the store's error when it failed.
 * A tick without pushes (line ingest only) is flagged for retry, so the
 * store keeps it in its bounded queue while writes fail.
 *
 * Sequence numbers: srv_series.store_seq counts the series' samples handed
 * to the store, so the k-th accepted sample of a series is stored with seq
 * k; a snapshot written between ticks holds the state after exactly
 * store_seq samples (every accepted sample has been stepped by then), and is
 * stored with seen = store_seq. Samples of a batch whose COMMIT failed were
 * stepped but are not stored: their seqs stay unused, so the stored seqs
 * may have gaps, and a restart continues after the highest seq it read (or
 * the snapshot's seen), never reusing one.
 *
 * Start-up (srv_persist_open, before the listeners): every stored series is
 * registered under its store id; its latest snapshot is copied into its
 * state, and the samples stored after it are replayed through srv_ingest and
 * the tick, the same path live samples take, with persistence switched off
 * for them. A series without snapshot replays all its samples (learning its
 * step again from the same timestamps); when the model hash changed, the
 * samples of the last store.rebuild_window_s are replayed instead. Before
 * that, the state dump of a clean stop, or else the checkpoint the database
 * names (daemon/ckpt.h), is mapped as the slab: the dump's series need no
 * database walk at all, the checkpoint's only the replay of the samples
 * after each record.
 *
 * Snapshots: a 1 s timer snapshots a slice of the registry so that every
 * series whose store_seq moved is snapshotted about once per
 * store.snapshot_s; a 100 ms timer writes the checkpoint's slices;
 * srv_persist_close() snapshots all of them, commits what is queued and stops
 * the writer before the connections close.
 *
 * Everything here runs on the loop thread.
 */
#ifndef STATECAST_DAEMON_PERSIST_H
#define STATECAST_DAEMON_PERSIST_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/sink.h"
#include "io/store.h"

struct srv;
struct srv_series;

/* Opens s->set.store_path and restores every series. 0 or -1 (logged). */
int srv_persist_open(struct srv *s);
void srv_persist_tick(struct srv *s, const srv_tick_out *o);
/* Whether a forecast made at t would be stored (store.forecast_every_s
 * of series time since the last stored): the tick writes such a forecast
 * when it steps (daemon/fresh.h). */
int srv_persist_fc_due_at(const struct srv *s, const struct srv_series *se,
			  double t);
/* Samples of se with from <= t <= to, at most max, oldest first, read on
 * the loop thread (the fallback when the read thread, daemon/reader.h, is
 * not running): what was accepted before is committed first, waiting at
 * most SRV_HISTORY_FLUSH_MS. */
#define SRV_HISTORY_FLUSH_MS 2000
/* The read itself, without the commit wait: samples of the store's series
 * store_id with from <= t <= to, at most max, oldest first, through fn, on
 * whichever thread owns rd (the loop's, or the read thread's). */
size_t srv_store_points(store_reader *rd, int64_t store_id, double from,
			double to, size_t max,
			void (*fn)(void *arg, double t, double v), void *arg);
size_t srv_persist_history(struct srv *s, const struct srv_series *se,
			   double from, double to, size_t max,
			   void (*fn)(void *arg, double t, double v),
			   void *arg);
/* The series is being dropped: delete it from the store too. */
void srv_persist_drop(struct srv *s, struct srv_series *se);
/*
 * Before dropping root: give the store's files (database, -wal, -shm, and
 * its directory when this start created it) to uid:gid (daemon/privdrop.h,
 * srv_priv_give). 0, or the last negative errno (each failure logged).
 */
int srv_persist_give(struct srv *s, uid_t uid, gid_t gid);
/* Final snapshots, commit, writer stopped; completions delivered. */
void srv_persist_close(struct srv *s);
/* After the loop ended: frees what is left. */
void srv_persist_free(struct srv *s);
/* 0 and *st filled when the store is on, else -1. */
int srv_persist_stats(struct srv *s, store_stats *st);
/*
 * The catch-up after a crash restart (daemon/catchup.h): a series
 * restored behind its stored samples steps them before its state is read
 * or written. Each call costs a test when nothing is behind.
 * srv_persist_catch_up: run 0 queues them into the current tick (the
 * ingest path, whose sample follows them); run 1 also runs the tick when
 * the series has steps waiting in it, so its state is current on return
 * (a query). _list: the same for n series, one tick at the end. _all:
 * every series behind, now (the stop: its dump and final snapshots).
 */
void srv_persist_catch_up(struct srv *s, struct srv_series *se, int run);
void srv_persist_catch_up_list(struct srv *s, struct srv_series *const *l,
			       size_t n);
void srv_persist_catch_up_all(struct srv *s);
/*
 * Whether se is still behind, without stepping it: 1 with *n its samples
 * to step and *last_t its last stored sample's time, else 0. For readers
 * that may match many series (the status page, the /metrics forecasts,
 * the RPC list): catching them all up at once would stall the loop
 * (seconds at 1M series), so they step a bounded share and show the rest
 * as catching up.
 */
int srv_persist_behind(struct srv *s, const struct srv_series *se, size_t *n,
		       double *last_t);

/*
 * The snapshot timer's slice (internal, for its test): called once a
 * second with n series and a period of per seconds, the series to
 * snapshot now: n / per, the fraction carried in *due (start at 0) to the
 * next second, so each series is visited once per period whatever n.
 * (Rounding up instead, 50 series at store.snapshot_s 1d were each
 * snapshotted every 50 s rather than once a day.)
 */
size_t srv__snapshot_slice(double *due, size_t n, double per);

/* Bytes of batches submitted and not yet committed (or failed): the
 * store's own count (store_queued_bytes), what store.max_queue bounds
 * (srv_hold in daemon/conn.h); 0 without a store. */
size_t srv_persist_queued(const struct srv *s);

#endif
