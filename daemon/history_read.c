/* daemon/history_read.c: see history_read.h. */
#include "daemon/history_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/order.h"
#include "daemon/persist.h"
#include "daemon/reader.h"
#include "daemon/server.h"
#include "io/grow.h"

typedef struct hist_job {
	srv_read_job j;
	srv_conn *c; /* referenced until done */
	srv_slot *slot;
	uint32_t id;
	int64_t store_id;
	double from, to; /* to inclusive */
	size_t max;
	/* Read thread: the points, then the encoded reply (or error). */
	double *tv; /* pairs (t, value) */
	size_t n, cap;
	int oom;
	rpc_buf b;
	int failed; /* b holds an error reply */
	char *name;
	size_t name_n;
} hist_job;

static int collect(void *ud, const store_sample *sm, size_t n)
{
	hist_job *h = ud;
	size_t i;

	if (io_grow(&h->tv, &h->cap, 2 * (h->n + n), sizeof *h->tv, 256)) {
		h->oom = 1;
		return 1;
	}
	for (i = 0; i < n; i++) {
		h->tv[2 * (h->n + i)] = sm[i].t;
		h->tv[2 * (h->n + i) + 1] = sm[i].value;
	}
	h->n += n;
	return 0;
}

static void run(srv_read_job *j, store_reader *rd, store *st)
{
	hist_job *h = (hist_job *)j;
	char msg[160];
	size_t i;
	int rc;

	/* Read-your-writes, as on the loop (persist.h); a timeout or a
	 * failing writer reads what is committed, as there. */
	if (st)
		store_flush(st, SRV_HISTORY_FLUSH_MS);
	/* The store's range is [from, to); history's is [from, to]. */
	rc = store_history(rd, h->store_id, h->from, nextafter(h->to, INFINITY),
			   h->max, collect, h);
	rpc_buf_init(&h->b, SRV_REPLY_MAX);
	if (h->oom || (rc && rc != STORE_EABORT)) {
		snprintf(msg, sizeof msg, "history: %s",
			 h->oom ? "out of memory" : store_strerror(rc));
		rpc_put_error(&h->b, h->id,
			      h->oom ? RPC_CODE_LIMIT : RPC_CODE_UNAVAILABLE,
			      msg);
		h->failed = 1;
		goto out;
	}
	rpc_put_result(&h->b, h->id);
	rpc_put_map(&h->b, 2);
	rpc_put_cstr(&h->b, "series");
	rpc_put_str(&h->b, h->name, h->name_n);
	rpc_put_cstr(&h->b, "points");
	rpc_put_array(&h->b, (uint32_t)h->n);
	for (i = 0; i < h->n; i++) {
		rpc_put_array(&h->b, 2);
		rpc_put_f64(&h->b, h->tv[2 * i]);
		rpc_put_f64(&h->b, h->tv[2 * i + 1]);
	}
	if (h->b.err) {
		rpc_buf_reset(&h->b);
		rpc_put_error(&h->b, h->id, RPC_CODE_LIMIT, "result too large");
		h->failed = 1;
	}
out:
	free(h->tv);
	h->tv = NULL;
}

static void done(srv *s, srv_read_job *j)
{
	hist_job *h = (hist_job *)j;

	s->st.rpc_requests++;
	s->st.rpc_errors += h->failed;
	if (h->b.err) { /* not even the error fitted: out of memory */
		rpc_buf_release(&h->b);
		srv_order_fill(h->c, h->slot, NULL, 0);
		srv_conn_close(h->c, "out of memory encoding a reply");
	} else {
		/* The buffer passes to the slot. */
		srv_order_fill(h->c, h->slot, h->b.p, h->b.len);
	}
	srv_conn_unref(h->c);
	free(h->name);
	free(h);
}

int srv_history_defer(srv *s, srv_conn *c, uint32_t id, const srv_series *se,
		      double from, double to, size_t max, char *msg,
		      size_t msgn)
{
	hist_job *h;
	int rc;

	if (srv_order_open(c) >= SRV_READ_PER_CONN) {
		srv_reader_note_busy(s);
		snprintf(msg, msgn,
			 "busy: %d history reads of this connection waiting",
			 SRV_READ_PER_CONN);
		return RPC_CODE_UNAVAILABLE;
	}
	h = calloc(1, sizeof *h);
	if (h)
		h->name = malloc(strlen(se->name) + 1);
	if (!h || !h->name) {
		if (h)
			free(h);
		snprintf(msg, msgn, "out of memory");
		return RPC_CODE_LIMIT;
	}
	h->name_n = strlen(se->name);
	memcpy(h->name, se->name, h->name_n + 1);
	h->id = id;
	h->store_id = se->store_id;
	h->from = from;
	h->to = to;
	h->max = max;
	h->j.run = run;
	h->j.done = done;
	/* The slot first: a queued job cannot be taken back. */
	h->slot = srv_order_reserve(c);
	rc = h->slot ? srv_reader_submit(s, &h->j, 1) : -1;
	if (rc) {
		if (h->slot) /* void: no reply from it */
			srv_order_fill(c, h->slot, NULL, 0);
		free(h->name);
		free(h);
		if (rc == -1) {
			snprintf(msg, msgn, "out of memory");
			return RPC_CODE_LIMIT;
		}
		snprintf(msg, msgn, "busy: %d reads waiting, retry later",
			 SRV_READ_QUEUE);
		return RPC_CODE_UNAVAILABLE;
	}
	h->c = c;
	srv_conn_ref(c);
	return 0;
}
