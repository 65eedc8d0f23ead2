/*
 * ssm/model_step.c: the step path, what the daemon runs for every sample.
 *
 * Series are stepped in blocks of SSM__ROWS rows (the last block padded
 * with dummy rows) so that every BLAS call has the same shape whatever B
 * is: see model_internal.h for why that makes results independent of the
 * batch. Nothing here allocates; the caller's workspace holds one block.
 *
 * Encoder features (SSM_MODEL_NFEAT = 12), all O(1) in size:
 *   0 value - front level, in running-scale units (clamped to +-10)
 *   1 one-step innovation against the front's forecast, same units
 *   2 missing flag
 *   3 log of the gap since the previous sample, in nominal steps
 *   4..9 sin/cos of the phase in the day, week and year, when timestamps
 *        are real (after 1973) and the step resolves that cycle
 *   10..11 sin/cos of the seasonal phase (step index mod period)
 */
#include <math.h>
#include <stdint.h>

#include "ssm/kern.h"
#include "ssm/model_internal.h"

/* Workspace for one block, carved in this order (all 8-byte aligned). */
typedef struct blk {
	double *point; /* [ROWS][H] */
	double *scale; /* [ROWS] */
	double *gaps;  /* [ROWS] in nominal steps */
	float *gap;    /* [ROWS][H][Q-1] */
	float *feat;   /* [ROWS][F] */
	float *x, *y;  /* [ROWS][d] residual stream, ping-pong */
	float *hn;     /* [ROWS][d] normalised head input */
	float *o;      /* [ROWS][HQ] head outputs */
	float *dummy;  /* [ROWS][max layer state] padding rows' states */
	void *lws;     /* the layers' step workspace */
} blk;

static size_t al8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

size_t ssm_model_workspace_bytes(const ssm_model *m, int B)
{
	const size_t R = SSM__ROWS, H = (size_t)m->arch.horizon,
		     Q = (size_t)m->arch.nquantiles;

	(void)B; /* blocks are stepped one after the other */
	return al8(sizeof(double) * R * H) + 2 * al8(sizeof(double) * R) +
	       al8(sizeof(float) * R * H * (Q - 1)) +
	       al8(sizeof(float) * R * (size_t)m->F) +
	       3 * al8(sizeof(float) * R * (size_t)m->d) +
	       al8(sizeof(float) * R * (size_t)m->HQ) +
	       al8(sizeof(float) * R * m->max_layer_state) + al8(m->layer_ws);
}

static void carve(const ssm_model *m, void *ws, blk *k)
{
	const size_t R = SSM__ROWS, H = (size_t)m->arch.horizon,
		     Q = (size_t)m->arch.nquantiles;
	char *p = ws;

	k->point = (double *)(void *)p;
	p += al8(sizeof(double) * R * H);
	k->scale = (double *)(void *)p;
	p += al8(sizeof(double) * R);
	k->gaps = (double *)(void *)p;
	p += al8(sizeof(double) * R);
	k->gap = (float *)(void *)p;
	p += al8(sizeof(float) * R * H * (Q - 1));
	k->feat = (float *)(void *)p;
	p += al8(sizeof(float) * R * (size_t)m->F);
	k->x = (float *)(void *)p;
	p += al8(sizeof(float) * R * (size_t)m->d);
	k->y = (float *)(void *)p;
	p += al8(sizeof(float) * R * (size_t)m->d);
	k->hn = (float *)(void *)p;
	p += al8(sizeof(float) * R * (size_t)m->d);
	k->o = (float *)(void *)p;
	p += al8(sizeof(float) * R * (size_t)m->HQ);
	k->dummy = (float *)(void *)p;
	p += al8(sizeof(float) * R * m->max_layer_state);
	k->lws = p;
}

/*
 * fmod(t, p), which is exact: for a positive integral t below 2^62 and an
 * integral p below 2^31 (the timestamps of whole seconds, the cycles' and
 * the seasons' lengths, the step counts) the integer remainder, the same
 * value (a positive zero where t is a multiple, as fmod's), at a tenth of
 * libm's instructions; anything else takes fmod.
 */
