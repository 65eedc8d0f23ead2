/*
 * io/statedump.c: encoding and checks of the state dump's header and
 * records (see statedump.h). The slots are the caller's: it writes and
 * maps them; this file only says where they are.
 */
#include "io/statedump.h"
#include "io/le.h"

#include <string.h>

#include "io/snapshot.h"

/* Header field offsets; the CRC covers [0, HDR_CRC). */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_GEN = 16,
	H_HASH = 24,
	H_COUNT = 32,
	H_STATE = 40,
	H_SLOTF = 44,
	H_SLOTB = 48,
	H_PERCHUNK = 52,
	H_CHUNKB = 56,
	H_SLOTS = 64,
	H_META = 72,
	H_METAB = 80,
	H_METACRC = 88,
	H_FILEB = 96,
	HDR_CRC = 104,
};

const char *io_dump_strerror(int err)
{
	switch (err) {
	case IO_DUMP_OK:
		return "ok";
	case IO_DUMP_ESHORT:
		return "truncated";
	case IO_DUMP_EMAGIC:
		return "not a state dump (bad magic)";
	case IO_DUMP_EVERSION:
		return "unsupported state dump version";
	case IO_DUMP_ECRC:
		return "checksum mismatch";
	case IO_DUMP_EBAD:
		return "inconsistent header or record";
	}
	return "unknown state dump error";
}

uint64_t io_dump_nchunks(const io_dump_hdr *h)
{
	return h->per_chunk ? (h->count + h->per_chunk - 1) / h->per_chunk : 0;
}

void io_dump_layout(io_dump_hdr *h, uint64_t page)
{
	uint64_t raw = (uint64_t)h->per_chunk * h->slot_bytes;

	h->chunk_bytes = (raw + page - 1) / page * page;
	h->slots_off = IO_DUMP_HDR_BYTES;
	h->meta_off = h->slots_off + io_dump_nchunks(h) * h->chunk_bytes;
	h->file_bytes = h->meta_off + h->meta_bytes;
}

void io_dump_hdr_encode(const io_dump_hdr *h, unsigned char *out)
{
	memset(out, 0, IO_DUMP_HDR_BYTES);
	memcpy(out + H_MAGIC, IO_DUMP_MAGIC, 8);
	io__put32(out + H_VERSION, h->version);
	io__put64(out + H_GEN, h->generation);
	io__put64(out + H_HASH, h->model_hash);
	io__put64(out + H_COUNT, h->count);
	io__put32(out + H_STATE, h->state_floats);
	io__put32(out + H_SLOTF, h->slot_floats);
	io__put32(out + H_SLOTB, h->slot_bytes);
	io__put32(out + H_PERCHUNK, h->per_chunk);
	io__put64(out + H_CHUNKB, h->chunk_bytes);
	io__put64(out + H_SLOTS, h->slots_off);
	io__put64(out + H_META, h->meta_off);
	io__put64(out + H_METAB, h->meta_bytes);
	io__put32(out + H_METACRC, h->meta_crc);
	io__put64(out + H_FILEB, h->file_bytes);
	io__put32(out + HDR_CRC, io_crc32c(0, out, HDR_CRC));
}

