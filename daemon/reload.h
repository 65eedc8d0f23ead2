/*
 * daemon/reload.h: the configuration as the daemon runs it, and SIGHUP.
 *
 * srv_settings_from() turns a loaded cfg into srv_settings (pointers into
 * the cfg, which must outlive the settings). srv_reload_start() watches
 * SIGHUP on the loop thread: the file is read again with the same -o
 * overrides; an invalid file changes nothing (each error is logged); else
 * every difference from the configuration the daemon started with is
 * logged, the reloadable ones (the table's "reloadable" column, see
 * docs/CONFIG.md) are applied at once, and the others are reported as
 * taking effect at the next start. Connections, series and queued samples
 * are untouched. Differences are always computed against the start-up
 * configuration, so a second SIGHUP reports (and applies) the same changes.
 */
#ifndef STATECAST_DAEMON_RELOAD_H
#define STATECAST_DAEMON_RELOAD_H

#include <uv.h>

#include "config/cfg.h"
#include "daemon/server.h"

/* Settings the config table does not (yet) carry. */
enum {
	BATCH_MAX = 64,	     /* series per batched model step */
	HISTORY_RING = 4096, /* samples per series kept for `history` */
};

void srv_settings_from(const cfg *c, srv_settings *t);

typedef struct srv_reload {
	uv_signal_t sig;
	srv *s;
	const cfg *boot; /* the start-up configuration, owned by the caller */
	const char *path;
	const char *const *ov;
	int nov;
	char token[1024]; /* rpc.token in force after a reload */
	int reloads;
} srv_reload;

/* The signal handle is unreferenced: it does not keep the loop alive.
 * Close it with srv_reload_close() once uv_run() has returned. */
int srv_reload_start(srv_reload *r, srv *s, uv_loop_t *loop, const cfg *boot,
		     const char *path, const char *const *ov, int nov);
void srv_reload_close(srv_reload *r);

#endif
