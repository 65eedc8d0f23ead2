/*
 * config/value.c: text <-> typed value for one setting (cfg_set,
 * cfg_format), shared by the file parser, -o overrides and the printers.
 * A value is parsed completely before the field is touched, so a refused
 * value leaves the previous one in place.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_int.h"

void cfg__report(cfg_report_fn report, void *ctx, const char *file, int line,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (report)
		report(ctx, file, line, msg);
	else if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

static int parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int parse_enum(const char *s, const char *choices, int *out)
{
	size_t n = strlen(s);
	const char *p = choices;
	int i = 0;

	while (*p) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, s, n) == 0) {
			*out = i;
			return 0;
		}
		i++;
		p += l + (e ? 1 : 0);
	}
	return -1;
}

/* A plain decimal number with an optional suffix from units[]. */
static int parse_scaled(const char *s, const char *const *units,
			const double *mult, int integral, double *out)
{
	char *end;
	double v;
	size_t i;

	if (!*s || isspace((unsigned char)*s) || *s == '+')
		return -1;
	errno = 0;
	v = integral ? (double)strtoll(s, &end, 10) : strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -1;
	if (!integral && (strchr(s, 'x') || strchr(s, 'X')))
		return -1; /* no hex floats */
	if (*end == '\0') {
		*out = v;
		return 0;
	}
	for (i = 0; units && units[i]; i++)
		if (strcasecmp(end, units[i]) == 0) {
			*out = v * mult[i];
			return 0;
		}
	return -1;
}

static int parse_addr(const char *s, cfg_addr *a)
{
	const char *colon;
	size_t hl;
	char *end;
	long port;

	memset(a, 0, sizeof(*a));
	if (*s == '\0')
		return 0;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(a->host) ||
	    !isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 0 || port > 65535)
		return -1;
	memcpy(a->host, s, hl);
	a->host[hl] = '\0';
	a->port = (int)port;
	a->enabled = 1;
	return 0;
}

static const char *expected(const cfg_entry *e, char *buf, size_t cap)
{
	switch (e->type) {
	case CFG_STR:
		snprintf(buf, cap, "a string of at most %d bytes",
			 CFG__STR_MAX);
		return buf;
	case CFG_ADDR:
		return "an address host:port or [v6addr]:port, port 0-65535, "
		       "or \"\" for off";
	case CFG_BOOL:
		return "true or false";
	case CFG_ENUM:
		snprintf(buf, cap, "one of %s", e->choices);
		return buf;
	case CFG_INT:
		snprintf(buf, cap, "an integer from %.0f to %.0f", e->min,
			 e->max);
		return buf;
	case CFG_SIZE:
		snprintf(buf, cap,
			 "a size in bytes from %.0f to %.0f (suffix K, M, G)",
			 e->min, e->max);
		return buf;
	case CFG_SECS:
		snprintf(buf, cap,
			 "a duration from %g to %g seconds (suffix ms, s, m, "
			 "h, d)",
			 e->min, e->max);
		return buf;
	}
	return "?";
}

