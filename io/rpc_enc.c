/*
 * io/rpc_enc.c: msgpack-RPC encoding into an rpc_buf (msgpack-c's packer
 * writing through our callback), and the error tables of io/rpc.h.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
#include "io/rpc.h"

const char *rpc_strerror(int err)
{
	static const char *msg[] = {
	    "ok",
	    "frame too large",
	    "nesting too deep",
	    "declared element count too large",
	    "not valid msgpack",
	    "not a msgpack-RPC message",
	    "parameter of the wrong type",
	    "missing parameter",
	    "out of memory",
	    "invalid argument",
	};

	if (err > 0 || -err >= (int)(sizeof(msg) / sizeof(msg[0])))
		return "unknown error";
	return msg[-err];
}

const char *rpc_code_name(int code)
{
	static const char *names[] = {"ok",	     "parse",	  "method",
				      "params",	     "not_found", "limit",
				      "unavailable", "auth",	  "internal"};

	if (code < 0 || code >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[code];
}

int rpc_err_code(int err)
{
	switch (err) {
	case RPC_OK:
		return 0;
	case RPC_EFRAME:
	case RPC_EDEPTH:
	case RPC_ECOUNT:
		return RPC_CODE_LIMIT;
	case RPC_EFORMAT:
	case RPC_EMSG:
		return RPC_CODE_PARSE;
	case RPC_ETYPE:
	case RPC_EMISSING:
		return RPC_CODE_PARAMS;
	default:
		return RPC_CODE_INTERNAL;
	}
}

void rpc_buf_init(rpc_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void rpc_buf_reset(rpc_buf *b)
{
	b->len = 0;
	b->err = RPC_OK;
}

void rpc_buf_release(rpc_buf *b)
{
	free(b->p);
	rpc_buf_init(b, b->max);
}

/* msgpack_packer_write: append, growing geometrically up to b->max. */
static int write_cb(void *data, const char *buf, size_t len)
{
	rpc_buf *b = data;

	if (b->err)
		return -1;
	if (len == 0)
		return 0; /* an empty str body comes with buf NULL */
	if (len > b->max - b->len) {
		b->err = RPC_ENOMEM;
		return -1;
	}
	if (b->len + len > b->cap) {
		/* Doubling as everywhere (io/grow.h), but never past max. */
		size_t cap = io_grow_cap(b->cap, b->len + len, 1, 256);
		char *p;
		if (cap > b->max)
			cap = b->max;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = RPC_ENOMEM;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

#define PACKER(b)          \
	msgpack_packer pk; \
	msgpack_packer_init(&pk, (b), write_cb)

void rpc_put_nil(rpc_buf *b)
{
	PACKER(b);
	msgpack_pack_nil(&pk);
}

void rpc_put_bool(rpc_buf *b, int v)
{
	PACKER(b);
	if (v)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
}

void rpc_put_i64(rpc_buf *b, int64_t v)
{
	PACKER(b);
	msgpack_pack_int64(&pk, v);
}

void rpc_put_u64(rpc_buf *b, uint64_t v)
{
	PACKER(b);
	msgpack_pack_uint64(&pk, v);
}

void rpc_put_f64(rpc_buf *b, double v)
{
	PACKER(b);
	msgpack_pack_double(&pk, v);
}

void rpc_put_f32(rpc_buf *b, float v)
{
	PACKER(b);
	msgpack_pack_float(&pk, v);
}

void rpc_put_str(rpc_buf *b, const char *s, size_t n)
{
	PACKER(b);
	if (n > UINT32_MAX) {
		b->err = b->err ? b->err : RPC_EINVAL;
		return;
	}
	msgpack_pack_str_with_body(&pk, s, n);
}

void rpc_put_cstr(rpc_buf *b, const char *s)
{
	rpc_put_str(b, s, strlen(s));
}

void rpc_put_bin(rpc_buf *b, const void *p, size_t n)
{
	PACKER(b);
	if (n > UINT32_MAX) {
		b->err = b->err ? b->err : RPC_EINVAL;
		return;
	}
	msgpack_pack_bin_with_body(&pk, p, n);
}

void rpc_put_array(rpc_buf *b, uint32_t n)
{
	PACKER(b);
	msgpack_pack_array(&pk, n);
}

void rpc_put_map(rpc_buf *b, uint32_t n)
{
	PACKER(b);
	msgpack_pack_map(&pk, n);
}

size_t rpc_map_begin(rpc_buf *b)
{
	static const char hdr[5] = {(char)0xdf, 0, 0, 0, 0};
	size_t at = b->len;

	write_cb(b, hdr, sizeof hdr);
	return at;
}

void rpc_map_end(rpc_buf *b, size_t at)
{
	rpc_limits lim;
	rpc_scan sc;
	size_t pos = at + 5, len;
	uint32_t n = 0;

	if (b->err)
		return;
	/* The bytes are ours and already bounded by b->max: lift the frame
	 * limits, keep the scanner's structure checks. */
	rpc_limits_default(&lim);
	lim.max_frame = b->max;
	lim.max_elems = UINT32_MAX;
	lim.max_depth = RPC_DEPTH_CAP;
	while (pos < b->len) {
		rpc_scan_init(&sc);
		if (rpc_scan_frame(&sc, b->p + pos, b->len - pos, &lim, &len) !=
		    1) {
			b->err = RPC_EINVAL;
			return;
		}
		pos += len;
		n++;
	}
	if (n % 2) {
		b->err = RPC_EINVAL;
		return;
	}
	n /= 2;
	b->p[at + 1] = (char)(n >> 24);
	b->p[at + 2] = (char)(n >> 16);
	b->p[at + 3] = (char)(n >> 8);
	b->p[at + 4] = (char)n;
}

void rpc_put_request(rpc_buf *b, uint32_t id, const char *method)
{
	rpc_put_array(b, 4);
	rpc_put_u64(b, RPC_REQUEST);
	rpc_put_u64(b, id);
	rpc_put_cstr(b, method);
}

void rpc_put_result(rpc_buf *b, uint32_t id)
{
	rpc_put_array(b, 4);
	rpc_put_u64(b, RPC_RESPONSE);
	rpc_put_u64(b, id);
	rpc_put_nil(b);
}

void rpc_put_error(rpc_buf *b, uint32_t id, int code, const char *message)
{
	rpc_put_array(b, 4);
	rpc_put_u64(b, RPC_RESPONSE);
	rpc_put_u64(b, id);
	rpc_put_array(b, 2);
	rpc_put_i64(b, code);
	rpc_put_cstr(b, message);
	rpc_put_nil(b);
}

void rpc_put_notify(rpc_buf *b, const char *method)
{
	rpc_put_array(b, 3);
	rpc_put_u64(b, RPC_NOTIFY);
	rpc_put_cstr(b, method);
}
