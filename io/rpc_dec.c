/*
 * io/rpc_dec.c: msgpack-RPC decoding with msgpack-c, and the accessors that
 * keep msgpack_object out of the daemon (see io/rpc.h).
 *
 * The frame has passed rpc_scan_frame() already, so msgpack-c's container
 * preallocation is bounded by max_elems. Strings point into the frame.
 */
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "io/rpc.h"

struct rpc_dec {
	msgpack_zone zone;
	msgpack_object root;
};

/* rpc_val is never defined: a view is a msgpack_object in disguise. */
static const msgpack_object *obj(const rpc_val *v)
{
	return (const msgpack_object *)(const void *)v;
}

static const rpc_val *val(const msgpack_object *o)
{
	return (const rpc_val *)(const void *)o;
}

rpc_dec *rpc_dec_new(void)
{
	rpc_dec *d = calloc(1, sizeof(*d));

	if (d && !msgpack_zone_init(&d->zone, 8192)) {
		free(d);
		return NULL;
	}
	return d;
}

void rpc_dec_free(rpc_dec *d)
{
	if (!d)
		return;
	msgpack_zone_destroy(&d->zone);
	free(d);
}

static int get_id(const msgpack_object *o, uint32_t *id)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX)
		return RPC_EMSG;
	*id = (uint32_t)o->via.u64;
	return RPC_OK;
}

static int decode_msg(const msgpack_object *root, rpc_msg *m)
{
	const msgpack_object *a;
	uint32_t n;

	if (root->type != MSGPACK_OBJECT_ARRAY)
		return RPC_EMSG;
	a = root->via.array.ptr;
	n = root->via.array.size;
	if (n < 3 || a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[0].via.u64 > RPC_NOTIFY)
		return RPC_EMSG;
	m->kind = (rpc_kind)a[0].via.u64;
	switch (m->kind) {
	case RPC_REQUEST:
		if (get_id(&a[1], &m->id))
			return RPC_EMSG;
		if (n != 4 || rpc_val_str(val(&a[2]), &m->method))
			return RPC_EMSG;
		m->params = val(&a[3]);
		return RPC_OK;
	case RPC_RESPONSE:
		if (n != 4 || get_id(&a[1], &m->id))
			return RPC_EMSG;
		m->result = val(&a[3]);
		if (a[2].type == MSGPACK_OBJECT_NIL)
			return RPC_OK;
		m->error = val(&a[2]);
		if (a[2].type == MSGPACK_OBJECT_ARRAY &&
		    a[2].via.array.size >= 2 &&
		    rpc_val_i64(val(&a[2].via.array.ptr[0]), &m->err_code) ==
			RPC_OK)
			rpc_val_str(val(&a[2].via.array.ptr[1]), &m->err_msg);
		return RPC_OK;
	case RPC_NOTIFY:
		if (n != 3 || rpc_val_str(val(&a[1]), &m->method))
			return RPC_EMSG;
		m->params = val(&a[2]);
		return RPC_OK;
	}
	return RPC_EMSG;
}

int rpc_decode(rpc_dec *d, const char *frame, size_t len, rpc_msg *m)
{
	size_t off = 0;
	msgpack_unpack_return r;

	if (!d || !frame || !m)
		return RPC_EINVAL;
	memset(m, 0, sizeof(*m));
	msgpack_zone_clear(&d->zone);
	r = msgpack_unpack(frame, len, &off, &d->zone, &d->root);
	if (r == MSGPACK_UNPACK_NOMEM_ERROR)
		return RPC_ENOMEM;
	if (r != MSGPACK_UNPACK_SUCCESS || off != len)
		return RPC_EFORMAT;
	return decode_msg(&d->root, m);
}

rpc_type rpc_val_type(const rpc_val *v)
{
	if (!v)
		return RPC_T_NONE;
	switch (obj(v)->type) {
	case MSGPACK_OBJECT_NIL:
		return RPC_T_NIL;
	case MSGPACK_OBJECT_BOOLEAN:
		return RPC_T_BOOL;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return RPC_T_INT;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return RPC_T_FLOAT;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		return RPC_T_STR;
	case MSGPACK_OBJECT_ARRAY:
		return RPC_T_ARRAY;
	case MSGPACK_OBJECT_MAP:
		return RPC_T_MAP;
	default:
		return RPC_T_EXT;
	}
}

