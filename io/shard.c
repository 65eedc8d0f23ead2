/*
 * io/shard.c: see shard.h. The placement must agree with carbon-c-relay
 * bit for bit, so every constant and conversion below follows its
 * consistent-hash.c/fnv1a.h; tests/io/test_shard.c pins known placements
 * and tests/integration/test_sharding.py compares thousands of names with
 * the relay's own test mode (carbon-c-relay -t).
 */
#include "io/shard.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"

#define FNV64_OFFSET 14695981039346656037ULL
#define FNV64_PRIME  1099511628211ULL

uint64_t io_shard_fnv1a64(const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++) {
		/* A signed char widened to 64 bits, as the amd64 relay does. */
		uint64_t b =
		    p[i] < 0x80 ? p[i] : (0xffffffffffffff00ULL | p[i]);

		h = (h ^ b) * FNV64_PRIME;
	}
	return h;
}

uint32_t io_shard_jump(uint64_t hash, uint32_t buckets)
{
	int64_t b = -1, j = 0;

	while (j < (int64_t)buckets) {
		b = j;
		hash = hash * 2862933555777941757ULL + 1;
		/* Doubles, as in the relay (and in Lamping and Veach's paper):
		 * an integer rewrite could round differently. */
		j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) /
						 (double)((hash >> 33) + 1)));
	}
	return (uint32_t)b;
}

int io_shard_owner(const io_shard_map *m, const char *key, size_t len)
{
	const char *semi = memchr(key, ';', len);

	/* Tags are not part of the relay's routing key (see shard.h). */
	if (semi)
		len = (size_t)(semi - key);
	return (int)io_shard_jump(io_shard_fnv1a64(key, len), (uint32_t)m->n);
}

/* A decimal name as the relay sees one: strtol(.., 10) consumes it all. */
static int numeric_name(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s && *end == '\0' && errno == 0;
}

static int shard_cmp(const void *a, const void *b)
{
	const io_shard *l = a, *r = b;
	long vl, vr;

	if (numeric_name(l->name, &vl) && numeric_name(r->name, &vr))
		return (vl > vr) - (vl < vr);
	return strcmp(l->name, r->name);
}

/*
 * "HOST:PORT" or "[V6]:PORT" from s[0..len) into host/port. Returns 0 or -1.
 */
