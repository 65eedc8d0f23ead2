/*
 * io/snapshot.h: the on-disk encoding of one series' model state.
 *
 * A snapshot is the series' state block (ssm_model_state_floats() floats) plus
 * a fixed header that says which model produced it and how far the series had
 * got. The store keeps the latest snapshot per series; recovery decodes it and
 * replays the samples with seq > seen, so the header must be trustworthy: a
 * torn or bit-flipped blob is rejected with a precise error rather than fed to
 * the model.
 *
 * Layout (little-endian, IO_SNAP_HDR_SIZE = 40 bytes, then the payload):
 *   off  0  magic     "SCSN"
 *   off  4  version   u16 (IO_SNAP_VERSION)
 *   off  6  hdr_size  u16 (>= 40; payload starts here, so later versions may
 *                      grow the header without breaking old readers' checks)
 *   off  8  nfloats   u32 (number of float32 in the payload)
 *   off 12  crc       u32 CRC-32C of the whole blob with this field zeroed
 *   off 16  model_hash u64 (ssm_model_hash() of the model that wrote it)
 *   off 24  seen      u64 (seq of the last sample folded into the state)
 *   off 32  t         f64 (Unix seconds of that sample)
 *   off 40  payload   nfloats x f32
 * The encoder and decoder assume a little-endian host (checked at compile
 * time), so the payload is a plain memcpy of the state block.
 */
#ifndef STATECAST_IO_SNAPSHOT_H
#define STATECAST_IO_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define IO_SNAP_MAGIC	 "SCSN"
#define IO_SNAP_VERSION	 1
#define IO_SNAP_HDR_SIZE 40
/* 64 Mi floats: far above any model's state, low enough to reject garbage. */
#define IO_SNAP_MAX_FLOATS (1u << 26)

enum {
	IO_SNAP_OK = 0,
	IO_SNAP_ESHORT = -1,	/* shorter than the header */
	IO_SNAP_EMAGIC = -2,	/* not a snapshot (bad magic) */
	IO_SNAP_EVERSION = -3,	/* written by a newer, unknown version */
	IO_SNAP_ESIZE = -4,	/* length disagrees with hdr_size + nfloats */
	IO_SNAP_ECHECKSUM = -5, /* checksum mismatch: torn or corrupted */
	IO_SNAP_EINVAL = -6,	/* bad argument (encode: buffer too small) */
};

/* Decoded header; payload points into the caller's buffer (unaligned). */
typedef struct io_snap {
	uint64_t model_hash;
	uint64_t seen;
	double t;
	uint32_t nfloats;
	uint32_t crc;
	const unsigned char *payload; /* nfloats x f32, may be unaligned */
} io_snap;

const char *io_snap_strerror(int err);

/* Bytes of an encoded snapshot of nfloats floats. */
size_t io_snap_size(uint32_t nfloats);

/*
 * Encode into out (cap bytes, at least io_snap_size(nfloats)). Returns the
 * number of bytes written (> 0) or IO_SNAP_EINVAL. The crc is returned in
 * *crc when crc is not NULL.
 */
long io_snap_encode(void *out, size_t cap, uint64_t model_hash, uint64_t seen,
		    double t, const float *state, uint32_t nfloats,
		    uint32_t *crc);

/*
 * Validate and decode buf[0..len). On success fills *out (payload points
 * into buf) and returns IO_SNAP_OK; otherwise one of the errors above.
 */
int io_snap_decode(const void *buf, size_t len, io_snap *out);

/* Copy the decoded payload into dst (out->nfloats floats). */
void io_snap_copy_state(const io_snap *s, float *dst);

/* CRC-32C (Castagnoli) of buf, continuing from crc (start with 0). */
uint32_t io_crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table version io_crc32c falls back to (internal: the tests
 * check the instruction path against it). */
uint32_t io__crc32c_table(uint32_t crc, const void *buf, size_t len);

#endif
