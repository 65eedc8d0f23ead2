/* tests/io/test_textbuf.c: appends, shortest doubles, detach. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/textbuf.h"
#include "tests/harness.h"

static void test_appends_grow(void)
{
	io_tb b;
	int i;

	io_tb_init(&b);
	for (i = 0; i < 1000; i++)
		io_tb_printf(&b, "%d,", i);
	io_tb_putc(&b, '!');
	CHECK(io_tb_ok(&b));
	CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
	CHECK(b.data[b.len - 1] == '!' && b.data[b.len] == '\0');
	CHECK_EQ_INT(strlen(b.data), b.len);
	io_tb_reset(&b);
	CHECK_EQ_INT(b.len, 0);
	io_tb_release(&b);
}

static void test_shortest_double(void)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0.1, "0.1"},
	    {1, "1"},
	    {-2.5, "-2.5"},
	    {1e-9, "1e-09"},
	    {1.0 / 3, "0.3333333333333333"},
	    {123456789, "123456789"},
	    {1200, "1200"},
	    {-0.0, "-0"},
	    {1e300, "1e+300"},
	    {0.1f, "0.10000000149011612"},
	};
	io_tb b;
	size_t i;

	io_tb_init(&b);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		io_tb_reset(&b);
		io_tb_double(&b, cases[i].v);
		if (strcmp(b.data, cases[i].s) != 0)
			th_fail(__FILE__, __LINE__, "%s != %s", b.data,
				cases[i].s);
		CHECK(strtod(b.data, NULL) == cases[i].v);
	}
	io_tb_reset(&b);
	io_tb_double(&b, NAN);
	io_tb_putc(&b, ' ');
	io_tb_double(&b, INFINITY);
	io_tb_putc(&b, ' ');
	io_tb_double(&b, -INFINITY);
	CHECK(strcmp(b.data, "NaN +Inf -Inf") == 0);
	io_tb_reset(&b);
	io_tb_float(&b, 0.1f);
	io_tb_putc(&b, ' ');
	io_tb_float(&b, 0.9f);
	CHECK(strcmp(b.data, "0.1 0.9") == 0);
	io_tb_release(&b);
}

/* Significant digits of a decimal: the mantissa without sign, point,
 * leading and trailing zeros. */
static int sig_digits(const char *s)
{
	char d[IO_FMT_MAX];
	int n = 0, a = 0;

	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	while (a < n && d[a] == '0')
		a++;
	while (n > a && d[n - 1] == '0')
		n--;
	return n - a;
}

/* The fast float formatter against strtof and the snprintf twin: every
 * output reads back to the same float and is never longer. */
static void test_float_fast_vs_naive(void)
{
	uint32_t x = 12345;
	int i, bad = 0, longer = 0;

	for (i = 0; i < 200000; i++) {
		char fast[IO_FMT_MAX], slow[IO_FMT_MAX];
		float v;
		int prec;

		x = x * 1664525u + 1013904223u; /* LCG over all bit patterns */
		if (i < 100000) {
			memcpy(&v, &x, sizeof v);
		} else { /* metric-like values: 1e-6 .. 1e9 */
			v = (float)((double)(x >> 8) / (1 << 24) *
				    pow(10, (int)(x % 16) - 6));
		}
		if (isnan(v) || isinf(v))
			continue;
		io_fmt_float(fast, v);
		for (prec = 1; prec <= 9; prec++) {
			snprintf(slow, sizeof slow, "%.*g", prec, (double)v);
			if (strtof(slow, NULL) == v)
				break;
		}
		if (strtof(fast, NULL) != v &&
		    !(v == 0 && strtof(fast, NULL) == 0))
			bad++;
		if (sig_digits(fast) > sig_digits(slow)) {
			if (longer++ < 5)
				fprintf(stderr, "  %s vs %s\n", fast, slow);
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(longer, 0);
}

static void test_float_forms(void)
{
	static const struct {
		float v;
		const char *s;
	} cases[] = {
	    {0.1f, "0.1"},
	    {100.493f, "100.493"},
	    {-2.5f, "-2.5"},
	    {1e-5f, "0.00001"},
	    {1e-7f, "1e-07"},
	    {123456789.f, "123456790"},
	    {3e12f, "3000000000000"},
	    {1e20f, "1e+20"},
	    {0.0f, "0"},
	    {16777216.f, "16777216"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char s[IO_FMT_MAX];
		io_fmt_float(s, cases[i].v);
		if (strcmp(s, cases[i].s) != 0)
			th_fail(__FILE__, __LINE__, "%s != %s", s, cases[i].s);
	}
}

static void test_detach(void)
{
	io_tb b;
	size_t n;
	char *s;

	io_tb_init(&b);
	s = io_tb_detach(&b, &n);
	CHECK(s && n == 0 && s[0] == '\0');
	free(s);
	io_tb_puts(&b, "hello");
	s = io_tb_detach(&b, &n);
	CHECK(s && n == 5 && strcmp(s, "hello") == 0);
	CHECK(b.data == NULL && b.len == 0);
	free(s);
}

static void test_utf8_len(void)
{
	static const struct {
		const char *s;
		size_t len;
	} cases[] = {
	    {"a", 1},
	    {"\xc3\xa9", 2},	     /* e acute */
	    {"\xe2\x82\xac", 3},     /* euro sign */
	    {"\xf0\x9f\x98\x80", 4}, /* emoji */
	    {"\x80", 0},	     /* stray continuation */
	    {"\xc0\xaf", 0},	     /* overlong '/' */
	    {"\xe0\x80\xaf", 0},     /* overlong '/' */
	    {"\xed\xa0\x80", 0},     /* surrogate D800 */
	    {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
	    {"\xe2\x82", 0},	     /* cut short */
	    {"\xff", 0},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].s;
		size_t n = io_utf8_len((const unsigned char *)s, strlen(s));
		if (n != cases[i].len)
			th_fail(__FILE__, __LINE__, "case %zu: %zu != %zu", i,
				n, cases[i].len);
	}
}

int main(void)
{
	TH_RUN(test_utf8_len);
	TH_RUN(test_appends_grow);
	TH_RUN(test_shortest_double);
	TH_RUN(test_float_fast_vs_naive);
	TH_RUN(test_float_forms);
	TH_RUN(test_detach);
	return th_summary();
}
