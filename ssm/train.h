/*
 * ssm/train.h: training a model in serving mode.
 *
 * A trainer owns B rows (B a multiple of 8), each streaming one series
 * through the model's own step recurrence (the same ssm__observe, front,
 * encoder, layers and head the daemon runs). One optimizer step consumes a
 * chunk of T samples per row: forward over the chunk with every activation
 * kept, pinball loss over all horizons and quantiles on targets normalised
 * by the front (u = (y[t+h] - point[h]) / scale), backward through time
 * within the chunk (truncated BPTT: the state carried into the chunk is a
 * constant), global-norm gradient clipping, AdamW with per-tensor learning
 * rate and decay (ssm_tensor.group: no decay on biases, gains and SSM
 * dynamics; dynamics get lr * lr_dyn), linear warm-up then cosine decay.
 * A row whose series ends waits for the chunk to end and then takes a new
 * series (from the data set, or from the synthetic generator).
 *
 * Determinism: everything random comes from one ssm_rng seeded by
 * cfg.seed, and every reduction has a fixed order, so a run is bit-for-bit
 * repeatable; every byte of the trainer's mutable state is reachable
 * through ssm_trainer_blob(), which is what a checkpoint saves.
 *
 * The trainer does not own the model; it updates the model's weights in
 * place and calls ssm_model_refresh() after each step.
 */
#ifndef STATECAST_SSM_TRAIN_H
#define STATECAST_SSM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/model.h"

typedef struct ssm_train_cfg {
	int batch;	    /* B rows, multiple of 8 */
	int chunk;	    /* T samples per row per step */
	int steps;	    /* total optimizer steps (for the schedule) */
	int warmup;	    /* linear warm-up steps */
	double lr;	    /* peak learning rate */
	double lr_min_frac; /* cosine floor as a fraction of lr */
	double lr_dyn;	    /* lr multiplier for SSM_TG_DYNAMICS */
	double wd;	    /* decoupled weight decay on SSM_TG_WEIGHT */
	double clip;	    /* global gradient-norm clip (0 = none) */
	int burn_in;	    /* no loss on a series' first burn_in samples */
	int min_len;	    /* synthetic series lengths, samples */
	int max_len;	    /* also the longest window taken from data */
	double p_data;	    /* probability a new series comes from data */
	uint64_t seed;
} ssm_train_cfg;

/* A training series (the trainer copies windows of it). */
typedef struct ssm_series {
	const double *y; /* [n], NaN = missing */
	int n;
	int period;
	double step_s;
	double t0;
} ssm_series;

typedef struct ssm_trainer ssm_trainer;

void ssm_train_default_cfg(ssm_train_cfg *c);

/*
 * data may be NULL/ndata 0 (synthetic only); it must outlive the trainer.
 * Returns 0 or SSM_EINVAL / SSM_ENOMEM.
 */
int ssm_trainer_new(ssm_trainer **out, ssm_model *m, const ssm_train_cfg *cfg,
		    const ssm_series *data, int ndata);
void ssm_trainer_free(ssm_trainer *tr);

/*
 * One optimizer step. *loss gets the chunk's mean pinball loss (normalised
 * units, averaged over quantiles), *gnorm the gradient norm before
 * clipping (either may be NULL). Returns 0, or SSM_ENONFINITE when the
 * loss or a gradient was not finite (the step is then skipped).
 */
int ssm_trainer_step(ssm_trainer *tr, double *loss, double *gnorm);
int ssm_trainer_steps_done(const ssm_trainer *tr);
/* The learning rate the schedule gives at step s. */
double ssm_trainer_lr(const ssm_trainer *tr, int s);

/*
 * The trainer's mutable state as named fixed-size blobs (Adam moments, step,
 * rng, rows' series windows, positions and model states). Sizes depend
 * only on the model and the config, so a checkpoint is the config, the
 * model, and these blobs. Returns 0, or SSM_EINVAL when i is out of range.
 */
int ssm_trainer_nblobs(const ssm_trainer *tr);
int ssm_trainer_blob(ssm_trainer *tr, int i, const char **name, void **data,
		     size_t *bytes);

/*
 * For the gradient check: the mean loss of one chunk and its gradient
 * (layout of the model's tensors, concatenated) without updating anything
 * nor advancing the rows. grad receives ssm_trainer_nparams() floats.
 */
size_t ssm_trainer_nparams(const ssm_trainer *tr);
int ssm_trainer_loss_grad(ssm_trainer *tr, double *loss, float *grad);

#endif
