/*
 * tests/io/test_rpc.c: msgpack-RPC pre-scan (bombs, split frames, limits),
 * decoding (str and bin method names, shapes), parameter accessors and the
 * encoders, round-tripped through scan + decode.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "io/rpc.h"
#include "tests/harness.h"

static rpc_limits lim;

static int scan_all(const void *buf, size_t len, size_t *flen)
{
	rpc_scan s;

	rpc_scan_init(&s);
	return rpc_scan_frame(&s, buf, len, &lim, flen);
}

static void test_scan_bombs(void)
{
	/* array32 of 4G elements: 5 bytes that would make msgpack-c ask for
	   ~96 GB. Refused from its header alone. */
	static const unsigned char arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const unsigned char map32[] = {0xdf, 0x00, 0x10, 0x00, 0x00};
	static const unsigned char arr16[] = {0x94, 0xdc, 0xff, 0xff};
	static const unsigned char str32[] = {0xdb, 0x7f, 0xff, 0xff, 0xff};
	static const unsigned char bin32[] = {0xc6, 0x00, 0x20, 0x00, 0x00};
	static const unsigned char ext32[] = {0xc9, 0x01, 0x00,
					      0x00, 0x00, 0x01};
	static const unsigned char bad[] = {0x93, 0xc1, 0x01, 0x02};
	size_t fl;

	CHECK_EQ_INT(scan_all(arr32, sizeof(arr32), &fl), RPC_ECOUNT);
	CHECK_EQ_INT(scan_all(arr32, 1, &fl), 0); /* header not complete */
	CHECK_EQ_INT(scan_all(map32, sizeof(map32), &fl), RPC_ECOUNT);
	CHECK_EQ_INT(scan_all(str32, sizeof(str32), &fl), RPC_EFRAME);
	CHECK_EQ_INT(scan_all(bin32, sizeof(bin32), &fl), RPC_EFRAME);
	CHECK_EQ_INT(scan_all(ext32, sizeof(ext32), &fl), RPC_EFRAME);
	CHECK_EQ_INT(scan_all(bad, sizeof(bad), &fl), RPC_EFORMAT);
	/* 65535 elements fit in 1 MiB by count, but not in max_elems 1000 */
	lim.max_elems = 1000;
	CHECK_EQ_INT(scan_all(arr16, sizeof(arr16), &fl), RPC_ECOUNT);
	rpc_limits_default(&lim);
	CHECK_EQ_INT(scan_all(arr16, sizeof(arr16), &fl), 0);
}

static void test_scan_depth(void)
{
	unsigned char buf[64];
	size_t fl;
	int i;

	/* 16 nested one-element arrays around a nil: depth 16 is allowed */
	for (i = 0; i < 16; i++)
		buf[i] = 0x91;
	buf[16] = 0xc0;
	CHECK_EQ_INT(scan_all(buf, 17, &fl), 1);
	CHECK_EQ_INT(fl, 17);
	buf[16] = 0x91;
	buf[17] = 0xc0;
	CHECK_EQ_INT(scan_all(buf, 18, &fl), RPC_EDEPTH);
	/* empty containers do not nest */
	buf[16] = 0x90;
	CHECK_EQ_INT(scan_all(buf, 17, &fl), 1);
}

static void test_scan_split_and_pipelined(void)
{
	rpc_buf b;
	rpc_scan s;
	size_t i, fl = 0, f1;
	int r = 0, done = 0;

	rpc_buf_init(&b, 1 << 20);
	rpc_put_request(&b, 7, "forecast");
	rpc_put_array(&b, 1);
	rpc_put_cstr(&b, "cpu.load;host=a");
	f1 = b.len;
	rpc_put_notify(&b, "ping");
	rpc_put_array(&b, 0);
	CHECK_EQ_INT(b.err, RPC_OK);
	/* byte by byte: complete exactly when the last byte arrives */
	rpc_scan_init(&s);
	for (i = 1; i <= f1 && !done; i++) {
		r = rpc_scan_frame(&s, b.p, i, &lim, &fl);
		if (r == 1)
			done = (int)i;
		CHECK(r >= 0);
	}
	CHECK_EQ_INT(done, f1);
	CHECK_EQ_INT(fl, f1);
	/* two frames in one read: the first, then the second after it */
	rpc_scan_init(&s);
	CHECK_EQ_INT(rpc_scan_frame(&s, b.p, b.len, &lim, &fl), 1);
	CHECK_EQ_INT(fl, f1);
	CHECK_EQ_INT(rpc_scan_frame(&s, b.p + f1, b.len - f1, &lim, &fl), 1);
	CHECK_EQ_INT(fl, b.len - f1);
	rpc_buf_release(&b);
}

