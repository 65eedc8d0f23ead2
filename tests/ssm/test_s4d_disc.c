/*
 * tests/ssm/test_s4d_disc.c: the float S4D discretization at gaps other than
 * 1 (ssm/kern_s4d_disc.c) against the double closed forms of
 * ssm_disc_mode (libm's cexp), its AVX2 clone against the baseline build
 * (compiled here a second time without clones, as tests/ssm/test_simd.c
 * does for the other kernels), and its range check.
 */
#define SSM_NO_CLONES
#define ssm__s4d_disc_f32 base_s4d_disc_f32
#include "ssm/kern_s4d_disc.c"
#undef ssm__s4d_disc_f32

#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "ssm/discretize.h"
#include "ssm/model.h"
#include "ssm/rng.h"
#include "ssm/s4d.h"
#include "tests/harness.h"

/* ssm/kern.h once more, now declaring the real name. */
#undef STATECAST_SSM_KERN_H
#include "ssm/kern.h"

enum { H = 16, N = 96, HN = H * N };

/* One set of modes: dt log-uniform in [1e-4, 1], A_re = -exp(U(-6, 3)),
 * A_im uniform in [-300, 300] with some 0 and some at dt A_im near 2 pi m
 * (where cos y - 1 would cancel), W complex normal. */
typedef struct modes {
	double dt[H], are[HN], zmax;
	float aim[HN], W[2 * HN];
} modes;

static void make_modes(modes *m, ssm_rng *r)
{
	int h;
	size_t i;

	m->zmax = 0;
	for (h = 0; h < H; h++)
		m->dt[h] = exp(log(1e-4) * ssm_rng_uniform(r));
	for (i = 0; i < HN; i++) {
		double d = m->dt[i % H], z;

		m->are[i] = -exp(-6.0 + 9.0 * ssm_rng_uniform(r));
		m->aim[i] = (float)(600.0 * ssm_rng_uniform(r) - 300.0);
		if (i % 7 == 0)
			m->aim[i] = 0;
		if (i % 7 == 1)
			m->aim[i] = (float)(2 * M_PI * (double)(i % 5 + 1) / d *
					    (1 + 1e-6 * ssm_rng_normal(r)));
		m->W[i] = (float)ssm_rng_normal(r);
		m->W[HN + i] = (float)ssm_rng_normal(r);
		z = d * cabs(m->are[i] + I * (double)m->aim[i]);
		if (z > m->zmax)
			m->zmax = z;
	}
}

/* Worst error of (dA, G) from disc_f32 at gap, in units of 2^-24 of the
 * reference's modulus (plus 2^-140 absolute: results at the bottom of
 * float's range flush). */
static double worst_err(const modes *m, int zoh, double gap, const float *out)
{
	double worst = 0;
	size_t i;

	for (i = 0; i < HN; i++) {
		double complex a = m->are[i] + I * (double)m->aim[i], dA, E;
		double complex W = (double)m->W[i] + I * (double)m->W[HN + i];
		double complex G, fA, fG;
		double eA, eG;

		ssm_disc_mode(zoh ? SSM_DISC_ZOH : SSM_DISC_BILINEAR, a,
			      m->dt[i % H] * gap, &dA, &E, NULL);
		/* W is C B / A for ZOH, so G = C E B = E A W; C B for
		 * bilinear, G = E W. */
		G = zoh ? E * a * W : E * W;
		fA = (double)out[i] + I * (double)out[HN + i];
		fG = (double)out[2 * HN + i] + I * (double)out[3 * HN + i];
		eA = cabs(fA - dA) / (cabs(dA) * 0x1p-24 + 0x1p-140);
		eG = cabs(fG - G) / (cabs(G) * 0x1p-24 + 0x1p-140);
		if (eA > worst)
			worst = eA;
		if (eG > worst)
			worst = eG;
		if (!(eA == eA) || !(eG == eG))
			return INFINITY;
	}
	return worst;
}

static int run(const modes *m, int zoh, double gap, float *a, float *b,
	       float *scratch)
{
	int ra = ssm__s4d_disc_f32(H, N, zoh, gap, m->dt, m->are, m->aim, m->W,
				   m->W + HN, m->zmax, a, a + HN, a + 2 * HN,
				   a + 3 * HN, scratch);
	int rb = base_s4d_disc_f32(H, N, zoh, gap, m->dt, m->are, m->aim, m->W,
				   m->W + HN, m->zmax, b, b + HN, b + 2 * HN,
				   b + 3 * HN, scratch);
	return ra || rb ? -1 : 0;
}

/* ZOH and bilinear at gaps from 1e-3 to 2000 (dt A from 1e-7 to beyond
 * the underflow of exp, dt A_im up to 3e5): within 6 x 2^-24, and the
 * same bits from both builds. */
