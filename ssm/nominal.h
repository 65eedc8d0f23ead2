/*
 * ssm/nominal.h: a series' nominal step, learned from its first samples.
 *
 * statecastd learns the step of a series it has no configured step for
 * from its first few timestamps, and `statecast replay` must learn the same
 * step from the same samples to reproduce the daemon's forecasts; this is
 * the one rule both use.
 */
#ifndef STATECAST_SSM_NOMINAL_H
#define STATECAST_SSM_NOMINAL_H

/* Samples the daemon waits for before fixing a learned step. */
#define SSM_LEARN_SAMPLES 4
/* Upper bound of n below. */
#define SSM_LEARN_MAX 16

/*
 * The nominal step (seconds) from n (2..SSM_LEARN_MAX) strictly increasing
 * timestamps: the lower median of the gaps, which ignores a minority of
 * missed samples and jitter, and is always one of the observed gaps.
 */
double ssm_nominal_step(const double *t, int n);

#endif
