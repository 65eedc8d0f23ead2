/* io/textbuf.c: see textbuf.h. */
#include "io/textbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	size_t need, ncap;
	char *p;

	if (b->failed)
		return -1;
	if (extra >= (size_t)-1 / 2 - b->len) {
		b->failed = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = ncap;
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

void io_tb_double(io_tb *b, double v)
{
	char s[40];
	int prec;

	if (isnan(v)) {
		io_tb_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		io_tb_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The shortest %.Ng that round-trips: 17 digits always do. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	io_tb_puts(b, s);
}

void io_tb_float(io_tb *b, float v)
{
	char s[40];
	int prec;

	if (isnan(v) || isinf(v)) {
		io_tb_double(b, (double)v);
		return;
	}
	for (prec = 1; prec <= 9; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, (double)v);
		if (strtof(s, NULL) == v)
			break;
	}
	io_tb_puts(b, s);
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
