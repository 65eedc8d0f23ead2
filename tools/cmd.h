/*
 * tools/cmd.h: the statecast CLI's subcommands.
 *
 * Each subcommand lives in its own file tools/cmd_NAME.c and exports
 * `int cmd_NAME(int argc, char **argv)` (argv[0] is the subcommand name),
 * returning the process exit status: 0 success, 1 failure, 2 usage error.
 * tools/main.c holds the table that maps names to these functions.
 */
#ifndef STATECAST_TOOLS_CMD_H
#define STATECAST_TOOLS_CMD_H

#define STATECAST_VERSION "0.1.0"

typedef struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for `statecast --help` */
} cmd_entry;

/*
 * `statecast --shards FILE COMMAND ...` (or STATECAST_SHARDS=FILE in the
 * environment): main() puts FILE into this environment variable, and every
 * command that addresses one series connects to the shard owning it
 * (io/shard.h) instead of the single default daemon.
 */
#define CMD_SHARDS_ENV "STATECAST_SHARDS"

#endif
