/*
 * ssm/model_internal.h: the model struct and the helpers shared by the
 * model's own files (model.c, model_step.c, model_front.c, model_grad.c)
 * and training (train.c). Not for the daemon or io/: they use ssm/model.h.
 *
 * Shapes: M = rows of a block, F = SSM_MODEL_NFEAT, d = d_model,
 * HQ = horizon * nquantiles. The step always uses M = SSM__ROWS (padded);
 * training uses M = the chunk length of one series.
 *
 * Why fixed blocks of SSM__ROWS rows in the step: OpenBLAS picks different
 * kernels (and so different rounding) for different M, but within one M its
 * result for a row does not depend on the other rows. Stepping every block
 * with the same M makes a series' forecast bit-for-bit independent of how
 * many series were stepped with it, so the daemon (batched) serves exactly
 * what `statecast eval` (one series at a time) measures.
 * tests/ssm/test_model.c proves it. Where every layer's batched step gives
 * a row the same bits whatever M (ssm__layer_rows_free: its projections by
 * ssm__gemm_rows_t, as the default model's), a block steps only its real
 * rows (model_step.c's block_rows).
 */
#ifndef STATECAST_SSM_MODEL_INTERNAL_H
#define STATECAST_SSM_MODEL_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ssm/mamba.h"
#include "ssm/model.h"
#include "ssm/s4d.h"

enum { SSM__ROWS = 8, SSM__MAX_TENSORS = 128 };

/* State block header (floats); doubles are stored bit-cast in float pairs. */
enum {
	SSM__H_COUNT = 0,   /* double: samples stepped since init */
	SSM__H_LAST_T = 2,  /* double: Unix seconds of the last sample */
	SSM__H_STEP_S = 4,  /* double: nominal step in seconds */
	SSM__H_PHASE = 6,   /* double: nominal steps since the first sample */
	SSM__H_LAST_Y = 8,  /* double: last observed value (NaN: none yet) */
	SSM__H_PREV_P = 10, /* double: front's previous one-step forecast */
	SSM__H_PREV_S = 12, /* float: front's previous scale */
	SSM__H_PERIOD = 13, /* float: seasonal period in steps */
	SSM__H_PREV_M = 14, /* double: network's previous one-step median */
	SSM__H_ERR_F = 16,  /* float: EW |one-step error| / scale, front */
	SSM__H_ERR_M = 17,  /* float: the same for the network's median */
	SSM__H_FLOATS = 18,
};

struct ssm_model {
	ssm_model_arch arch;
	int F, d, HQ;
	float *params;	/* the encoder's and head's tensors, one allocation */
	size_t nparams; /* over every tensor, layers' included */
	ssm_tensor tensors[SSM__MAX_TENSORS];
	int ntensors;
	/* Views into params. */
	float *w_in;   /* [d][F] */
	float *b_in;   /* [d] */
	float *g_out;  /* [d] RMSNorm gain before the head */
	float *w_head; /* [HQ][d] */
	float *b_head; /* [HQ] */
	/* Transposed copies for ssm__gemv_t, rebuilt by ssm_model_refresh():
	 * w_in_t [F][d], w_head_t [d][HQ]; one allocation. */
	float *w_in_t, *w_head_t;
	/* The layer stack: each owns its parameters (layer.h); layer l is
	 * s4d[l] or mamba[l] by arch.layer[l].kind (model_layers.c). */
	ssm_s4d s4d[SSM_MAX_LAYERS];
	ssm_mamba mamba[SSM_MAX_LAYERS];
	int first_tensor[SSM_MAX_LAYERS]; /* index of layer l's first tensor */
	int layer_nt[SSM_MAX_LAYERS];	  /* its number of tensors */
	size_t off_layer[SSM_MAX_LAYERS]; /* state offsets */
	size_t layer_state[SSM_MAX_LAYERS];
	size_t max_layer_state, layer_ws; /* for one block of SSM__ROWS */
	/* Every layer is ssm__layer_rows_free (set by ssm_model_new: the
	 * layers' shapes do not change after it): a block steps only its real
	 * rows (model_step.c's block_rows). */
	int rows_free;
	/* State layout, offsets in floats. */
	size_t off_prev;  /* [Q] previous one-step quantiles (anomaly score) */
	size_t off_front; /* smoothing front */
	size_t front_floats;
	/* After the layers: [d] the last step's head input (the last layer's
	 * output) and [1] its anomaly score, what ssm_model_forecast reads
	 * besides the front; zero after ssm_state_init. */
	size_t off_head, off_anom;
	size_t state_floats;
	/* Normalised gaps between neighbouring Gaussian quantiles, [Q-1]. */
	float zgap[SSM_MAX_Q];
	/* A bound on |head output| for any input: the head's input is
	 * RMS-normalised, |hn[i]| <= sqrt(d) |g_out[i]|, so |o[j]| <=
	 * |b_head[j]| + sqrt(d) sum_i |w_head[j][i] g_out[i]| (with a margin
	 * for rounding); ssm_model_refresh(). What lets a step without a
	 * forecast skip horizons (ssm__front_update_forecast's few). */
	double head_bound;
	uint64_t hash;
};

