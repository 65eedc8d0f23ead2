/*
 * config/cfg.c: loading settings: defaults, INI files through libinih,
 * -o overrides, checks across settings, and `--check-config`.
 *
 * Line numbers: the libinih in Debian calls its handler without a line
 * number, so we feed it through our own reader (ini_parse_stream), which
 * counts lines and pre-checks each one's shape. That way every bad line is
 * reported with file:line (libinih alone reports only the first), and a
 * line too long for libinih's buffer is refused instead of being cut.
 */
#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_int.h"

#define LINE_MAX_BYTES 4000 /* longest config line (libinih buffer 4096) */

const char *cfg_strerror(int err)
{
	switch (err) {
	case CFG_OK:
		return "ok";
	case CFG_EINVAL:
		return "invalid configuration";
	case CFG_EIO:
		return "cannot read the configuration file";
	case CFG_ENOMEM:
		return "out of memory";
	}
	return "unknown error";
}

static void free_series(cfg_series *s)
{
	free(s->pattern);
	free(s->model);
}

void cfg_release(cfg *c)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);

	for (i = 0; i < n; i++)
		if (e[i].type == CFG_STR)
			free(*(char **)((char *)c + e[i].off));
	for (i = 0; i < c->nseries; i++)
		free_series(&c->series[i]);
	free(c->series);
	memset(c, 0, sizeof(*c));
}

int cfg_init(cfg *c)
{
	size_t i, n;
	const cfg_entry *e = cfg_entries(&n);

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		int r = cfg__set_field(c, &e[i], e[i].def, "defaults", 0, NULL,
				       NULL);
		if (r) {
			cfg_release(c);
			return r;
		}
	}
	return CFG_OK;
}

typedef struct load {
	cfg *c;
	const char *file;
	int line;
	int errors;
	int nomem;
	cfg_report_fn report;
	void *ctx;
	const char *text; /* string source, or NULL */
	FILE *f;	  /* file source */
} load;

/* Find or append the [series "pat"] block. */
static cfg_series *series_block(cfg *c, const char *pat)
{
	cfg_series *s;
	size_t i;

	for (i = 0; i < c->nseries; i++)
		if (strcmp(c->series[i].pattern, pat) == 0)
			return &c->series[i];
	s = realloc(c->series, (c->nseries + 1) * sizeof(*s));
	if (!s)
		return NULL;
	c->series = s;
	s = &c->series[c->nseries];
	memset(s, 0, sizeof(*s));
	s->pattern = strdup(pat);
	s->model = strdup("");
	if (!s->pattern || !s->model) {
		free_series(s);
		return NULL;
	}
	c->nseries++;
	return s;
}

/* `series "GLOB"` -> GLOB in out; 0, or -1 if section is not that shape. */
static int series_pattern(const char *section, char *out, size_t cap)
{
	size_t n;

	if (strncmp(section, "series", 6) != 0 ||
	    (section[6] != ' ' && section[6] != '\0'))
		return 1; /* not a series section */
	section += 6;
	while (*section == ' ')
		section++;
	n = strlen(section);
	if (n < 3 || section[0] != '"' || section[n - 1] != '"' || n - 2 >= cap)
		return -1;
	memcpy(out, section + 1, n - 2);
	out[n - 2] = '\0';
	return 0;
}

static int set_series_key(load *l, const char *pat, const char *key,
			  const char *value)
{
	size_t i, n;
	const cfg_entry *e = cfg_series_entries(&n);
	cfg_series *s;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].name, key) == 0)
			break;
	if (i == n) {
		cfg__report(l->report, l->ctx, l->file, l->line,
			    "[series \"%s\"]: unknown key \"%s\" (expected "
			    "period, step, horizon, model or retention)",
			    pat, key);
		return CFG_EINVAL;
	}
	s = series_block(l->c, pat);
	if (!s)
		return CFG_ENOMEM;
	if (cfg__set_field(s, &e[i], value, l->file, l->line, l->report,
			   l->ctx))
		return CFG_EINVAL;
	s->set |= 1u << i;
	return CFG_OK;
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	load *l = user;
	char name[300], pat[256];
	const cfg_entry *e;
	int r, sp = series_pattern(section, pat, sizeof(pat));

	if (sp < 0) {
		cfg__report(l->report, l->ctx, l->file, l->line,
			    "[%s]: expected [series \"GLOB\"]", section);
		r = CFG_EINVAL;
	} else if (sp == 0) {
		r = set_series_key(l, pat, key, value);
	} else {
		if (*section)
			snprintf(name, sizeof(name), "%s.%s", section, key);
		else
			snprintf(name, sizeof(name), "%s", key);
		e = cfg_find(name);
		if (!e) {
			cfg__report(l->report, l->ctx, l->file, l->line,
				    "unknown setting \"%s\" (see "
				    "docs/CONFIG.md)",
				    name);
			r = CFG_EINVAL;
		} else {
			r = cfg__set_field(l->c, e, value, l->file, l->line,
					   l->report, l->ctx);
		}
	}
	if (r == CFG_ENOMEM)
		l->nomem = 1;
	else if (r)
		l->errors++;
	return 1; /* keep going: every problem gets reported */
}