static int parse_addr(const char *s, size_t len, char *host, size_t hostcap,
		      uint16_t *port)
{
	const char *colon, *hend, *hstart = s;
	char digits[8];
	size_t plen, hlen;
	long v;
	char *end;

	if (len > 0 && s[0] == '[') {
		hend = memchr(s, ']', len);
		if (!hend || hend + 1 >= s + len || hend[1] != ':')
			return -1;
		hstart = s + 1;
		colon = hend + 1;
	} else {
		colon = NULL;
		for (const char *p = s; p < s + len; p++)
			if (*p == ':')
				colon = p;
		if (!colon)
			return -1;
		hend = colon;
	}
	hlen = (size_t)(hend - hstart);
	plen = (size_t)(s + len - colon - 1);
	if (hlen == 0 || hlen >= hostcap || plen == 0 || plen >= sizeof(digits))
		return -1;
	memcpy(host, hstart, hlen);
	host[hlen] = 0;
	memcpy(digits, colon + 1, plen);
	digits[plen] = 0;
	if (!isdigit((unsigned char)digits[0]))
		return -1;
	v = strtol(digits, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Parses one non-blank line into s; returns 0 or -1 with err filled. */
static int parse_line(io_shard *s, char *line, const char *file, int lineno,
		      char *err, size_t errlen)
{
	char *tok, *save = NULL, *eq;
	long v;

	memset(s, 0, sizeof(*s));
	s->line = lineno;
	tok = strtok_r(line, " \t\r", &save);
	eq = tok ? strrchr(tok, '=') : NULL;
	if (!eq || eq[1] == 0 || strlen(eq + 1) >= sizeof(s->name) ||
	    parse_addr(tok, (size_t)(eq - tok), s->host, sizeof(s->host),
		       &s->port) < 0) {
		snprintf(err, errlen,
			 "%s:%d: expected HOST:PORT=NAME (the relay's pinned "
			 "instance), got '%s'",
			 file, lineno, tok ? tok : "");
		return -1;
	}
	snprintf(s->name, sizeof(s->name), "%s", eq + 1);
	if (numeric_name(s->name, &v) && (v < 0 || v >= (1L << 30))) {
		snprintf(err, errlen,
			 "%s:%d: numeric instance name '%s' out of range "
			 "[0, 2^30)",
			 file, lineno, s->name);
		return -1;
	}
	snprintf(s->rpc_host, sizeof(s->rpc_host), "%s", s->host);
	s->rpc_port = IO_SHARD_RPC_PORT;
	while ((tok = strtok_r(NULL, " \t\r", &save)) != NULL) {
		if (strncmp(tok, "rpc=", 4) != 0 ||
		    parse_addr(tok + 4, strlen(tok + 4), s->rpc_host,
			       sizeof(s->rpc_host), &s->rpc_port) < 0) {
			snprintf(err, errlen,
				 "%s:%d: expected rpc=HOST:PORT, got '%s'",
				 file, lineno, tok);
			return -1;
		}
	}
	return 0;
}

/* Refuses duplicate names and numeric/non-numeric mixes (see shard.h). */
static int check_names(const io_shard_map *m, const char *file, char *err,
		       size_t errlen)
{
	int numeric = 0;
	long v;

	for (int i = 0; i < m->n; i++)
		numeric += numeric_name(m->shards[i].name, &v);
	if (numeric != 0 && numeric != m->n) {
		snprintf(err, errlen,
			 "%s: instance names must be all numbers or all "
			 "non-numbers (carbon-c-relay orders them "
			 "inconsistently otherwise)",
			 file);
		return IO_SHARD_EMIXED;
	}
	for (int i = 1; i < m->n; i++) {
		if (shard_cmp(&m->shards[i - 1], &m->shards[i]) == 0) {
			snprintf(err, errlen,
				 "%s:%d: instance name '%s' already used on "
				 "line %d",
				 file, m->shards[i].line, m->shards[i].name,
				 m->shards[i - 1].line);
			return IO_SHARD_EDUP;
		}
	}
	return 0;
}

int io_shard_map_parse(io_shard_map *m, const char *text, const char *file,
		       char *err, size_t errlen)
{
	char *copy = strdup(text), *line, *save = NULL;
	int lineno = 0, r = 0;
	const char *p;

	m->n = 0;
	m->shards = NULL;
	err[0] = 0;
	if (!copy)
		return IO_SHARD_ENOMEM;
	/* strtok_r would skip empty lines and lose the line count. */
	for (line = copy; line; line = save) {
		char *nl = strchr(line, '\n');

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		lineno++;
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r'; p++)
			;
		if (*p == 0 || *p == '#')
			continue;
		if (m->n == IO_SHARD_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d shards",
				 file, lineno, IO_SHARD_MAX);
			r = IO_SHARD_ETOOMANY;
			break;
		}
		if (m->n % 16 == 0) {
			io_shard *g = realloc(m->shards,
					      (size_t)(m->n + 16) * sizeof(*g));
			if (!g) {
				r = IO_SHARD_ENOMEM;
				break;
			}
			m->shards = g;
		}
		if (parse_line(&m->shards[m->n], line, file, lineno, err,
			       errlen) < 0) {
			r = IO_SHARD_ESYNTAX;
			break;
		}
		m->n++;
	}
	free(copy);
	if (r == 0 && m->n == 0) {
		snprintf(err, errlen, "%s: no shard defined", file);
		r = IO_SHARD_EEMPTY;
	}
	if (r == 0) {
		qsort(m->shards, (size_t)m->n, sizeof(*m->shards), shard_cmp);
		r = check_names(m, file, err, errlen);
	}
	if (r < 0)
		io_shard_map_release(m);
	return r;
}

int io_shard_map_load(io_shard_map *m, const char *path, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, len = 0, got;
	int r;

	m->n = 0;
	m->shards = NULL;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return IO_SHARD_EIO;
	}
	do {
		if (io_grow(&text, &cap, len + 4096 + 1, 1, 8192)) {
			free(text);
			fclose(f);
			return IO_SHARD_ENOMEM;
		}
		got = fread(text + len, 1, 4096, f);
		len += got;
	} while (got > 0);
	r = ferror(f);
	fclose(f);
	if (r) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		return IO_SHARD_EIO;
	}
	text[len] = 0;
	r = io_shard_map_parse(m, text, path, err, errlen);
	free(text);
	return r;
}

void io_shard_map_release(io_shard_map *m)
{
	free(m->shards);
	m->shards = NULL;
	m->n = 0;
}

void io_shard_rpc_addr(const io_shard *s, char *out, size_t cap)
{
	snprintf(out, cap, strchr(s->rpc_host, ':') ? "[%s]:%u" : "%s:%u",
		 s->rpc_host, (unsigned)s->rpc_port);
}

const char *io_shard_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case IO_SHARD_ESYNTAX:
		return "syntax error in shards file";
	case IO_SHARD_EDUP:
		return "duplicate shard name";
	case IO_SHARD_EMIXED:
		return "numeric and non-numeric shard names mixed";
	case IO_SHARD_EEMPTY:
		return "no shard defined";
	case IO_SHARD_ETOOMANY:
		return "too many shards";
	case IO_SHARD_EIO:
		return "cannot read shards file";
	case IO_SHARD_ENOMEM:
		return "out of memory";
	default:
		return "unknown error";
	}
}
