/*
 * tools/main.c: the statecast CLI entry point.
 *
 * Subcommands arrive with the issues that build them; until then the CLI
 * answers --help and --version and rejects anything else with a reason.
 */
#include <stdio.h>
#include <string.h>

#define STATECAST_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: statecast COMMAND [ARGS]\n"
		   "commands are not built yet in this tree\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("statecast %s\n", STATECAST_VERSION);
		return 0;
	}
	fprintf(stderr, "statecast: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
