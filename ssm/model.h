/*
 * ssm/model.h: the forecasting model as the daemon and the CLI see it.
 *
 * THIS IS THE CONTRACT between ssm/ (which implements it) and daemon/, tools/,
 * io/ (which call it). Change it only with every caller in the same commit.
 *
 * A model maps one series' stream of samples to a multi-horizon probabilistic
 * forecast. Everything a series needs between samples lives in one contiguous
 * float block (its "state") of ssm_model_state_floats() floats, owned by the
 * caller: snapshot and restore are a memcpy of that block. The model itself
 * (architecture + weights) is read-only after construction and shared by every
 * series and thread.
 *
 * Units: t is Unix seconds (double). The series' nominal step step_s (seconds)
 * and seasonal period (in steps, 1 = none) are fixed when the state is
 * initialised; a sample arriving k nominal steps after the previous one is
 * stepped as an irregular sample with gap k.
 *
 * Errors are 0 or a negative SSM_E* code; ssm_strerror() names each.
 */
#ifndef STATECAST_SSM_MODEL_H
#define STATECAST_SSM_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum {
	SSM_OK = 0,
	SSM_EINVAL = -1, /* an argument out of its documented range */
	SSM_ENOMEM = -2, /* allocation failed (construction only) */
	SSM_ESHAPE = -3, /* inconsistent architecture or tensor shape */
	SSM_ENONFINITE =
	    -4,		 /* a NaN or Inf where finite numbers are required */
	SSM_ERESET = -5, /* the state went non-finite and was reset */
};

const char *ssm_strerror(int err);

typedef struct ssm_model ssm_model;

/* One sample handed to the model. */
typedef struct ssm_sample {
	double t;     /* Unix seconds of this sample */
	double value; /* the observation; NaN marks a missing value */
} ssm_sample;

/*
 * One forecast, written by the step: H horizons x Q quantile levels, monotone
 * in the level, de-normalized (same units as the values). q[h * Q + k] is the
 * level ssm_model_quantiles()[k] at horizon h+1; mean[h] the point forecast.
 * The caller allocates ssm_model_horizon() * ssm_model_nquantiles() floats for
 * q and ssm_model_horizon() floats for mean.
 */
typedef struct ssm_forecast {
	double t;      /* origin: timestamp of the last sample stepped */
	float *q;      /* [H * Q] */
	float *mean;   /* [H] */
	float anomaly; /* score of the sample just stepped against the previous
			  forecast, 0 = inside */
} ssm_forecast;

/* Architecture queries; valid for the model's lifetime. */
int ssm_model_horizon(const ssm_model *m);
int ssm_model_nquantiles(const ssm_model *m);
const float *ssm_model_quantiles(const ssm_model *m);
size_t ssm_model_state_floats(const ssm_model *m);
/* A 64-bit hash of architecture and weights, and of the format of the state
 * block (its meaning, changed when a layer's state changes meaning):
 * snapshots record it. */
uint64_t ssm_model_hash(const ssm_model *m);

/*
 * Initialise a fresh series' state block. period in nominal steps (1 = none),
 * step_s > 0 the nominal step in seconds.
 */
int ssm_state_init(const ssm_model *m, float *state, int period, double step_s);

/* Workspace for ssm_model_step_batch() with up to B series, in bytes. */
size_t ssm_model_workspace_bytes(const ssm_model *m, int B);

/*
 * Step B series (each one sample) at once: states[b] is series b's block,
 * in[b] its sample, out[b] receives its refreshed forecast (out may be NULL
 * when no forecast is wanted this step, or out[b].q and out[b].mean both
 * NULL for series b alone: the state still advances to the same bits, for
 * about 18% fewer instructions, and ssm_model_forecast gives the forecast
 * later if someone needs it). ws holds
 * ssm_model_workspace_bytes(m, B) bytes. Allocates nothing.
 * Returns the number of series whose state went non-finite and was reset
 * (their status[b] = SSM_ERESET, their forecast NaN; others SSM_OK; status
 * may be NULL), or a negative error for bad arguments. A sample with a
 * non-finite t is not stepped (status SSM_EINVAL, out[b] untouched); a
 * non-finite value is a missing sample. A t not after the previous one
 * counts as one nominal step.
 * Stepping B series together gives bit-for-bit the results of B single
 * steps, whatever B and the order (the daemon serves what eval measures).
 */
int ssm_model_step_batch(const ssm_model *m, int B, float *const *states,
			 const ssm_sample *in, ssm_forecast *out, int *status,
			 void *ws);

/*
 * ---- Architecture and weights ----
 *
 * Used by io/model_file (load/save), tools/ (train, eval) and tests. The
 * daemon needs only the calls above plus a loaded model.
 *
 * A model is: a per-series smoothing front (ssm/smooth.h: a bank of
 * exponential-smoothing forecasters with calibrated intervals and a running
 * scale), an input encoder (SSM_MODEL_NFEAT features per sample -> d_model,
 * linear), a stack of nlayers residual S4D blocks (ssm/s4d.h), an RMSNorm
 * and a linear head to H x Q outputs. The head's outputs are corrections,
 * in units of the front's scale, to the front's own forecast: the median
 * moves by o[h, mid], each gap between neighbouring quantiles is the front's
 * gap times exp(o[h, k]). The head is zero-initialised, so an untrained
 * model forecasts exactly what the smoothing front does, and every quantile
 * set is monotone by construction.
 */