double ssm__fmod_whole(double t, double p)
{
	if (t > 0 && t < 0x1p62 && p >= 1 && p < 0x1p31) {
		int64_t ti = (int64_t)t, pi = (int64_t)p;

		if ((double)ti == t && (double)pi == p)
			return (double)(ti % pi);
	}
	return fmod(t, p);
}

static void phase_feat(float *f, double t, double period_s)
{
	double ph = ssm__fmod_whole(t, period_s) / period_s * 2.0 * M_PI;

	f[0] = (float)sin(ph);
	f[1] = (float)cos(ph);
}

/*
 * Features 4..9 (the day, week and year phases of a timestamp) of the
 * rows of one batch: a row at the previous row's timestamp whose step
 * enables the same cycles takes that row's six floats, which are the bits
 * sin and cos would give it again (a function of t and the cycles alone),
 * without libm's sincos three times (~430 instructions a step,
 * bench/results/serve10.md). Series scraped together share their
 * timestamps (loadgen's rounds, collectors flushing on the minute), so
 * most rows of a block hit. t NAN: nothing kept yet.
 */
typedef struct tfeat {
	double t;
	int cycles; /* bit 0 day, 1 week, 2 year */
	float f[6];
} tfeat;

static void time_feat(float *f, double t, double step_s, tfeat *tf)
{
	int cycles = (step_s <= 43200.0) | (step_s <= 3.5 * 86400.0) << 1 |
		     (step_s <= 183.0 * 86400.0) << 2;

	if (tf && t == tf->t && cycles == tf->cycles) {
		memcpy(f, tf->f, sizeof tf->f);
		return;
	}
	if (cycles & 1)
		phase_feat(f, t, 86400.0);
	if (cycles & 2)
		phase_feat(f + 2, t, 7.0 * 86400.0);
	if (cycles & 4)
		phase_feat(f + 4, t, 365.2425 * 86400.0);
	if (tf) {
		tf->t = t;
		tf->cycles = cycles;
		memcpy(tf->f, f, sizeof tf->f);
	}
}

static float clampf10(double x)
{
	if (!(x > -10.0))
		return isnan(x) ? 0.0f : -10.0f;
	return x < 10.0 ? (float)x : 10.0f;
}

/*
 * Features (SSM_MODEL_NFEAT = 16), each O(1) and scale-free:
 *   0 innovation: value - the front's previous one-step forecast, in the
 *     front's previous scale (0 when missing)
 *   1 value - the previous observed value, same units
 *   2 missing flag
 *   3 log of the gap since the previous sample, in nominal steps
 *   4..9 sin/cos of the phase in the day, week and year, when timestamps
 *        are real (after 1973) and the step resolves that cycle
 *   10..11 sin/cos of the seasonal phase (steps since start mod period)
 *   12 front's one-step forecast - last observed value, in scale units
 *   13, 14 front's forecast at H/2 and H - its one-step one, same units
 *   15 log(scale / (|one-step forecast| + scale)): relative noise level
 */