static inline double ssm__get_d(const float *p)
{
	double v;

	memcpy(&v, p, sizeof v);
	return v;
}

static inline void ssm__put_d(float *p, double v)
{
	memcpy(p, &v, sizeof v);
}

/* Nonzero when the float f's exponent field is all ones (Inf or NaN): the
 * carry of exponent + 1 reaches the sign bit only then. OR-ed over a whole
 * array with no branch, so such loops vectorize; _d for a double. */
static inline uint32_t ssm__nonfinite_bit(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	return ((u & 0x7f800000u) + 0x00800000u) & 0x80000000u;
}

static inline uint64_t ssm__nonfinite_bit_d(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof u);
	return ((u & 0x7ff0000000000000u) + 0x0010000000000000u) &
	       0x8000000000000000u;
}

/* The head's log-gap outputs are clamped so exp() stays finite. */
static inline float ssm__clampf(float x)
{
	return x < -8.0f ? -8.0f : (x > 8.0f ? 8.0f : x);
}

/* One base gap of the front: (hi - lo) / sc as a float, at least 1e-3 (a
 * zero-width gap could never be widened); NaN and Inf fail one of the two
 * comparisons and take the floor too. */
static inline float ssm__front_gap(double lo, double hi, double sc)
{
	double g = (hi - lo) / sc;

	return (float)(g > 1e-3 && g < HUGE_VAL ? g : 1e-3);
}

/* ssm__front_gap at the first horizons, four a vector, for Q = 3 only
 * (ssm/kern_front.c, AVX2 or baseline, the same bits): returns how many
 * horizons it did (a multiple of 4, 0 for another Q); ssm__front_gaps'
 * loop does the rest. */
int ssm__front_gaps_vec(const double *q, int nh, int Q, double sc, float *gap);

/* ssm__front_gap at the nh first horizons, gap[h][k] from q[h][k] and
 * q[h][k+1] (q [nh][Q], gap [nh][Q-1]): the vector kernel where there are
 * four horizons or more, this one scalar loop for the rest (a pruned
 * forecast's horizon 1 without the kernel's call). */
static inline void ssm__front_gaps(const double *q, int nh, int Q, double sc,
				   float *gap)
{
	int h = 0, k;

	if (nh >= 4)
		h = ssm__front_gaps_vec(q, nh, Q, sc, gap);
	for (; h < nh; h++)
		for (k = 0; k + 1 < Q; k++)
			gap[h * (Q - 1) + k] =
			    ssm__front_gap(q[h * Q + k], q[h * Q + k + 1], sc);
}

/* y[i] = ssm__clampf(x[i]) for n floats, vectorized (ssm/kern_serve.c; a
 * select, so the same bits): the scalar loop was 4 instructions a float,
 * 600 a forecast of 48 horizons (bench/results/serve10.md). y may be x. */
void ssm__clampf_vec(const float *x, float *y, int n);

