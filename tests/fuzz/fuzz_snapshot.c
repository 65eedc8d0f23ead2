/*
 * tests/fuzz/fuzz_snapshot.c: libFuzzer target for the snapshot decoder
 * (io/snapshot.h). Invariants: an accepted blob's payload lies inside the
 * input; its state copies out; and a blob with the standard header size
 * re-encodes to exactly the same bytes (the CRC covers all of them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	io_snap s;
	float *state;
	unsigned char *again;
	size_t n;

	if (io_snap_decode(data, size, &s) != IO_SNAP_OK)
		return 0;
	n = (size_t)s.nfloats * sizeof(float);
	if (s.payload < data || s.payload + n > data + size)
		abort();
	state = malloc(n ? n : 1);
	io_snap_copy_state(&s, state);
	if (size == io_snap_size(s.nfloats)) {
		again = malloc(size);
		if (io_snap_encode(again, size, s.model_hash, s.seen, s.t,
				   state, s.nfloats, NULL) != (long)size ||
		    memcmp(again, data, size) != 0)
			abort();
		free(again);
	}
	free(state);
	return 0;
}
