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
/* A 64-bit hash of architecture and weights: snapshots record it. */
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
 * when no forecast is wanted this step: the state still advances). ws holds
 * ssm_model_workspace_bytes(m, B) bytes. Allocates nothing.
 * Returns the number of series whose state went non-finite and was reset
 * (their status[b] = SSM_ERESET; others SSM_OK; status may be NULL), or a
 * negative error for bad arguments.
 * Stepping B series together equals B single steps within 1e-6 relative.
 */
int ssm_model_step_batch(const ssm_model *m, int B, float *const *states,
			 const ssm_sample *in, ssm_forecast *out, int *status,
			 void *ws);

void ssm_model_free(ssm_model *m);

#endif
