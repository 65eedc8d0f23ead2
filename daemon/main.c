/*
 * daemon/main.c: statecastd entry point.
 *
 * The daemon (issue 5) is not built yet: this program only answers --help and
 * --version and otherwise says so plainly, so that `make run` is honest.
 */
#include <stdio.h>
#include <string.h>

#define STATECAST_VERSION "0.1.0"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("statecastd %s\n", STATECAST_VERSION);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: statecastd [-c FILE] [-o key=value]...\n");
		return 0;
	}
	fprintf(stderr, "statecastd: the daemon is not built yet; "
			"this tree has only the foundation (see README.md)\n");
	return 1;
}
