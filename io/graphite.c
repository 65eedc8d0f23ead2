/*
 * io/graphite.c: one Graphite plaintext line -> one sample.
 *
 * The fields are located first (three whitespace-separated spans), then the
 * name is validated and normalized (tags sorted into name_buf), then value
 * and time. No allocation: tags are indexed in a stack array of IO_MAX_TAGS.
 */
#include "io/graphite.h"

#include <stdint.h>
#include <string.h>

#include "io/lex.h"

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split [p, p+n) into at most 4 whitespace-separated fields. */
static int split_fields(const char *p, size_t n, const char **f, size_t *fl)
{
	size_t i = 0;
	int k = 0;

	while (i < n) {
		size_t s;
		while (i < n && is_ws(p[i]))
			i++;
		if (i == n)
			break;
		if (k == 3)
			return 4;
		s = i;
		while (i < n && !is_ws(p[i]))
			i++;
		f[k] = p + s;
		fl[k] = i - s;
		k++;
	}
	return k;
}

/* Whether any of the n bytes at p is a control character (< 0x20 or
 * 0x7f), 8 at a time: a byte b < 0x20 is one where b - 0x20 borrows
 * (its top bit set) while b's own top bit is clear; 0x7f is the zero byte
 * of b ^ 0x7f. Bytes >= 0x80 (UTF-8) pass, as in the byte loop. */
static int has_ctl(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, top = ones << 7;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, d;
		memcpy(&w, p + i, 8);
		d = w ^ (ones * 0x7f);
		if ((((w - ones * 0x20) & ~w) | ((d - ones) & ~d)) & top)
			return 1;
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * The usual line, `name value time` with one space between the fields and
 * none around them, found with two memchr: 1 when [p, p+n) is three
 * non-empty fields so separated. The fields may still hold a tab or a
 * '\r', which split_fields would have split on; such a field is refused by
 * the checks that follow (a control character in the name or a tag, a
 * number holds neither), so it cannot change an accepted line, and a line
 * refused with fields from here is parsed again by split_fields to give
 * the reason the general path gives (io_graphite_parse).
 */
static int single_spaced(const char *p, size_t n, const char **f, size_t *fl)
{
	const char *a, *b, *e = p + n;

	if (n < 5 || p[0] == ' ' || e[-1] == ' ')
		return 0;
	a = memchr(p, ' ', n);
	if (!a || a[1] == ' ')
		return 0;
	b = memchr(a + 1, ' ', (size_t)(e - a - 1));
	if (!b || b[1] == ' ')
		return 0;
	f[0] = p;
	fl[0] = (size_t)(a - p);
	f[1] = a + 1;
	fl[1] = (size_t)(b - a - 1);
	f[2] = b + 1;
	fl[2] = (size_t)(e - b - 1);
	return 1;
}

static int bad_key_char(char c)
{
	return c == ';' || c == '=' || c == '!' || c == '^' || c == '~' ||
	       (unsigned char)c < 0x20 || c == 0x7f;
}

/* Name `path;k=v;...` -> canonical form in buf; returns length or IO_E*. */
static long normalize(const char *p, size_t n, const io_limits *lim, char *buf)
{
	io__tag tags[IO_MAX_TAGS];
	const char *semi = memchr(p, ';', n);
	size_t plen = semi ? (size_t)(semi - p) : n;
	size_t i;
	int nt = 0;
	long sl;

	if (plen == 0 || has_ctl(p, plen))
		return IO_ENAME;
	if (plen > lim->max_name)
		return IO_ENAMELEN;
	memcpy(buf, p, plen);
	if (!semi)
		return (long)plen;
	i = plen;
	while (i < n) {
		const char *t = p + i + 1, *eq;
		const char *e = memchr(t, ';', n - i - 1);
		size_t tl = e ? (size_t)(e - t) : n - i - 1;
		size_t j;

		if (nt == lim->max_tags)
			return IO_ETAGS;
		eq = memchr(t, '=', tl);
		if (!eq || eq == t || eq == t + tl - 1 || eq[1] == '~')
			return IO_ETAG;
		tags[nt].k = t;
		tags[nt].kn = (size_t)(eq - t);
		tags[nt].v = eq + 1;
		tags[nt].vn = tl - tags[nt].kn - 1;
		for (j = 0; j < tags[nt].kn; j++)
			if (bad_key_char(t[j]))
				return IO_ETAG;
		for (j = 0; j < tags[nt].vn; j++)
			if ((unsigned char)tags[nt].v[j] < 0x20)
				return IO_ETAG;
		nt++;
		i += tl + 1;
	}
	sl = io__tags_suffix(tags, nt, buf + plen, lim->max_name - plen);
	if (sl < 0)
		return sl;
	return (long)plen + sl;
}

long io_graphite_name(const char *name, size_t n, const io_limits *lim,
		      char *buf, size_t cap)
{
	long nl;

	if (!name || !lim || !buf || lim->max_tags < 0 ||
	    lim->max_tags > IO_MAX_TAGS)
		return IO_EINVAL;
	if (cap < lim->max_name + 1)
		return IO_ESPACE;
	if (n == 0)
		return IO_ENAME;
	nl = normalize(name, n, lim, buf);
	if (nl >= 0)
		buf[nl] = '\0';
	return nl;
}

/* The checks after the split: name, value, time. */
static int parse_fields(const char **f, const size_t *fl, double now,
			const io_limits *lim, char *name_buf, size_t name_cap,
			io_sample *out)
{
	long nl;
	int r;
	double t;

	nl = io_graphite_name(f[0], fl[0], lim, name_buf, name_cap);
	if (nl < 0)
		return (int)nl;
	r = io__parse_number(f[1], fl[1], &out->value);
	if (r)
		return r;
	if (io__parse_number(f[2], fl[2], &t) != IO_OK)
		return IO_ETIME;
	if (t == -1 || t == 0)
		t = now;
	else if (t < 0)
		return IO_ETIME;
	if (lim->max_skew_s > 0 && t > now + lim->max_skew_s)
		return IO_EFUTURE;
	out->name = name_buf;
	out->name_len = (size_t)nl;
	out->t = t;
	return IO_OK;
}

int io_graphite_parse(const char *line, size_t len, double now,
		      const io_limits *lim, char *name_buf, size_t name_cap,
		      io_sample *out)
{
	const char *f[3];
	size_t fl[3];

	if (!line || !lim || !name_buf || !out || lim->max_tags < 0 ||
	    lim->max_tags > IO_MAX_TAGS)
		return IO_EINVAL;
	if (name_cap < lim->max_name + 1)
		return IO_ESPACE;
	if (len > lim->max_line)
		return IO_ELINE;
	/* An accepted line's fields are the same either way (single_spaced);
	 * a refused one is split again for the general path's reason. */
	if (single_spaced(line, len, f, fl) &&
	    parse_fields(f, fl, now, lim, name_buf, name_cap, out) == IO_OK)
		return IO_OK;
	if (split_fields(line, len, f, fl) != 3)
		return IO_ESYNTAX;
	return parse_fields(f, fl, now, lim, name_buf, name_cap, out);
}