/* Whether a line has a shape libinih accepts; reports it if not. */
static int line_ok(load *l, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || *s == '#' || *s == ';')
		return 1;
	if (*s == '[') {
		if (memchr(s, ']', n))
			return 1;
		cfg__report(l->report, l->ctx, l->file, l->line,
			    "expected \"]\" to close the section name");
		return 0;
	}
	if (memchr(s, '=', n) || memchr(s, ':', n)) {
		if (*s != '=' && *s != ':')
			return 1;
		cfg__report(l->report, l->ctx, l->file, l->line,
			    "expected a setting name before \"=\"");
		return 0;
	}
	cfg__report(l->report, l->ctx, l->file, l->line,
		    "expected \"name = value\" or \"[section]\"");
	return 0;
}

/* ini_reader: one whole line per call, so l->line is the current line. */
static char *reader(char *str, int num, void *stream)
{
	load *l = stream;
	size_t n;

	if (l->text) {
		const char *nl;
		if (!*l->text)
			return NULL;
		nl = strchr(l->text, '\n');
		n = nl ? (size_t)(nl - l->text) : strlen(l->text);
		l->line++;
		if (n + 2 > (size_t)num || n > LINE_MAX_BYTES) {
			cfg__report(l->report, l->ctx, l->file, l->line,
				    "line longer than %d bytes",
				    LINE_MAX_BYTES);
			l->errors++;
			n = 0;
		} else if (!line_ok(l, l->text, n)) {
			l->errors++;
			n = 0;
		} else {
			memcpy(str, l->text, n);
		}
		l->text += (nl ? (size_t)(nl - l->text) + 1 : strlen(l->text));
	} else {
		int ch, over = 0;
		n = 0;
		ch = getc(l->f);
		if (ch == EOF)
			return NULL;
		l->line++;
		for (; ch != EOF && ch != '\n'; ch = getc(l->f)) {
			if (n + 2 < (size_t)num && n < LINE_MAX_BYTES)
				str[n++] = (char)ch;
			else
				over = 1;
		}
		if (over) {
			cfg__report(l->report, l->ctx, l->file, l->line,
				    "line longer than %d bytes",
				    LINE_MAX_BYTES);
			l->errors++;
			n = 0;
		} else if (!line_ok(l, str, n)) {
			l->errors++;
			n = 0;
		}
	}
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int run(load *l)
{
	int r;

	/* Process-wide libinih knobs: whole lines up to 4096 bytes, no
	   continuation lines (an indented line would silently extend the
	   previous value), `;` and `#` comments. */
	ini_use_stack = 0;
	ini_allow_realloc = 0;
	ini_max_line = 4096;
	ini_initial_alloc = 4096;
	ini_allow_multiline = 0;
	ini_stop_on_first_error = 0;
	r = ini_parse_stream(reader, l, handler, l);
	if (r == -2 || l->nomem)
		return CFG_ENOMEM;
	if (r > 0 && l->errors == 0) {
		/* A line libinih refused that our pre-check let through. */
		cfg__report(l->report, l->ctx, l->file, r,
			    "expected \"name = value\" or \"[section]\"");
		l->errors++;
	}
	return l->errors ? CFG_EINVAL : CFG_OK;
}

int cfg_load_string(cfg *c, const char *text, const char *name,
		    cfg_report_fn report, void *ctx)
{
	load l;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.file = name;
	l.report = report;
	l.ctx = ctx;
	l.text = text;
	return run(&l);
}

int cfg_load_file(cfg *c, const char *path, cfg_report_fn report, void *ctx)
{
	load l;
	int r;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.file = path;
	l.report = report;
	l.ctx = ctx;
	l.f = fopen(path, "r");
	if (!l.f) {
		cfg__report(report, ctx, path, 0, "cannot open: %s",
			    strerror(errno));
		return CFG_EIO;
	}
	r = run(&l);
	if (ferror(l.f)) {
		cfg__report(report, ctx, path, l.line, "read error");
		r = CFG_EIO;
	}
	fclose(l.f);
	return r;
}

int cfg_set(cfg *c, const char *name, const char *value, cfg_report_fn report,
	    void *ctx)
{
	const cfg_entry *e = cfg_find(name);
	char pat[256];
	const char *dot;

	if (e)
		return cfg__set_field(c, e, value, "-o", 0, report, ctx);
	/* series "GLOB".key */
	dot = strrchr(name, '.');
	if (dot && series_pattern(name, pat, sizeof(pat)) != 1 &&
	    (size_t)(dot - name) < sizeof(pat)) {
		char sec[256];
		load l;
		memset(&l, 0, sizeof(l));
		l.c = c;
		l.file = "-o";
		l.report = report;
		l.ctx = ctx;
		memcpy(sec, name, (size_t)(dot - name));
		sec[dot - name] = '\0';
		handler(&l, sec, dot + 1, value);
		return l.nomem ? CFG_ENOMEM : l.errors ? CFG_EINVAL : CFG_OK;
	}
	cfg__report(report, ctx, "-o", 0,
		    "unknown setting \"%s\" (see docs/CONFIG.md)", name);
	return CFG_EINVAL;
}

int cfg_override(cfg *c, const char *kv, cfg_report_fn report, void *ctx)
{
	const char *eq = strchr(kv, '=');
	char name[512];
	size_t n;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name)) {
		cfg__report(report, ctx, "-o", 0,
			    "expected section.key=value, got \"%s\"", kv);
		return CFG_EINVAL;
	}
	n = (size_t)(eq - kv);
	memcpy(name, kv, n);
	while (n && name[n - 1] == ' ')
		n--;
	name[n] = '\0';
	eq++;
	while (*eq == ' ')
		eq++;
	return cfg_set(c, name, eq, report, ctx);
}

