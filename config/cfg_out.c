/*
 * config/cfg_out.c: everything printed from the settings table:
 * --print-config (current values, loadable back), the shipped
 * config/statecast.conf, docs/CONFIG.md, and the SIGHUP diff.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfg_int.h"

int cfg_format(const cfg *c, const cfg_entry *e, char *buf, size_t cap)
{
	return cfg__format_field(c, e, buf, cap);
}

/* "listen.rpc" -> section "listen" (len 6), key "rpc"; "user" -> "", key. */
static size_t section_of(const char *name, const char **key)
{
	const char *dot = strchr(name, '.');

	*key = dot ? dot + 1 : name;
	return dot ? (size_t)(dot - name) : 0;
}

/* Print "[section]" when e starts a new section (prev is the row before). */
static void section_header(FILE *f, const cfg_entry *prev, const cfg_entry *e,
			   const char *prefix)
{
	const char *k1, *k2;
	size_t n = section_of(e->name, &k2);

	if (n == 0)
		return;
	if (prev && section_of(prev->name, &k1) == n &&
	    strncmp(prev->name, e->name, n) == 0)
		return;
	fprintf(f, "\n%s[%.*s]\n", prefix, (int)n, e->name);
}

/*
 * "key = value", but "key =;..." when the value starts with ';': libinih
 * takes " ;" for an inline comment, "=;" not (found by fuzz_config).
 */
static const char *sep(const char *value)
{
	return value[0] == ';' ? " =" : " = ";
}

static void print_series(const cfg_series *s, FILE *f)
{
	size_t i, n;
	const cfg_entry *e = cfg_series_entries(&n);
	char buf[CFG__VALUE_BUF];

	fprintf(f, "\n[series \"%s\"]\n", s->pattern);
	for (i = 0; i < n; i++) {
		if (!(s->set & (1u << i)))
			continue;
		cfg__format_field(s, &e[i], buf, sizeof(buf));
		fprintf(f, "%s%s%s\n", e[i].name, sep(buf), buf);
	}
}

void cfg_print(const cfg *c, FILE *f)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);
	char buf[CFG__VALUE_BUF];
	const char *key;

	fprintf(f, "# statecastd effective configuration\n");
	for (i = 0; i < n; i++) {
		section_header(f, i ? &e[i - 1] : NULL, &e[i], "");
		section_of(e[i].name, &key);
		cfg_format(c, &e[i], buf, sizeof(buf));
		fprintf(f, "%s%s%s\n", key, sep(buf), buf);
	}
	for (i = 0; i < c->nseries; i++)
		print_series(&c->series[i], f);
}

static const char *type_name(cfg_type t)
{
	static const char *names[] = {"string",	  "address", "integer", "size",
				      "duration", "boolean", "choice"};
	return names[t];
}

/* One bound formatted the way values of e's type are written. */
static void fmt_bound(const cfg_entry *e, double v, char *buf, size_t cap)
{
	cfg_entry x = *e;
	union {
		int i;
		size_t z;
		double d;
	} u;

	x.off = 0;
	if (e->type == CFG_INT)
		u.i = (int)v;
	else if (e->type == CFG_SIZE)
		u.z = (size_t)v;
	else
		u.d = v;
	cfg__format_field(&u, &x, buf, cap);
}

/* "1 to 60000", "off|normal|full", or "" */
static void bounds(const cfg_entry *e, char *buf, size_t cap)
{
	char lo[40], hi[40];

	buf[0] = '\0';
	if (e->type == CFG_ENUM)
		snprintf(buf, cap, "%s", e->choices);
	if (e->type != CFG_INT && e->type != CFG_SIZE && e->type != CFG_SECS)
		return;
	fmt_bound(e, e->min, lo, sizeof(lo));
	fmt_bound(e, e->max, hi, sizeof(hi));
	snprintf(buf, cap, "%s to %s", lo, hi);
}

static void conf_entry(FILE *f, const cfg_entry *e, const char *key)
{
	char b[160];

	bounds(e, b, sizeof(b));
	fprintf(f, "\n# %s\n# %s%s%s; %s.\n#%s =%s%s\n", e->doc,
		type_name(e->type), *b ? ", " : "", b,
		e->reloadable ? "reloaded on SIGHUP" : "needs a restart", key,
		*e->def ? " " : "", e->def);
}

void cfg_write_conf(FILE *f)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);
	const char *key;

	fprintf(f,
		"# statecast.conf: statecastd settings.\n"
		"#\n"
		"# Generated from config/table.c by `make config-files`; "
		"do not edit by hand.\n"
		"# Every setting is shown commented out with its default. "
		"Sizes take K/M/G,\n"
		"# durations ms/s/m/h/d. Override one setting with "
		"`statecastd -o section.key=value`;\n"
		"# check a file with `statecastd --check-config -c FILE`.\n");
	for (i = 0; i < n; i++) {
		section_header(f, i ? &e[i - 1] : NULL, &e[i], "");
		section_of(e[i].name, &key);
		conf_entry(f, &e[i], key);
	}
	fprintf(f, "\n# Per-pattern settings: the first block whose glob "
		   "matches a series name\n"
		   "# (fnmatch, over the canonical name `path;k=v;...`) "
		   "applies to that series.\n"
		   "# Keys a block does not give take the global setting.\n"
		   "#\n# [series \"PATTERN\"]\n");
	e = cfg_series_entries(&n);
	for (i = 0; i < n; i++)
		fprintf(f, "# %s = ...   # %s (default: %s)\n", e[i].name,
			e[i].doc, e[i].def);
}

/* Bounds for a markdown cell: '|' would end the cell. */
static void doc_bounds(const cfg_entry *e, char *b, size_t cap)
{
	char *p;

	bounds(e, b, cap);
	for (p = b; *p; p++)
		if (*p == '|')
			*p = '/';
}

