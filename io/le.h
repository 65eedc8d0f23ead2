/*
 * io/le.h: little-endian fixed-width fields in byte buffers, shared by the
 * on-disk formats (io/snapshot.c, io/statedump.c). Byte by byte, so the
 * result does not depend on the host's order or on alignment; compilers
 * turn each into one load or store on x86-64.
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
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void io__put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t io__get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t io__get32(const unsigned char *p)
{
	uint32_t v = 0;
	int i;

	for (i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint64_t io__get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
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
