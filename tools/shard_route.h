/*
 * tools/shard_route.h: `statecast --shards FILE COMMAND ...` for the query
 * commands. With STATECAST_SHARDS set (main() sets it from --shards) and no
 * explicit --rpc/--socket, a command whose usage names a series (the
 * positional NAME) is sent to the daemon owning that series, as
 * carbon-c-relay's jump_fnv1a_ch places it (io/shard.h). Commands without
 * a NAME (list, stats, watch PATTERN) span every shard: they are refused
 * with a hint, because one daemon's answer would silently be partial.
 */
#ifndef STATECAST_TOOLS_SHARD_ROUTE_H
#define STATECAST_TOOLS_SHARD_ROUTE_H

#include "tools/client.h"

/*
 * Called by client_options() once the options are parsed. Returns 0 (o->rpc
 * possibly redirected to the owner's RPC address) or 2 after printing why
 * to stderr (unreadable shards file, command not routable).
 */
int client_shard_route(client_opts *o, int argc, char **argv,
		       const char *usage);

#endif