/*
 * The per-sample front of the model, shared by the step and training:
 * advances the state's header and smoothing front with one sample, then
 * writes the front's forecast (point[H] in value units, *scale > 0,
 * gap[H][Q-1] the front's gaps between neighbouring quantiles in scale
 * units) and the sample's features feat[F]. *gap_steps gets the gap since
 * the previous sample in nominal steps (>= 1). Returns the front's status
 * (ssm__front_update_forecast): -1 means the state must be reset. few
 * (NULL: every horizon) as ssm__front_update_forecast's: when it comes
 * back 1, point[] holds only the horizons the features read and gap[]
 * only horizon 1's.
 */
int ssm__observe(const ssm_model *m, float *st, const ssm_sample *in,
		 float *feat, double *point, double *scale, float *gap,
		 double *gap_steps, int *few);

/* fmod(t, p) to the bit, by integer remainder when both are whole
 * (ssm/model_step.c: the phase features' timestamps and step counts). */
double ssm__fmod_whole(double t, double p);

/*
 * After the head: qn (one row's network quantiles, normalised) becomes the
 * served quantiles (the per-series gate of ssm_model_arch.gate), and the
 * state records this step's one-step forecasts for the next observe.
 */
void ssm__finish(const ssm_model *m, float *st, const double *point,
		 double scale, const float *gap, float *qn);

/*
 * One row's serving after the head (ssm/model_step.c): o[HQ] (the head's
 * outputs) and the front's gaps gap[H][Q-1], point[H] and scale become the
 * served quantiles q[H][Q] = point + scale qn and means (the median's),
 * rounded to float (q, mean may be NULL), and the state's one-step
 * quantiles and median for the next observe. Returns nonzero when a served
 * value is not finite. serve_rows: any Q, through ssm__compose,
 * ssm__finish and the serving loop; serve_q3: Q = 3 only, the same in one
 * pass over the horizons, the same bits (tests/ssm/test_model.c).
 */
int ssm__serve_rows(const ssm_model *m, float *st, const float *o,
		    const float *gap, const double *point, double scale,
		    float *q, float *mean);
int ssm__serve_q3(const ssm_model *m, float *st, const float *o,
		  const float *gap, const double *point, double scale, float *q,
		  float *mean);
/* serve_q3's loop over the horizons (ssm/kern_serve.c, AVX2 or baseline,
 * the same bits): q[H][3] and mean[H] (neither NULL) from o, gap, e =
 * ssm__serve_q3_exp(o), point, scale and the gate's weights w, wf (gate 0:
 * none); returns the served values' ssm__nonfinite_bit_d, ORed. */
/* e[H][2]: the exponentials of the clamped o[h][0] and o[h][2], the values
 * of ssm__compose_exp's e[h][0] and e[h][2] (the median's is never read). */
void ssm__serve_q3_exp(const float *o, float *e, int H);
uint64_t ssm__serve_q3_loop(int H, const float *o, const float *gap,
			    const float *e, const double *point, double scale,
			    int gate, double w, double wf, float *q,
			    float *mean);
/* Horizon 1 alone, as serve_q3_loop serves it: q[3] from o[0..3), gap[0..2),
 * e2 = the exponentials of o[0] and o[2] (clamped as ssm__compose_exp's);
 * returns their ssm__nonfinite_bit_d, ORed. */
uint64_t ssm__serve_q3_h1(const float *o, const float *gap, const float *e2,
			  double point, double scale, int gate, double w,
			  double wf, float *q);

/*
 * Block kernels on M rows, row by row (ssm__gemv_t on the transposed
 * copies): a row's result depends on that row alone, in the step and in
 * training alike.
 * enc: x[M][d] = feat[M][F] w_in^T + b_in.
 * head: hn = RMSNorm(x) * g_out, rms[r] = 1/sqrt(mean(x^2)+eps) (rms may be
 * NULL), o[M][HQ] = hn w_head^T + b_head.
 * compose: one row's normalised quantiles qn[H][Q] from o[H][Q] and the
 * front's gaps gap[H][Q-1] (see ssm/model.h).
 */
void ssm__enc_forward(const ssm_model *m, int M, const float *feat, float *x);
void ssm__head_forward(const ssm_model *m, int M, const float *x, float *hn,
		       float *rms, float *o);
void ssm__compose(const ssm_model *m, const float *o, const float *gap,
		  float *qn);
/* e[HQ] = exp(clamp(o[HQ])), the gap factors of compose (and its
 * backward's derivative). */
