/*
 * io/snapshot.c: snapshot encoding (see snapshot.h) and CRC-32C.
 *
 * Workload: one encode per snapshot written (periodic, per series) and one
 * decode per series at start-up; a 1M-series restore decodes several GB, so
 * the CRC uses the CPU's crc32 instruction (SSE4.2: the same Castagnoli
 * polynomial, 8 bytes per instruction; a quarter of a restore's CPU went to
 * the table version; three interleaved streams, see crc_hw3), picked at
 * first use, and slice-by-8 tables elsewhere.
 */
#include "io/snapshot.h"
#include "io/le.h"

#include <pthread.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "io/snapshot.c assumes a little-endian host"
#endif

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw_ok;

#if defined(__x86_64__) && defined(__GNUC__)
/* Three streams at once. The crc32 instruction takes 3 cycles and can
 * start every cycle: one stream waits on its own result, three
 * interleaved ones (each a third of a block) keep it busy. Their registers
 * are joined by shifting a register over the bytes that follow it (the
 * CRC is linear: reg(a, A || B) = shift(reg(a, A), |B|) ^ reg(0, B)), by
 * tables built at first use for the two block sizes below. A restore
 * checks several GB of slots and snapshots (7.2 KB each): 2.5x faster
 * than one stream. */
#define CRC_LONG  512 /* bytes per stream, blocks of 3 x this... */
#define CRC_SHORT 128 /* ...then of 3 x this */
static uint32_t crc_long[4][256], crc_short[4][256];

/* a * b mod P, both reflected (bit 31 = x^0). */
static uint32_t crc_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return p;
}

/* The tables shifting a register over n zero bytes: x^(8n) mod P applied
 * to each of its bytes. */
static void crc_shift_tables(uint32_t t[4][256], size_t n)
{
	uint32_t op = 1u << 31, x = 1u << 30; /* x^0; x^1 */
	size_t bits = 8 * n;
	int k, b;

	while (bits) { /* op = x^(8n): square and multiply */
		if (bits & 1)
			op = crc_mulmod(op, x);
		x = crc_mulmod(x, x);
		bits >>= 1;
	}
	for (k = 0; k < 4; k++)
		for (b = 0; b < 256; b++)
			t[k][b] = crc_mulmod(op, (uint32_t)b << (8 * k));
}

static uint32_t crc_shift(uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^
	       t[3][c >> 24];
}

/* Blocks of 3 x n bytes from *p while they last; *len what is left. */
__attribute__((target("sse4.2"))) static uint64_t
crc_hw3(uint64_t c0, const unsigned char **pp, size_t *len, size_t n,
	uint32_t t[4][256])
{
	const unsigned char *p = *pp;

	while (*len >= 3 * n) {
		uint64_t c1 = 0, c2 = 0, w0, w1, w2;
		const unsigned char *e = p + n;
		for (; p < e; p += 8) {
			memcpy(&w0, p, 8);
			memcpy(&w1, p + n, 8);
			memcpy(&w2, p + 2 * n, 8);
			c0 = __builtin_ia32_crc32di(c0, w0);
			c1 = __builtin_ia32_crc32di(c1, w1);
			c2 = __builtin_ia32_crc32di(c2, w2);
		}
		c0 = crc_shift(t, crc_shift(t, (uint32_t)c0) ^ (uint32_t)c1) ^
		     (uint32_t)c2;
		p += 2 * n;
		*len -= 3 * n;
	}
	*pp = p;
	return c0;
}

