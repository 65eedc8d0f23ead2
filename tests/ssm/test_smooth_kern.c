/*
 * tests/ssm/test_smooth_kern.c: the forecaster bank's loops over horizons
 * (ssm/smooth_kern.c) give the same bits as the per-horizon scalar code they
 * replaced (written out here as naive twins), in the library's build (AVX2
 * where the CPU has it) and in a baseline build of the same file compiled
 * here without clones, on lengths that cover the vector bodies and tails,
 * with NaN, infinities and zeros among the inputs. The log-scale members'
 * exp (ssm__smooth_exp), which is not libm's, is held to the same bits on
 * both builds and to its error bound against long double expl.
 */
#define SSM_NO_CLONES
#define ssm__smooth_clamp	 base_smooth_clamp
#define ssm__smooth_comb_add	 base_smooth_comb_add
#define ssm__smooth_comb_norm	 base_smooth_comb_norm
#define ssm__smooth_exp		 base_smooth_exp
#define ssm__smooth_ar_lanes	 base_smooth_ar_lanes
#define ssm__smooth_score_row	 base_smooth_score_row
#define ssm__smooth_pr_row	 base_smooth_pr_row
#define ssm__smooth_comb_member	 base_smooth_comb_member
#define ssm__smooth_le_mask	 base_smooth_le_mask
#define ssm__smooth_bounds_clip	 base_smooth_bounds_clip
#define ssm__smooth_bounds_cap	 base_smooth_bounds_cap
#define ssm__smooth_bf16_rel_vec base_smooth_bf16_rel_vec
#include "ssm/smooth_kern.c"
#undef ssm__smooth_clamp
#undef ssm__smooth_comb_add
#undef ssm__smooth_comb_norm
#undef ssm__smooth_exp
#undef ssm__smooth_ar_lanes
#undef ssm__smooth_score_row
#undef ssm__smooth_pr_row
#undef ssm__smooth_comb_member
#undef ssm__smooth_le_mask
#undef ssm__smooth_bounds_clip
#undef ssm__smooth_bounds_cap
#undef ssm__smooth_bf16_rel_vec

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ssm/rng.h"
#include "tests/harness.h"

/* ssm/smooth_kern.h once more, now declaring the real names. */
#undef STATECAST_SSM_SMOOTH_KERN_H
#include "ssm/smooth_kern.h"

#define N 67

/* A value with the occasional special: NaN, +-Inf, +-0, huge. */
static double val(ssm_rng *r, double scale)
{
	double v = ssm_rng_uniform(r);

	if (v < 0.03)
		return NAN;
	if (v < 0.05)
		return v < 0.04 ? INFINITY : -INFINITY;
	if (v < 0.07)
		return v < 0.06 ? 0.0 : -0.0;
	if (v < 0.08)
		return 1e300;
	return scale * (2 * ssm_rng_uniform(r) - 1);
}

static int same(const double *a, const double *b, int n)
{
	return memcmp(a, b, sizeof(double) * (size_t)n) == 0;
}

/* The sanity clamp as ssm__smooth_member_at had it. */
static void naive_clamp(double *out, const int32_t *hz, int n, double last,
			double c)
{
	int i;

	for (i = 0; i < n; i++) {
		double b = c * hz[i];

		if (!(out[i] <= last + b))
			out[i] = last + b;
		if (out[i] < last - b)
			out[i] = last - b;
	}
}

static void test_clamp(void)
{
	double x[N], a[N], b[N], c[N];
	int32_t hz[N];
	ssm_rng r;
	int n, i, rep, ok = 1;

	ssm_rng_init(&r, 11);
	for (rep = 0; rep < 50; rep++)
		for (n = 0; n <= N; n++) {
			double last = rep % 7 ? 100 * ssm_rng_normal(&r) : 0;
			double cc = rep % 5 ? 3 * ssm_rng_uniform(&r) : 0;

			for (i = 0; i < n; i++) {
				x[i] = last + val(&r, 400);
				hz[i] = i % 3 ? i + 1 : 3 * i + 1;
			}
			memcpy(a, x, sizeof x);
			memcpy(b, x, sizeof x);
			memcpy(c, x, sizeof x);
			naive_clamp(a, hz, n, last, cc);
			ssm__smooth_clamp(b, hz, n, last, cc);
			base_smooth_clamp(c, hz, n, last, cc);
			ok &= same(a, b, n) && same(a, c, n);
		}
	CHECK(ok);
}