enum {
	SSM_MAX_Q = 9,
	SSM_MAX_LAYERS = 8,
	SSM_MAX_H = 512,
	SSM_TENSOR_NAME_MAX = 32,
	SSM_MODEL_NFEAT = 16, /* encoder inputs, see model_step.c */
};

enum ssm_layer_kind {
	SSM_LAYER_S4D = 1,
	SSM_LAYER_MAMBA = 2,
	SSM_LAYER_HIPPO = 3,
};

typedef struct ssm_layer_spec {
	int kind;    /* enum ssm_layer_kind */
	int n_state; /* S4D modes per channel, Mamba d_state, HiPPO order */
	int expand;  /* Mamba: d_inner = expand * d_model; else 0 */
	int d_conv;  /* Mamba: causal conv width; else 0 */
} ssm_layer_spec;

typedef struct ssm_model_arch {
	int horizon;		    /* H, 1..SSM_MAX_H */
	int nquantiles;		    /* Q, odd, 3..SSM_MAX_Q */
	float quantiles[SSM_MAX_Q]; /* strictly increasing in (0, 1), the
				       middle one 0.5 */
	int d_model;		    /* width of the residual stream, 1..1024 */
	int nlayers;		    /* 0..SSM_MAX_LAYERS */
	ssm_layer_spec layer[SSM_MAX_LAYERS];
	int max_period; /* longest seasonal period the smoothing front keeps
			   (1..SSM_SMOOTH_MAX_PERIOD); a series with a longer
			   one is smoothed without season. Sizes the state. */
	int gate;	/* 1: per series, blend the network's quantiles
			   with the front's by their recent one-step errors
			   (inverse squared error weights); 0: network only */
} ssm_model_arch;

/* How the optimizer treats a tensor. */
enum ssm_tensor_group {
	SSM_TG_WEIGHT = 0,   /* matrices: weight decay applies */
	SSM_TG_BIAS = 1,     /* biases, norm gains: no decay */
	SSM_TG_DYNAMICS = 2, /* SSM dynamics (A, dt): no decay, own lr */
};

/* A named parameter tensor; data points into the model's weights. */
typedef struct ssm_tensor {
	char name[SSM_TENSOR_NAME_MAX];
	int ndim;     /* 1..4 */
	int shape[4]; /* row-major */
	size_t n;     /* product of shape */
	int group;    /* enum ssm_tensor_group */
	float *data;
} ssm_tensor;

/* The default architecture (what ssm_model_new_default builds). */
void ssm_model_default_arch(ssm_model_arch *a);
/* Checks an architecture: 0 or SSM_ESHAPE / SSM_EINVAL. */
int ssm_model_arch_check(const ssm_model_arch *a);
/*
 * Build a model of architecture a with every weight zero (a loader then
 * fills the tensors and calls ssm_model_refresh). *out owned by the caller,
 * released with ssm_model_free.
 */
int ssm_model_new(ssm_model **out, const ssm_model_arch *a);
/* Random initialisation from seed; the head stays zero (see above). */
int ssm_model_init_weights(ssm_model *m, uint64_t seed);
/* ssm_model_new(default arch) + ssm_model_init_weights(seed). */
int ssm_model_new_default(ssm_model **out, uint64_t seed);

const ssm_model_arch *ssm_model_get_arch(const ssm_model *m);
int ssm_model_ntensors(const ssm_model *m);
/* Tensor i (0 <= i < ntensors); NULL when out of range. */
const ssm_tensor *ssm_model_tensor(const ssm_model *m, int i);
/* The tensor called name, or NULL. */
const ssm_tensor *ssm_model_tensor_by_name(const ssm_model *m,
					   const char *name);
/*
 * After writing weights through ssm_tensor.data: checks every weight is
 * finite (SSM_ENONFINITE otherwise), recomputes derived quantities
 * (discretizations) and the hash. Not thread-safe against concurrent steps.
 */
int ssm_model_refresh(ssm_model *m);

/* Switch the per-series gate (ssm_model_arch.gate) of a loaded model, for
 * ablations; changes the hash. 0 or SSM_EINVAL. */
int ssm_model_set_gate(ssm_model *m, int on);

/*
 * The forecast the last step of this state made, from the state alone:
 * out->q, out->mean and out->anomaly to the bit what that step wrote into
 * its out (a step may pass out = NULL and leave the forecast to this, for
 * when someone reads it), out->t the state's last sample time. State and
 * model are only read (no workspace; about 120 KiB of stack). Valid until
 * the state's next step. SSM_OK; SSM_EINVAL (q and mean NaN, anomaly 0)
 * for a state that has no forecast: never stepped, or reset by its last
 * step (whose out was NaN as well).
 */
int ssm_model_forecast(const ssm_model *m, const float *state,
		       ssm_forecast *out);

/*
 * The Q quantiles at horizon 1 of the forecast the last step of this
 * state made (its out->q[0..Q), to the bit): what the next sample is
 * scored against. A view into state; NULL when the state has no forecast
 * (as ssm_model_forecast: never stepped, or reset, whose out was NaN).
 */
const float *ssm_model_next_quantiles(const ssm_model *m, const float *state);

/* One series, one sample: ssm_model_step_batch with B = 1. */
int ssm_model_step(const ssm_model *m, float *state, const ssm_sample *in,
		   ssm_forecast *out, void *ws);

void ssm_model_free(ssm_model *m);

#endif