static int observe(const ssm_model *m, float *st, const ssm_sample *in,
		   float *feat, double *point, double *scale, float *gap,
		   double *gap_steps, int *few, tfeat *tf)
{
	const int H = m->arch.horizon;
	double count = ssm__get_d(st + SSM__H_COUNT);
	double last_t = ssm__get_d(st + SSM__H_LAST_T);
	double step_s = ssm__get_d(st + SSM__H_STEP_S);
	double phase = ssm__get_d(st + SSM__H_PHASE);
	double last_y = ssm__get_d(st + SSM__H_LAST_Y);
	double prev_p = ssm__get_d(st + SSM__H_PREV_P);
	double prev_s = st[SSM__H_PREV_S];
	int period = (int)st[SSM__H_PERIOD];
	double y = isfinite(in->value) ? in->value : NAN;
	double g = 1.0, sc;
	int i, rc;

	if (count > 0.0) {
		/* Out-of-order or duplicate timestamps count as one step. */
		g = nearbyint((in->t - last_t) / step_s);
		g = g < 1.0 ? 1.0 : (g > 1e6 ? 1e6 : g);
		phase += g;
	}
	*gap_steps = g;
	for (i = 0; i < m->F; i++)
		feat[i] = 0.0f;
	if (!isnan(y) && prev_s > 0.0) {
		double prev_m = ssm__get_d(st + SSM__H_PREV_M);

		feat[0] = clampf10((y - prev_p) / prev_s);
		if (!isnan(last_y))
			feat[1] = clampf10((y - last_y) / prev_s);
		/* The gate's evidence: whose one-step median was closer. */
		st[SSM__H_ERR_F] =
		    (float)(0.95 * st[SSM__H_ERR_F] +
			    0.05 * fmin(fabs(y - prev_p) / prev_s, 50.0));
		st[SSM__H_ERR_M] =
		    (float)(0.95 * st[SSM__H_ERR_M] +
			    0.05 * fmin(fabs(y - prev_m) / prev_s, 50.0));
	}
	feat[2] = isnan(y) ? 1.0f : 0.0f;
	feat[3] = (float)log(g);
	if (in->t > 1e8)
		time_feat(feat + 4, in->t, step_s, tf);
	if (period > 1)
		phase_feat(feat + 10, ssm__fmod_whole(phase, (double)period),
			   (double)period);
	if (!isnan(y))
		last_y = y;
	rc = ssm__front_update_forecast(m, st + m->off_front, y, g, last_y,
					point, scale, gap, few);
	sc = *scale;
	if (!isnan(last_y))
		feat[12] = clampf10((point[0] - last_y) / sc);
	feat[13] = clampf10((point[(H - 1) / 2] - point[0]) / sc);
	feat[14] = clampf10((point[H - 1] - point[0]) / sc);
	feat[15] = clampf10(log(sc / (fabs(point[0]) + sc)));
	ssm__put_d(st + SSM__H_COUNT, count + 1.0);
	ssm__put_d(st + SSM__H_LAST_T, in->t);
	ssm__put_d(st + SSM__H_PHASE, phase);
	ssm__put_d(st + SSM__H_LAST_Y, last_y);
	ssm__put_d(st + SSM__H_PREV_P, point[0]);
	st[SSM__H_PREV_S] = (float)sc;
	return rc;
}

int ssm__observe(const ssm_model *m, float *st, const ssm_sample *in,
		 float *feat, double *point, double *scale, float *gap,
		 double *gap_steps, int *few)
{
	return observe(m, st, in, feat, point, scale, gap, gap_steps, few,
		       NULL);
}

/*
 * Why not cblas_sgemm: the step's shapes are tiny (8 x 16 x 16 for the
 * encoder, 8 x 144 x 16 for the head), where OpenBLAS spends more on its
 * call, packing and edge handling than on the multiply-adds (about 1,600
 * instructions a row for the head, against about 600 here). Row by row,
 * the outputs in registers down all inputs (ssm__gemv_t, AVX2 or
 * baseline clone, the same bits), so a row's result cannot depend on the
 * others or on M: training's sequence mode computes what the step does.
 */
void ssm__enc_forward(const ssm_model *m, int M, const float *feat, float *x)
{
	const int d = m->d, F = m->F;
	int r;

	for (r = 0; r < M; r++) {
		memcpy(x + (size_t)r * d, m->b_in, sizeof(float) * (size_t)d);
		ssm__gemv_t(F, d, m->w_in_t, feat + (size_t)r * F,
			    x + (size_t)r * d);
	}
}

/* 1 / rms of one row's head input xr[d]. */
static float head_inv(const ssm_model *m, const float *xr)
{
	double ss = 0.0;
	int i;

	for (i = 0; i < m->d; i++)
		ss += (double)xr[i] * xr[i];
	return (float)(1.0 / sqrt(ss / m->d + 1e-6));
}

/* One row's normalised head input hr[d] from xr[d]; returns 1 / rms. */
static float head_norm(const ssm_model *m, const float *xr, float *hr)
{
	float inv = head_inv(m, xr);
	int i;

	for (i = 0; i < m->d; i++)
		hr[i] = xr[i] * inv * m->g_out[i];
	return inv;
}

