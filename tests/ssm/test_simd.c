/*
 * tests/ssm/test_simd.c: the AVX2 clones of the elementwise kernels give the
 * same bits as the baseline build (ssm/simd.h's promise, which keeps
 * results reproducible across machines). This file compiles ssm/vmath.c a
 * second time without clones, under other names, and compares the two on
 * the same inputs. On a machine without AVX2 both are the baseline and the
 * test holds trivially.
 */
#define SSM_NO_CLONES
#define ssm_expf_vec	    base_expf_vec
#define ssm_silu_vec	    base_silu_vec
#define ssm_softplus_vec    base_softplus_vec
#define ssm__gemv_t	    base_gemv_t
#define ssm__exp_vec64	    base_exp_vec64
#define ssm__silu_vec64	    base_silu_vec64
#define ssm__softplus_vec64 base_softplus_vec64
#include "ssm/vmath.c"
#undef ssm_expf_vec
#undef ssm_silu_vec
#undef ssm_softplus_vec
#undef ssm__gemv_t

#include <stdlib.h>

#include "ssm/rng.h"
#include "tests/harness.h"

/* The library's (possibly AVX2) versions, under their real names. */
void ssm_expf_vec(const float *x, float *y, int n);
void ssm_silu_vec(const float *x, float *y, int n);
void ssm_softplus_vec(const float *x, float *y, int n);
void ssm__gemv_t(int In, int Out, const float *WT, const float *x, float *y);

static void test_same_bits(void)
{
	enum { n = 1 << 16 };
	float *x = malloc(sizeof(float) * n), *a = malloc(sizeof(float) * n);
	float *b = malloc(sizeof(float) * n);
	ssm_rng r;
	int i;

	ssm_rng_init(&r, 3);
	for (i = 0; i < n; i++)
		x[i] = (float)(200.0 * ssm_rng_uniform(&r) - 100.0);
	ssm_expf_vec(x, a, n);
	base_expf_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	ssm_silu_vec(x, a, n);
	base_silu_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	ssm_softplus_vec(x, a, n);
	base_softplus_vec(x, b, n);
	CHECK(memcmp(a, b, sizeof(float) * n) == 0);
	memset(a, 0, sizeof(float) * 64);
	memset(b, 0, sizeof(float) * 64);
	ssm__gemv_t(100, 64, x, x + 10000, a);
	base_gemv_t(100, 64, x, x + 10000, b);
	CHECK(memcmp(a, b, sizeof(float) * 64) == 0);
	free(x);
	free(a);
	free(b);
}

int main(void)
{
	TH_RUN(test_same_bits);
	return th_summary();
}
