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

static const double pow10_exact[16] = {1e0,  1e1,  1e2,	 1e3, 1e4,  1e5,
				       1e6,  1e7,  1e8,	 1e9, 1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Eight ASCII digits at p (little-endian load) -> their value, or -1 when
 * one of the bytes is not a digit. A byte is a digit when its high nibble
 * is 3 and adding 6 leaves it there (0x30..0x39). Then pairs, quads and the
 * two halves are combined by multiplies: 3 multiplies for 8 digits where
 * the byte loop makes 8 dependent ones.
 */
static inline int64_t eight_digits(const char *p)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull;
	uint64_t w;

	memcpy(&w, p, 8);
	if (((w & hi) | (((w + 0x0606060606060606ull) & hi) >> 4)) !=
	    0x3333333333333333ull)
		return -1;
	w -= 0x3030303030303030ull;
	/* Byte k holds digit k (k = 0 the most significant): pairs. */
	w = w * 10 + (w >> 8);
	/* Bytes 0, 2, 4, 6 hold the pairs; quads, then the two halves. */
	w = ((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
	     ((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >>
	    32;
	return (int64_t)w;
}
#endif

/* The run of digits at p[i..n) accumulated into *m (mod 2^64: the caller
 * uses *m only for 15 digits or fewer); returns the index after it. */
static inline __attribute__((always_inline)) size_t
digits(const char *p, size_t i, size_t n, uint64_t *m)
{
	uint64_t v = *m;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (n - i >= 8) {
		int64_t e = eight_digits(p + i);
		if (e < 0)
			break;
		v = v * 100000000u + (uint64_t)e;
		i += 8;
	}
#endif
	while (i < n && digit(p[i]))
		v = v * 10 + (uint64_t)(p[i++] - '0');
	*m = v;
	return i;
}

/*
 * One pass over the digits: `[+-]digits[.digits]` with at most 15 digits in
 * all (the common case: every value and timestamp a collector writes) is
 * converted without strtod. The digits as an integer m < 2^53 and 10^k
 * (k <= 15) are both exact doubles, so m / 10^k is one correctly rounded
 * IEEE division: the double strtod returns, bit for bit. Anything else
 * (an exponent, more digits) is validated here and converted by strtod.
 * The spellings of NaN and Inf hold no digit, so they are looked for only
 * when the mantissa has none.
 */
int io__parse_number(const char *p, size_t n, double *out)
{
	char tmp[80];
	uint64_t m = 0;
	size_t i = 0, intd, fracd = 0;
	int neg = 0;
	double v;

	if (n == 0)
		return IO_EVALUE;
	if (p[0] == '+' || p[0] == '-') {
		neg = p[0] == '-';
		i = 1;
	}
	intd = i;
	i = digits(p, i, n, &m);
	intd = i - intd;
	if (i < n && p[i] == '.') {
		size_t f = ++i;
		i = digits(p, i, n, &m);
		fracd = i - f;
	}
	if (intd + fracd == 0) {
		const char *s = p + neg + (p[0] == '+');
		size_t sn = n - (size_t)(s - p);
		if (ieq(s, sn, "nan") || ieq(s, sn, "inf") ||
		    ieq(s, sn, "infinity"))
			return IO_ENONFINITE;
		return IO_EVALUE;
	}
	if (i == n && intd + fracd <= 15) {
		v = (double)m;
		if (fracd)
			v /= pow10_exact[fracd];
		*out = neg ? -v : v;
		return IO_OK;
	}
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