/* crc is the running (inverted) register, as in the table version. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc, w;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	c = crc_hw3(c, &p, &len, CRC_LONG, crc_long);
	c = crc_hw3(c, &p, &len, CRC_SHORT, crc_short);
	while (len >= 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#define CRC_HW_BUILT 1
#endif

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^
					crc_tab[0][crc_tab[j - 1][i] & 0xff];
#ifdef CRC_HW_BUILT
	crc_shift_tables(crc_long, CRC_LONG);
	crc_shift_tables(crc_short, CRC_SHORT);
	crc_hw_ok = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t io_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
#ifdef CRC_HW_BUILT
	if (crc_hw_ok)
		return ~crc_hw(~crc, buf, len);
#endif
	return io__crc32c_table(crc, buf, len);
}

uint32_t io__crc32c_table(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t w;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		      crc_tab[5][(w >> 16) & 0xff] ^
		      crc_tab[4][(w >> 24) & 0xff] ^
		      crc_tab[3][(w >> 32) & 0xff] ^
		      crc_tab[2][(w >> 40) & 0xff] ^
		      crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

const char *io_snap_strerror(int err)
{
	switch (err) {
	case IO_SNAP_OK:
		return "ok";
	case IO_SNAP_ESHORT:
		return "snapshot shorter than its header";
	case IO_SNAP_EMAGIC:
		return "not a snapshot (bad magic)";
	case IO_SNAP_EVERSION:
		return "snapshot version not supported";
	case IO_SNAP_ESIZE:
		return "snapshot length does not match its header";
	case IO_SNAP_ECHECKSUM:
		return "snapshot checksum mismatch (torn or corrupted)";
	case IO_SNAP_EINVAL:
		return "invalid argument";
	}
	return "unknown snapshot error";
}

size_t io_snap_size(uint32_t nfloats)
{
	return IO_SNAP_HDR_SIZE + (size_t)nfloats * sizeof(float);
}

long io_snap_encode(void *out, size_t cap, uint64_t model_hash, uint64_t seen,
		    double t, const float *state, uint32_t nfloats,
		    uint32_t *crcp)
{
	unsigned char *p = out;
	size_t n = io_snap_size(nfloats);
	uint32_t crc;

	if (!out || nfloats > IO_SNAP_MAX_FLOATS || cap < n ||
	    (nfloats && !state))
		return IO_SNAP_EINVAL;
	memcpy(p, IO_SNAP_MAGIC, 4);
	io__put16(p + 4, IO_SNAP_VERSION);
	io__put16(p + 6, IO_SNAP_HDR_SIZE);
	io__put32(p + 8, nfloats);
	io__put32(p + 12, 0);
	io__put64(p + 16, model_hash);
	io__put64(p + 24, seen);
	io__putd(p + 32, t);
	if (nfloats)
		memcpy(p + IO_SNAP_HDR_SIZE, state, (size_t)nfloats * 4);
	crc = io_crc32c(0, p, n);
	io__put32(p + 12, crc);
	if (crcp)
		*crcp = crc;
	return (long)n;
}

int io_snap_decode(const void *buf, size_t len, io_snap *out)
{
	const unsigned char *p = buf;
	unsigned char hdr[IO_SNAP_HDR_SIZE];
	uint32_t crc, want, nfloats;
	uint16_t hsize;

	if (!p || len < IO_SNAP_HDR_SIZE)
		return IO_SNAP_ESHORT;
	if (memcmp(p, IO_SNAP_MAGIC, 4) != 0)
		return IO_SNAP_EMAGIC;
	if (io__get16(p + 4) != IO_SNAP_VERSION)
		return IO_SNAP_EVERSION;
	hsize = io__get16(p + 6);
	nfloats = io__get32(p + 8);
	if (hsize < IO_SNAP_HDR_SIZE || nfloats > IO_SNAP_MAX_FLOATS ||
	    len != (size_t)hsize + (size_t)nfloats * 4)
		return IO_SNAP_ESIZE;
	want = io__get32(p + 12);
	/* The crc covers the blob with its own field zeroed. */
	memcpy(hdr, p, IO_SNAP_HDR_SIZE);
	io__put32(hdr + 12, 0);
	crc = io_crc32c(0, hdr, IO_SNAP_HDR_SIZE);
	crc = io_crc32c(crc, p + IO_SNAP_HDR_SIZE, len - IO_SNAP_HDR_SIZE);
	if (crc != want)
		return IO_SNAP_ECHECKSUM;
	out->model_hash = io__get64(p + 16);
	out->seen = io__get64(p + 24);
	out->t = io__getd(p + 32);
	out->nfloats = nfloats;
	out->crc = want;
	out->payload = p + hsize;
	return IO_SNAP_OK;
}

void io_snap_copy_state(const io_snap *s, float *dst)
{
	if (s->nfloats)
		memcpy(dst, s->payload, (size_t)s->nfloats * 4);
}