/* The combination as ssm_smooth_forecast had it, one member, one segment
 * (its next checkpoint's weight wb, 0 past the last). */
static void naive_comb(double *point, double *wsum, const double *path,
		       const double *u, int n, double wa, double wb)
{
	int i;

	for (i = 0; i < n; i++) {
		double w = wa * (1 - u[i]) + (u[i] > 0 ? wb * u[i] : 0);

		point[i] += w * path[i];
		wsum[i] += w;
	}
}

/* Three copies of x[N]: the naive twin's, the kernel's, the baseline's. */
static void copy3(double *a, double *b, double *c, const double *x)
{
	memcpy(a, x, sizeof(double) * N);
	memcpy(b, x, sizeof(double) * N);
	memcpy(c, x, sizeof(double) * N);
}

static void test_comb(void)
{
	double p0[N], w0[N], path[N], u[N];
	double pa[N], wa_[N], pb[N], wb_[N], pc[N], wc[N];
	ssm_rng r;
	int n, i, rep, ok = 1;

	ssm_rng_init(&r, 12);
	for (rep = 0; rep < 50; rep++)
		for (n = 0; n <= N; n++) {
			double wa = rep % 9 ? ssm_rng_uniform(&r) : 0;
			double wb = rep % 4 ? ssm_rng_uniform(&r) : 0;

			for (i = 0; i < n; i++) {
				p0[i] = 10 * ssm_rng_normal(&r);
				w0[i] = ssm_rng_uniform(&r);
				path[i] = val(&r, 1000);
				u[i] = i % 4 == 0 ? 0 : (double)i / (n + 1);
			}
			copy3(pa, pb, pc, p0);
			copy3(wa_, wb_, wc, w0);
			naive_comb(pa, wa_, path, u, n, wa, wb);
			ssm__smooth_comb_add(pb, wb_, path, u, n, wa, wb);
			base_smooth_comb_add(pc, wc, path, u, n, wa, wb);
			ok &= same(pa, pb, n) && same(pa, pc, n) &&
			      same(wa_, wb_, n) && same(wa_, wc, n);
			for (i = 0; i < n; i++)
				pa[i] = wa_[i] > 0 ? pa[i] / wa_[i] : -1.5;
			ssm__smooth_comb_norm(pb, wb_, n, -1.5);
			base_smooth_comb_norm(pc, wc, n, -1.5);
			ok &= same(pa, pb, n) && same(pa, pc, n);
		}
	CHECK(ok);
}

/* ssm__smooth_comb_member against naive_comb segment by segment, for
 * random checkpoint segments and member ranges. */
