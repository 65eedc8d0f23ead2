/*
 * io/influx.c: one InfluxDB line -> its numeric fields as samples.
 *
 * Two passes over the fields: the first validates every field and the
 * length of every name it would make, the second emits; so a bad field
 * anywhere refuses the whole line. Scratch layout (see
 * io_influx_scratch_size): [unescaped measurement and tags: max_line]
 * [canonical tag suffix: max_name] [one composed name: max_name + 1].
 */
#include "io/influx.h"

#include <stdint.h>
#include <string.h>

#include "io/lex.h"

int io_precision_parse(const char *s)
{
	static const char *names[] = {"ns", "us", "ms", "s"};
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return IO_EINVAL;
}

const char *io_precision_name(io_precision p)
{
	static const char *names[] = {"ns", "us", "ms", "s"};

	return (unsigned)p < 4 ? names[p] : "?";
}

size_t io_influx_scratch_size(const io_limits *lim)
{
	return lim->max_line + 2 * lim->max_name + 1;
}

/*
 * Copy [p, p+n) to out unescaping `\c` for c in set; returns the length
 * (out NULL: only the length). A backslash before another character (or at
 * the end) is kept as is.
 */
static size_t unescape(const char *p, size_t n, const char *set, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n && strchr(set, p[i + 1]))
			i++;
		if (out)
			out[o] = p[i];
		o++;
	}
	return o;
}

/* Position of the first unescaped c in [p, p+n), or n. */
static size_t find_unescaped(const char *p, size_t n, char c)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		else if (p[i] == c)
			return i;
	}
	return n;
}

/* No ';' (the tag separator of canonical names) and no control bytes. */
static int name_ok(const char *p, size_t n, int allow_eq)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] == ';' || (unsigned char)p[i] < 0x20 ||
		    (!allow_eq && p[i] == '='))
			return 0;
	return 1;
}

enum { F_FLOAT, F_INT, F_UINT, F_BOOL, F_STR };

typedef struct field {
	const char *key; /* escaped */
	size_t kn;
	int kind;
	double value;
} field;

static int parse_uint(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_value(const char *p, size_t n, field *f)
{
	static const char *bools[] = {"t", "T", "true",	 "True",  "TRUE",
				      "f", "F", "false", "False", "FALSE"};
	uint64_t u;
	size_t i;

	if (n == 0)
		return IO_EVALUE;
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strlen(bools[i]) == n && memcmp(p, bools[i], n) == 0) {
			f->kind = F_BOOL;
			return IO_OK;
		}
	if (p[n - 1] == 'u') {
		if (parse_uint(p, n - 1, &u))
			return IO_EVALUE;
		f->kind = F_UINT;
		f->value = (double)u;
		return IO_OK;
	}
	if (p[n - 1] == 'i') {
		int neg = p[0] == '-';
		if (parse_uint(p + neg, n - 1 - (size_t)neg, &u) ||
		    u > (uint64_t)INT64_MAX + (uint64_t)neg)
			return IO_EVALUE;
		f->kind = F_INT;
		f->value = neg ? -(double)u : (double)u;
		return IO_OK;
	}
	f->kind = F_FLOAT;
	return io__parse_number(p, n, &f->value);
}

/*
 * Take the next field from [*pp, end): `key=value` up to an unescaped ','
 * outside a string. Advances *pp past the separator.
 */
static int next_field(const char **pp, const char *end, field *f)
{
	const char *p = *pp, *v;
	size_t n = (size_t)(end - p), eq, i;

	eq = find_unescaped(p, n, '=');
	if (eq == n || eq == 0)
		return IO_ESYNTAX;
	f->key = p;
	f->kn = eq;
	v = p + eq + 1;
	if (v < end && *v == '"') {
		for (i = 1; v + i < end; i++) {
			if (v[i] == '\\' && v + i + 1 < end)
				i++;
			else if (v[i] == '"')
				break;
		}
		if (v + i == end)
			return IO_ESYNTAX;
		f->kind = F_STR;
		v += i + 1;
	} else {
		const char *c = memchr(v, ',', (size_t)(end - v));
		const char *ve = c ? c : end;
		int r = parse_value(v, (size_t)(ve - v), f);
		if (r)
			return r;
		v = ve;
	}
	if (v < end && *v != ',')
		return IO_ESYNTAX;
	if (v < end && v + 1 == end)
		return IO_ESYNTAX; /* trailing comma */
	*pp = v < end ? v + 1 : v;
	return IO_OK;
}

/*
 * End of the fields section: the first unescaped space outside a string
 * value. A quote opens a string only right after a field's '=' (as in
 * InfluxDB's parser); elsewhere it is an ordinary character.
 */
static size_t fields_end(const char *p, size_t n)
{
	size_t i;
	int inq = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		else if (inq)
			inq = p[i] != '"';
		else if (p[i] == '=' && i + 1 < n && p[i + 1] == '"') {
			inq = 1;
			i++; /* past the opening quote */
		} else if (p[i] == ' ') {
			return i;
		}
	}
	return n;
}