int rpc_val_str(const rpc_val *v, rpc_str *out)
{
	const msgpack_object *o = obj(v);

	if (!v)
		return RPC_EMISSING;
	if (o->type == MSGPACK_OBJECT_STR) {
		out->p = o->via.str.ptr;
		out->n = o->via.str.size;
	} else if (o->type == MSGPACK_OBJECT_BIN) {
		out->p = o->via.bin.ptr;
		out->n = o->via.bin.size;
	} else {
		return RPC_ETYPE;
	}
	return RPC_OK;
}

int rpc_val_f64(const rpc_val *v, double *out)
{
	const msgpack_object *o = obj(v);

	if (!v)
		return RPC_EMISSING;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)o->via.u64;
		return RPC_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)o->via.i64;
		return RPC_OK;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = o->via.f64;
		return RPC_OK;
	default:
		return RPC_ETYPE;
	}
}

int rpc_val_i64(const rpc_val *v, int64_t *out)
{
	const msgpack_object *o = obj(v);

	if (!v)
		return RPC_EMISSING;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return RPC_ETYPE;
		*out = (int64_t)o->via.u64;
		return RPC_OK;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = o->via.i64;
		return RPC_OK;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* Integral and inside int64 (2^63 itself is outside). */
		if (!(o->via.f64 >= -9223372036854775808.0 &&
		      o->via.f64 < 9223372036854775808.0) ||
		    floor(o->via.f64) != o->via.f64)
			return RPC_ETYPE;
		*out = (int64_t)o->via.f64;
		return RPC_OK;
	default:
		return RPC_ETYPE;
	}
}

int rpc_val_bool(const rpc_val *v, int *out)
{
	if (!v)
		return RPC_EMISSING;
	if (obj(v)->type != MSGPACK_OBJECT_BOOLEAN)
		return RPC_ETYPE;
	*out = obj(v)->via.boolean ? 1 : 0;
	return RPC_OK;
}

size_t rpc_val_len(const rpc_val *v)
{
	if (!v)
		return 0;
	if (obj(v)->type == MSGPACK_OBJECT_ARRAY)
		return obj(v)->via.array.size;
	if (obj(v)->type == MSGPACK_OBJECT_MAP)
		return obj(v)->via.map.size;
	return 0;
}

const rpc_val *rpc_val_at(const rpc_val *v, size_t i)
{
	if (!v || obj(v)->type != MSGPACK_OBJECT_ARRAY ||
	    i >= obj(v)->via.array.size)
		return NULL;
	return val(&obj(v)->via.array.ptr[i]);
}

int rpc_str_eq(rpc_str s, const char *c)
{
	size_t n = strlen(c);

	return s.n == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

int rpc_val_entry(const rpc_val *v, size_t i, rpc_str *key,
		  const rpc_val **value)
{
	const msgpack_object_kv *kv;

	if (!v || obj(v)->type != MSGPACK_OBJECT_MAP ||
	    i >= obj(v)->via.map.size)
		return RPC_EMISSING;
	kv = &obj(v)->via.map.ptr[i];
	*value = val(&kv->val);
	return rpc_val_str(val(&kv->key), key);
}

const rpc_val *rpc_val_get(const rpc_val *v, const char *key)
{
	size_t i, n = rpc_val_len(v);

	if (!v || obj(v)->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < n; i++) {
		rpc_str k;
		const rpc_val *x;
		if (rpc_val_entry(v, i, &k, &x) == RPC_OK && rpc_str_eq(k, key))
			return x;
	}
	return NULL;
}

const rpc_val *rpc_param(const rpc_msg *m, const char *name)
{
	const rpc_val *p = m->params;

	if (rpc_val_type(p) == RPC_T_ARRAY)
		p = rpc_val_at(p, 0);
	return rpc_val_get(p, name);
}

const rpc_val *rpc_param_at(const rpc_msg *m, size_t i)
{
	return rpc_val_at(m->params, i);
}

int rpc_triple(const rpc_val *arr, size_t i, rpc_str *series, double *t,
	       double *value)
{
	const rpc_val *e = rpc_val_at(arr, i);

	if (!e)
		return RPC_EMISSING;
	if (rpc_val_len(e) != 3 || rpc_val_type(e) != RPC_T_ARRAY ||
	    rpc_val_str(rpc_val_at(e, 0), series) ||
	    rpc_val_f64(rpc_val_at(e, 1), t) ||
	    rpc_val_f64(rpc_val_at(e, 2), value))
		return RPC_ETYPE;
	return RPC_OK;
}
