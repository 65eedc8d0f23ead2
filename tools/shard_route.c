/*
 * tools/shard_route.c: see shard_route.h. The series argument is found
 * from the command's usage string ("push NAME VALUE [T]": the first
 * positional), so each command states once, in its usage, which argument
 * is the series, and needs no routing code of its own.
 */
#include "tools/shard_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/shard.h"
#include "tools/cmd.h"

/* Index among the positional arguments of NAME in usage, or -1. */
static int name_index(const char *usage)
{
	const char *p = strchr(usage, ' ');
	int idx = 0;

	while (p && *p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 4 && strncmp(p, "NAME", 4) == 0)
			return idx;
		if (n == 0 || *p == '[' || *p == '-')
			return -1; /* options start: no NAME before them */
		idx++;
		p += n;
	}
	return -1;
}

int client_shard_route(client_opts *o, int argc, char **argv, const char *usage)
{
	static char where[300];
	const char *file = getenv(CMD_SHARDS_ENV);
	const io_shard *s;
	io_shard_map m;
	char err[512];
	int idx, r;

	if (!file || !*file || !strstr(usage, "--rpc"))
		return 0; /* no shards, or an offline command */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--rpc") == 0 ||
		    strcmp(argv[i], "--socket") == 0)
			return 0; /* an explicit daemon wins */
	idx = name_index(usage);
	if (idx < 0) {
		fprintf(stderr,
			"statecast: '%.*s' spans every shard; run it per "
			"daemon with --rpc (`statecast --shards FILE shard` "
			"names each series' daemon)\n",
			(int)strcspn(usage, " "), usage);
		return 2;
	}
	if (idx >= o->npos)
		return 0; /* the usage check reports the missing NAME */
	r = io_shard_map_load(&m, file, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "statecast: %s\n", err);
		return 2;
	}
	s = &m.shards[io_shard_owner(&m, o->pos[idx], strlen(o->pos[idx]))];
	io_shard_rpc_addr(s, where, sizeof where);
	io_shard_map_release(&m);
	o->rpc = where;
	o->socket = NULL;
	return 0;
}
