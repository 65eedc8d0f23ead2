/*
 * tests/fuzz/fuzz_rpc.c: libFuzzer target for the msgpack-RPC path a
 * connection runs: pre-scan (fed in chunks whose size the first byte
 * picks), msgpack-c decode of every frame the scan admits, the accessors a
 * dispatcher would call, and an encoded response. libFuzzer's malloc limit
 * turns any oversized allocation (a bomb the pre-scan missed) into a crash.
 *
 * Invariants: a frame never exceeds max_frame; the scanner never asks for
 * bytes past max_frame; every admitted frame msgpack-c accepts decodes
 * without reading past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Visit a value as a dispatcher might, depth-first, bounded. */
static void walk(const rpc_val *v, int depth)
{
	size_t i, n = rpc_val_len(v);
	rpc_str s;
	double d;
	int64_t x;
	int b;
	const rpc_val *e;

	rpc_val_str(v, &s);
	rpc_val_f64(v, &d);
	rpc_val_i64(v, &x);
	rpc_val_bool(v, &b);
	if (depth > 40)
		return;
	for (i = 0; i < n && i < 64; i++) {
		if (rpc_val_type(v) == RPC_T_MAP) {
			if (rpc_val_entry(v, i, &s, &e) == RPC_OK)
				walk(e, depth + 1);
		} else {
			walk(rpc_val_at(v, i), depth + 1);
		}
	}
}

static void dispatch(const rpc_msg *m, rpc_buf *out)
{
	const rpc_val *arr = rpc_param_at(m, 0);
	size_t i, n = rpc_val_len(arr);
	rpc_str s;
	double t, v;

	walk(m->params, 0);
	walk(m->result, 0);
	walk(m->error, 0);
	walk(rpc_param(m, "series"), 0);
	for (i = 0; i < n && i < 1000; i++)
		rpc_triple(arr, i, &s, &t, &v);
	rpc_buf_reset(out);
	if (m->kind == RPC_REQUEST) {
		rpc_put_result(out, m->id);
		rpc_put_map(out, 1);
		rpc_put_cstr(out, "method");
		rpc_put_str(out, m->method.p, m->method.n);
	} else if (m->kind == RPC_NOTIFY) {
		rpc_put_notify(out, "ack");
		rpc_put_array(out, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static rpc_dec *dec;
	rpc_limits lim;
	rpc_scan sc;
	rpc_buf out;
	size_t start = 0, have, chunk;

	if (size == 0)
		return 0;
	if (!dec)
		dec = rpc_dec_new();
	rpc_limits_default(&lim);
	lim.max_frame = 4096;
	lim.max_elems = 1024;
	chunk = (size_t)data[0] % 32 + 1;
	data++;
	size--;
	rpc_buf_init(&out, 1 << 16);
	rpc_scan_init(&sc);
	have = 0;
	while (have < size) {
		size_t fl = 0;
		int r;

		have = have + chunk < size ? have + chunk : size;
		for (;;) {
			r = rpc_scan_frame(&sc, (const char *)data + start,
					   have - start, &lim, &fl);
			if (r != 1)
				break;
			check(fl > 0 && fl <= lim.max_frame &&
			      start + fl <= have);
			{
				rpc_msg m;
				if (rpc_decode(dec, (const char *)data + start,
					       fl, &m) == RPC_OK)
					dispatch(&m, &out);
			}
			start += fl;
		}
		if (r < 0)
			break; /* the daemon closes the connection */
		check(sc.pos <= lim.max_frame);
	}
	rpc_buf_release(&out);
	return 0;
}