void ssm__head_forward(const ssm_model *m, int M, const float *x, float *hn,
		       float *rms, float *o)
{
	const int d = m->d, HQ = m->HQ;
	int r;

	for (r = 0; r < M; r++) {
		float *hr = hn + (size_t)r * d, *orow = o + (size_t)r * HQ;
		float inv = head_norm(m, x + (size_t)r * d, hr);

		if (rms)
			rms[r] = inv;
		memcpy(orow, m->b_head, sizeof(float) * (size_t)HQ);
		ssm__gemv_t(d, HQ, m->w_head_t, hr, orow);
	}
}

/* Four floats at any float address (SSE2 on the x86-64 baseline). */
typedef float v4f __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4), may_alias));

/* One row's head outputs o[0..3) only (horizon 1's with Q = 3, for a
 * step without a forecast): ssm__gemv_t's operations for them, input by
 * input in the same order (y + x_0 w_0 + x_1 w_1 ...), on head_norm's
 * inputs (x inv g, computed here as there and not stored: nothing reads
 * a pruned row's), so the same bits; the three in one 4-float vector
 * where a row of w_head_t has a fourth (HQ >= 4: read, summed in the
 * unused lane, dropped). */
static void head_q3_h1(const ssm_model *m, const float *xr, float *orow)
{
	const float *w = m->w_head_t, *g = m->g_out;
	float o0 = m->b_head[0], o1 = m->b_head[1], o2 = m->b_head[2];
	float inv = head_inv(m, xr);
	int i;

	if (m->HQ >= 4) {
		v4f o = {o0, o1, o2, 0.0f};

		for (i = 0; i < m->d; i++, w += m->HQ)
			o = o + xr[i] * inv * g[i] * *(const v4u *)w;
		o0 = o[0];
		o1 = o[1];
		o2 = o[2];
	} else
		for (i = 0; i < m->d; i++, w += m->HQ) {
			float x = xr[i] * inv * g[i];

			o0 = o0 + x * w[0];
			o1 = o1 + x * w[1];
			o2 = o2 + x * w[2];
		}
	orow[0] = o0;
	orow[1] = o1;
	orow[2] = o2;
}

/* The head's log-gaps are exponentiated all at once by the vectorized
 * ssm_expf_vec (ssm/vmath.c, within an ulp of expf), not one libm call per
 * gap: HQ - H calls per row were a tenth of the step's instructions.
 * Training's compose and its backward use the same exponential. */
void ssm__compose_exp(const ssm_model *m, const float *o, float *e)
{
	ssm__clampf_vec(o, e, m->HQ);
	ssm_expf_vec(e, e, m->HQ);
}

/*
 * compose and finish walk the [H][Q] arrays quantile by quantile, all
 * horizons in one inner loop (Q is 3 by default, so a horizon's own loop
 * over quantiles was mostly loop control); each element gets the same
 * operations in the same order as horizon by horizon, so the same bits.
 */
void ssm__compose(const ssm_model *m, const float *o, const float *gap,
		  float *qn)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles, mid = Q / 2;
	float e[SSM_MAX_H * SSM_MAX_Q];
	int h, k;

	ssm__compose_exp(m, o, e);
	for (h = 0; h < H; h++)
		qn[h * Q + mid] = o[h * Q + mid];
	for (k = mid - 1; k >= 0; k--)
		for (h = 0; h < H; h++)
			qn[h * Q + k] = qn[h * Q + k + 1] -
					gap[h * (Q - 1) + k] * e[h * Q + k];
	for (k = mid + 1; k < Q; k++)
		for (h = 0; h < H; h++)
			qn[h * Q + k] = qn[h * Q + k - 1] +
					gap[h * (Q - 1) + k - 1] * e[h * Q + k];
}

/*
 * The front's block mixes integers and bit-cast doubles, so it is checked
 * through its forecast (ssm__observe's status), not float by float.
 */