static void doc_row(FILE *f, const cfg_entry *e)
{
	char b[160];

	doc_bounds(e, b, sizeof(b));
	fprintf(f, "| `%s` | %s | `%s` | %s | %s | %s |\n", e->name,
		type_name(e->type), *e->def ? e->def : "\"\"", *b ? b : "",
		e->reloadable ? "yes" : "no", e->doc);
}

void cfg_write_doc(FILE *f)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);

	fprintf(f, "# Configuration\n\n"
		   "Generated from `config/table.c` by `make config-files` "
		   "(a test fails when this page\nis stale). The shipped "
		   "`config/statecast.conf` and `statecastd --print-config`\n"
		   "come from the same table.\n\n"
		   "statecastd reads an INI file (`-c FILE`): `name = value` "
		   "lines under `[section]`\nheadings, comments starting with "
		   "`#` or `;`. A setting is named `section.key`\n(`user` "
		   "stands before any section). `-o section.key=value` "
		   "overrides one setting\nfrom the command line, after the "
		   "file. `statecastd --check-config -c FILE`\nprints "
		   "`configuration OK` or every problem as `file:line: "
		   "what was expected`.\n\n"
		   "Values: sizes in bytes with an optional `K`, `M`, `G` "
		   "suffix (powers of 1024);\ndurations in seconds with an "
		   "optional `ms`, `s`, `m`, `h`, `d` suffix; booleans\n"
		   "`true`/`false`/`yes`/`no`/`on`/`off`; addresses "
		   "`host:port` or `[v6]:port`, port 0\npicks a free port "
		   "(the daemon logs it), an empty value turns the listener "
		   "off.\n\n"
		   "Reload: on SIGHUP the daemon re-reads the file and "
		   "applies the settings marked\n\"yes\" below; it reports "
		   "every other change as needing a restart.\n\n"
		   "| setting | type | default | range | SIGHUP | meaning |\n"
		   "|---|---|---|---|---|---|\n");
	for (i = 0; i < n; i++)
		doc_row(f, &e[i]);
	fprintf(f, "\n## Per-pattern blocks\n\n"
		   "`[series \"GLOB\"]` blocks set these keys for the series "
		   "whose canonical name\n(`path;k=v;...`, tags sorted) "
		   "matches the glob (fnmatch); the first matching\nblock "
		   "in file order wins. A key a block does not give takes "
		   "the global setting\nshown as its default. Blocks apply "
		   "when a series is created; changing them needs\na "
		   "restart.\n\n"
		   "```\n[series \"web.*.latency\"]\nperiod = 1440\n"
		   "step = 1m\n```\n\n"
		   "| key | type | default | range | meaning |\n"
		   "|---|---|---|---|---|\n");
	e = cfg_series_entries(&n);
	for (i = 0; i < n; i++) {
		char b[160];
		bounds(&e[i], b, sizeof(b));
		fprintf(f, "| `%s` | %s | %s | %s | %s |\n", e[i].name,
			type_name(e[i].type), e[i].def, b, e[i].doc);
	}
	fprintf(
	    f,
	    "\n## Stored forecast history (`store.forecast_every_s`)\n\n"
	    "Every refresh of a series' forecast is served (`forecast`, "
	    "`info`, /metrics)\nand pushed to subscribers. The database "
	    "keeps a coarser history of them, for\nscoring past forecasts "
	    "against the samples that came: the first forecast of a\n"
	    "series, then the first whose origin is at least "
	    "`store.forecast_every_s` of\nseries time after the last one "
	    "stored. The spacing goes on across restarts\n(the last stored "
	    "origin is read back) and a SIGHUP applies a new value from\n"
	    "each series' next refresh.\n\n"
	    "Why 5 minutes: at a 60 s step, forecasts made 60 s apart for 48 "
	    "horizons share\n47 of their 48 target times, so storing each "
	    "one repeats almost everything;\none every 5 minutes still "
	    "scores every horizon. A stored forecast is one row\nof about "
	    "600 bytes on disk (3 levels x 48 horizons, float32; the 48 "
	    "means are\nthe middle level's, not stored twice since schema "
	    "6), appended in commit order\n(schema 5): `60s` at a 60 s step "
	    "(every refresh) costs over 1 MiB per series\nper day and most "
	    "of the store's writes (bench/results/fcstore.md,\n"
	    "thr6-split.md); `5m`, a fifth of that. 0 stores none.\n");
}

int cfg_diff(const cfg *old_c, const cfg *new_c, cfg_diff_fn fn, void *ctx)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);
	char a[CFG__VALUE_BUF], b[CFG__VALUE_BUF];
	int restart = 0;

	for (i = 0; i < n; i++) {
		cfg_format(old_c, &e[i], a, sizeof(a));
		cfg_format(new_c, &e[i], b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (fn)
			fn(ctx, e[i].name, a, b, e[i].reloadable);
		restart += !e[i].reloadable;
	}
	/* [series] blocks: compared as their printed text. */
	{
		char *ta = NULL, *tb = NULL;
		size_t la = 0, lb = 0;
		FILE *fa = open_memstream(&ta, &la);
		FILE *fb = open_memstream(&tb, &lb);
		if (fa && fb) {
			for (i = 0; i < old_c->nseries; i++)
				print_series(&old_c->series[i], fa);
			for (i = 0; i < new_c->nseries; i++)
				print_series(&new_c->series[i], fb);
		}
		if (fa)
			fclose(fa);
		if (fb)
			fclose(fb);
		if (ta && tb && strcmp(ta, tb) != 0) {
			if (fn)
				fn(ctx, "series", "(blocks)", "(changed)", 0);
			restart++;
		}
		free(ta);
		free(tb);
	}
	return restart;
}
