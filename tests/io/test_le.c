/* tests/io/test_le.c: io/le.h's little-endian fields, byte for byte (the
 * on-disk formats depend on them: the sample log, snapshots, the state
 * dump), at every alignment, and back. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "io/le.h"
#include "tests/harness.h"

/* buf (24 bytes, 0xee but for the field at off): the field is want's n
 * bytes and nothing around it was touched. */
static void check_field(const unsigned char *buf, size_t off,
			const unsigned char *want, size_t n)
{
	size_t i;

	for (i = 0; i < 24; i++)
		CHECK(buf[i] ==
		      (i >= off && i < off + n ? want[i - off] : 0xee));
}

static void test_put_bytes(void)
{
	static const unsigned char w[8] = {0x08, 0x07, 0x06, 0x05,
					   0x04, 0x03, 0x02, 0x81};
	unsigned char buf[24];
	size_t off;

	/* Every offset: the fields are read and written unaligned. */
	for (off = 0; off < 8; off++) {
		memset(buf, 0xee, sizeof buf);
		io__put64(buf + off, 0x8102030405060708ull);
		check_field(buf, off, w, 8);
		CHECK(io__get64(buf + off) == 0x8102030405060708ull);
		memset(buf, 0xee, sizeof buf);
		io__put32(buf + off, 0x81020304u);
		check_field(buf, off, w + 4, 4);
		CHECK(io__get32(buf + off) == 0x81020304u);
		memset(buf, 0xee, sizeof buf);
		io__put16(buf + off, 0x8102u);
		check_field(buf, off, w + 6, 2);
		CHECK(io__get16(buf + off) == 0x8102u);
	}
}

static void test_get_bytes(void)
{
	static const unsigned char b[8] = {0xff, 0x00, 0x80, 0x7f,
					   0x01, 0xfe, 0x10, 0xc3};

	CHECK(io__get64(b) == 0xc310fe017f8000ffull);
	CHECK(io__get32(b) == 0x7f8000ffu);
	CHECK(io__get32(b + 4) == 0xc310fe01u);
	CHECK(io__get16(b + 6) == 0xc310u);
}

static void test_double_bits(void)
{
	/* 1.0 is 0x3ff0000000000000: its last byte first on disk. */
	static const unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
	const double v[] = {1.0, -0.0, 1e-310, -INFINITY, 6.02214076e23};
	unsigned char buf[9];
	size_t i;

	io__putd(buf + 1, 1.0);
	CHECK(memcmp(buf + 1, one, 8) == 0);
	for (i = 0; i < sizeof v / sizeof *v; i++) {
		double got;
		io__putd(buf + 1, v[i]);
		got = io__getd(buf + 1);
		CHECK(memcmp(&got, &v[i], sizeof got) == 0);
	}
}

int main(void)
{
	TH_RUN(test_put_bytes);
	TH_RUN(test_get_bytes);
	TH_RUN(test_double_bits);
	return th_summary();
}
