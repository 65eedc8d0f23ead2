/*
 * tests/fuzz/fuzz_model.c: libFuzzer target for the model-file loader
 * (io/model_file.h, io_model_load_mem). Seeds are tiny valid models (no
 * layers; S4D + Mamba) and a container-count bomb in the header. A model
 * that loads must answer its architecture queries; libFuzzer's malloc limit
 * catches allocations driven by declared counts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "io/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssm_model *m = NULL;
	char msg[256];

	if (io_model_load_mem(data, size, &m, msg, sizeof(msg)) == 0) {
		if (ssm_model_horizon(m) < 1 || ssm_model_nquantiles(m) < 1 ||
		    ssm_model_state_floats(m) == 0)
			abort();
		ssm_model_free(m);
	}
	return 0;
}