static int parse_time(const char *p, size_t n, double now, io_precision prec,
		      double *t)
{
	static const uint64_t div[] = {1000000000, 1000000, 1000, 1};
	uint64_t u;

	if (n == 0) {
		*t = now;
		return IO_OK;
	}
	if (p[0] == '-' || parse_uint(p, n, &u) || u > (uint64_t)INT64_MAX)
		return IO_ETIME;
	if (u == 0) {
		*t = now;
		return IO_OK;
	}
	*t = (double)(u / div[prec]) + (double)(u % div[prec]) / div[prec];
	return IO_OK;
}

/* Measurement and tags from section A into scratch; returns IO_E*. */
static int parse_key(const char *a, size_t an, const io_limits *lim, char *u,
		     char *suf, size_t *mlen, size_t *slen)
{
	io__tag tags[IO_MAX_TAGS];
	size_t mend = find_unescaped(a, an, ','), i, o;
	int nt = 0;
	long sl;

	o = unescape(a, mend, ", ", u);
	if (!name_ok(u, o, 1))
		return IO_ENAME;
	*mlen = o;
	i = mend;
	while (i < an) {
		const char *t = a + i + 1;
		size_t tn = find_unescaped(t, an - i - 1, ',');
		size_t eq = find_unescaped(t, tn, '=');

		if (nt == lim->max_tags)
			return IO_ETAGS;
		if (eq == tn)
			return IO_ETAG;
		tags[nt].k = u + o;
		tags[nt].kn = unescape(t, eq, ",= ", u + o);
		o += tags[nt].kn;
		tags[nt].v = u + o;
		tags[nt].vn = unescape(t + eq + 1, tn - eq - 1, ",= ", u + o);
		o += tags[nt].vn;
		if (!name_ok(tags[nt].k, tags[nt].kn, 0) ||
		    !name_ok(tags[nt].v, tags[nt].vn, 1))
			return IO_ETAG;
		nt++;
		i += tn + 1;
	}
	sl = io__tags_suffix(tags, nt, suf, lim->max_name);
	if (sl < 0)
		return (int)sl;
	*slen = (size_t)sl;
	return IO_OK;
}

int io_influx_parse(const char *line, size_t len, double now, io_precision prec,
		    const io_limits *lim, char *scratch, size_t scratch_cap,
		    io_sample_fn fn, void *ctx, int *skipped)
{
	const char *p = line, *end = line + len, *fb, *fe, *q;
	char *u, *suf, *name;
	size_t an, mlen, slen, fn_len, i;
	int r, nskip = 0, nout = 0;
	double t;
	field f;

	if (skipped)
		*skipped = 0;
	if (!line || !lim || !scratch || !fn || (unsigned)prec > IO_PREC_S ||
	    lim->max_tags < 0 || lim->max_tags > IO_MAX_TAGS)
		return IO_EINVAL;
	if (scratch_cap < io_influx_scratch_size(lim))
		return IO_ESPACE;
	if (len > lim->max_line)
		return IO_ELINE;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (p == end || *p == '#')
		return 0;
	u = scratch;
	suf = scratch + lim->max_line;
	name = suf + lim->max_name;

	an = find_unescaped(p, (size_t)(end - p), ' ');
	if (an == (size_t)(end - p))
		return IO_ESYNTAX;
	r = parse_key(p, an, lim, u, suf, &mlen, &slen);
	if (r)
		return r;
	fb = p + an;
	while (fb < end && *fb == ' ')
		fb++;
	fe = fb + fields_end(fb, (size_t)(end - fb));
	if (fe == fb)
		return IO_ESYNTAX;
	q = fe;
	while (q < end && *q == ' ')
		q++;
	r = parse_time(q, (size_t)(end - q), now, prec, &t);
	if (r)
		return r;
	if (lim->max_skew_s > 0 && t > now + lim->max_skew_s)
		return IO_EFUTURE;

	/* Pass 1: validate every field and the names they make. */
	for (q = fb; q < fe;) {
		r = next_field(&q, fe, &f);
		if (r)
			return r;
		if (f.kind == F_BOOL || f.kind == F_STR)
			continue;
		fn_len = unescape(f.key, f.kn, ",= ", NULL);
		if (mlen + 1 + fn_len + slen > lim->max_name)
			return IO_ENAMELEN;
		unescape(f.key, f.kn, ",= ", name);
		if (!name_ok(name, fn_len, 1))
			return IO_ENAME;
	}
	/* Pass 2: emit. */
	for (q = fb; q < fe;) {
		io_sample s;

		next_field(&q, fe, &f);
		if (f.kind == F_BOOL || f.kind == F_STR) {
			nskip++;
			continue;
		}
		memcpy(name, u, mlen);
		i = mlen;
		name[i++] = '.';
		i += unescape(f.key, f.kn, ",= ", name + i);
		memcpy(name + i, suf, slen);
		i += slen;
		name[i] = '\0';
		s.name = name;
		s.name_len = i;
		s.value = f.value;
		s.t = t;
		fn(ctx, &s);
		nout++;
	}
	if (skipped)
		*skipped = nskip;
	return nout;
}
