/* ssm/rng.c: xoshiro256** and splitmix64 (Blackman and Vigna). See rng.h. */
#include "ssm/rng.h"

#include <math.h>

uint64_t ssm_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void ssm_rng_init(ssm_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = ssm_splitmix64(&x);
	r->spare = 0.0;
	r->has_spare = 0;
}

uint64_t ssm_rng_u64(ssm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double ssm_rng_uniform(ssm_rng *r)
{
	return (double)(ssm_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t ssm_rng_below(ssm_rng *r, uint64_t n)
{
	/* Rejection on the top of the range removes the modulo bias. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = ssm_rng_u64(r);
	while (x >= limit);
	return x % n;
}

double ssm_rng_normal(ssm_rng *r)
{
	double u, v, rad;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	/* 1 - uniform is in (0, 1], so the log is finite. */
	u = 1.0 - ssm_rng_uniform(r);
	v = ssm_rng_uniform(r);
	rad = sqrt(-2.0 * log(u));
	r->spare = rad * sin(2.0 * M_PI * v);
	r->has_spare = 1;
	return rad * cos(2.0 * M_PI * v);
}
