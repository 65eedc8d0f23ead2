/*
 * io/statedump.h: the state dump file format (docs/STATE_DUMP.md): every
 * series' state and last forecast, written in one sequential pass at a
 * clean stop and mapped back at the next start.
 *
 * Layout (little-endian, offsets in bytes):
 *   [0, 4096)        header (io_dump_hdr), CRC-32C of its fields
 *   [slots_off, ...) nchunks chunks of chunk_bytes each (a multiple of the
 *                    page size, so each chunk can be mapped on its own);
 *                    chunk c holds slots c*per_chunk .. of slot_bytes each:
 *                    slot_floats float32 (state, then forecast), then
 *                    padding. The unused tail of the last chunk is a hole.
 *   [meta_off, +meta_bytes)  count records (io_dump_rec), in slot order,
 *                    CRC-32C of the whole section in the header
 * Each record carries the CRC-32C of its slot's slot_floats floats, so a
 * state is used only as it was written.
 *
 * The slot layout is the daemon's slab layout (daemon/registry.h), so a
 * chunk of the file becomes a chunk of the slab by mmap, with no copy.
 */
#ifndef STATECAST_IO_STATEDUMP_H
#define STATECAST_IO_STATEDUMP_H

#include <stddef.h>
#include <stdint.h>

#define IO_DUMP_MAGIC	  "SCDUMP\r\n" /* 8 bytes */
#define IO_DUMP_VERSION	  1
#define IO_DUMP_HDR_BYTES 4096
/* Fixed part of a record; the name (name_len bytes) follows, then zero
 * padding to a multiple of 8. */
#define IO_DUMP_REC_BYTES 96

enum {
	IO_DUMP_OK = 0,
	IO_DUMP_ESHORT = -1,   /* fewer bytes than the header says */
	IO_DUMP_EMAGIC = -2,   /* not a state dump */
	IO_DUMP_EVERSION = -3, /* a version this program does not read */
	IO_DUMP_ECRC = -4,     /* checksum mismatch */
	IO_DUMP_EBAD = -5,     /* fields out of bounds or inconsistent */
};

const char *io_dump_strerror(int err);

typedef struct io_dump_hdr {
	uint32_t version;
	uint64_t generation; /* != 0; must equal the database's meta row */
	uint64_t model_hash; /* ssm_model_hash() of the model that wrote it */
	uint64_t count;	     /* series (records and slots) */
	uint32_t state_floats;
	uint32_t slot_floats; /* state + forecast floats per slot */
	uint32_t slot_bytes;  /* >= 4 * slot_floats, multiple of 32 */
	uint32_t per_chunk;   /* slots per chunk, >= 1 */
	uint64_t chunk_bytes; /* >= per_chunk * slot_bytes, page multiple */
	uint64_t slots_off;   /* IO_DUMP_HDR_BYTES */
	uint64_t meta_off;    /* slots_off + nchunks * chunk_bytes */
	uint64_t meta_bytes;
	uint32_t meta_crc;   /* CRC-32C of the meta section */
	uint64_t file_bytes; /* meta_off + meta_bytes: the file's size */
} io_dump_hdr;

/* One series. Times in seconds (Unix), NaN/-inf kept as written. */
typedef struct io_dump_rec {
	int64_t store_id;  /* the series' id in the database */
	uint64_t seq;	   /* last sample seq folded into the state */
	uint64_t snap_seq; /* seq of its last snapshot in the database */
	double last_t, stepped_t, last_value, step_s, f_t, store_fc_t;
	int32_t period, horizon, since_forecast;
	uint32_t flags; /* IO_DUMP_HAS_FORECAST */
	uint32_t slot_crc;
	uint32_t name_len;
	const char *name; /* decode: points into the caller's buffer */
} io_dump_rec;

#define IO_DUMP_HAS_FORECAST 1u

/* Chunks the slots occupy. */
uint64_t io_dump_nchunks(const io_dump_hdr *h);
/* Fills the layout fields (slot_bytes, chunk_bytes, offsets) of h from
 * count, state_floats, slot_floats, slot_bytes and per_chunk; meta_bytes
 * must be set. */
void io_dump_layout(io_dump_hdr *h, uint64_t page);
/* Encodes h into IO_DUMP_HDR_BYTES bytes (zero padded, CRC last). */
void io_dump_hdr_encode(const io_dump_hdr *h, unsigned char *out);
/* Decodes and checks magic, version, CRC and the layout's consistency. */
int io_dump_hdr_decode(const unsigned char *buf, size_t len, io_dump_hdr *h);
/* Bytes the record takes in the meta section. */
size_t io_dump_rec_size(uint32_t name_len);
/* Encodes r (and r->name) at out (io_dump_rec_size bytes). */
void io_dump_rec_encode(const io_dump_rec *r, unsigned char *out);
/* Decodes one record from at most avail bytes; *used = its size. */
int io_dump_rec_decode(const unsigned char *p, size_t avail, io_dump_rec *r,
		       size_t *used);
/* The store id and seq of a record io_dump_rec_decode has accepted, read
 * without decoding the rest (a checkpoint's index of a million records). */
void io_dump_rec_key(const unsigned char *p, int64_t *store_id, uint64_t *seq);

#endif