static void test_scan_frame_limit(void)
{
	rpc_buf b;
	char big[200];
	size_t fl;

	memset(big, 'x', sizeof(big));
	rpc_buf_init(&b, 1 << 20);
	rpc_put_request(&b, 1, "push");
	rpc_put_str(&b, big, sizeof(big));
	lim.max_frame = 100;
	CHECK_EQ_INT(scan_all(b.p, 20, &fl), RPC_EFRAME);
	lim.max_frame = 300;
	CHECK_EQ_INT(scan_all(b.p, b.len, &fl), 1);
	rpc_limits_default(&lim);
	rpc_buf_release(&b);
}

static void test_decode_request_params(void)
{
	rpc_buf b;
	rpc_dec *d = rpc_dec_new();
	rpc_msg m;
	rpc_str s;
	double t, v;
	int64_t i64;

	rpc_buf_init(&b, 1 << 20);
	rpc_put_request(&b, 42, "history");
	rpc_put_array(&b, 1);
	rpc_put_map(&b, 3);
	rpc_put_cstr(&b, "series");
	rpc_put_cstr(&b, "a.b");
	rpc_put_cstr(&b, "from");
	rpc_put_i64(&b, -5);
	rpc_put_cstr(&b, "to");
	rpc_put_f64(&b, 12.5);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK_EQ_INT(m.kind, RPC_REQUEST);
	CHECK_EQ_INT(m.id, 42);
	CHECK(rpc_str_eq(m.method, "history"));
	CHECK_EQ_INT(rpc_val_str(rpc_param(&m, "series"), &s), RPC_OK);
	CHECK(rpc_str_eq(s, "a.b"));
	CHECK_EQ_INT(rpc_val_i64(rpc_param(&m, "from"), &i64), RPC_OK);
	CHECK_EQ_INT(i64, -5);
	CHECK_EQ_INT(rpc_val_f64(rpc_param(&m, "to"), &t), RPC_OK);
	CHECK_NEAR(t, 12.5, 0);
	CHECK_EQ_INT(rpc_val_i64(rpc_param(&m, "to"), &i64), RPC_ETYPE);
	CHECK(rpc_param(&m, "nope") == NULL);
	CHECK_EQ_INT(rpc_val_str(rpc_param(&m, "nope"), &s), RPC_EMISSING);
	CHECK_EQ_INT(rpc_val_type(rpc_param_at(&m, 0)), RPC_T_MAP);

	/* push triples, method as bin */
	rpc_buf_reset(&b);
	rpc_put_array(&b, 4);
	rpc_put_u64(&b, 0);
	rpc_put_u64(&b, 3);
	rpc_put_bin(&b, "push", 4);
	rpc_put_array(&b, 1);
	rpc_put_array(&b, 2);
	rpc_put_array(&b, 3);
	rpc_put_cstr(&b, "x");
	rpc_put_i64(&b, 100);
	rpc_put_f64(&b, 1.5);
	rpc_put_array(&b, 2);
	rpc_put_cstr(&b, "x");
	rpc_put_i64(&b, 101);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK(rpc_str_eq(m.method, "push"));
	CHECK_EQ_INT(rpc_val_len(rpc_param_at(&m, 0)), 2);
	CHECK_EQ_INT(rpc_triple(rpc_param_at(&m, 0), 0, &s, &t, &v), RPC_OK);
	CHECK(rpc_str_eq(s, "x"));
	CHECK_NEAR(t, 100, 0);
	CHECK_NEAR(v, 1.5, 0);
	CHECK_EQ_INT(rpc_triple(rpc_param_at(&m, 0), 1, &s, &t, &v), RPC_ETYPE);
	CHECK_EQ_INT(rpc_triple(rpc_param_at(&m, 0), 2, &s, &t, &v),
		     RPC_EMISSING);
	rpc_buf_release(&b);
	rpc_dec_free(d);
}

