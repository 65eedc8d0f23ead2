/*
 * io/lines.c: the streaming line splitter, the limits and error names shared
 * by the line protocols, and the number and tag helpers of io/lex.h.
 *
 * The splitter is on every ingest byte's path: lines complete inside one read
 * are handed out in place; only the tail of a read is copied, once.
 */
#include "io/lines.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/lex.h"

static const struct {
	const char *msg, *name;
} errs[IO_NERR] = {
    {"ok", "ok"},
    {"bad line structure", "syntax"},
    {"bad value", "value"},
    {"NaN or Inf value", "nonfinite"},
    {"bad timestamp", "time"},
    {"timestamp too far in the future", "future"},
    {"name too long", "name_len"},
    {"too many tags", "tags"},
    {"malformed or duplicate tag", "tag"},
    {"line too long", "line_len"},
    {"bad series name", "name"},
    {"buffer too small", "space"},
    {"invalid argument", "inval"},
};

const char *io_strerror(int err)
{
	if (err > 0 || err <= -IO_NERR)
		return "unknown error";
	return errs[-err].msg;
}

const char *io_errname(int err)
{
	if (err > 0 || err <= -IO_NERR)
		return "unknown";
	return errs[-err].name;
}

void io_limits_default(io_limits *lim)
{
	lim->max_line = 4096;
	lim->max_name = 1024;
	lim->max_tags = 32;
	lim->max_skew_s = 600;
}

void io_lines_init(io_lines *l, char *buf, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->buf = buf;
	l->cap = cap;
}

/* Hand out one line (the '\r' of a CRLF already removed); skip empties. */
static size_t emit(io_lines *l, const char *p, size_t n, io_line_fn fn,
		   void *ctx)
{
	if (n == 0)
		return 0;
	l->lines++;
	fn(ctx, p, n);
	return 1;
}

size_t io_lines_feed(io_lines *l, const char *data, size_t n, io_line_fn fn,
		     void *ctx)
{
	size_t out = 0;
	const char *end = data + n;

	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t seg = nl ? (size_t)(nl - data) : (size_t)(end - data);

		/* A CR before the newline is not part of the line. */
		if (nl && seg && data[seg - 1] == '\r')
			seg--;
		else if (nl && !seg && l->len && l->buf[l->len - 1] == '\r')
			l->len--;
		if (l->discarding) {
			if (!nl)
				return out;
			l->discarding = 0;
		} else if (l->len + seg > l->cap) {
			l->len = 0;
			l->overlong++;
			if (!nl) {
				l->discarding = 1;
				return out;
			}
		} else if (!nl) {
			memcpy(l->buf + l->len, data, seg);
			l->len += seg;
			return out;
		} else if (l->len) {
			memcpy(l->buf + l->len, data, seg);
			out += emit(l, l->buf, l->len + seg, fn, ctx);
			l->len = 0;
		} else {
			out += emit(l, data, seg, fn, ctx);
		}
		data = nl + 1;
	}
	return out;
}

int io_lines_finish(io_lines *l, io_line_fn fn, void *ctx)
{
	int r = 0;

	if (!l->discarding && l->len)
		r = (int)emit(l, l->buf, l->len, fn, ctx);
	l->len = 0;
	l->discarding = 0;
	return r;
}

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

static int ieq(const char *p, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return 0;
	}
	return 1;
}

/*
 * The common case without strtod: `[+-]digits[.digits]` with at most 15
 * digits in all. The digits as an integer m < 2^53 and 10^k (k <= 15) are
 * both exact doubles, so m / 10^k is one correctly rounded IEEE division:
 * the double strtod returns, bit for bit. Anything else (exponent, more
 * digits) returns 0 and goes to strtod. p is already validated.
 */
static int exact_decimal(const char *p, size_t n, double *out)
{
	static const double pow10[16] = {1e0,  1e1,  1e2,  1e3, 1e4,  1e5,
					 1e6,  1e7,  1e8,  1e9, 1e10, 1e11,
					 1e12, 1e13, 1e14, 1e15};
	uint64_t m = 0;
	size_t i = 0;
	int digits = 0, frac = -1, neg = 0;
	double v;

	if (p[0] == '+' || p[0] == '-') {
		neg = p[0] == '-';
		i = 1;
	}
	for (; i < n; i++) {
		if (p[i] == '.') {
			frac = 0;
			continue;
		}
		if (!digit(p[i]) || ++digits > 15)
			return 0;
		m = m * 10 + (uint64_t)(p[i] - '0');
		if (frac >= 0)
			frac++;
	}
	v = (double)m;
	if (frac > 0)
		v /= pow10[frac];
	*out = neg ? -v : v;
	return 1;
}

int io__parse_number(const char *p, size_t n, double *out)
{
	char tmp[80];
	size_t i = 0, mant = 0;
	const char *s = p;
	size_t sn = n;

	if (n == 0)
		return IO_EVALUE;
	if (p[0] == '+' || p[0] == '-') {
		s++;
		sn--;
	}
	if (ieq(s, sn, "nan") || ieq(s, sn, "inf") || ieq(s, sn, "infinity"))
		return IO_ENONFINITE;
	i = (size_t)(s - p);
	while (i < n && digit(p[i])) {
		i++;
		mant++;
	}
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && digit(p[i])) {
			i++;
			mant++;
		}
	}
	if (mant == 0)
		return IO_EVALUE;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		size_t ed = 0;
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		while (i < n && digit(p[i])) {
			i++;
			ed++;
		}
		if (ed == 0)
			return IO_EVALUE;
	}
	if (i != n || n >= sizeof(tmp))
		return IO_EVALUE;
	if (exact_decimal(p, n, out))
		return IO_OK;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	if (!isfinite(*out))
		return IO_ENONFINITE;
	return IO_OK;
}

static int tagcmp(const io__tag *a, const io__tag *b)
{
	size_t n = a->kn < b->kn ? a->kn : b->kn;
	int c = memcmp(a->k, b->k, n);

	if (c)
		return c;
	return (a->kn > b->kn) - (a->kn < b->kn);
}

long io__tags_suffix(io__tag *tags, int n, char *out, size_t cap)
{
	size_t len = 0;
	int i, j;

	/* Insertion sort: n <= IO_MAX_TAGS and usually a handful. */
	for (i = 1; i < n; i++) {
		io__tag t = tags[i];
		for (j = i; j > 0 && tagcmp(&tags[j - 1], &t) > 0; j--)
			tags[j] = tags[j - 1];
		tags[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && tagcmp(&tags[i - 1], &tags[i]) == 0)
			return IO_ETAG;
		if (len + 2 + tags[i].kn + tags[i].vn > cap)
			return IO_ENAMELEN;
		out[len++] = ';';
		memcpy(out + len, tags[i].k, tags[i].kn);
		len += tags[i].kn;
		out[len++] = '=';
		memcpy(out + len, tags[i].v, tags[i].vn);
		len += tags[i].vn;
	}
	return (long)len;
}