void ssm__finish(const ssm_model *m, float *st, const double *point,
		 double scale, const float *gap, float *qn)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles, mid = Q / 2;
	double ef = st[SSM__H_ERR_F], em = st[SSM__H_ERR_M], w = 1.0, wf;
	double f[SSM_MAX_H];
	int h, k;

	ssm__put_d(st + SSM__H_PREV_M, point[0] + scale * qn[mid]);
	if (m->arch.gate) {
		/* Equal evidence (or none yet) gives half the correction. */
		w = ef * ef + em * em > 0.0 ? ef * ef / (ef * ef + em * em)
					    : 0.5;
		wf = 1.0 - w;
		/* Blended with the front's own quantiles: median 0, then
		 * its gaps summed outwards (f, per horizon, in double). */
		for (h = 0; h < H; h++)
			qn[h * Q + mid] = (float)(w * qn[h * Q + mid]);
		for (h = 0; h < H; h++)
			f[h] = 0.0;
		for (k = mid - 1; k >= 0; k--)
			for (h = 0; h < H; h++) {
				f[h] -= gap[h * (Q - 1) + k];
				qn[h * Q + k] =
				    (float)(w * qn[h * Q + k] + wf * f[h]);
			}
		for (h = 0; h < H; h++)
			f[h] = 0.0;
		for (k = mid + 1; k < Q; k++)
			for (h = 0; h < H; h++) {
				f[h] += gap[h * (Q - 1) + k - 1];
				qn[h * Q + k] =
				    (float)(w * qn[h * Q + k] + wf * f[h]);
			}
	}
	for (k = 0; k < Q; k++)
		st[m->off_prev + k] = (float)(point[0] + scale * qn[k]);
}

static int state_finite(const ssm_model *m, const float *st)
{
	uint32_t bad = 0;
	size_t i;

	for (i = 0; i + 1 < SSM__H_PREV_S; i += 2)
		if (i != SSM__H_LAST_Y && !isfinite(ssm__get_d(st + i)))
			return 0;
	if (!isfinite(ssm__get_d(st + SSM__H_PREV_M)) ||
	    !isfinite(st[SSM__H_PREV_S]) || !isfinite(st[SSM__H_PERIOD]))
		return 0;
	for (i = SSM__H_ERR_F; i < m->off_front; i++)
		bad |= ssm__nonfinite_bit(st[i]);
	/* The layers' states: most of the block outside the front (the head
	 * input and anomaly after them are written after this check); an
	 * AVX2 kernel (ssm/kern_check.c). */
	i = m->off_front + m->front_floats;
	return !bad && !ssm__nonfinite_any(st + i, m->off_head - i);
}

/*
 * One row's served quantiles q[h][k] = point[h] + scale qn[h][k] and means
 * (the median's), rounded to float; q and mean may be NULL (only checked).
 * Returns nonzero when any is not finite, as computed in double.
 */
static int serve_row(const ssm_model *m, const double *pt, double sc,
		     const float *qn, float *q, float *mean)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles, mid = Q / 2;
	uint64_t bad = 0;
	int h, j;

	for (j = 0; q && j < Q; j++)
		for (h = 0; h < H; h++) {
			double v = pt[h] + sc * qn[h * Q + j];

			bad |= ssm__nonfinite_bit_d(v);
			q[h * Q + j] = (float)v;
		}
	for (j = 0; !q && j < Q; j++)
		for (h = 0; h < H; h++)
			bad |= ssm__nonfinite_bit_d(pt[h] + sc * qn[h * Q + j]);
	if (mean)
		for (h = 0; h < H; h++)
			mean[h] = (float)(pt[h] + sc * qn[h * Q + mid]);
	return bad != 0;
}

/*
 * compose, finish and serve_row in one pass over the horizons for Q = 3
 * (the shipped models): the three walked [H][Q] three times with the
 * quantiles in memory between them; here a horizon's three stay in
 * registers from the head's outputs to the served floats. Each element
 * gets the same operations in the same order as in those three (float
 * compose, the gate's blend in double with f = 0.0 -/+ gap, served
 * values in double), so the same bits; the state's previous one-step
 * quantiles are horizon 0's served values, which they were already.
 * The loop itself is ssm__serve_q3_loop (ssm/kern_serve.c: four
 * horizons to a vector). Returns nonzero when a served value is not
 * finite (serve_row). serve_q3_n serves horizons 1..H only: H = 1 is a
 * step without a forecast, which keeps horizon 1's quantiles in the state
 * (the others' finiteness is proved by the front: few_serve_ok).
 */
