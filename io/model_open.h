/*
 * io/model_open.h: the one rule for which model a program runs with.
 *
 * statecastd and the statecast CLI (replay, and any command that steps a
 * model) must pick the same model for the same setting, or their forecasts
 * could not be compared bit for bit: the file at path when it exists, else
 * (the file is absent, and only then) the untrained default architecture
 * with weights from IO_MODEL_DEFAULT_SEED. A file that exists but does not
 * load is an error, never silently replaced.
 */
#ifndef STATECAST_IO_MODEL_OPEN_H
#define STATECAST_IO_MODEL_OPEN_H

#include <stddef.h>

#include "ssm/model.h"

#define IO_MODEL_DEFAULT_SEED 1

/*
 * *out receives a new model (ssm_model_free). *is_default is set to 1 when
 * the untrained default was built. Returns 0, or a negative IO_MF_E* /
 * SSM_E* code with a sentence in msg.
 */
int io_model_open(const char *path, ssm_model **out, int *is_default, char *msg,
		  size_t msglen);

#endif
