/*
 * tests/io/test_statedump.c: the state dump's header and records
 * (io/statedump.h): round trips, and every malformed header or record
 * refused with its own error.
 */
#include <math.h>
#include <string.h>

#include "io/snapshot.h"
#include "io/statedump.h"
#include "tests/harness.h"

static io_dump_hdr sample_hdr(void)
{
	io_dump_hdr h;

	memset(&h, 0, sizeof h);
	h.version = IO_DUMP_VERSION;
	h.generation = 0x1122334455667788ull;
	h.model_hash = 0xabcdef0123456789ull;
	h.count = 1000;
	h.state_floats = 1612;
	h.slot_floats = 1612 + 192;
	h.slot_bytes = 7232;
	h.per_chunk = 4639;
	h.meta_bytes = 1000 * io_dump_rec_size(13);
	h.meta_crc = 0xdeadbeef;
	io_dump_layout(&h, 4096);
	return h;
}

static void test_header_roundtrip(void)
{
	io_dump_hdr h = sample_hdr(), g;
	unsigned char buf[IO_DUMP_HDR_BYTES];

	CHECK(h.chunk_bytes % 4096 == 0);
	CHECK(h.chunk_bytes >= (uint64_t)h.per_chunk * h.slot_bytes);
	CHECK_EQ_INT(io_dump_nchunks(&h), 1);
	io_dump_hdr_encode(&h, buf);
	CHECK_EQ_INT(io_dump_hdr_decode(buf, sizeof buf, &g), 0);
	CHECK(memcmp(&h, &g, sizeof h) == 0);
}

/* Re-signs a header after a field was changed. */
static void resign(unsigned char *buf)
{
	uint32_t crc = io_crc32c(0, buf, 104);
	int i;

	for (i = 0; i < 4; i++)
		buf[104 + i] = (unsigned char)(crc >> (8 * i));
}

static void test_header_errors(void)
{
	io_dump_hdr h = sample_hdr(), g;
	unsigned char buf[IO_DUMP_HDR_BYTES], bad[IO_DUMP_HDR_BYTES];

	io_dump_hdr_encode(&h, buf);
	CHECK_EQ_INT(io_dump_hdr_decode(buf, 64, &g), IO_DUMP_ESHORT);
	memcpy(bad, buf, sizeof bad);
	bad[0] ^= 1;
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_EMAGIC);
	memcpy(bad, buf, sizeof bad);
	bad[40] ^= 1; /* a field, CRC not updated */
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_ECRC);
	memcpy(bad, buf, sizeof bad);
	bad[8] = 2; /* version 2 */
	resign(bad);
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_EVERSION);
	memcpy(bad, buf, sizeof bad);
	bad[34] ^= 1; /* count + 65536: more chunks than the offsets say */
	resign(bad);
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_EBAD);
	memcpy(bad, buf, sizeof bad);
	bad[96] ^= 1; /* file size */
	resign(bad);
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_EBAD);
	memcpy(bad, buf, sizeof bad);
	memset(bad + 16, 0, 8); /* generation 0 */
	resign(bad);
	CHECK_EQ_INT(io_dump_hdr_decode(bad, sizeof bad, &g), IO_DUMP_EBAD);
}

static void test_record_roundtrip(void)
{
	io_dump_rec r, g;
	unsigned char buf[256];
	size_t used = 0;

	memset(&r, 0, sizeof r);
	r.store_id = 42;
	r.seq = 1000;
	r.snap_seq = 990;
	r.last_t = 1.7e9;
	r.stepped_t = 1.7e9 - 10;
	r.last_value = NAN;
	r.step_s = 10;
	r.f_t = 1.7e9 - 10;
	r.store_fc_t = -INFINITY;
	r.period = 48;
	r.horizon = 12;
	r.since_forecast = 3;
	r.flags = IO_DUMP_HAS_FORECAST;
	r.slot_crc = 0x12345678;
	r.name = "cpu.load;host=a";
	r.name_len = (uint32_t)strlen(r.name);
	CHECK_EQ_INT(io_dump_rec_size(r.name_len) % 8, 0);
	io_dump_rec_encode(&r, buf);
	CHECK_EQ_INT(
	    io_dump_rec_decode(buf, io_dump_rec_size(r.name_len), &g, &used),
	    0);
	CHECK_EQ_INT(used, io_dump_rec_size(r.name_len));
	CHECK(g.store_id == 42 && g.seq == 1000 && g.snap_seq == 990);
	CHECK(isnan(g.last_value) && isinf(g.store_fc_t));
	CHECK(g.period == 48 && g.horizon == 12 && g.since_forecast == 3);
	CHECK(g.flags == IO_DUMP_HAS_FORECAST && g.slot_crc == 0x12345678);
	CHECK(g.name_len == r.name_len &&
	      memcmp(g.name, r.name, r.name_len) == 0);
	/* Cut short, or a name running past the end. */
	CHECK_EQ_INT(io_dump_rec_decode(buf, 50, &g, &used), IO_DUMP_ESHORT);
	CHECK_EQ_INT(io_dump_rec_decode(buf, io_dump_rec_size(r.name_len) - 8,
					&g, &used),
		     IO_DUMP_ESHORT);
	/* An id or step no series has. */
	r.store_id = 0;
	io_dump_rec_encode(&r, buf);
	CHECK_EQ_INT(io_dump_rec_decode(buf, sizeof buf, &g, &used),
		     IO_DUMP_EBAD);
	r.store_id = 1;
	r.step_s = 0;
	io_dump_rec_encode(&r, buf);
	CHECK_EQ_INT(io_dump_rec_decode(buf, sizeof buf, &g, &used),
		     IO_DUMP_EBAD);
}

int main(void)
{
	TH_RUN(test_header_roundtrip);
	TH_RUN(test_header_errors);
	TH_RUN(test_record_roundtrip);
	return th_summary();
}