static int serve_q3_n(const ssm_model *m, float *st, const float *o,
		      const float *gap, const double *pt, double sc, float *q,
		      float *mean, int H)
{
	double ef = st[SSM__H_ERR_F], em = st[SSM__H_ERR_M], w = 1.0, wf = 0.0;
	float e[SSM_MAX_H * SSM_MAX_Q], qs[SSM_MAX_H * 3], ms[SSM_MAX_H];
	uint64_t bad;
	int gate = m->arch.gate;

	ssm__put_d(st + SSM__H_PREV_M, pt[0] + sc * o[1]);
	if (gate) {
		w = ef * ef + em * em > 0.0 ? ef * ef / (ef * ef + em * em)
					    : 0.5;
		wf = 1.0 - w;
	}
	/* Horizon 1 alone (a step without a forecast): its two exponentials
	 * (the median's is not used) and ssm__serve_q3_h1, serve4's
	 * vectors with horizon 1 in every lane: the bits the whole serving
	 * gives it (test_model's lazy_bit_exact). Until serve10 four copies
	 * of it went through the general loop, 12 exponentials and the
	 * copies (bench/results/serve10.md). */
	if (H == 1 && !q && !mean) {
		/* Four, two of them copies: ssm_expf_vec's vector body (its
		 * scalar loop for fewer costs twice as much). */
		float lo = ssm__clampf(o[0]), hi = ssm__clampf(o[2]);
		float e2[4] = {lo, hi, lo, hi};

		ssm_expf_vec(e2, e2, 4);
		return ssm__serve_q3_h1(o, gap, e2, pt[0], sc, gate, w, wf,
					st + m->off_prev) != 0;
	}
	ssm__serve_q3_exp(o, e, H);
	/* The loop writes every output: into the caller's arrays, or ours. */
	q = q ? q : qs;
	bad = ssm__serve_q3_loop(H, o, gap, e, pt, sc, gate, w, wf, q,
				 mean ? mean : ms);
	st[m->off_prev] = q[0];
	st[m->off_prev + 1] = q[1];
	st[m->off_prev + 2] = q[2];
	return bad != 0;
}

int ssm__serve_q3(const ssm_model *m, float *st, const float *o,
		  const float *gap, const double *pt, double sc, float *q,
		  float *mean)
{
	return serve_q3_n(m, st, o, gap, pt, sc, q, mean, m->arch.horizon);
}

int ssm__serve_rows(const ssm_model *m, float *st, const float *o,
		    const float *gap, const double *pt, double sc, float *q,
		    float *mean)
{
	float qn[SSM_MAX_H * SSM_MAX_Q];

	ssm__compose(m, o, gap, qn);
	ssm__finish(m, st, pt, sc, gap, qn);
	return serve_row(m, pt, sc, qn, q, mean);
}

static float anomaly(const ssm_model *m, const float *st, double y)
{
	const int Q = m->arch.nquantiles;
	const float *prev = st + m->off_prev;
	double lo = prev[0], hi = prev[Q - 1], w = hi - lo;

	if (ssm__get_d(st + SSM__H_COUNT) < 2.0 || isnan(y))
		return 0.0f;
	if (!(w > 0.0))
		w = fabs(lo) * 1e-6 + 1e-12;
	if (y < lo)
		return (float)((lo - y) / w);
	if (y > hi)
		return (float)((y - hi) / w);
	return 0.0f;
}

/*
 * The head row by row when some rows make no forecast (out or their q
 * NULL): a row whose front was pruned (few[r], ssm__front_update_forecast;
 * Q = 3 only) needs horizon 1's outputs only; the others every output.
 * Padding rows none.
 */
static void head_rows(const ssm_model *m, int R, const ssm_sample *in,
		      const int *few, const float *x, const blk *k)
{
	const size_t d = (size_t)m->d, HQ = (size_t)m->HQ;
	int r;

	for (r = 0; r < R; r++) {
		if (!isfinite(in[r].t))
			continue;
		if (few[r])
			head_q3_h1(m, x + r * d, k->o + r * HQ);
		else
			ssm__head_forward(m, 1, x + r * d, k->hn + r * d, NULL,
					  k->o + r * HQ);
	}
}