static void test_decode_shapes(void)
{
	static const unsigned char notif[] = {0x93, 0x02, 0xa4, 'p',
					      'i',  'n',  'g',	0x90};
	static const unsigned char not_arr[] = {0x01};
	static const unsigned char kind9[] = {0x93, 0x09, 0xa1, 'x', 0x90};
	static const unsigned char badid[] = {0x94, 0x00, 0xff,
					      0xa1, 'x',  0x90};
	static const unsigned char badmeth[] = {0x94, 0x00, 0x01, 0x05, 0x90};
	static const unsigned char trunc[] = {0x94, 0x00, 0x01};
	static const unsigned char extra[] = {0x93, 0x02, 0xa1,
					      'x',  0x90, 0x00};
	rpc_dec *d = rpc_dec_new();
	rpc_msg m;

	CHECK_EQ_INT(rpc_decode(d, (const char *)notif, sizeof(notif), &m),
		     RPC_OK);
	CHECK_EQ_INT(m.kind, RPC_NOTIFY);
	CHECK(rpc_str_eq(m.method, "ping"));
	CHECK_EQ_INT(rpc_val_len(m.params), 0);
#define DEC(x) rpc_decode(d, (const char *)(x), sizeof(x), &m)
	CHECK_EQ_INT(DEC(not_arr), RPC_EMSG);
	CHECK_EQ_INT(DEC(kind9), RPC_EMSG);
	CHECK_EQ_INT(DEC(badid), RPC_EMSG);
	CHECK_EQ_INT(DEC(badmeth), RPC_EMSG);
	CHECK_EQ_INT(DEC(trunc), RPC_EFORMAT);
	CHECK_EQ_INT(DEC(extra), RPC_EFORMAT);
#undef DEC
	rpc_dec_free(d);
}

/* rpc_map_begin/end count the entries, nested containers as one value. */
static void test_counted_map(void)
{
	rpc_buf b;
	rpc_dec *d = rpc_dec_new();
	rpc_msg m;
	size_t at;
	int64_t x;

	rpc_buf_init(&b, 1 << 20);
	rpc_put_result(&b, 4);
	at = rpc_map_begin(&b);
	rpc_put_cstr(&b, "a");
	rpc_put_u64(&b, 1);
	rpc_put_cstr(&b, "nested");
	rpc_put_map(&b, 1);
	rpc_put_cstr(&b, "k");
	rpc_put_array(&b, 2);
	rpc_put_nil(&b);
	rpc_put_f64(&b, 2.5);
	rpc_put_cstr(&b, "z");
	rpc_put_cstr(&b, "last");
	rpc_map_end(&b, at);
	CHECK_EQ_INT(b.err, RPC_OK);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK_EQ_INT(rpc_val_len(m.result), 3);
	CHECK_EQ_INT(rpc_val_i64(rpc_val_get(m.result, "a"), &x), RPC_OK);
	CHECK_EQ_INT(x, 1);
	CHECK(rpc_val_get(m.result, "z") != NULL);
	/* a key without its value is an error, not a silent bad frame */
	rpc_buf_reset(&b);
	at = rpc_map_begin(&b);
	rpc_put_cstr(&b, "lonely");
	rpc_map_end(&b, at);
	CHECK_EQ_INT(b.err, RPC_EINVAL);
	rpc_buf_release(&b);
	rpc_dec_free(d);
}

