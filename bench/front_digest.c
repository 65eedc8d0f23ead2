/*
 * bench/front_digest.c: a digest of everything the smoothing front
 * (ssm/smooth.h) computes, to show that a faster front computes the same
 * bits: for every case (period x horizon x series kind x options), an FNV-1a
 * hash over each step's return code, point forecasts, quantiles and scale,
 * and over the state block every 50 steps and at the end; and, for trees
 * whose bits differ at rounding level, how good the forecasts are (mean
 * |error| / scale over every horizon, 80% interval coverage). One line per
 * case: "period H kind opts hash mean_scaled_error coverage".
 * `front_digest outputs` leaves the state block out of the hash: the
 * comparison for two trees whose state layouts differ (the outputs must
 * still be the same bits).
 *
 * Uses only the public ssm/smooth.h, so bench/front_speed.sh builds the
 * same source against an older tree and compares the lines. Series kinds:
 * seasonal with trend, random walk, a counter near 1e12, a constant, a
 * seasonal one with missing values, gaps and an outage longer than the
 * ring, and a positive one that turns negative now and then; options: the
 * defaults, the ablation rules (best, softmin, top-6, unpooled equal) and
 * four members switched off.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/rng.h"
#include "ssm/smooth.h"

static uint64_t fnv = 1469598103934665603ull;

static void mix(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++) {
		fnv ^= c[i];
		fnv *= 1099511628211ull;
	}
}

static void opts_of(int o, ssm_smooth_opts *op)
{
	ssm_smooth_opts_default(op);
	if (o == 1)
		op->comb = SSM_SMOOTH_COMB_BEST;
	if (o == 2)
		op->comb = SSM_SMOOTH_COMB_SOFTMIN;
	if (o == 3)
		op->top_n = 6;
	if (o == 4) {
		op->pool = 0;
		op->comb = SSM_SMOOTH_COMB_EQUAL;
	}
	/* Members switched off (statecast eval's ablations): ses.3, theta.2,
	 * ar.diff and hw.level, never seeded, whose slots the update
	 * leaves alone. */
	if (o == 5)
		op->member_off = 1u << 3 | 1u << 8 | 1u << 10 | 1u << 14;
}

/* Sample i of series kind ty (period P); *gap, *miss as the update takes. */
static double sample(int ty, int i, int P, ssm_rng *r, double *lvl,
		     int64_t *gap, int *miss)
{
	int cyc = P > 1 ? P : 24;
	double y;

	*gap = 1;
	*miss = 0;
	switch (ty) {
	case 0:
		return 100 + 10 * sin(2 * M_PI * i / cyc) + 0.01 * i +
		       ssm_rng_normal(r);
	case 1:
		*lvl += ssm_rng_normal(r);
		return *lvl;
	case 2:
		return 1e12 + 1000.0 * i + ssm_rng_normal(r);
	case 3:
		return 5;
	case 4:
		*miss = i % 17 == 3;
		*gap = i == 400 ? 300 : i % 53 == 5 ? 3 : 1;
		return 50 + 20 * sin(2 * M_PI * i / cyc) +
		       3 * ssm_rng_normal(r);
	default:
		y = exp(2 + sin(2 * M_PI * i / cyc) + 0.3 * ssm_rng_normal(r));
		return i % 29 == 0 ? -0.01 * y : y;
	}
}

/*
 * How good the case's forecasts are, so that two trees whose bits differ at
 * rounding level can be compared: every point forecast and 80% interval
 * (0.1 and 0.9 quantiles) made at sample i for horizon h is scored against
 * the sample observed h steps later (gaps counted, missing ones skipped):
 * mean |error| / scale (the scale the forecast returned) and the fraction
 * inside the interval, from sample WARM on (before it the scale is still
 * settling and a few errors in 1e-9 units would swamp the mean).
 */
