/*
 * io/rpc.h: msgpack-RPC framing, decoding and encoding.
 *
 * Messages (the msgpack-RPC spec):
 *   request       [0, id, method, params]
 *   response      [1, id, error, result]     error = nil or [code, message]
 *   notification  [2, method, params]
 * id is a uint32; method arrives as str or bin (both accepted).
 *
 * Hostile input is the normal case, so a frame goes through three steps:
 * 1. rpc_scan_frame(): OUR OWN pre-scan of the raw bytes. It finds where the
 *    frame (one msgpack object) ends and refuses it, before msgpack-c sees a
 *    byte, when it exceeds max_frame bytes, max_depth nesting, or declares
 *    containers whose element counts could not fit in max_frame bytes or sum
 *    past max_elems. Why: msgpack-c 4 preallocates a container from its
 *    declared count, so `dd ff 00 00 00` (an array of 4G elements, 5 bytes)
 *    would ask for ~96 GB. After the pre-scan msgpack-c allocates at most
 *    about 24 bytes per declared element, i.e. O(max_elems) per frame.
 *    The scan resumes where it stopped, so a frame trickling in byte by byte
 *    costs O(frame) in total, not O(frame^2).
 * 2. rpc_decode(): msgpack-c (msgpack_unpack into a zone owned by the
 *    decoder, result compared with MSGPACK_UNPACK_SUCCESS) and a shape check
 *    into an rpc_msg. Strings are NOT copied: they point into the frame
 *    bytes, which must stay put while the message is used.
 * 3. Accessors (rpc_param, rpc_val_*, rpc_triple) so the daemon never sees a
 *    msgpack_object.
 *
 * Encoding goes into an rpc_buf (growable up to a caller-set maximum; an
 * error is sticky and checked once at the end).
 *
 * Library errors are 0 or a negative RPC_E* code (rpc_strerror). Errors sent
 * on the wire use the stable positive RPC_CODE_* table below; rpc_err_code()
 * maps the first to the second. Wire codes never change meaning: add new
 * ones at the end.
 */
#ifndef STATECAST_IO_RPC_H
#define STATECAST_IO_RPC_H

#include <stddef.h>
#include <stdint.h>

/* Library return codes (negative). */
enum {
	RPC_OK = 0,
	RPC_EFRAME = -1,   /* frame longer than max_frame */
	RPC_EDEPTH = -2,   /* nesting deeper than max_depth */
	RPC_ECOUNT = -3,   /* declared element counts too large */
	RPC_EFORMAT = -4,  /* not msgpack (reserved byte 0xc1, msgpack-c) */
	RPC_EMSG = -5,	   /* msgpack, but not an RPC message */
	RPC_ETYPE = -6,	   /* a value of the wrong type */
	RPC_EMISSING = -7, /* a required parameter is absent */
	RPC_ENOMEM = -8,   /* allocation failed or rpc_buf maximum reached */
	RPC_EINVAL = -9,   /* bad argument (a caller bug) */
};
const char *rpc_strerror(int err);

/*
 * Wire error codes: error = [code, message] in a response. Stable.
 *   1 parse        the frame is not valid msgpack / not an RPC message
 *   2 method       unknown method
 *   3 params       missing or mistyped parameters
 *   4 not_found    no such series / subscription
 *   5 limit        a limit was hit (frame size, depth, series, queue)
 *   6 unavailable  the store or another part is unavailable
 *   7 auth         authentication required or failed
 *   8 internal     a bug or an allocation failure on our side
 */
enum {
	RPC_CODE_PARSE = 1,
	RPC_CODE_METHOD = 2,
	RPC_CODE_PARAMS = 3,
	RPC_CODE_NOTFOUND = 4,
	RPC_CODE_LIMIT = 5,
	RPC_CODE_UNAVAILABLE = 6,
	RPC_CODE_AUTH = 7,
	RPC_CODE_INTERNAL = 8,
};
/* "parse", "method", ... ("unknown" outside the table). */
const char *rpc_code_name(int code);
/* RPC_E* -> RPC_CODE_* (RPC_OK -> 0). */
int rpc_err_code(int err);