static void test_responses(void)
{
	rpc_buf b;
	rpc_dec *d = rpc_dec_new();
	rpc_msg m;
	size_t fl;
	int64_t x;

	rpc_buf_init(&b, 1 << 20);
	rpc_put_error(&b, 9, RPC_CODE_NOTFOUND, "no such series");
	CHECK_EQ_INT(scan_all(b.p, b.len, &fl), 1);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK_EQ_INT(m.kind, RPC_RESPONSE);
	CHECK_EQ_INT(m.id, 9);
	CHECK_EQ_INT(m.err_code, RPC_CODE_NOTFOUND);
	CHECK(rpc_str_eq(m.err_msg, "no such series"));
	CHECK_EQ_INT(rpc_val_type(m.result), RPC_T_NIL);
	rpc_buf_reset(&b);
	rpc_put_result(&b, 10);
	rpc_put_map(&b, 1);
	rpc_put_cstr(&b, "accepted");
	rpc_put_u64(&b, 3);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK(m.error == NULL);
	CHECK_EQ_INT(rpc_val_i64(rpc_val_get(m.result, "accepted"), &x),
		     RPC_OK);
	CHECK_EQ_INT(x, 3);
	/* empty strings (msgpack-c passes a NULL body for them) */
	rpc_buf_reset(&b);
	rpc_put_notify(&b, "");
	rpc_put_str(&b, NULL, 0);
	CHECK_EQ_INT(b.err, RPC_OK);
	CHECK_EQ_INT(rpc_decode(d, b.p, b.len, &m), RPC_OK);
	CHECK_EQ_INT(m.method.n, 0);
	/* buffer maximum: sticky error */
	rpc_buf_release(&b);
	rpc_buf_init(&b, 8);
	rpc_put_cstr(&b, "0123456789");
	rpc_put_nil(&b);
	CHECK_EQ_INT(b.err, RPC_ENOMEM);
	CHECK(b.len <= 8); /* what fit; the message is void */
	rpc_buf_release(&b);
	rpc_dec_free(d);
}

static void test_codes(void)
{
	CHECK(strcmp(rpc_code_name(RPC_CODE_PARSE), "parse") == 0);
	CHECK(strcmp(rpc_code_name(RPC_CODE_AUTH), "auth") == 0);
	CHECK(strcmp(rpc_code_name(99), "unknown") == 0);
	CHECK_EQ_INT(rpc_err_code(RPC_ECOUNT), RPC_CODE_LIMIT);
	CHECK_EQ_INT(rpc_err_code(RPC_EFORMAT), RPC_CODE_PARSE);
	CHECK_EQ_INT(rpc_err_code(RPC_EMISSING), RPC_CODE_PARAMS);
	CHECK(strcmp(rpc_strerror(RPC_EDEPTH), "nesting too deep") == 0);
}

/* The largest frame the limits admit decodes with bounded memory. */
static void test_memory_bounded(void)
{
	size_t len = 5 + lim.max_elems, fl;
	unsigned char *buf = malloc(len);
	rpc_dec *d = rpc_dec_new();
	struct rusage ru0, ru1;
	rpc_msg m;

	buf[0] = 0xdd;
	buf[1] = (unsigned char)(lim.max_elems >> 24);
	buf[2] = (unsigned char)(lim.max_elems >> 16);
	buf[3] = (unsigned char)(lim.max_elems >> 8);
	buf[4] = (unsigned char)lim.max_elems;
	memset(buf + 5, 0xc0, lim.max_elems);
	getrusage(RUSAGE_SELF, &ru0);
	CHECK_EQ_INT(scan_all(buf, len, &fl), 1);
	CHECK_EQ_INT(rpc_decode(d, (const char *)buf, len, &m), RPC_EMSG);
	getrusage(RUSAGE_SELF, &ru1);
	/* 262144 objects x 24 bytes = 6 MiB; allow sanitizer overhead */
	CHECK(ru1.ru_maxrss - ru0.ru_maxrss < 64 * 1024);
	/* one more element is refused before decoding */
	buf[4] = (unsigned char)(lim.max_elems + 1);
	buf[3] = (unsigned char)((lim.max_elems + 1) >> 8);
	CHECK_EQ_INT(scan_all(buf, len, &fl), RPC_ECOUNT);
	rpc_dec_free(d);
	free(buf);
}

int main(void)
{
	rpc_limits_default(&lim);
	TH_RUN(test_scan_bombs);
	TH_RUN(test_scan_depth);
	TH_RUN(test_scan_split_and_pipelined);
	TH_RUN(test_scan_frame_limit);
	TH_RUN(test_decode_request_params);
	TH_RUN(test_decode_shapes);
	TH_RUN(test_responses);
	TH_RUN(test_counted_map);
	TH_RUN(test_codes);
	TH_RUN(test_memory_bounded);
	return th_summary();
}
