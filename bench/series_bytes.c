/*
 * bench/series_bytes.c: what the series registry (daemon/registry.c) holds
 * per started series, measured: N series named like loadgen's
 * ("bench.s<i>") are added and started with the default model, and the
 * process's resident set grows by so much per series. The same source
 * builds against main's tree (bench/restore.sh does it), so the two
 * registries are measured alike. Prints key=value pairs:
 *
 *   series_bytes MODEL N
 *
 *   state      bytes of one state block (ssm_model_state_floats() x 4)
 *   forecast   bytes of one last forecast (H x Q quantiles + H means, f32)
 *   struct     sizeof(srv_series)
 *   rss        resident bytes per series (registry, blocks, names, map)
 *   overhead   rss - state
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/registry.h"
#include "io/model_open.h"

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	ssm_model *m = NULL;
	srv_registry r;
	char msg[256], name[64];
	long n, i, before, after;
	int is_default = 0;
	size_t H, Q, state;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: series_bytes MODEL N\n");
		return 2;
	}
	if (io_model_open(argv[1], &m, &is_default, msg, sizeof msg)) {
		fprintf(stderr, "series_bytes: %s\n", msg);
		return 1;
	}
	H = (size_t)ssm_model_horizon(m);
	Q = (size_t)ssm_model_nquantiles(m);
	state = ssm_model_state_floats(m) * sizeof(float);
	if (srv_registry_init(&r, m, 0))
		return 1;
	before = rss_kib();
	for (i = 0; i < n; i++) {
		int len = snprintf(name, sizeof name, "bench.s%ld", i);
		srv_series *s = srv_registry_add(&r, name, (size_t)len, 1, 10);
		if (!s || srv_series_start(&r, s)) {
			fprintf(stderr, "series_bytes: out of memory at %ld\n",
				i);
			return 1;
		}
	}
	after = rss_kib();
	printf("state=%zu forecast=%zu struct=%zu rss=%.0f overhead=%.0f\n",
	       state, (H * Q + H) * sizeof(float), sizeof(srv_series),
	       (double)(after - before) * 1024.0 / (double)n,
	       (double)(after - before) * 1024.0 / (double)n - (double)state);
	srv_registry_release(&r);
	ssm_model_free(m);
	return 0;
}