/* The rows a block of R real ones steps through the encoder and the
 * layers: SSM__ROWS, padded (model_internal.h: a BLAS product's rounding
 * depends on its M), unless every layer gives a row the same bits whatever
 * the batch (ssm__layer_rows_free, checked once by ssm_model_new: the
 * default model's do), when the padding rows would be work that nothing
 * reads: R. The encoder and the head work row by row either way. */
static int block_rows(const ssm_model *m, int R)
{
	return m->rows_free ? R : SSM__ROWS;
}

/* Steps rows [0, R) of one block; R <= SSM__ROWS. A row without a forecast
 * (out NULL, or its q NULL) computes only what the state depends on (few: see
 * ssm__front_update_forecast), the same state to the bit as with it
 * (tests/ssm/test_model.c). */
static int step_block(const ssm_model *m, int R, float *const *states,
		      const ssm_sample *in, ssm_forecast *out, int *status,
		      const blk *k, tfeat *tf)
{
	const int H = m->arch.horizon, Q = m->arch.nquantiles;
	const int M = block_rows(m, R);
	float anom[SSM__ROWS], *x = k->x, *y = k->y, *tmp;
	float *lst[SSM__ROWS];
	int nreset = 0, nwant = 0, r, h, j, l, bad[SSM__ROWS], few[SSM__ROWS];

	for (r = 0; r < M; r++) {
		float *f = k->feat + r * m->F;

		anom[r] = 0.0f;
		bad[r] = 0;
		few[r] = Q == 3 && (r >= R || !out || !out[r].q);
		nwant += r < R && out && out[r].q;
		k->gaps[r] = 1.0;
		if (r >= R || !isfinite(in[r].t)) {
			for (j = 0; j < m->F; j++)
				f[j] = 0.0f;
			continue;
		}
		anom[r] = anomaly(m, states[r], in[r].value);
		bad[r] =
		    observe(m, states[r], &in[r], f, k->point + (size_t)r * H,
			    &k->scale[r], k->gap + (size_t)r * H * (Q - 1),
			    &k->gaps[r], &few[r], tf) < 0;
	}
	ssm__enc_forward(m, M, k->feat, x);
	for (l = 0; l < m->arch.nlayers; l++) {
		/* Padding rows step throw-away states of their own. */
		for (r = 0; r < M; r++) {
			if (r < R && isfinite(in[r].t)) {
				lst[r] = states[r] + m->off_layer[l];
				continue;
			}
			lst[r] = k->dummy + (size_t)r * m->max_layer_state;
			memset(lst[r], 0, sizeof(float) * m->layer_state[l]);
		}
		ssm__layer_step_batch(m, l, M, lst, k->gaps, x, y, k->lws);
		tmp = x;
		x = y;
		y = tmp;
	}
	if (nwant == R)
		ssm__head_forward(m, R, x, k->hn, NULL, k->o);
	else
		head_rows(m, R, in, few, x, k);
	for (r = 0; r < R; r++) {
		float *st = states[r];
		const double *pt = k->point + (size_t)r * H;
		double sc = k->scale[r];
		ssm_forecast *o = out && out[r].q ? out + r : NULL;
		int ok;

		if (status)
			status[r] = SSM_OK;
		if (!isfinite(in[r].t)) {
			if (status)
				status[r] = SSM_EINVAL;
			continue;
		}
		if (few[r])
			ok = !serve_q3_n(m, st, k->o + (size_t)r * m->HQ,
					 k->gap + (size_t)r * H * (Q - 1), pt,
					 sc, NULL, NULL, 1);
		else
			ok = !(Q == 3 ? ssm__serve_q3 : ssm__serve_rows)(
			    m, st, k->o + (size_t)r * m->HQ,
			    k->gap + (size_t)r * H * (Q - 1), pt, sc,
			    o ? o->q : NULL, o ? o->mean : NULL);
		ok = ok && !bad[r] && state_finite(m, st);
		if (!ok) {
			double step_s = ssm__get_d(st + SSM__H_STEP_S);
			int period = (int)st[SSM__H_PERIOD];

			if (!(step_s > 0.0) || !isfinite(step_s))
				step_s = 1.0;
			if (period < 1 || period > 100000)
				period = 1;
			ssm_state_init(m, st, period, step_s);
			nreset++;
			if (status)
				status[r] = SSM_ERESET;
		} else {
			/* What ssm_model_forecast needs (the front is in the
			 * state already). */
			memcpy(st + m->off_head, x + (size_t)r * m->d,
			       sizeof(float) * (size_t)m->d);
			st[m->off_anom] = anom[r];
		}
		if (!o)
			continue;
		o->t = in[r].t;
		o->anomaly = ok ? anom[r] : 0.0f;
		for (j = 0; !ok && j < H * Q; j++)
			o->q[j] = NAN;
		for (h = 0; !ok && h < H; h++)
			o->mean[h] = NAN;
	}
	return nreset;
}

