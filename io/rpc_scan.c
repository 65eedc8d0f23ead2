/*
 * io/rpc_scan.c: the pre-scan of msgpack-RPC frames (see io/rpc.h).
 *
 * It walks msgpack headers only (no values are built), keeping a stack of
 * "objects still due" per open container, and stops at the first byte it
 * cannot judge yet. Every bound is checked before the scan advances: a
 * header whose payload or declared element count could not fit in
 * max_frame is refused as soon as its header bytes are in, so a 5-byte
 * bomb is rejected after 5 bytes.
 */
#include <string.h>

#include "io/rpc.h"

void rpc_limits_default(rpc_limits *lim)
{
	lim->max_frame = 1 << 20;
	lim->max_depth = 16;
	lim->max_elems = 262144;
}

void rpc_scan_init(rpc_scan *s)
{
	s->pos = 0;
	s->depth = 0;
	s->sum = 0;
	s->left[0] = 1;
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Decode the header at p (avail bytes available): *hdr its size, *payload
 * the bytes that follow it, *count the objects it contains (containers;
 * maps count keys and values). Returns 1 when known, 0 when more bytes are
 * needed, RPC_EFORMAT for the reserved byte 0xc1.
 */
static int header(const unsigned char *p, size_t avail, size_t *hdr,
		  uint64_t *payload, uint64_t *count, int *is_container)
{
	unsigned c = p[0];
	int lenb = 0;

	*hdr = 1;
	*payload = 0;
	*count = 0;
	*is_container = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 1;
	if (c >= 0x80 && c <= 0x9f) {
		*is_container = 1;
		*count = (c & 0x0f) * (c <= 0x8f ? 2u : 1u);
		return 1;
	}
	if (c >= 0xa0 && c <= 0xbf) {
		*payload = c & 0x1f;
		return 1;
	}
	switch (c) {
	case 0xc1:
		return RPC_EFORMAT;
	case 0xc4:
	case 0xc5:
	case 0xc6: /* bin 8/16/32 */
		lenb = 1 << (c - 0xc4);
		break;
	case 0xc7:
	case 0xc8:
	case 0xc9: /* ext 8/16/32: len, then type */
		lenb = 1 << (c - 0xc7);
		*hdr = 2;
		break;
	case 0xca:
		*payload = 4;
		return 1;
	case 0xcb:
		*payload = 8;
		return 1;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		*payload = 1u << (c - 0xcc);
		return 1;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
		*payload = 1u << (c - 0xd0);
		return 1;
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8: /* fixext */
		*payload = 1 + (1u << (c - 0xd4));
		return 1;
	case 0xd9:
	case 0xda:
	case 0xdb: /* str 8/16/32 */
		lenb = 1 << (c - 0xd9);
		break;
	case 0xdc:
	case 0xdd: /* array 16/32 */
	case 0xde:
	case 0xdf: /* map 16/32 */
		lenb = (c == 0xdc || c == 0xde) ? 2 : 4;
		*is_container = 1;
		break;
	default:
		return RPC_EFORMAT;
	}
	*hdr += (size_t)lenb;
	if (avail < *hdr)
		return 0;
	if (*is_container)
		*count = be(p + 1, lenb) * (c >= 0xde ? 2u : 1u);
	else
		*payload = be(p + 1, lenb);
	return 1;
}

int rpc_scan_frame(rpc_scan *s, const char *buf, size_t len,
		   const rpc_limits *lim, size_t *frame_len)
{
	const unsigned char *b = (const unsigned char *)buf;

	if (!lim || lim->max_depth < 1 || lim->max_depth > RPC_DEPTH_CAP)
		return RPC_EINVAL;
	for (;;) {
		size_t hdr;
		uint64_t payload, count, end;
		int cont, r;

		while (s->depth > 0 && s->left[s->depth] == 0)
			s->depth--;
		if (s->depth == 0 && s->left[0] == 0) {
			*frame_len = s->pos;
			rpc_scan_init(s);
			return 1;
		}
		if (s->pos >= len)
			return 0;
		r = header(b + s->pos, len - s->pos, &hdr, &payload, &count,
			   &cont);
		if (r < 0)
			return r;
		if (r == 0)
			return s->pos + hdr > lim->max_frame ? RPC_EFRAME : 0;
		end = (uint64_t)s->pos + hdr + payload;
		if (end > lim->max_frame)
			return RPC_EFRAME;
		if (cont) {
			/* Every contained object takes at least one byte. */
			if (end + count > lim->max_frame)
				return RPC_ECOUNT;
			s->sum += cont && count ? count : 0;
			if (s->sum > lim->max_elems)
				return RPC_ECOUNT;
			if (count > 0 && s->depth + 1 > lim->max_depth)
				return RPC_EDEPTH;
		}
		if (end > len)
			return 0;
		s->left[s->depth]--;
		s->pos = (size_t)end;
		if (cont && count > 0)
			s->left[++s->depth] = (uint32_t)count;
	}
}