int cfg_addr_is_loopback(const cfg_addr *a)
{
	return strncmp(a->host, "127.", 4) == 0 ||
	       strcmp(a->host, "::1") == 0 || strcmp(a->host, "localhost") == 0;
}

int cfg_validate(const cfg *c, cfg_report_fn report, void *ctx)
{
	int bad = 0;

	if (c->listen.rpc.enabled && !cfg_addr_is_loopback(&c->listen.rpc) &&
	    (!c->rpc.token || !*c->rpc.token)) {
		cfg__report(report, ctx, "listen.rpc", 0,
			    "binding msgpack-RPC to %s (not loopback) lets "
			    "anyone on the network query and push; set "
			    "rpc.token, or bind 127.0.0.1",
			    c->listen.rpc.host);
		bad = 1;
	}
	if (c->limits.max_name > c->limits.max_line) {
		cfg__report(report, ctx, "limits.max_name", 0,
			    "expected at most limits.max_line (%zu), got %zu",
			    c->limits.max_line, c->limits.max_name);
		bad = 1;
	}
	return bad ? CFG_EINVAL : CFG_OK;
}

int cfg_load(cfg *c, const char *path, const char *const *overrides,
	     int noverrides, cfg_report_fn report, void *ctx)
{
	int r, bad = 0, i;

	r = cfg_init(c);
	if (r)
		return r;
	if (path) {
		r = cfg_load_file(c, path, report, ctx);
		if (r == CFG_EIO || r == CFG_ENOMEM)
			goto fail;
		bad |= r != CFG_OK;
	}
	for (i = 0; i < noverrides; i++) {
		r = cfg_override(c, overrides[i], report, ctx);
		if (r == CFG_ENOMEM)
			goto fail;
		bad |= r != CFG_OK;
	}
	if (!bad && cfg_validate(c, report, ctx))
		bad = 1;
	if (!bad)
		return CFG_OK;
	r = CFG_EINVAL;
fail:
	cfg_release(c);
	return r;
}

static void report_to_file(void *ctx, const char *file, int line,
			   const char *msg)
{
	if (line > 0)
		fprintf(ctx, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(ctx, "%s: %s\n", file, msg);
}

int cfg_check(const char *path, const char *const *overrides, int noverrides,
	      FILE *out)
{
	cfg c;
	int r = cfg_load(&c, path, overrides, noverrides, report_to_file, out);

	if (r)
		return 1;
	cfg_release(&c);
	fprintf(out, "configuration OK\n");
	return 0;
}

const cfg_series *cfg_series_match(const cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nseries; i++)
		if (fnmatch(c->series[i].pattern, name, 0) == 0)
			return &c->series[i];
	return NULL;
}