static void test_comb_member(void)
{
	double p0[N], w0[N], path[N], gu[N], wcol[5];
	double pa[N], wa_[N], pb[N], wb_[N], pc[N], wc[N];
	int32_t sb[6];
	ssm_rng r;
	int H, G, g, i, h0, h1, rep, ok = 1;

	ssm_rng_init(&r, 13);
	for (rep = 0; rep < 2000; rep++) {
		H = 1 + (int)(ssm_rng_uniform(&r) * (N - 1));
		G = 1 + (int)(ssm_rng_uniform(&r) * 5);
		G = G > H ? H : G;
		sb[0] = 1;
		for (g = 1; g < G; g++) /* increasing, inside 2..H */
			sb[g] = sb[g - 1] + 1 +
				(int)(ssm_rng_uniform(&r) *
				      (H - sb[g - 1] - (G - g)));
		sb[G] = H + 1;
		h0 = 1 + (int)(ssm_rng_uniform(&r) * H);
		h1 = h0 + (int)(ssm_rng_uniform(&r) * (H - h0 + 1));
		for (g = 0; g < G; g++)
			wcol[g] = rep % 7 == g ? 0 : ssm_rng_uniform(&r);
		for (i = 0; i < H; i++) {
			p0[i] = 10 * ssm_rng_normal(&r);
			w0[i] = ssm_rng_uniform(&r);
			path[i] = val(&r, 1000);
			gu[i] = i % 4 == 0 ? 0 : ssm_rng_uniform(&r);
		}
		copy3(pa, pb, pc, p0);
		copy3(wa_, wb_, wc, w0);
		for (g = 0; g < G; g++) {
			int lo = sb[g] > h0 ? sb[g] : h0;
			int hi = sb[g + 1] - 1 < h1 ? sb[g + 1] - 1 : h1;

			if (lo <= hi)
				naive_comb(pa + lo - 1, wa_ + lo - 1,
					   path + lo - h0, gu + lo - 1,
					   hi - lo + 1, wcol[g],
					   g + 1 < G ? wcol[g + 1] : 0);
		}
		ssm__smooth_comb_member(pb, wb_, path, gu, sb, G, h0, h1, wcol);
		base_smooth_comb_member(pc, wc, path, gu, sb, G, h0, h1, wcol);
		ok &= same(pa, pb, H) && same(pa, pc, H) && same(wa_, wb_, H) &&
		      same(wa_, wc, H);
	}
	CHECK(ok);
}

/*
 * ssm__smooth_exp against expl: out[i] within EXP_TOL of |e^x - e^c| (c =
 * the first horizon's x) plus 4 double ulps of e^x, for paths in the ranges
 * the log-scale members see (a level anywhere in [-700, 700], horizons
 * spread over seasonal and trend offsets up to 100, beyond which libm takes
 * over), the cap at 700 and NaN; the same bits in the clone and the
 * baseline build. Also reported: the worst relative error of e^x itself
 * where |x - c| <= 1 (far below e^c it grows like e^(c - x) 2^-24).
 */
#define EXP_TOL 4e-7

static void test_exp(void)
{
	double x[N], a[N], b[N];
	ssm_rng r;
	int n, i, rep, ok = 1, okb = 1;
	long double worst = 0, worst_rel = 0;

	ssm_rng_init(&r, 13);
	for (rep = 0; rep < 400; rep++)
		for (n = 1; n <= N; n += 1 + rep % 5) {
			double l = rep % 3 ? 20 * ssm_rng_normal(&r)
					   : 1400 * ssm_rng_uniform(&r) - 700;
			double spread = rep % 4 == 0   ? 1e-6
					: rep % 4 == 1 ? 0.3
					: rep % 4 == 2 ? 5
						       : 100;

			for (i = 0; i < n; i++)
				x[i] =
				    l + spread * (2 * ssm_rng_uniform(&r) - 1);
			if (rep % 17 == 3)
				x[n / 2] = NAN;
			if (rep % 19 == 4)
				x[n - 1] = 800;
			ssm__smooth_exp(a, x, n, 700);
			base_smooth_exp(b, x, n, 700);
			okb &= same(a, b, n);
			for (i = 0; i < n; i++) {
				long double xi = x[i] > 700 ? 700 : x[i];
				long double c = x[0] > 700 ? 700 : x[0];
				long double e = expl(xi), d = e - expl(c);
				long double err = fabsl((long double)a[i] - e);
				/* (and a subnormal ulp: libm's e^c) */
				long double tol = EXP_TOL * fabsl(d) +
						  4 * 0x1p-52L * e + 0x1p-1074L;

				if (isnan(x[i])) {
					ok &= isnan(a[i]);
					continue;
				}
				ok &= err <= tol;
				if (e < 0x1p-1022L) /* past double's normals */
					continue;
				if (fabsl(d) > 1e-9L * e &&
				    err / fabsl(d) > worst)
					worst = err / fabsl(d);
				if (fabsl(xi - c) <= 1 && err / e > worst_rel)
					worst_rel = err / e;
			}
		}
	printf("ssm__smooth_exp: worst error %.3Lg of |e^x - e^c|, %.3Lg of "
	       "e^x\n",
	       worst, worst_rel);
	CHECK(ok);
	CHECK(okb);
}

