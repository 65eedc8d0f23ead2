/* tests/ssm/test_rng.c: the generator is the reference one and well spread. */
#include "ssm/rng.h"
#include "tests/harness.h"

static void test_splitmix64_reference(void)
{
	/* First outputs of splitmix64 from state 0, from the reference C code.
	 */
	uint64_t x = 0;

	CHECK(ssm_splitmix64(&x) == 0xe220a8397b1dcdafULL);
	CHECK(ssm_splitmix64(&x) == 0x6e789e6aa1b965f4ULL);
}

static void test_same_seed_same_stream(void)
{
	ssm_rng a, b, c;
	int i, same_c = 1;

	ssm_rng_init(&a, 42);
	ssm_rng_init(&b, 42);
	ssm_rng_init(&c, 43);
	for (i = 0; i < 1000; i++) {
		uint64_t x = ssm_rng_u64(&a);
		CHECK(x == ssm_rng_u64(&b));
		if (x != ssm_rng_u64(&c))
			same_c = 0;
	}
	CHECK(!same_c);
}

static void test_uniform_and_normal_moments(void)
{
	ssm_rng r;
	double su = 0, sn = 0, sn2 = 0;
	int i, n = 200000;
	int counts[10] = {0};

	ssm_rng_init(&r, 7);
	for (i = 0; i < n; i++) {
		double u = ssm_rng_uniform(&r), z = ssm_rng_normal(&r);
		CHECK(u >= 0.0 && u < 1.0);
		su += u;
		sn += z;
		sn2 += z * z;
		counts[ssm_rng_below(&r, 10)]++;
	}
	/* Tolerances are about 5 standard errors. */
	CHECK_NEAR(su / n, 0.5, 5 * 0.2887 / sqrt(n));
	CHECK_NEAR(sn / n, 0.0, 5.0 / sqrt(n));
	CHECK_NEAR(sn2 / n, 1.0, 5 * sqrt(2.0 / n));
	for (i = 0; i < 10; i++)
		CHECK_NEAR(counts[i], n / 10.0, 5 * sqrt(n * 0.09));
}

int main(void)
{
	TH_RUN(test_splitmix64_reference);
	TH_RUN(test_same_seed_same_stream);
	TH_RUN(test_uniform_and_normal_moments);
	return th_summary();
}
