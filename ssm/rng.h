/*
 * ssm/rng.h: the one random number generator of statecast.
 *
 * Weight initialisation, the synthetic series generator and training all draw
 * from this generator so that a fixed seed gives bit-identical results on
 * every machine (no libc rand(), whose sequence differs between libcs).
 * xoshiro256** seeded through splitmix64, as its authors recommend.
 *
 * The caller owns the struct; there is nothing to release.
 */
#ifndef STATECAST_SSM_RNG_H
#define STATECAST_SSM_RNG_H

#include <stdint.h>

typedef struct ssm_rng {
	uint64_t s[4];
	/* Box-Muller produces normals in pairs; the second waits here. */
	double spare;
	int has_spare;
} ssm_rng;

/* splitmix64 step: advances *x and returns the next output. */
uint64_t ssm_splitmix64(uint64_t *x);

void ssm_rng_init(ssm_rng *r, uint64_t seed);
uint64_t ssm_rng_u64(ssm_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double ssm_rng_uniform(ssm_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t ssm_rng_below(ssm_rng *r, uint64_t n);
/* Standard normal. */
double ssm_rng_normal(ssm_rng *r);

#endif