/* One member's AR recursion as ssm/smooth_members.c's ar_path had it
 * (the newest lag added last), lane by lane against ssm__smooth_ar_lanes,
 * with clamped steps, NaN coefficients and empty lanes among them. */
static void naive_ar(double *out, int H, const double *t, double z1, double z2,
		     double z3, double clamp)
{
	int i;

	for (i = 0; i < H; i++) {
		double zn = (t[0] + t[3] * z3 + t[2] * z2) + t[1] * z1;

		if (zn > clamp)
			zn = clamp;
		if (zn < -clamp)
			zn = -clamp;
		z3 = z2;
		z2 = z1;
		z1 = zn;
		out[i] = zn;
	}
}

static void test_ar_lanes(void)
{
	enum { L = SSM__AR_LANES, HM = 70 };
	double coef[4 * L], zh[3 * L], a[HM * L], b[HM * L], one[HM];
	ssm_rng r;
	int H, l, j, i, rep, ok = 1, okb = 1;

	ssm_rng_init(&r, 14);
	for (rep = 0; rep < 200; rep++) {
		H = rep % HM;
		for (l = 0; l < L; l++) {
			/* Stable, explosive (hits the clamp) or empty. */
			double amp = rep % 5 == 0 ? 1.5 : 0.45;

			for (j = 0; j < 4; j++)
				coef[j * L + l] =
				    l == rep % L && rep % 3 == 0
					? 0
					: amp * (2 * ssm_rng_uniform(&r) - 1);
			for (j = 0; j < 3; j++)
				zh[j * L + l] = 3 * ssm_rng_normal(&r);
		}
		if (rep % 23 == 5)
			coef[2 * L + 1] = NAN;
		ssm__smooth_ar_lanes(a, H, coef, zh, 20);
		base_smooth_ar_lanes(b, H, coef, zh, 20);
		okb &= same(a, b, H * L);
		for (l = 0; l < L; l++) {
			double t[4];

			for (j = 0; j < 4; j++)
				t[j] = coef[j * L + l];
			naive_ar(one, H, t, zh[l], zh[L + l], zh[2 * L + l],
				 20);
			for (i = 0; i < H; i++)
				ok &= memcmp(&one[i], &a[i * L + l],
					     sizeof one[i]) == 0;
		}
	}
	CHECK(ok);
	CHECK(okb);
}

/* Equal bits, or both NaN: which NaN operand's payload a product keeps
 * is the compiler's choice of operand order, not the kernel's. Doubles
 * (dbl) or floats. */
static int same_or_nan(const void *a, const void *b, int n, int dbl)
{
	size_t sz = dbl ? sizeof(double) : sizeof(float);
	const unsigned char *pa = a, *pb = b;
	int i;

	for (i = 0; i < n; i++) {
		double x = dbl ? ((const double *)a)[i] : ((const float *)a)[i];
		double y = dbl ? ((const double *)b)[i] : ((const float *)b)[i];

		if (!(isnan(x) && isnan(y)) &&
		    memcmp(pa + sz * (size_t)i, pb + sz * (size_t)i, sz) != 0)
			return 0;
	}
	return 1;
}

/* The scoring of one checkpoint as ssm/smooth.c's score had it, member by
 * member (the pending forecast a bfloat16 in a float block). */
static uint32_t naive_score(float *es, const uint16_t *pend, int n,
			    uint32_t act, double y, double yorg, double isc,
			    double lam)
{
	uint32_t hit = 0;
	int k;

	for (k = 0; k < n; k++) {
		uint32_t u = (uint32_t)pend[k] << 16;
		float fl;
		double f, e;

		if (!((act >> k) & 1))
			continue;
		memcpy(&fl, &u, sizeof fl);
		f = fl;
		if (isnan(f))
			continue;
		e = fabs(y - (yorg + f)) * isc;
		es[k] = (float)(lam * es[k] + e);
		hit |= 1u << k;
	}
	return hit;
}

