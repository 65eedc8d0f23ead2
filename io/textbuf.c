/* io/textbuf.c: see textbuf.h. */
#include "io/textbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/grow.h"
void io_tb_init(io_tb *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

void io_tb_release(io_tb *b)
{
	free(b->data);
	io_tb_init(b);
}

void io_tb_reset(io_tb *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Room for `extra` more bytes plus the NUL; 0 or -1 (and failed set). */
static int reserve(io_tb *b, size_t extra)
{
	if (b->failed)
		return -1;
	if (extra >= SIZE_MAX - b->len ||
	    io_grow(&b->data, &b->cap, b->len + extra + 1, 1, 256)) {
		b->failed = 1;
		return -1;
	}
	return 0;
}

void io_tb_putn(io_tb *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void io_tb_puts(io_tb *b, const char *s)
{
	io_tb_putn(b, s, strlen(s));
}

void io_tb_putc(io_tb *b, char c)
{
	io_tb_putn(b, &c, 1);
}

void io_tb_printf(io_tb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (reserve(b, 64) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (reserve(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void io_fmt_double(char out[IO_FMT_MAX], double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, IO_FMT_MAX, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, IO_FMT_MAX, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Whole numbers (counters) in plain digits: 1200, not 1.2e+03. */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, IO_FMT_MAX, "%.0f", v);
		return;
	}
	/* The shortest %.Ng that round-trips: 17 digits always do. %g drops
	 * trailing zeros, and a double holds 15 decimal digits exactly, so
	 * %.15g already yields any shorter form that round-trips: 1 to 3
	 * tries instead of up to 17. */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(out, IO_FMT_MAX, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
}

/* The naive twin: shortest by trial with snprintf/strtof (about 3 us a
 * value with glibc), also the fallback of the fast path below. */
static void fmt_float_slow(char out[IO_FMT_MAX], float v)
{
	int prec;

	/* From 1 digit: subnormal floats hold fewer than 6 exactly. */
	for (prec = 1; prec <= 9; prec++) {
		snprintf(out, IO_FMT_MAX, "%.*g", prec, (double)v);
		if (strtof(out, NULL) == v)
			break;
	}
}

/* 10^k, exact in a double for 0 <= k <= 22. */
static const double pow10_exact[23] = {
    1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,  1e9,	1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* m x 10^-k as text: plain digits for decimal exponents -5..14, else
 * d.ddde+XX. m > 0 has no trailing zeros. */
static void put_decimal(char *out, int neg, unsigned long m, int k)
{
	char d[24];
	int nd = 0, E, i, o = 0;

	while (m) {
		d[nd++] = (char)('0' + m % 10);
		m /= 10;
	}
	for (i = 0; i < nd / 2; i++) { /* most significant first */
		char t = d[i];
		d[i] = d[nd - 1 - i];
		d[nd - 1 - i] = t;
	}
	if (neg)
		out[o++] = '-';
	E = nd - 1 - k;
	if (E >= -5 && E < 15) {
		if (k <= 0) {
			for (i = 0; i < nd; i++)
				out[o++] = d[i];
			for (i = 0; i < -k; i++)
				out[o++] = '0';
		} else if (k < nd) {
			for (i = 0; i < nd; i++) {
				if (i == nd - k)
					out[o++] = '.';
				out[o++] = d[i];
			}
		} else {
			out[o++] = '0';
			out[o++] = '.';
			for (i = 0; i < k - nd; i++)
				out[o++] = '0';
			for (i = 0; i < nd; i++)
				out[o++] = d[i];
		}
		out[o] = '\0';
		return;
	}
	out[o++] = d[0];
	if (nd > 1) {
		out[o++] = '.';
		for (i = 1; i < nd; i++)
			out[o++] = d[i];
	}
	snprintf(out + o, (size_t)(IO_FMT_MAX - o), "e%c%02d",
		 E < 0 ? '-' : '+', E < 0 ? -E : E);
}

void io_fmt_float(char out[IO_FMT_MAX], float v)
{
	double a = fabs((double)v);
	int e10, p;

	if (isnan(v) || isinf(v)) {
		io_fmt_double(out, (double)v);
		return;
	}
	if (v == 0) {
		snprintf(out, IO_FMT_MAX, "%s", signbit(v) ? "-0" : "0");
		return;
	}
	/* The fast path: decimal rounding by one multiplication with an
	 * exact power of ten, checked by round trip; whatever it cannot do
	 * exactly (tiny or huge magnitudes, a doubtful last digit) falls
	 * back to the slow twin, so the output is always right. */
	if (!(a >= 1e-12 && a < 1e13)) {
		fmt_float_slow(out, v);
		return;
	}
	e10 = (int)floor(log10(a));
	for (p = 1; p <= 9; p++) {
		int k = p - 1 - e10;
		double m;
		unsigned long mi;

		if (k > 22 || k < -22)
			break;
		m = k >= 0 ? nearbyint(a * pow10_exact[k])
			   : nearbyint(a / pow10_exact[-k]);
		if ((float)(k >= 0 ? m / pow10_exact[k]
				   : m * pow10_exact[-k]) != (float)a)
			continue;
		mi = (unsigned long)m;
		while (mi && mi % 10 == 0) {
			mi /= 10;
			k--;
		}
		put_decimal(out, v < 0, mi, k);
		return;
	}
	fmt_float_slow(out, v);
}

void io_tb_double(io_tb *b, double v)
{
	char s[IO_FMT_MAX];

	io_fmt_double(s, v);
	io_tb_puts(b, s);
}

void io_tb_float(io_tb *b, float v)
{
	char s[IO_FMT_MAX];

	io_fmt_float(s, v);
	io_tb_puts(b, s);
}

size_t io_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned c = s[0], lo = 0x80, hi = 0xbf;

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0; /* continuation byte, overlong lead, or above 4 */
	if (len > n)
		return 0;
	/* The second byte's range rules out overlongs, surrogates and code
	 * points above U+10FFFF (RFC 3629 section 4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void io_tb_escape(io_tb *b, const char *s, const char *(*esc)(unsigned char))
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t k = io_utf8_len(p, n);
		const char *e = k == 1 ? esc(*p) : NULL;

		if (k == 0) {
			io_tb_puts(b, IO_UTF8_REPLACEMENT);
			k = 1;
		} else if (e) {
			io_tb_puts(b, e);
		} else {
			io_tb_putn(b, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
}

int io_tb_ok(const io_tb *b)
{
	return !b->failed;
}

char *io_tb_detach(io_tb *b, size_t *len)
{
	char *p;

	if (b->failed) {
		io_tb_release(b);
		*len = 0;
		return NULL;
	}
	if (!b->data) {
		if (reserve(b, 0) < 0) {
			*len = 0;
			return NULL;
		}
		b->data[0] = '\0';
	}
	p = b->data;
	*len = b->len;
	io_tb_init(b);
	return p;
}
