/*
 * tools/cmd_shard.c: `statecast --shards FILE shard [NAME...]` prints which
 * shard owns each series (names from the arguments, or one per line on
 * stdin), computed as carbon-c-relay's jump_fnv1a_ch cluster places it (see
 * io/shard.h). Output: NAME <tab> SHARD <tab> RPC-HOST:PORT, one per line,
 * so that scripts can move or query series shard by shard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/shard.h"
#include "tools/cmd.h"

static void print_owner(const io_shard_map *m, const char *name, size_t len)
{
	const io_shard *s = &m->shards[io_shard_owner(m, name, len)];
	char where[300];

	io_shard_rpc_addr(s, where, sizeof where);
	printf("%.*s\t%s\t%s\n", (int)len, name, s->name, where);
}

int cmd_shard(int argc, char **argv); /* listed in tools/main.c */

int cmd_shard(int argc, char **argv)
{
	const char *file = getenv(CMD_SHARDS_ENV);
	io_shard_map m;
	char err[512];
	int r;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: statecast --shards FILE shard [NAME...]\n"
		       "Prints NAME, the owning shard and its RPC address "
		       "for each series\n(names from stdin when none are "
		       "given), placed as carbon-c-relay's\njump_fnv1a_ch "
		       "cluster places them.\n");
		return 0;
	}
	if (!file || !*file) {
		fprintf(stderr, "statecast shard: no shards file (use "
				"--shards FILE or set " CMD_SHARDS_ENV ")\n");
		return 2;
	}
	r = io_shard_map_load(&m, file, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "statecast: %s\n", err);
		return 1;
	}
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			print_owner(&m, argv[i], strlen(argv[i]));
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) > 0) {
			while (n > 0 &&
			       (line[n - 1] == '\n' || line[n - 1] == '\r'))
				n--;
			if (n > 0)
				print_owner(&m, line, (size_t)n);
		}
		free(line);
	}
	io_shard_map_release(&m);
	return fflush(stdout) == 0 ? 0 : 1;
}
