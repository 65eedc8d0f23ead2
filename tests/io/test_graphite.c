/*
 * tests/io/test_graphite.c: Graphite plaintext lines and the line splitter.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/graphite.h"
#include "tests/harness.h"

#define NOW 1700000000.0

static io_limits lim;
static char name[2048];
static io_sample s;

static int parse(const char *line)
{
	return io_graphite_parse(line, strlen(line), NOW, &lim, name,
				 sizeof(name), &s);
}

static void test_basic(void)
{
	CHECK_EQ_INT(parse("cpu.load 1.5 1699999990"), IO_OK);
	CHECK(strcmp(s.name, "cpu.load") == 0);
	CHECK_EQ_INT(s.name_len, 8);
	CHECK_NEAR(s.value, 1.5, 0);
	CHECK_NEAR(s.t, 1699999990.0, 0);
	CHECK_EQ_INT(parse("  a\t-2e3   12.25  "), IO_OK);
	CHECK_NEAR(s.value, -2000, 0);
	CHECK_NEAR(s.t, 12.25, 0);
	CHECK_EQ_INT(parse("a 7 123\r"), IO_OK);
	CHECK_NEAR(s.t, 123, 0);
}

/* Values are bit for bit what strtod makes of them, on both sides of the
 * short-decimal path (<= 15 digits, no exponent) and past it. */
static void test_values_match_strtod(void)
{
	char line[128], num[64];
	unsigned long long x = 88172645463325252ull;
	int i, same = 1, bad = -1;

	for (i = 0; i < 200000 && same; i++) {
		int digits, point, k, len = 0;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		digits = 1 + (int)(x % 19); /* 1..19: some past 15 */
		point = (int)((x >> 8) % (unsigned)(digits + 2)) - 1;
		if ((x >> 16) & 1)
			num[len++] = '-';
		for (k = 0; k < digits; k++) {
			if (k == point)
				num[len++] = '.';
			num[len++] =
			    (char)('0' + (x >> (20 + 2 * k % 40)) % 10);
		}
		if (point == digits)
			num[len++] = '.';
		if (i % 7 == 0)
			len += snprintf(num + len, sizeof num - (size_t)len,
					"e%d", (int)((x >> 40) % 40) - 20);
		num[len] = '\0';
		snprintf(line, sizeof line, "a %s 1", num);
		if (parse(line) != IO_OK ||
		    memcmp(&s.value, &(double){strtod(num, NULL)},
			   sizeof(double)) != 0)
			same = 0, bad = i;
	}
	if (!same)
		fprintf(stderr, "  value %d differs from strtod: %s\n", bad,
			num);
	CHECK(same);
	CHECK_EQ_INT(parse("a -0 1"), IO_OK);
	CHECK(s.value == 0 && signbit(s.value));
	CHECK_EQ_INT(parse("a 5. 1"), IO_OK);
	CHECK(s.value == 5);
	CHECK_EQ_INT(parse("a .1 1"), IO_OK);
	CHECK(s.value == 0.1);
}

static void test_now(void)
{
	CHECK_EQ_INT(parse("a 1 -1"), IO_OK);
	CHECK_NEAR(s.t, NOW, 0);
	CHECK_EQ_INT(parse("a 1 0"), IO_OK);
	CHECK_NEAR(s.t, NOW, 0);
}

static void test_tags_sorted(void)
{
	char first[2048];

	CHECK_EQ_INT(parse("disk.used;host=b;dc=x;az=1 5 -1"), IO_OK);
	CHECK(strcmp(s.name, "disk.used;az=1;dc=x;host=b") == 0);
	strcpy(first, s.name);
	CHECK_EQ_INT(parse("disk.used;dc=x;az=1;host=b 5 -1"), IO_OK);
	CHECK(strcmp(s.name, first) == 0);
	CHECK_EQ_INT(parse("m;k=a=b 1 -1"), IO_OK); /* '=' allowed in value */
	CHECK(strcmp(s.name, "m;k=a=b") == 0);
}

/* io_graphite_name: the name rules alone, for names outside a line. */
static void test_name_alone(void)
{
	char buf[2048];
	const char *raw = "m;z=1;a=2";

	CHECK_EQ_INT(io_graphite_name(raw, strlen(raw), &lim, buf, sizeof buf),
		     9);
	CHECK(strcmp(buf, "m;a=2;z=1") == 0);
	CHECK_EQ_INT(io_graphite_name("", 0, &lim, buf, sizeof buf), IO_ENAME);
	CHECK_EQ_INT(io_graphite_name("m;k", 3, &lim, buf, sizeof buf),
		     IO_ETAG);
	CHECK_EQ_INT(io_graphite_name("m", 1, &lim, buf, lim.max_name),
		     IO_ESPACE);
}