/* ---- 1. pre-scan ---------------------------------------------------- */

/* Hard cap on max_depth: the scanner's stack has this many levels. */
#define RPC_DEPTH_CAP 64

typedef struct rpc_limits {
	size_t max_frame;   /* bytes per frame, >= 16 */
	int max_depth;	    /* containers nested, 1..RPC_DEPTH_CAP */
	uint32_t max_elems; /* objects declared per frame (map: 2 per entry) */
} rpc_limits;

/* Defaults as in the config table: 1 MiB, 16, 262144. */
void rpc_limits_default(rpc_limits *lim);

/* Resumable scanner state, one per connection. Plain data, no allocation. */
typedef struct rpc_scan {
	size_t pos;   /* bytes validated so far (on element boundaries) */
	int depth;    /* open containers */
	uint64_t sum; /* element counts declared so far */
	uint32_t left[RPC_DEPTH_CAP + 1]; /* objects still due per level */
} rpc_scan;

void rpc_scan_init(rpc_scan *s);

/*
 * buf holds the bytes received so far, starting at the frame's first byte;
 * len > previous len (or equal) across calls for the same frame. Returns 1
 * when a complete frame of *frame_len bytes starts at buf (the scanner is
 * reset for the next frame, which starts at buf + *frame_len), 0 when more
 * bytes are needed (nothing wrong so far), or a negative RPC_E* code: the
 * connection is beyond saving and should be closed.
 */
int rpc_scan_frame(rpc_scan *s, const char *buf, size_t len,
		   const rpc_limits *lim, size_t *frame_len);

/* ---- 2. decoding ----------------------------------------------------- */

/* A byte string (str or bin on the wire); not NUL-terminated. */
typedef struct rpc_str {
	const char *p;
	size_t n;
} rpc_str;

/* Opaque view of one decoded msgpack value. */
typedef struct rpc_val rpc_val;

typedef enum rpc_kind {
	RPC_REQUEST = 0,
	RPC_RESPONSE = 1,
	RPC_NOTIFY = 2,
} rpc_kind;

typedef struct rpc_msg {
	rpc_kind kind;
	uint32_t id;	       /* request, response */
	rpc_str method;	       /* request, notification */
	const rpc_val *params; /* request, notification (usually an array) */
	/* response: error is NULL when nil; else err_code/err_msg are set
	   when it has the [code, message] shape (err_code 0 otherwise) */
	const rpc_val *error;
	const rpc_val *result;
	int64_t err_code;
	rpc_str err_msg;
} rpc_msg;

/* The decoder owns a msgpack-c zone reused frame after frame. */
typedef struct rpc_dec rpc_dec;
rpc_dec *rpc_dec_new(void);
void rpc_dec_free(rpc_dec *d);

/*
 * Decode one frame (as found by rpc_scan_frame) into *m. Everything *m points
 * to stays valid until the next rpc_decode() on d, and as long as the frame
 * bytes are not moved. Returns RPC_OK, RPC_EFORMAT (msgpack-c refused it,
 * or trailing bytes), RPC_EMSG (not an RPC message shape) or RPC_ENOMEM.
 * On RPC_EMSG with kind == RPC_REQUEST and a valid id, m->id is set so that
 * an error response can still be sent.
 */
int rpc_decode(rpc_dec *d, const char *frame, size_t len, rpc_msg *m);

/* ---- 3. values and parameters ---------------------------------------- */

typedef enum rpc_type {
	RPC_T_NONE = 0, /* absent (NULL view) */
	RPC_T_NIL,
	RPC_T_BOOL,
	RPC_T_INT, /* positive or negative integer */
	RPC_T_FLOAT,
	RPC_T_STR, /* str or bin */
	RPC_T_ARRAY,
	RPC_T_MAP,
	RPC_T_EXT,
} rpc_type;

