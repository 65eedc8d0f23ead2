/*
 * tests/fuzz/fuzz_config.c: libFuzzer target for the config parser (libinih
 * through our line reader, every value type, [series] blocks). Invariant:
 * whatever loads without error prints (--print-config) to a file that loads
 * back without error to the same settings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)file;
	(void)line;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *out = NULL;
	size_t olen = 0;
	cfg a, b;
	FILE *f;

	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_init(&a) == CFG_OK) {
		if (cfg_load_string(&a, text, "fuzz", quiet, NULL) == CFG_OK) {
			f = open_memstream(&out, &olen);
			cfg_print(&a, f);
			fclose(f);
			cfg_init(&b);
			if (cfg_load_string(&b, out, "printed", quiet, NULL) !=
				CFG_OK ||
			    cfg_diff(&a, &b, NULL, NULL) != 0)
				abort();
			cfg_release(&b);
			free(out);
		}
		cfg_release(&a);
	}
	free(text);
	return 0;
}
