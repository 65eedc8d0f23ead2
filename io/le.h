/*
 * io/le.h: little-endian fixed-width fields in byte buffers, shared by the
 * on-disk formats (io/snapshot.c, io/statedump.c). Byte by byte, so the
 * result does not depend on the host's order or on alignment. Written out
 * byte by byte, not as loops: GCC 12 at -O2 merges straight-line byte
 * stores and shift-or loads into one store or load on x86-64, but leaves
 * a loop over the bytes as a loop (store__log_put was 242 instructions a
 * sample, callgrind, bench/results/store10-split.md).
 */
#ifndef IO_LE_H
#define IO_LE_H

#include <stdint.h>
#include <string.h>

static inline void io__put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void io__put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void io__put64(unsigned char *p, uint64_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
	p[4] = (unsigned char)(v >> 32);
	p[5] = (unsigned char)(v >> 40);
	p[6] = (unsigned char)(v >> 48);
	p[7] = (unsigned char)(v >> 56);
}

static inline uint16_t io__get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t io__get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t io__get64(const unsigned char *p)
{
	return (uint64_t)io__get32(p) | (uint64_t)io__get32(p + 4) << 32;
}

/* A double as the little-endian bytes of its IEEE 754 bit pattern. */
static inline void io__putd(unsigned char *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, 8);
	io__put64(p, v);
}

static inline double io__getd(const unsigned char *p)
{
	uint64_t v = io__get64(p);
	double d;

	memcpy(&d, &v, 8);
	return d;
}

#endif
