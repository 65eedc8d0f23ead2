/* tests/io/test_snapshot.c: snapshot encoding round trip and every error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/snapshot.h"
#include "tests/harness.h"

/* The crc32-instruction path (where the CPU has it) equals the tables at
 * every length and alignment, chained or not. */
static void test_crc32c_paths_agree(void)
{
	static unsigned char buf[9000]; /* past 3-stream blocks of 3 x 512 */
	uint32_t x = 12345;
	size_t i, off, len;
	int same = 1;

	for (i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	for (off = 0; off < 9; off++)
		for (len = 0; len + off <= sizeof buf; len += 1 + len / 7) {
			uint32_t a = io_crc32c(7, buf + off, len);
			uint32_t b = io__crc32c_table(7, buf + off, len);
			uint32_t c =
			    io_crc32c(io_crc32c(7, buf + off, len / 3),
				      buf + off + len / 3, len - len / 3);
			same &= a == b && a == c;
		}
	CHECK(same);
}

static void test_crc32c_reference(void)
{
	/* The CRC-32C check value ("123456789") and a split computation. */
	CHECK(io_crc32c(0, "123456789", 9) == 0xe3069283u);
	CHECK(io_crc32c(io_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u);
	CHECK(io_crc32c(0, "", 0) == 0);
	CHECK(io__crc32c_table(0, "123456789", 9) == 0xe3069283u);
}

static void test_roundtrip(void)
{
	float st[37], back[37];
	unsigned char buf[512];
	io_snap s;
	uint32_t crc;
	long n;
	int i;

	for (i = 0; i < 37; i++)
		st[i] = (float)i * 0.25f - 3.0f;
	st[5] = NAN; /* any float bit pattern survives */
	n = io_snap_encode(buf, sizeof(buf), 0x0123456789abcdefULL, 42,
			   1700000000.5, st, 37, &crc);
	CHECK_EQ_INT(n, (long)io_snap_size(37));
	CHECK_EQ_INT(n, 40 + 37 * 4);
	CHECK_EQ_INT(io_snap_decode(buf, (size_t)n, &s), IO_SNAP_OK);
	CHECK(s.model_hash == 0x0123456789abcdefULL);
	CHECK_EQ_INT(s.seen, 42);
	CHECK(s.t == 1700000000.5);
	CHECK_EQ_INT(s.nfloats, 37);
	CHECK(s.crc == crc);
	io_snap_copy_state(&s, back);
	CHECK(memcmp(st, back, sizeof(st)) == 0);
	/* Empty state is legal. */
	n = io_snap_encode(buf, sizeof(buf), 1, 0, 0, NULL, 0, NULL);
	CHECK_EQ_INT(n, 40);
	CHECK_EQ_INT(io_snap_decode(buf, 40, &s), IO_SNAP_OK);
}

static void test_errors(void)
{
	float st[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	unsigned char buf[128], bad[128];
	io_snap s;
	long n;
	size_t i;
	int b, all_caught = 1;

	CHECK_EQ_INT(io_snap_encode(buf, 10, 1, 1, 1, st, 8, NULL),
		     IO_SNAP_EINVAL);
	n = io_snap_encode(buf, sizeof(buf), 7, 3, 2.0, st, 8, NULL);
	CHECK(n > 0);
	CHECK_EQ_INT(io_snap_decode(buf, 39, &s), IO_SNAP_ESHORT);
	CHECK_EQ_INT(io_snap_decode(NULL, 0, &s), IO_SNAP_ESHORT);
	CHECK_EQ_INT(io_snap_decode(buf, (size_t)n - 1, &s), IO_SNAP_ESIZE);
	memcpy(bad, buf, (size_t)n);
	bad[0] = 'X';
	CHECK_EQ_INT(io_snap_decode(bad, (size_t)n, &s), IO_SNAP_EMAGIC);
	memcpy(bad, buf, (size_t)n);
	bad[4] = 9;
	CHECK_EQ_INT(io_snap_decode(bad, (size_t)n, &s), IO_SNAP_EVERSION);
	memcpy(bad, buf, (size_t)n);
	bad[8] = 9; /* nfloats */
	CHECK_EQ_INT(io_snap_decode(bad, (size_t)n, &s), IO_SNAP_ESIZE);
	/* Every single-bit flip outside the magic/version/size fields is a
	 * checksum error, never a silent success. */
	for (i = 12; i < (size_t)n; i++)
		for (b = 0; b < 8; b++) {
			memcpy(bad, buf, (size_t)n);
			bad[i] ^= (unsigned char)(1u << b);
			if (io_snap_decode(bad, (size_t)n, &s) !=
			    IO_SNAP_ECHECKSUM)
				all_caught = 0;
		}
	CHECK(all_caught);
	for (b = IO_SNAP_EINVAL; b <= 0; b++)
		CHECK(strlen(io_snap_strerror(b)) > 0);
}

int main(void)
{
	TH_RUN(test_crc32c_reference);
	TH_RUN(test_crc32c_paths_agree);
	TH_RUN(test_roundtrip);
	TH_RUN(test_errors);
	return th_summary();
}