rpc_type rpc_val_type(const rpc_val *v);
/* Each returns RPC_OK or RPC_EMISSING (v NULL) or RPC_ETYPE. */
int rpc_val_str(const rpc_val *v, rpc_str *out); /* str or bin */
int rpc_val_f64(const rpc_val *v, double *out);	 /* int or float */
int rpc_val_i64(const rpc_val *v, int64_t *out); /* int, or integral float */
int rpc_val_bool(const rpc_val *v, int *out);
/* Array or map element count; 0 for anything else. */
size_t rpc_val_len(const rpc_val *v);
/* Array element i, or NULL. */
const rpc_val *rpc_val_at(const rpc_val *v, size_t i);
/* Map value under the str/bin key `key`, or NULL. */
const rpc_val *rpc_val_get(const rpc_val *v, const char *key);
/* Map entry i: key (str/bin, else RPC_ETYPE) and value. */
int rpc_val_entry(const rpc_val *v, size_t i, rpc_str *key,
		  const rpc_val **val);
/* 1 if s equals the NUL-terminated c. */
int rpc_str_eq(rpc_str s, const char *c);

/*
 * Named parameter: params may be a map, or (msgpack-RPC style) an array whose
 * first element is a map; returns the value under name or NULL.
 */
const rpc_val *rpc_param(const rpc_msg *m, const char *name);
/* Positional parameter i of an array params, or NULL. */
const rpc_val *rpc_param_at(const rpc_msg *m, size_t i);

/*
 * Element i of an array of [series, t, value] triples (the push method):
 * series str/bin, t and value numbers. RPC_OK, RPC_EMISSING (i out of
 * range) or RPC_ETYPE (that element has the wrong shape).
 */
int rpc_triple(const rpc_val *arr, size_t i, rpc_str *series, double *t,
	       double *value);

/* ---- 4. encoding ----------------------------------------------------- */

/*
 * Output buffer, grown with realloc up to max bytes. The first failure
 * (RPC_ENOMEM, also when max would be exceeded) is kept in err and makes
 * every later put a no-op, so callers check err once after a whole message
 * (the bytes already in p are then a void partial message: rpc_buf_reset).
 */
typedef struct rpc_buf {
	char *p;
	size_t len, cap, max;
	int err;
} rpc_buf;

void rpc_buf_init(rpc_buf *b, size_t max);
void rpc_buf_reset(rpc_buf *b); /* len = 0, err = 0; keeps the memory */
void rpc_buf_release(rpc_buf *b);

void rpc_put_nil(rpc_buf *b);
void rpc_put_bool(rpc_buf *b, int v);
void rpc_put_i64(rpc_buf *b, int64_t v);
void rpc_put_u64(rpc_buf *b, uint64_t v);
void rpc_put_f64(rpc_buf *b, double v);
void rpc_put_f32(rpc_buf *b, float v);
void rpc_put_str(rpc_buf *b, const char *s, size_t n);
void rpc_put_cstr(rpc_buf *b, const char *s);
void rpc_put_bin(rpc_buf *b, const void *p, size_t n);
void rpc_put_array(rpc_buf *b, uint32_t n); /* then n values */
void rpc_put_map(rpc_buf *b, uint32_t n);   /* then n key, value pairs */
/*
 * A map whose entries are counted for the caller: rpc_map_begin() writes a
 * map32 header with a zero count and returns its offset; the caller puts key,
 * value pairs; rpc_map_end() counts the objects put since the header (our
 * own scanner walks them) and writes the count. For long replies with
 * conditional entries (info, stats), where a hand-kept count went stale once.
 * An odd number of objects sets err to RPC_EINVAL.
 */
size_t rpc_map_begin(rpc_buf *b);
void rpc_map_end(rpc_buf *b, size_t at);

/* [0, id, method, then the caller puts one params value */
void rpc_put_request(rpc_buf *b, uint32_t id, const char *method);
/* [1, id, nil, then the caller puts one result value */
void rpc_put_result(rpc_buf *b, uint32_t id);
/* A whole error response [1, id, [code, message], nil]. */
void rpc_put_error(rpc_buf *b, uint32_t id, int code, const char *message);
/* [2, method, then the caller puts one params value */
void rpc_put_notify(rpc_buf *b, const char *method);

#endif