void ssm__compose_exp(const ssm_model *m, const float *o, float *e);

/*
 * Backward pairs (model_grad.c); gradients accumulate into g_*.
 * pinball: one row's loss sum over valid horizons (valid[H]) and quantiles
 * of the normalised quantiles qn[H][Q] against u[H]; writes dqn[H][Q].
 * compose_backward: dout[H][Q] (the head outputs' gradient) from dqn.
 * head_backward: from dO[M][HQ] to dx[M][d], given the head's input x and
 * its rms; hn_ws is [M][d] scratch.
 * enc_backward: from dx[M][d] to the encoder's weights.
 */
double ssm__pinball(const ssm_model *m, const float *qn, const double *u,
		    const unsigned char *valid, float *dqn);
void ssm__compose_backward(const ssm_model *m, const float *o, const float *gap,
			   const float *dqn, float *dout);
void ssm__head_backward(const ssm_model *m, int M, const float *x,
			const float *rms, const float *dO, float *dx,
			float *hn_ws, float *g_whead, float *g_bhead,
			float *g_gout);
void ssm__enc_backward(const ssm_model *m, int M, const float *feat,
		       const float *dx, float *g_win, float *g_bin);

/* The layer dispatch (model_layers.c); l indexes arch.layer. */
int ssm__layer_cfg(const ssm_model_arch *a, int l, ssm_s4d_cfg *s,
		   ssm_mamba_cfg *mc);
int ssm__layer_init(ssm_model *m, int l, ssm_rng *r);
void ssm__layer_release(ssm_model *m, int l);
int ssm__layer_prepare(ssm_model *m, int l);
float *ssm__layer_params(const ssm_model *m, int l, size_t *n);
int ssm__layer_tensors(const ssm_model *m, int l, ssm_tensor_info *info);
size_t ssm__layer_state(const ssm_model *m, int l);
size_t ssm__layer_ws(const ssm_model *m, int l, int B);
void ssm__layer_step_batch(const ssm_model *m, int l, int B,
			   float *const *states, const double *gaps,
			   const float *u, float *y, void *ws);
int ssm__layer_rows_free(const ssm_model *m, int l);
size_t ssm__layer_acts(const ssm_model *m, int l, int T);
size_t ssm__layer_seq_ws(const ssm_model *m, int l, int T);
void ssm__layer_forward(const ssm_model *m, int l, int T, float *state,
			const double *gaps, const float *u, float *y,
			float *acts, void *ws);
void ssm__layer_backward(const ssm_model *m, int l, int T, const double *gaps,
			 const float *u, const float *acts, const float *dy,
			 float *du, float *grads, void *ws);

/* Inverse standard normal CDF (Acklam, relative error < 1.2e-9). */
double ssm__norm_ppf(double p);

/* The smoothing front (model_front.c), over ssm/smooth.h. */
size_t ssm__front_floats(const ssm_model *m);
void ssm__front_init(const ssm_model *m, float *fs, int period);
/*
 * Feeds y (NaN = missing) after gap_steps nominal steps, then writes the
 * front's forecast: point[H], *scale, gap[H][Q-1] as ssm__observe; last =
 * the last observed value (NaN: none), the fallback before the front has
 * seen a value. Returns 0, 1 when that placeholder was used, -1 when the
 * front has observations yet gives non-finite numbers (its state is
 * poisoned). few (NULL or *few 0: every horizon) asks for a pruned
 * forecast, for a step without one (ssm/model_step.c): *few comes back 1
 * when point[] was written at horizons 1, (H - 1) / 2 + 1 and H only and
 * gap[] at horizon 1 only, and the front has proved that no other horizon
 * would have made a non-finite point or served value (model_front.c:
 * few_serve_ok), else 0 (every horizon written). The state and the return
 * value are the same either way.
 */
int ssm__front_update_forecast(const ssm_model *m, float *fs, double y,
			       double gap_steps, double last, double *point,
			       double *scale, float *gap, int *few);
/* The same forecast from the front as the last update left it, without
 * feeding a sample (ssm_model_forecast): the same bits, the same return. */
int ssm__front_forecast(const ssm_model *m, const float *fs, double last,
			double *point, double *scale, float *gap);

#endif
