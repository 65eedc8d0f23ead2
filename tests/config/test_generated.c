/*
 * tests/config/test_generated.c: the checked-in config/statecast.conf and
 * docs/CONFIG.md are exactly what the settings table produces (run `make
 * config-files` when this fails), and the shipped file loads cleanly.
 * Runs from the top of the tree, as tests/run.sh does.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "tests/harness.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) == (size_t)n) {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static void same(const char *path, void (*gen)(FILE *))
{
	char *want = NULL, *have;
	size_t wl = 0, hl;
	FILE *f = open_memstream(&want, &wl);

	gen(f);
	fclose(f);
	have = slurp(path, &hl);
	CHECK(have != NULL);
	if (have && (hl != wl || memcmp(have, want, wl) != 0))
		th_fail(__FILE__, __LINE__,
			"%s is stale: run `make config-files`", path);
	free(have);
	free(want);
}

static void test_conf_fresh(void)
{
	same("config/statecast.conf", cfg_write_conf);
}

static void test_doc_fresh(void)
{
	same("docs/CONFIG.md", cfg_write_doc);
}

static void test_conf_loads(void)
{
	cfg c;

	CHECK_EQ_INT(cfg_load(&c, "config/statecast.conf", NULL, 0, NULL, NULL),
		     CFG_OK);
	cfg_release(&c);
}

/* Uncommenting every default line gives a valid file with the defaults. */
static void test_conf_defaults_uncommented(void)
{
	size_t len, i, o = 0;
	char *t = slurp("config/statecast.conf", &len);
	char *u;
	cfg a, b;

	CHECK(t != NULL);
	if (!t)
		return;
	u = malloc(len + 1);
	for (i = 0; i < len; i++) {
		/* "#key = value" lines (no space after '#') are settings */
		if (t[i] == '#' && (i == 0 || t[i - 1] == '\n') &&
		    i + 1 < len && t[i + 1] != ' ' && t[i + 1] != '\n')
			continue;
		u[o++] = t[i];
	}
	u[o] = '\0';
	cfg_init(&a);
	cfg_init(&b);
	CHECK_EQ_INT(cfg_load_string(&a, u, "uncommented", NULL, NULL), CFG_OK);
	CHECK_EQ_INT(cfg_diff(&a, &b, NULL, NULL), 0);
	cfg_release(&a);
	cfg_release(&b);
	free(u);
	free(t);
}

int main(void)
{
	TH_RUN(test_conf_fresh);
	TH_RUN(test_doc_fresh);
	TH_RUN(test_conf_loads);
	TH_RUN(test_conf_defaults_uncommented);
	return th_summary();
}