static void test_score_row(void)
{
	float e0[32], ea[32], eb[32], ec[32];
	uint16_t pend[32];
	ssm_rng r;
	int n, k, rep, ok = 1;

	ssm_rng_init(&r, 23);
	for (rep = 0; rep < 200; rep++)
		for (n = 0; n <= 32; n++) {
			uint32_t act = (uint32_t)(ssm_rng_uniform(&r) * 4e9);
			double y = val(&r, 100),
			       yorg = 100 * ssm_rng_normal(&r);
			double isc = rep % 9 ? 1 / (0.1 + ssm_rng_uniform(&r))
					     : INFINITY;
			double lam = 0.98 * ssm_rng_uniform(&r);
			uint32_t ha, hb, hc;

			for (k = 0; k < n; k++) {
				float f = (float)val(&r, 50);
				uint32_t u;

				memcpy(&u, &f, sizeof u);
				pend[k] = (uint16_t)(u >> 16);
				if (k % 11 == 5)
					pend[k] = 0x7fc0; /* no forecast */
				e0[k] = (float)fabs(val(&r, 3));
			}
			memcpy(ea, e0, sizeof e0);
			memcpy(eb, e0, sizeof e0);
			memcpy(ec, e0, sizeof e0);
			ha = naive_score(ea, pend, n, act, y, yorg, isc, lam);
			hb = ssm__smooth_score_row(eb, pend, n, act, y, yorg,
						   isc, lam);
			hc = base_smooth_score_row(ec, pend, n, act, y, yorg,
						   isc, lam);
			ok &= ha == hb && ha == hc &&
			      same_or_nan(ea, eb, n, 0) &&
			      same_or_nan(ea, ec, n, 0);
		}
	CHECK(ok);
}

/* The pooled products as weights_all had them, over a list of members. */
static void naive_pr(double *pr, const float *es, const double *iew, int n,
		     uint32_t mask, int reset)
{
	int k;

	for (k = 0; k < n; k++) {
		if (!((mask >> k) & 1))
			continue;
		if (reset)
			pr[k] = 1;
		pr[k] *= (double)es[k] * iew[k] + 1e-12;
	}
}

/* ssm__smooth_le_mask: bit k = x[k] <= t, nan bit k = x[k] is NaN, with
 * ties, NaN, infinities and signed zeros among the keys and as t. */
static void test_le_mask(void)
{
	double x[32], t;
	ssm_rng r;
	int n, k, rep, ok = 1;

	ssm_rng_init(&r, 31);
	for (rep = 0; rep < 200; rep++)
		for (n = 0; n <= 32; n++) {
			uint32_t c0 = 0, n0 = 0, ca, na, cb, nb;

			for (k = 0; k < n; k++)
				x[k] = k > 0 && rep % 5 == 0 ? x[k - 1]
							     : val(&r, 10);
			t = rep % 7 == 0 ? val(&r, 10) : n ? x[rep % n] : 0.0;
			for (k = 0; k < n; k++) {
				c0 |= (uint32_t)(x[k] <= t) << k;
				n0 |= (uint32_t)isnan(x[k]) << k;
			}
			ca = ssm__smooth_le_mask(x, n, t, &na);
			cb = base_smooth_le_mask(x, n, t, &nb);
			ok &= ca == c0 && cb == c0 && na == n0 && nb == n0;
		}
	CHECK(ok);
}