#define NS	700
#define WARM	100 /* forecasts scored from this sample on */
#define MAXSTEP (NS * 400)

typedef struct score {
	double err, nerr, in, nin;
} score;

static void score_forecast(score *sc, const int32_t *obs_at, const double *ys,
			   int64_t t, int H, const double *p, const double *q,
			   int Q, double scale)
{
	int h;

	for (h = 1; h <= H; h++) {
		int j;

		if (t + h >= MAXSTEP || (j = obs_at[t + h]) < 0)
			continue;
		if (isfinite(p[h - 1]) && scale > 0) {
			sc->err += fabs(ys[j] - p[h - 1]) / scale;
			sc->nerr++;
		}
		if (Q == 3) {
			sc->in += ys[j] >= q[(h - 1) * 3] &&
				  ys[j] <= q[(h - 1) * 3 + 2];
			sc->nin++;
		}
	}
}

int main(int argc, char **argv)
{
	static const int periods[] = {1, 7, 12, 24, 48}, Hs[] = {48, 5, 1, 100};
	static const float lv[3] = {0.1f, 0.5f, 0.9f};
	static double p[NS][SSM_SMOOTH_MAX_H], q[NS][3 * SSM_SMOOTH_MAX_H];
	static double ys[NS], scs[NS];
	static int32_t obs_at[MAXSTEP];
	static int64_t ts[NS];
	static int qs[NS];
	int ip, ih, ty, o, i;
	int with_state = !(argc > 1 && strcmp(argv[1], "outputs") == 0);

	for (ip = 0; ip < 5; ip++)
		for (ih = 0; ih < 4; ih++)
			for (ty = 0; ty < 6; ty++)
				for (o = 0; o < 6; o++) {
					int P = periods[ip], H = Hs[ih];
					size_t nf =
					    ssm_smooth_state_floats(P, H);
					float *st = calloc(nf, sizeof *st);
					ssm_smooth_opts op;
					double lvl = 0;
					int64_t t = -1;
					score sc = {0, 0, 0, 0};
					ssm_rng r;

					if (!st)
						return 1;
					opts_of(o, &op);
					ssm_smooth_init(st, P, H, &op);
					ssm_rng_init(&r,
						     (uint64_t)(ip * 100 +
								ih * 10 + ty));
					fnv = 1469598103934665603ull;
					for (i = 0; i < MAXSTEP; i++)
						obs_at[i] = -1;
					for (i = 0; i < NS; i++) {
						int64_t gap;
						int miss, Q = i % 5 ? 3 : 0, rc;
						double y =
						    sample(ty, i, P, &r, &lvl,
							   &gap, &miss);

						t += i ? gap : 1;
						ts[i] = t;
						ys[i] = y;
						qs[i] = Q;
						if (!miss && isfinite(y) &&
						    t < MAXSTEP)
							obs_at[t] = i;
						ssm_smooth_update(st, y, gap,
								  miss);
						rc = ssm_smooth_forecast(
						    st, p[i], lv, Q, q[i],
						    &scs[i]);
						mix(&rc, sizeof rc);
						mix(p[i],
						    sizeof(double) * (size_t)H);
						mix(q[i], sizeof(double) *
							      (size_t)(H * Q));
						mix(&scs[i], sizeof scs[i]);
						if (with_state && i % 50 == 0)
							mix(st,
							    nf * sizeof *st);
					}
					if (with_state)
						mix(st, nf * sizeof *st);
					for (i = WARM; i < NS; i++)
						score_forecast(
						    &sc, obs_at, ys, ts[i], H,
						    p[i], q[i], qs[i], scs[i]);
					printf("%d %d %d %d %016llx %.6g "
					       "%.6g\n",
					       P, H, ty, o,
					       (unsigned long long)fnv,
					       sc.nerr ? sc.err / sc.nerr : 0,
					       sc.nin ? sc.in / sc.nin : 0);
					free(st);
				}
	return 0;
}
