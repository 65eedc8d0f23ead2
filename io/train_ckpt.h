/*
 * io/train_ckpt.h: training checkpoints (statecast train --checkpoint /
 * --resume).
 *
 * A checkpoint holds everything a trainer mutates, so a resumed run is
 * bit-for-bit the run that was interrupted:
 *   [ "statecast-ckpt", 1, cfg map, model file (bin, io/model_file.h),
 *     [ [blob name, bin], ... ] ]
 * The blobs are ssm_trainer_blob()'s, written in order and checked by name
 * and size on load. The data set a run trained on is not in the file: a
 * resume must be given the same --data again.
 *
 * Errors: 0 or an IO_MF_* code of io/model_file.h.
 */
#ifndef STATECAST_IO_TRAIN_CKPT_H
#define STATECAST_IO_TRAIN_CKPT_H

#include "ssm/train.h"

/* Writes tr's state, its config and model m to path, atomically. */
int io_ckpt_save(const char *path, ssm_trainer *tr, const ssm_model *m,
		 const ssm_train_cfg *cfg);

/*
 * Reads path: *m gets a new model (caller frees) and *cfg the config; then
 * the caller builds a trainer on them with its data and calls
 * io_ckpt_restore() to load the blobs. The file's bytes are kept in *blob
 * (free() it after io_ckpt_restore).
 */
int io_ckpt_load(const char *path, ssm_model **m, ssm_train_cfg *cfg,
		 void **blob, size_t *bloblen, char *msg, size_t msglen);
int io_ckpt_restore(const void *blob, size_t bloblen, ssm_trainer *tr,
		    char *msg, size_t msglen);

#endif