int ssm_model_forecast(const ssm_model *m, const float *state,
		       ssm_forecast *out)
{
	const int H = m ? m->arch.horizon : 0, Q = m ? m->arch.nquantiles : 0;
	double point[SSM_MAX_H], sc = 1.0;
	float gap[SSM_MAX_H * (SSM_MAX_Q - 1)], o[SSM_MAX_H * SSM_MAX_Q];
	float hn[1024], hdr[SSM__H_FLOATS + SSM_MAX_Q];
	int j, rc = SSM_EINVAL;

	if (!m || !state || !out || !out->q || !out->mean)
		return SSM_EINVAL;
	out->t = ssm__get_d(state + SSM__H_COUNT) >= 1.0
		     ? ssm__get_d(state + SSM__H_LAST_T)
		     : 0.0;
	out->anomaly = 0.0f;
	/* A step that reset the state left count 0, and NaN in its out. */
	if (ssm__get_d(state + SSM__H_COUNT) >= 1.0 &&
	    ssm__front_forecast(m, state + m->off_front,
				ssm__get_d(state + SSM__H_LAST_Y), point, &sc,
				gap) >= 0) {
		/* The serving writes the one-step quantiles and median into
		 * the header: a copy takes them (the state stays as it is). */
		memcpy(hdr, state, sizeof(float) * m->off_front);
		ssm__head_forward(m, 1, state + m->off_head, hn, NULL, o);
		if (!(Q == 3 ? ssm__serve_q3 : ssm__serve_rows)(
			m, hdr, o, gap, point, sc, out->q, out->mean)) {
			out->anomaly = state[m->off_anom];
			return SSM_OK;
		}
	}
	for (j = 0; j < H * Q; j++)
		out->q[j] = NAN;
	for (j = 0; j < H; j++)
		out->mean[j] = NAN;
	return rc;
}

int ssm_model_step_batch(const ssm_model *m, int B, float *const *states,
			 const ssm_sample *in, ssm_forecast *out, int *status,
			 void *ws)
{
	blk k;
	tfeat tf = {NAN, 0, {0}};
	int b, n, nreset = 0;

	if (!m || B < 0 || (B > 0 && (!states || !in || !ws)))
		return SSM_EINVAL;
	for (b = 0; b < B; b++)
		if (!states[b] || (out && !out[b].q != !out[b].mean))
			return SSM_EINVAL;
	carve(m, ws, &k);
	for (b = 0; b < B; b += SSM__ROWS) {
		n = B - b < SSM__ROWS ? B - b : SSM__ROWS;
		nreset +=
		    step_block(m, n, states + b, in + b, out ? out + b : NULL,
			       status ? status + b : NULL, &k, &tf);
	}
	return nreset;
}

int ssm_model_step(const ssm_model *m, float *state, const ssm_sample *in,
		   ssm_forecast *out, void *ws)
{
	int st = SSM_OK, n;

	n = ssm_model_step_batch(m, 1, &state, in, out, &st, ws);
	if (n < 0)
		return n;
	return st;
}