int io_dump_hdr_decode(const unsigned char *buf, size_t len, io_dump_hdr *h)
{
	io_dump_hdr x;
	uint64_t raw;

	if (len < HDR_CRC + 4)
		return IO_DUMP_ESHORT;
	if (memcmp(buf + H_MAGIC, IO_DUMP_MAGIC, 8) != 0)
		return IO_DUMP_EMAGIC;
	if (io__get32(buf + HDR_CRC) != io_crc32c(0, buf, HDR_CRC))
		return IO_DUMP_ECRC;
	memset(h, 0, sizeof *h);
	h->version = io__get32(buf + H_VERSION);
	if (h->version != IO_DUMP_VERSION)
		return IO_DUMP_EVERSION;
	h->generation = io__get64(buf + H_GEN);
	h->model_hash = io__get64(buf + H_HASH);
	h->count = io__get64(buf + H_COUNT);
	h->state_floats = io__get32(buf + H_STATE);
	h->slot_floats = io__get32(buf + H_SLOTF);
	h->slot_bytes = io__get32(buf + H_SLOTB);
	h->per_chunk = io__get32(buf + H_PERCHUNK);
	h->chunk_bytes = io__get64(buf + H_CHUNKB);
	h->slots_off = io__get64(buf + H_SLOTS);
	h->meta_off = io__get64(buf + H_META);
	h->meta_bytes = io__get64(buf + H_METAB);
	h->meta_crc = io__get32(buf + H_METACRC);
	h->file_bytes = io__get64(buf + H_FILEB);
	/* The layout must be the one io_dump_layout computes: no overlap, no
	 * slot beyond its chunk, nothing past the file's end. */
	if (!h->generation || !h->per_chunk || !h->slot_bytes ||
	    h->slot_bytes % 32 || h->state_floats > h->slot_floats ||
	    (uint64_t)h->slot_floats * 4 > h->slot_bytes ||
	    h->count > (uint64_t)1 << 40 ||
	    h->meta_bytes < h->count * IO_DUMP_REC_BYTES)
		return IO_DUMP_EBAD;
	raw = (uint64_t)h->per_chunk * h->slot_bytes;
	if (h->chunk_bytes < raw || h->chunk_bytes - raw >= 1u << 16 ||
	    h->slots_off != IO_DUMP_HDR_BYTES)
		return IO_DUMP_EBAD;
	x = *h;
	x.meta_off = x.slots_off + io_dump_nchunks(&x) * x.chunk_bytes;
	if (x.meta_off != h->meta_off ||
	    h->file_bytes != h->meta_off + h->meta_bytes)
		return IO_DUMP_EBAD;
	return 0;
}

size_t io_dump_rec_size(uint32_t name_len)
{
	return IO_DUMP_REC_BYTES + ((size_t)name_len + 7) / 8 * 8;
}

void io_dump_rec_encode(const io_dump_rec *r, unsigned char *out)
{
	size_t size = io_dump_rec_size(r->name_len);

	memset(out, 0, size);
	io__put64(out, (uint64_t)r->store_id);
	io__put64(out + 8, r->seq);
	io__put64(out + 16, r->snap_seq);
	io__putd(out + 24, r->last_t);
	io__putd(out + 32, r->stepped_t);
	io__putd(out + 40, r->last_value);
	io__putd(out + 48, r->step_s);
	io__putd(out + 56, r->f_t);
	io__putd(out + 64, r->store_fc_t);
	io__put32(out + 72, (uint32_t)r->period);
	io__put32(out + 76, (uint32_t)r->horizon);
	io__put32(out + 80, (uint32_t)r->since_forecast);
	io__put32(out + 84, r->flags);
	io__put32(out + 88, r->slot_crc);
	io__put32(out + 92, r->name_len);
	memcpy(out + IO_DUMP_REC_BYTES, r->name, r->name_len);
}

int io_dump_rec_decode(const unsigned char *p, size_t avail, io_dump_rec *r,
		       size_t *used)
{
	size_t size;

	if (avail < IO_DUMP_REC_BYTES)
		return IO_DUMP_ESHORT;
	r->name_len = io__get32(p + 92);
	size = io_dump_rec_size(r->name_len);
	if (size > avail)
		return IO_DUMP_ESHORT;
	r->store_id = (int64_t)io__get64(p);
	r->seq = io__get64(p + 8);
	r->snap_seq = io__get64(p + 16);
	r->last_t = io__getd(p + 24);
	r->stepped_t = io__getd(p + 32);
	r->last_value = io__getd(p + 40);
	r->step_s = io__getd(p + 48);
	r->f_t = io__getd(p + 56);
	r->store_fc_t = io__getd(p + 64);
	r->period = (int32_t)io__get32(p + 72);
	r->horizon = (int32_t)io__get32(p + 76);
	r->since_forecast = (int32_t)io__get32(p + 80);
	r->flags = io__get32(p + 84);
	r->slot_crc = io__get32(p + 88);
	r->name = (const char *)p + IO_DUMP_REC_BYTES;
	if (r->store_id <= 0 || r->period < 1 || r->horizon < 0 ||
	    !(r->step_s > 0) || r->name_len == 0 ||
	    memchr(r->name, '\0', r->name_len))
		return IO_DUMP_EBAD;
	*used = size;
	return 0;
}

void io_dump_rec_key(const unsigned char *p, int64_t *store_id, uint64_t *seq)
{
	*store_id = (int64_t)io__get64(p);
	*seq = io__get64(p + 8);
}