static void test_pr_row(void)
{
	double p0[32], pa[32], pb[32], pc[32], iew[32];
	float es[32];
	ssm_rng r;
	int n, k, rep, ok = 1;

	ssm_rng_init(&r, 29);
	for (rep = 0; rep < 200; rep++)
		for (n = 0; n <= 32; n++) {
			uint32_t mask = (uint32_t)(ssm_rng_uniform(&r) * 4e9);
			uint32_t sel0 = (uint32_t)(ssm_rng_uniform(&r) * 4e9);
			int reset = rep % 3 == 0;
			double iew0 = rep % 4 ? ssm_rng_uniform(&r) : 0;
			double iew1 = rep % 5 ? ssm_rng_uniform(&r) : 0;

			for (k = 0; k < n; k++) {
				p0[k] = fabs(val(&r, 10));
				es[k] = (float)fabs(val(&r, 5));
				iew[k] = (sel0 >> k) & 1 ? iew0 : iew1;
			}
			memcpy(pa, p0, sizeof p0);
			memcpy(pb, p0, sizeof p0);
			memcpy(pc, p0, sizeof p0);
			naive_pr(pa, es, iew, n, mask, reset);
			ssm__smooth_pr_row(pb, es, iew0, iew1, sel0, n, mask,
					   reset);
			base_smooth_pr_row(pc, es, iew0, iew1, sel0, n, mask,
					   reset);
			ok &= same_or_nan(pa, pb, n, 1) &&
			      same_or_nan(pa, pc, n, 1);
		}
	CHECK(ok);
}

/* The clip of the interval's half-widths as ssm_smooth_forecast's loop
 * had it. */
static int naive_bounds_clip(double *lo, double *hi, int n, double cap)
{
	int i, over = 0;

	for (i = 0; i < n; i++) {
		double l = lo[i], u = hi[i];

		l = l > 0 ? 0 : l;
		u = u < 0 ? 0 : u;
		over |= !(u <= cap) | !(l >= -cap);
		lo[i] = l;
		hi[i] = u;
	}
	return over;
}

static void test_bounds_clip(void)
{
	double l0[N] = {0}, h0[N] = {0}, la[N], ha[N], lb[N], hb[N], lc[N],
	       hc[N];
	ssm_rng r;
	int n, i, rep, oa, ob, oc, ok = 1, overs = 0;

	ssm_rng_init(&r, 17);
	for (rep = 0; rep < 50; rep++)
		for (n = 0; n <= N; n++) {
			/* Mostly finite and inside the cap (no flag), now and
			 * then a special: the flag must see it in any lane. */
			double sc = rep % 3 ? 1 : 1e301;

			for (i = 0; i < n; i++) {
				l0[i] = rep % 2 ? val(&r, sc)
						: -sc * ssm_rng_uniform(&r);
				h0[i] = rep % 2 ? val(&r, sc)
						: sc * ssm_rng_uniform(&r);
			}
			copy3(la, lb, lc, l0);
			copy3(ha, hb, hc, h0);
			oa = naive_bounds_clip(la, ha, n, 16.0);
			ob = ssm__smooth_bounds_clip(lb, hb, n, 16.0);
			oc = base_smooth_bounds_clip(lc, hc, n, 16.0);
			overs += oa;
			ok &= oa == ob && oa == oc && same(la, lb, n) &&
			      same(la, lc, n) && same(ha, hb, n) &&
			      same(ha, hc, n);
		}
	CHECK(ok);
	CHECK(overs > 0 && overs < 50 * (N + 1)); /* both outcomes seen */
}

/* The forecast's per-horizon cap as the scalar code had it before
 * ssm/smooth_bound.h (ssm/smooth_forecast.c's bound_cap, run on every
 * horizon when bounds_clip flagged one): the square root only where a
 * bound is past the cap or NaN. */
static void naive_bounds_cap(double *lo, double *hi, int n, double cap)
{
	int hz;

	for (hz = 1; hz <= n; hz++) {
		double l = lo[hz - 1], u = hi[hz - 1], sq;

		if (!(u <= cap) || !(l >= -cap)) {
			sq = sqrt((double)hz);
			hi[hz - 1] = u > cap * sq ? cap * sq : u;
			lo[hz - 1] = l < -cap * sq ? -cap * sq : l;
		}
	}
}

/* ssm__smooth_bounds_cap on both builds against it: bounds inside the cap,
 * between cap and cap sqrt(hz) (kept), past it (capped), NaN and the
 * infinities, at every length (the vector body and tail, the table of
 * square roots grown call by call). */