int cfg__set_field(void *base, const cfg_entry *e, const char *value,
		   const char *file, int line, cfg_report_fn report, void *ctx)
{
	static const char *const size_u[] = {"K",   "M",   "G", "KiB",
					     "MiB", "GiB", NULL};
	static const double size_m[] = {1024.0, 1048576.0, 1073741824.0,
					1024.0, 1048576.0, 1073741824.0};
	static const char *const secs_u[] = {"ms", "s", "m", "h", "d", NULL};
	static const double secs_m[] = {0.001, 1, 60, 3600, 86400};
	char *field = (char *)base + e->off;
	char buf[160];
	double d = 0;
	int iv = 0, bad = 0;
	cfg_addr a;
	char *s;

	switch (e->type) {
	case CFG_STR:
		if (strlen(value) > CFG__STR_MAX) {
			bad = 1;
			break;
		}
		s = strdup(value);
		if (!s)
			return CFG_ENOMEM;
		free(*(char **)field);
		*(char **)field = s;
		return CFG_OK;
	case CFG_ADDR:
		bad = parse_addr(value, &a);
		if (!bad)
			*(cfg_addr *)field = a;
		break;
	case CFG_BOOL:
		bad = parse_bool(value, &iv);
		if (!bad)
			*(int *)field = iv;
		break;
	case CFG_ENUM:
		bad = parse_enum(value, e->choices, &iv);
		if (!bad)
			*(int *)field = iv;
		break;
	case CFG_INT:
	case CFG_SIZE:
		bad = parse_scaled(value, e->type == CFG_SIZE ? size_u : NULL,
				   size_m, 1, &d) ||
		      d < e->min || d > e->max;
		if (!bad && e->type == CFG_INT)
			*(int *)field = (int)d;
		else if (!bad)
			*(size_t *)field = (size_t)d;
		break;
	case CFG_SECS:
		bad = parse_scaled(value, secs_u, secs_m, 0, &d) ||
		      d < e->min || d > e->max;
		if (!bad)
			*(double *)field = d;
		break;
	}
	if (!bad)
		return CFG_OK;
	cfg__report(report, ctx, file, line, "%s: expected %s, got \"%s\"",
		    e->name, expected(e, buf, sizeof(buf)), value);
	return CFG_EINVAL;
}

/* Shortest text for a size: a K/M/G multiple when exact. */
static void fmt_size(size_t v, char *buf, size_t cap)
{
	if (v && v % (1u << 30) == 0)
		snprintf(buf, cap, "%zuG", v >> 30);
	else if (v && v % (1u << 20) == 0)
		snprintf(buf, cap, "%zuM", v >> 20);
	else if (v && v % 1024 == 0)
		snprintf(buf, cap, "%zuK", v >> 10);
	else
		snprintf(buf, cap, "%zu", v);
}

/* Shortest text for a duration that parses back to the same double. */
static void fmt_secs(double v, char *buf, size_t cap)
{
	static const double mult[] = {86400, 3600, 60};
	static const char *unit[] = {"d", "h", "m"};
	int i;

	for (i = 0; i < 3; i++)
		if (v != 0 && fmod(v, mult[i]) == 0 && v / mult[i] < 1e15) {
			snprintf(buf, cap, "%.0f%s", v / mult[i], unit[i]);
			return;
		}
	/* Whole seconds as digits: %.1g would write 30 as "3e+01". */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, cap, "%.0f", v);
		return;
	}
	for (i = 1; i < 17; i++) {
		snprintf(buf, cap, "%.*g", i, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, cap, "%.17g", v);
}

static void fmt_enum(const char *choices, int v, char *buf, size_t cap)
{
	const char *p = choices;
	int i;

	for (i = 0; i < v && p; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p) {
		snprintf(buf, cap, "?");
		return;
	}
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "|"), p);
}

int cfg__format_field(const void *base, const cfg_entry *e, char *buf,
		      size_t cap)
{
	const char *field = (const char *)base + e->off;
	const cfg_addr *a;
	const char *s;

	switch (e->type) {
	case CFG_STR:
		s = *(char *const *)field;
		snprintf(buf, cap, "%s", s ? s : "");
		break;
	case CFG_ADDR:
		a = (const cfg_addr *)field;
		if (!a->enabled)
			snprintf(buf, cap, "%s", "");
		else if (strchr(a->host, ':'))
			snprintf(buf, cap, "[%s]:%d", a->host, a->port);
		else
			snprintf(buf, cap, "%s:%d", a->host, a->port);
		break;
	case CFG_BOOL:
		snprintf(buf, cap, "%s",
			 *(const int *)field ? "true" : "false");
		break;
	case CFG_ENUM:
		fmt_enum(e->choices, *(const int *)field, buf, cap);
		break;
	case CFG_INT:
		snprintf(buf, cap, "%d", *(const int *)field);
		break;
	case CFG_SIZE:
		fmt_size(*(const size_t *)field, buf, cap);
		break;
	case CFG_SECS:
		fmt_secs(*(const double *)field, buf, cap);
		break;
	}
	return CFG_OK;
}