static void test_accuracy(void)
{
	static const double gaps[] = {1e-3, 0.1,   0.5,	  1.0,	 1.5,
				      2.5,  3.999, 17.25, 123.4, 1000.5};
	modes *m = malloc(sizeof(*m));
	float *a = malloc(sizeof(float) * 8 * HN), *b = a + 4 * HN;
	float *scratch = malloc(sizeof(float) * 4 * HN);
	double worst[2] = {0, 0};
	int same = 1, ok = 1, rep, zoh;
	size_t g;
	ssm_rng r;

	ssm_rng_init(&r, 11);
	for (rep = 0; rep < 4; rep++) {
		make_modes(m, &r);
		for (zoh = 0; zoh < 2; zoh++)
			for (g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
				double e;

				ok &= run(m, zoh, gaps[g], a, b, scratch) == 0;
				same &= !memcmp(a, b, sizeof(float) * 4 * HN);
				e = worst_err(m, zoh, gaps[g], a);
				if (e > worst[zoh])
					worst[zoh] = e;
			}
	}
	CHECK(ok);
	CHECK(same);
	printf("# worst error, units of 2^-24 |ref|: bilinear %.2f, ZOH "
	       "%.2f\n",
	       worst[0], worst[1]);
	CHECK(worst[0] <= 6.0);
	CHECK(worst[1] <= 6.0);
	free(m);
	free(a);
	free(scratch);
}

/* Out of range (gap <= 0, NaN, Inf, gap zmax > SSM__S4D_DISC_MAX): -1 and
 * nothing written; just inside: 0. */
static void test_range(void)
{
	modes *m = malloc(sizeof(*m));
	float *a = malloc(sizeof(float) * 8 * HN), *b = a + 4 * HN;
	float *scratch = malloc(sizeof(float) * 4 * HN);
	double bad[] = {0.0, -1.0, NAN, INFINITY, 0};
	size_t k;
	ssm_rng r;

	ssm_rng_init(&r, 12);
	make_modes(m, &r);
	bad[4] = SSM__S4D_DISC_MAX / m->zmax * 1.001;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memset(a, 0x7f, sizeof(float) * 8 * HN);
		CHECK(run(m, 1, bad[k], a, b, scratch) == -1);
		CHECK(a[0] == a[4 * HN - 1] && b[0] == a[0]);
		memset(a, 0, sizeof(float));
	}
	CHECK(run(m, 1, SSM__S4D_DISC_MAX / m->zmax * 0.999, a, b, scratch) ==
	      0);
	CHECK(!memcmp(a, b, sizeof(float) * 4 * HN));
	free(m);
	free(a);
	free(scratch);
}

/* Through the layer: a float step at gap 2.5 (this path) against the
 * double twin's (libm) on the same parameters, from the same state. */
static void test_layer(void)
{
	ssm_s4d_cfg cfg = {32, 16, SSM_S4D_LIN, SSM_DISC_ZOH, 1e-3, 1e-1};
	ssm_s4d l;
	ssm_s4d64 d;
	ssm_rng r;
	size_t S = ssm_s4d_state_size(&cfg), i, np;
	float *s = calloc(S, sizeof(float)), u[32], y[32];
	double *sd = calloc(S, sizeof(double)), ud[32], yd[32];
	void *ws = malloc(ssm_s4d_workspace_bytes(&cfg, 1));
	void *wsd = malloc(ssm_s4d64_workspace_bytes(&cfg, 1));
	double err = 0, rms = 0;
	int t, h, kind;

	for (kind = 0; kind < 2; kind++) {
		cfg.disc = kind ? SSM_DISC_BILINEAR : SSM_DISC_ZOH;
		ssm_rng_init(&r, 13);
		CHECK(ssm_s4d_init(&l, &cfg, &r) == 0);
		ssm_rng_init(&r, 13);
		CHECK(ssm_s4d64_init(&d, &cfg, &r) == 0);
		np = ssm_s4d_nparams(&cfg);
		for (i = 0; i < np; i++)
			d.params[i] = (double)l.params[i];
		CHECK(ssm_s4d64_prepare(&d) == 0);
		memset(s, 0, S * sizeof(float));
		memset(sd, 0, S * sizeof(double));
		for (t = 0; t < 200; t++) {
			double gap = 0.25 + 0.37 * (t % 9);

			for (h = 0; h < 32; h++) {
				u[h] = (float)ssm_rng_normal(&r);
				ud[h] = (double)u[h];
			}
			ssm_s4d_step(&l, s, gap, u, y, ws);
			ssm_s4d64_step(&d, sd, gap, ud, yd, wsd);
			for (h = 0; h < 32; h++) {
				err = fmax(err, fabs((double)y[h] - yd[h]));
				rms += yd[h] * yd[h];
			}
		}
		ssm_s4d_release(&l);
		ssm_s4d64_release(&d);
	}
	rms = sqrt(rms / (2 * 200 * 32));
	printf("# layer at irregular gaps: max |y - y64| = %.3g, rms %.3g\n",
	       err, rms);
	CHECK(err <= 1e-4 * rms);
	free(s);
	free(sd);
	free(ws);
	free(wsd);
}

int main(void)
{
	TH_RUN(test_accuracy);
	TH_RUN(test_range);
	TH_RUN(test_layer);
	return th_summary();
}
