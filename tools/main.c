/*
 * tools/main.c: the statecast CLI entry point: finds the subcommand in the
 * table below and runs it. Each group of entries is owned by the module that
 * implements it; keep one entry per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmd.h"

/* Declarations of the cmd_NAME functions, one per line. */
#include "tools/cmd_query.h" /* queries and ingest (daemon) */
int cmd_eval(int argc, char **argv);
int cmd_plot(int argc, char **argv); /* visual */
int cmd_shard(int argc, char **argv);
int cmd_train(int argc, char **argv);

static const cmd_entry commands[] = {
    /* queries and ingest (daemon) */
    {"forecast", cmd_forecast, "the latest forecast of a series"},
    {"list", cmd_list, "series matching a glob, with counts and last t"},
    {"info", cmd_info, "one series: step, period, counters, forecast"},
    {"watch", cmd_watch, "print pushed forecasts and anomalies"},
    {"push", cmd_push, "push one sample: NAME VALUE [T]"},
    {"send", cmd_send, "stream a CSV (t,value) into a series"},
    {"stats", cmd_stats, "the daemon's counters"},
    {"replay", cmd_replay, "step a CSV through the model offline"},

    /* visual */
    {"plot", cmd_plot, "draw history and forecast band to FILE.svg|png"},

    /* training and evaluation (model, accuracy) */
    {"eval", cmd_eval, "score forecasts by EVAL.md's rolling-origin protocol"},
    {"train", cmd_train, "train a model (synthetic series, EVAL.md data)"},

    /* operations (ops) */
    {"shard", cmd_shard, "which shard owns each series (--shards FILE)"},

    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	const cmd_entry *c;

	fprintf(f, "usage: statecast [--shards FILE] COMMAND [ARGS]\n\n"
		   "commands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nstatecast COMMAND --help describes each command.\n");
}

int main(int argc, char **argv)
{
	const cmd_entry *c;

	/* Global options, before the command. */
	while (argc > 2 && strcmp(argv[1], "--shards") == 0) {
		setenv(CMD_SHARDS_ENV, argv[2], 1);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("statecast %s\n", STATECAST_VERSION);
		return 0;
	}
	for (c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "statecast: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
