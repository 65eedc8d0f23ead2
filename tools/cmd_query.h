/*
 * tools/cmd_query.h: the shape every simple query command shares:
 * connect, call one method, print its result map (--json: as JSON).
 */
#ifndef STATECAST_TOOLS_CMD_QUERY_H
#define STATECAST_TOOLS_CMD_QUERY_H

#include <stdio.h>

#include "tools/client.h"

/* The commands of the "queries and ingest" group (tools/main.c). */
int cmd_forecast(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_replay(int argc, char **argv);

typedef void (*query_put_fn)(rpc_buf *b, const client_opts *o);
typedef void (*query_show_fn)(FILE *f, const rpc_val *result);

/* Connects, sends `method` with the params put() writes (an empty map
 * when put is NULL), prints the result. Returns the exit status: 0, or 1
 * when the daemon is unreachable or answered with an error. */
int query_run(const client_opts *o, const char *method, query_put_fn put,
	      query_show_fn show);

/* put() for the commands whose one parameter is {"series": pos[0]}. */
void query_put_series(rpc_buf *b, const client_opts *o);

/* The common start of a command: options, then exactly npos positional
 * arguments (min..max). Returns 0 or the exit status to return. */
int query_args(int argc, char **argv, const char *usage, client_opts *o,
	       int min, int max);

#endif
