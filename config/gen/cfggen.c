/*
 * config/gen/cfggen.c: writes the files derived from the settings table:
 * `cfggen conf` -> config/statecast.conf, `cfggen doc` -> docs/CONFIG.md.
 * Run by `make config-files`; tests/config/test_generated.c fails when the
 * checked-in files differ from what this prints.
 */
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "conf") == 0) {
		cfg_write_conf(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "doc") == 0) {
		cfg_write_doc(stdout);
		return 0;
	}
	fprintf(stderr, "usage: cfggen conf|doc\n");
	return 2;
}
