/*
 * io/model_open.c: the model file, or the untrained default when absent
 * (see model_open.h).
 */
#include "io/model_open.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "io/model_file.h"

int io_model_open(const char *path, ssm_model **out, int *is_default, char *msg,
		  size_t msglen)
{
	int rc;

	*is_default = 0;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		rc = ssm_model_new_default(out, IO_MODEL_DEFAULT_SEED);
		if (rc)
			snprintf(msg, msglen,
				 "cannot build the default model: %s",
				 ssm_strerror(rc));
		else
			*is_default = 1;
		return rc;
	}
	return io_model_load(path, out, msg, msglen);
}
