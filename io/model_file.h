/*
 * io/model_file.h: the statecast model file (architecture + weights).
 *
 * Format (msgpack, all of it):
 *   [ "statecast-model", version, checksum, body ]
 * version is an unsigned integer (IO_MODEL_VERSION), checksum an unsigned
 * 64-bit FNV-1a hash of body's bytes, body a bin holding one msgpack map:
 *   { "arch": { "horizon": H, "max_period": p, "gate": 0|1,
 *               "quantiles": [f, ...],
 *               "d_model": d,
 *               "layers": [ { "kind": "s4d"|"mamba"|"hippo",
 *                             "n_state": n, "expand": e, "d_conv": c }, ...] },
 *     "tensors": [ [ name, [dim, ...], bin(float32 little-endian) ], ... ] }
 * Every tensor the architecture implies must appear exactly once with
 * exactly its shape; nothing else may appear. The checksum guards against
 * corruption, not against an adversary.
 *
 * Errors are 0 or a negative IO_MF_E* code; io_model_strerror() names it,
 * and the optional msg buffer receives a sentence naming the culprit (which
 * tensor, which shape, which version).
 */
#ifndef STATECAST_IO_MODEL_FILE_H
#define STATECAST_IO_MODEL_FILE_H

#include <stddef.h>

#include "ssm/model.h"

#define IO_MODEL_MAGIC "statecast-model"
enum { IO_MODEL_VERSION = 1 };

enum {
	IO_MF_EIO = -100,	 /* cannot open, read or write the file */
	IO_MF_ETRUNC = -101,	 /* the file ends before its content does */
	IO_MF_EMAGIC = -102,	 /* not a statecast model file */
	IO_MF_EVERSION = -103,	 /* a format version this build cannot read */
	IO_MF_ECHECKSUM = -104,	 /* the body does not match its checksum */
	IO_MF_EFORMAT = -105,	 /* well-formed msgpack, wrong structure */
	IO_MF_ESHAPE = -106,	 /* tensor missing, extra, or of wrong shape */
	IO_MF_ENONFINITE = -107, /* a weight is NaN or infinite */
	IO_MF_ENOMEM = -108,
	IO_MF_EARCH = -109, /* the architecture itself is invalid */
};

const char *io_model_strerror(int err);

/*
 * Load a model from path (or from len bytes at buf). On success *out is a
 * new model owned by the caller (ssm_model_free). msg (may be NULL) gets a
 * NUL-terminated description of the error, truncated to msglen.
 */
int io_model_load(const char *path, ssm_model **out, char *msg, size_t msglen);
int io_model_load_mem(const void *buf, size_t len, ssm_model **out, char *msg,
		      size_t msglen);

/*
 * Save m to path, atomically (written to path.tmp, fsynced, renamed).
 * Refuses a model with a non-finite weight (IO_MF_ENONFINITE).
 */
int io_model_save(const ssm_model *m, const char *path);
/* Encode m into a malloc'd buffer *buf of *len bytes (caller frees). */
int io_model_save_mem(const ssm_model *m, void **buf, size_t *len);

/*
 * For tests of the malformed cases only: encode m's tensors under the
 * architecture arch and the given version, without any check.
 */
int io__model_encode(const ssm_model *m, const ssm_model_arch *arch,
		     unsigned version, void **buf, size_t *len);

#endif