static void test_errors(void)
{
	CHECK_EQ_INT(parse("a 1"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1 2 3"), IO_ESYNTAX);
	CHECK_EQ_INT(parse(""), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a x 1"), IO_EVALUE);
	CHECK_EQ_INT(parse("a 1.5.5 1"), IO_EVALUE);
	CHECK_EQ_INT(parse("a 0x10 1"), IO_EVALUE);
	CHECK_EQ_INT(parse("a - 1"), IO_EVALUE);
	CHECK_EQ_INT(parse("a 1e 1"), IO_EVALUE);
	CHECK_EQ_INT(parse("a nan 1"), IO_ENONFINITE);
	CHECK_EQ_INT(parse("a -Inf 1"), IO_ENONFINITE);
	CHECK_EQ_INT(parse("a 1e999 1"), IO_ENONFINITE);
	CHECK_EQ_INT(parse("a 1 x"), IO_ETIME);
	CHECK_EQ_INT(parse("a 1 -5"), IO_ETIME);
	CHECK_EQ_INT(parse("a 1 1700000601"), IO_EFUTURE);
	CHECK_EQ_INT(parse("a 1 1700000600"), IO_OK);
	CHECK_EQ_INT(parse("a;k 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a;=v 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a;k= 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a;k=~v 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a;k!=v 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a;k=1;k=2 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse("a; 1 1"), IO_ETAG);
	CHECK_EQ_INT(parse(";k=v 1 1"), IO_ENAME);
}

/* The usual single-spaced line takes a shorter path (io/graphite.c,
 * single_spaced); a tab or CR where a space would be, or inside a field,
 * must still get the reason the general split gives. */
static void test_whitespace_reasons(void)
{
	CHECK_EQ_INT(parse("a\tb 1 2"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1\t2 3"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1 2\t3"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1 2 "), IO_OK);
	CHECK_EQ_INT(parse(" a 1 2"), IO_OK);
	CHECK_EQ_INT(parse("a  1 2"), IO_OK);
	CHECK_EQ_INT(parse("a\t1\r2"), IO_OK);
	CHECK_NEAR(s.value, 1, 0);
	CHECK_NEAR(s.t, 2, 0);
	CHECK_EQ_INT(parse("a\r 1 2"), IO_OK);
	CHECK(strcmp(s.name, "a") == 0);
	CHECK_EQ_INT(parse("a;k=v\tx 1 2"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1 2 3 4"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a 1 x 3"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("a x 2 3"), IO_ESYNTAX);
}

/* A control character anywhere in a path is refused, whichever 8-byte
 * word it falls in; bytes >= 0x80 (UTF-8) are not control characters. */
static void test_name_control_bytes(void)
{
	static const unsigned char bad[] = {0x01, 0x1b, 0x1f, 0x7f, 0x00};
	static const unsigned char good[] = {0x80, 0x9f, 0xc3, 0xff, 0x21};
	char line[64];
	int pos, k, ok = 1;

	for (pos = 0; pos < 20; pos++) {
		for (k = 0; k < 5; k++) {
			memset(line, 'm', 20);
			memcpy(line + 20, " 1 2", 5);
			line[pos] = (char)bad[k];
			if (io_graphite_parse(line, 24, NOW, &lim, name,
					      sizeof(name), &s) != IO_ENAME)
				ok = 0;
			line[pos] = (char)good[k];
			if (io_graphite_parse(line, 24, NOW, &lim, name,
					      sizeof(name), &s) != IO_OK ||
			    s.name_len != 20 ||
			    (unsigned char)s.name[pos] != good[k])
				ok = 0;
		}
	}
	CHECK(ok);
}

/* Digits 8 at a time: every length around the word, leading zeros,
 * and a non-digit at each place of the first 8. */
static void test_number_lengths(void)
{
	char line[64], num[32];
	int len, pos, ok = 1;

	for (len = 1; len <= 20; len++) {
		for (pos = 0; pos < len; pos++)
			num[pos] = (char)('0' + (pos * 7 + len) % 10);
		num[len] = '\0';
		snprintf(line, sizeof line, "a %s 1", num);
		if (parse(line) != IO_OK ||
		    memcmp(&s.value, &(double){strtod(num, NULL)},
			   sizeof(double)) != 0)
			ok = 0;
		for (pos = 0; pos < len && pos < 9; pos++) {
			char c = num[pos];
			num[pos] = pos % 2 ? '/' : ':'; /* '0' - 1, '9' + 1 */
			snprintf(line, sizeof line, "a %s 1", num);
			if (parse(line) != IO_EVALUE)
				ok = 0;
			num[pos] = c;
		}
	}
	CHECK(ok);
	CHECK_EQ_INT(parse("a 00000000000000000007.5 1"), IO_OK);
	CHECK(s.value == 7.5);
	CHECK_EQ_INT(parse("a 12345678.87654321 1"), IO_OK);
	CHECK(s.value == strtod("12345678.87654321", NULL));
}

static void test_limits(void)
{
	char line[8192];
	io_limits l2 = lim;
	int i, n;

	l2.max_name = 10;
	CHECK_EQ_INT(io_graphite_parse("abcdefghij 1 1", 14, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_OK);
	CHECK_EQ_INT(io_graphite_parse("abcdefghijk 1 1", 15, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_ENAMELEN);
	CHECK_EQ_INT(io_graphite_parse("a;b=1;c=22 1 1", 14, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_OK);
	CHECK_EQ_INT(io_graphite_parse("a;b=1;c=223 1 1", 15, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_ENAMELEN);
	CHECK_EQ_INT(io_graphite_parse("a 1 1", 5, NOW, &lim, name, 100, &s),
		     IO_ESPACE);
	l2 = lim;
	l2.max_tags = 2;
	CHECK_EQ_INT(io_graphite_parse("a;x=1;y=2 1 1", 13, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_OK);
	CHECK_EQ_INT(io_graphite_parse("a;x=1;y=2;z=3 1 1", 17, NOW, &l2, name,
				       sizeof(name), &s),
		     IO_ETAGS);
	n = snprintf(line, sizeof(line), "a ");
	for (i = 0; i < 5000; i++)
		line[n++] = '1';
	line[n] = '\0';
	CHECK_EQ_INT(parse(line), IO_ELINE);
	CHECK(strcmp(io_strerror(IO_ELINE), "line too long") == 0);
	CHECK(strcmp(io_errname(IO_EFUTURE), "future") == 0);
}

/* ---- the line splitter ---- */

static char got[64][64];
static int ngot;

static void collect(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	if (ngot < 64 && len < 64) {
		memcpy(got[ngot], line, len);
		got[ngot][len] = '\0';
	}
	ngot++;
}

static void test_lines_many_per_read(void)
{
	char buf[16];
	io_lines l;
	const char *in = "a 1 1\nb 2 2\r\n\nc 3 3\n";

	ngot = 0;
	io_lines_init(&l, buf, sizeof(buf));
	CHECK_EQ_INT(io_lines_feed(&l, in, strlen(in), collect, NULL), 3);
	CHECK_EQ_INT(ngot, 3);
	CHECK(strcmp(got[0], "a 1 1") == 0);
	CHECK(strcmp(got[1], "b 2 2") == 0);
	CHECK(strcmp(got[2], "c 3 3") == 0);
	CHECK_EQ_INT(l.len, 0);
}

static void test_lines_split_reads(void)
{
	char buf[16];
	io_lines l;
	const char *in = "abc 1 1\r\nxyz 22 2\n";
	size_t i;

	/* Every byte in its own read, CR and LF in separate reads too. */
	ngot = 0;
	io_lines_init(&l, buf, sizeof(buf));
	for (i = 0; i < strlen(in); i++)
		io_lines_feed(&l, in + i, 1, collect, NULL);
	CHECK_EQ_INT(ngot, 2);
	CHECK(strcmp(got[0], "abc 1 1") == 0);
	CHECK(strcmp(got[1], "xyz 22 2") == 0);
	/* A last line without newline comes out at end of stream. */
	io_lines_feed(&l, "tail 1", 6, collect, NULL);
	CHECK_EQ_INT(ngot, 2);
	CHECK_EQ_INT(io_lines_finish(&l, collect, NULL), 1);
	CHECK(strcmp(got[2], "tail 1") == 0);
}

static void test_lines_overlong(void)
{
	char buf[8];
	io_lines l;

	ngot = 0;
	io_lines_init(&l, buf, sizeof(buf));
	/* exactly cap bytes is fine, even with CRLF */
	io_lines_feed(&l, "12345678\r\n", 10, collect, NULL);
	CHECK_EQ_INT(ngot, 1);
	/* 9 bytes in one read: discarded, next line intact */
	io_lines_feed(&l, "123456789\nok\n", 13, collect, NULL);
	CHECK_EQ_INT(ngot, 2);
	CHECK(strcmp(got[1], "ok") == 0);
	CHECK_EQ_INT(l.overlong, 1);
	/* over-long across many reads: the rest is dropped up to '\n' */
	io_lines_feed(&l, "abcdef", 6, collect, NULL);
	io_lines_feed(&l, "ghijkl", 6, collect, NULL);
	io_lines_feed(&l, "mnopqr", 6, collect, NULL);
	io_lines_feed(&l, "st\nnext\n", 8, collect, NULL);
	CHECK_EQ_INT(ngot, 3);
	CHECK(strcmp(got[2], "next") == 0);
	CHECK_EQ_INT(l.overlong, 2);
	CHECK_EQ_INT(l.lines, 3);
	/* a discarded tail is not handed out at end of stream */
	io_lines_feed(&l, "123456789", 9, collect, NULL);
	CHECK_EQ_INT(io_lines_finish(&l, collect, NULL), 0);
	CHECK_EQ_INT(ngot, 3);
}

int main(void)
{
	io_limits_default(&lim);
	TH_RUN(test_basic);
	TH_RUN(test_values_match_strtod);
	TH_RUN(test_now);
	TH_RUN(test_tags_sorted);
	TH_RUN(test_name_alone);
	TH_RUN(test_errors);
	TH_RUN(test_whitespace_reasons);
	TH_RUN(test_name_control_bytes);
	TH_RUN(test_number_lengths);
	TH_RUN(test_limits);
	TH_RUN(test_lines_many_per_read);
	TH_RUN(test_lines_split_reads);
	TH_RUN(test_lines_overlong);
	return th_summary();
}
