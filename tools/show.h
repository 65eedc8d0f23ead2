/*
 * tools/show.h: human-readable output of the daemon's result maps, shared
 * by the query commands (--json prints the maps as they are instead).
 */
#ifndef STATECAST_TOOLS_SHOW_H
#define STATECAST_TOOLS_SHOW_H

#include <stdio.h>

#include "io/rpc.h"

/* A timestamp: ISO 8601 UTC when it looks like Unix time, else as is. */
void show_time(FILE *f, double t);
/* A `forecast` map as a table, one row per horizon. */
void show_forecast(FILE *f, const rpc_val *fc);
/* A flat map as "key: value" lines (nested values as JSON). */
void show_map(FILE *f, const rpc_val *map);

#endif