static void test_bounds_cap(void)
{
	double l0[N], h0[N], la[N], ha[N], lb[N], hb[N], lc[N], hc[N];
	ssm_rng r;
	int n, i, rep, ok = 1, capped = 0, kept = 0;

	ssm_rng_init(&r, 23);
	for (rep = 0; rep < 40; rep++)
		for (n = 0; n <= N; n++) {
			for (i = 0; i < n; i++) {
				double s = 16.0 * sqrt(i + 1.0);

				l0[i] = rep % 2 ? -val(&r, 2 * s)
						: -2 * s * ssm_rng_uniform(&r);
				h0[i] = rep % 2 ? val(&r, 2 * s)
						: 2 * s * ssm_rng_uniform(&r);
			}
			copy3(la, lb, lc, l0);
			copy3(ha, hb, hc, h0);
			naive_bounds_cap(la, ha, n, 16.0);
			ssm__smooth_bounds_cap(lb, hb, n, 16.0);
			base_smooth_bounds_cap(lc, hc, n, 16.0);
			for (i = 0; i < n; i++) {
				capped += ha[i] != h0[i] && !isnan(h0[i]);
				kept += h0[i] > 16.0 && ha[i] == h0[i];
			}
			ok &= same(la, lb, n) && same(la, lc, n) &&
			      same(ha, hb, n) && same(ha, hc, n);
		}
	CHECK(ok);
	CHECK(capped > 0 && kept > 0); /* both cases seen */
}

/* A pending forecast's bfloat16 bits as ssm__pend_put had them before
 * ssm__bf16: NaN the quiet NaN, else rounded to nearest even. */
static uint16_t naive_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	if (f != f)
		return 0x7fc0;
	return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* ssm__smooth_bf16_rel_vec on both builds, and ssm__smooth_bf16_rel (its
 * scalar loop below eight values, the baseline kernel from eight) against
 * it at every length: NaN, the infinities, +-0, values past float's range,
 * and floats whose low half is exactly halfway (ties, to even either
 * way) among them. */
static void test_bf16_rel(void)
{
	double x[N];
	uint32_t a[N], b[N], c[N], d[N];
	ssm_rng r;
	int n, i, rep, errs = 0, ties = 0, nans = 0;

	ssm_rng_init(&r, 29);
	for (rep = 0; rep < 40; rep++)
		for (n = 0; n <= N; n++) {
			double last = rep % 3 == 0   ? 0.0
				      : rep % 3 == 1 ? 1e12
						     : 50 * ssm_rng_normal(&r);

			for (i = 0; i < n; i++) {
				uint32_t u = (uint32_t)(ssm_rng_uniform(&r) *
							4294967296.0);
				float t;

				u = (u & 0x7f7f0000u) | 0x8000u;
				memcpy(&t, &u, sizeof t);
				/* A tie is one only where last is 0. */
				x[i] = i % 5 == 2 ? (double)t
						  : last + val(&r, 400);
			}
			for (i = 0; i < n; i++) {
				a[i] = naive_bf16((float)(x[i] - last));
				ties += last == 0.0 && i % 5 == 2;
				nans += a[i] == 0x7fc0;
			}
			ssm__smooth_bf16_rel_vec(b, x, n, last);
			base_smooth_bf16_rel_vec(c, x, n, last);
			ssm__smooth_bf16_rel(d, x, n, last);
			errs += memcmp(a, b, sizeof *a * (size_t)n) != 0;
			errs += memcmp(a, c, sizeof *a * (size_t)n) != 0;
			errs += memcmp(a, d, sizeof *a * (size_t)n) != 0;
		}
	CHECK_EQ_INT(errs, 0);
	CHECK(ties > 100 && nans > 100); /* both cases seen */
}

int main(void)
{
	TH_RUN(test_ar_lanes);
	TH_RUN(test_clamp);
	TH_RUN(test_comb);
	TH_RUN(test_comb_member);
	TH_RUN(test_exp);
	TH_RUN(test_score_row);
	TH_RUN(test_pr_row);
	TH_RUN(test_le_mask);
	TH_RUN(test_bounds_clip);
	TH_RUN(test_bounds_cap);
	TH_RUN(test_bf16_rel);
	return th_summary();
}
