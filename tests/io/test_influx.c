/*
 * tests/io/test_influx.c: InfluxDB line protocol: escapes, field types,
 * tag normalization, precision, all-or-nothing lines, each error.
 */
#include <stdlib.h>
#include <string.h>

#include "io/influx.h"
#include "tests/harness.h"

#define NOW 1700000000.0

static io_limits lim;
static char *scratch;
static size_t scap;
static char names[16][256];
static double vals[16], ts[16];
static int n, skipped;

static void sink(void *ctx, const io_sample *s)
{
	(void)ctx;
	if (n < 16 && s->name_len < 256 && strlen(s->name) == s->name_len) {
		memcpy(names[n], s->name, s->name_len + 1);
		vals[n] = s->value;
		ts[n] = s->t;
	}
	n++;
}

static int parse_p(const char *line, io_precision p)
{
	n = 0;
	return io_influx_parse(line, strlen(line), NOW, p, &lim, scratch, scap,
			       sink, NULL, &skipped);
}

static int parse(const char *line)
{
	return parse_p(line, IO_PREC_NS);
}

static void test_basic(void)
{
	CHECK_EQ_INT(parse("cpu,host=a usage=1.5 1699999990000000000"), 1);
	CHECK(strcmp(names[0], "cpu.usage;host=a") == 0);
	CHECK_NEAR(vals[0], 1.5, 0);
	CHECK_NEAR(ts[0], 1699999990.0, 0);
	CHECK_EQ_INT(parse("mem free=10i,used=20u,pct=0.5"), 3);
	CHECK(strcmp(names[0], "mem.free") == 0);
	CHECK(strcmp(names[1], "mem.used") == 0);
	CHECK(strcmp(names[2], "mem.pct") == 0);
	CHECK_NEAR(vals[0], 10, 0);
	CHECK_NEAR(vals[1], 20, 0);
	CHECK_NEAR(ts[2], NOW, 0);
	CHECK_EQ_INT(parse("m v=-7i 0"), 1);
	CHECK_NEAR(vals[0], -7, 0);
	CHECK_NEAR(ts[0], NOW, 0);
	CHECK_EQ_INT(parse("# a comment"), 0);
	CHECK_EQ_INT(parse("   "), 0);
	CHECK_EQ_INT(parse("m v=1 1699999990000000000\r"), 1);
}

static void test_tags_sorted(void)
{
	CHECK_EQ_INT(parse("cpu,z=1,host=b,a=x v=1"), 1);
	CHECK(strcmp(names[0], "cpu.v;a=x;host=b;z=1") == 0);
	CHECK_EQ_INT(parse("cpu,a=x,z=1,host=b v=1"), 1);
	CHECK(strcmp(names[0], "cpu.v;a=x;host=b;z=1") == 0);
}

static void test_escapes(void)
{
	CHECK_EQ_INT(parse("my\\ meas\\,x,t\\ k=v\\=1\\,2 f\\=\\ 1=3"), 1);
	CHECK(strcmp(names[0], "my meas,x.f= 1;t k=v=1,2") == 0);
	/* backslash before another char stays */
	CHECK_EQ_INT(parse("a\\b v=1"), 1);
	CHECK(strcmp(names[0], "a\\b.v") == 0);
	/* strings with spaces, commas, escaped quotes: skipped */
	CHECK_EQ_INT(parse("log msg=\"a, b \\\"c\\\" \\\\\",n=2 5000000000"),
		     1);
	CHECK_EQ_INT(skipped, 1);
	CHECK(strcmp(names[0], "log.n") == 0);
	CHECK_NEAR(ts[0], 5, 0);
	CHECK_EQ_INT(parse("s up=true,down=F,x=t,v=1"), 1);
	CHECK_EQ_INT(skipped, 3);
	/* a quote inside a key is a plain character, not a string */
	CHECK_EQ_INT(parse("q a\"b=1 7000000000"), 1);
	CHECK(strcmp(names[0], "q.a\"b") == 0);
	CHECK_NEAR(ts[0], 7, 0);
}

static void test_precision(void)
{
	CHECK_EQ_INT(parse_p("m v=1 1699999990123456", IO_PREC_US), 1);
	CHECK_NEAR(ts[0], 1699999990.123456, 1e-6);
	CHECK_EQ_INT(parse_p("m v=1 1699999990123", IO_PREC_MS), 1);
	CHECK_NEAR(ts[0], 1699999990.123, 1e-6);
	CHECK_EQ_INT(parse_p("m v=1 1699999990", IO_PREC_S), 1);
	CHECK_NEAR(ts[0], 1699999990, 0);
	CHECK_EQ_INT(io_precision_parse("ms"), IO_PREC_MS);
	CHECK_EQ_INT(io_precision_parse("h"), IO_EINVAL);
	CHECK(strcmp(io_precision_name(IO_PREC_US), "us") == 0);
}

static void test_errors_all_or_nothing(void)
{
	CHECK_EQ_INT(parse("m a=1,b=x"), IO_EVALUE);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(parse("m a=1,b=nan"), IO_ENONFINITE);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(parse("m a=1,b=\"open"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m "), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m a=1,"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m =1"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m a"), IO_ESYNTAX);
	CHECK_EQ_INT(parse("m a=1i2"), IO_EVALUE);
	CHECK_EQ_INT(parse("m a=99999999999999999999i"), IO_EVALUE);
	CHECK_EQ_INT(parse("m a=-1u"), IO_EVALUE);
	CHECK_EQ_INT(parse("m a=1 12x"), IO_ETIME);
	CHECK_EQ_INT(parse("m a=1 -5"), IO_ETIME);
	CHECK_EQ_INT(parse("m a=1 1 2"), IO_ETIME);
	CHECK_EQ_INT(parse("m a=1 1700000601000000000"), IO_EFUTURE);
	CHECK_EQ_INT(parse("m,t a=1"), IO_ETAG);
	CHECK_EQ_INT(parse("m,t= a=1"), IO_ETAG);
	CHECK_EQ_INT(parse("m,t=1,t=2 a=1"), IO_ETAG);
	CHECK_EQ_INT(parse("m,t=1, a=1"), IO_ETAG);
	CHECK_EQ_INT(parse("m,t;x=1 a=1"), IO_ETAG);
	CHECK_EQ_INT(parse("m;x a=1"), IO_ENAME);
	CHECK_EQ_INT(parse(",t=1 a=1"), IO_ENAME);
	CHECK_EQ_INT(parse("m a;b=1"), IO_ENAME);
}

static void test_limits(void)
{
	io_limits l2 = lim;
	char small[8];
	char line[6000];

	l2.max_tags = 1;
	n = 0;
	CHECK_EQ_INT(io_influx_parse("m,a=1,b=2 v=1", 13, NOW, IO_PREC_NS, &l2,
				     scratch, scap, sink, NULL, NULL),
		     IO_ETAGS);
	l2 = lim;
	l2.max_name = 8;
	CHECK_EQ_INT(io_influx_parse("m,a=1 v=1", 9, NOW, IO_PREC_NS, &l2,
				     scratch, scap, sink, NULL, NULL),
		     1);
	CHECK_EQ_INT(io_influx_parse("m,a=1 vvv=1", 11, NOW, IO_PREC_NS, &l2,
				     scratch, scap, sink, NULL, NULL),
		     IO_ENAMELEN);
	CHECK_EQ_INT(io_influx_parse("m v=1", 5, NOW, IO_PREC_NS, &lim, small,
				     sizeof(small), sink, NULL, NULL),
		     IO_ESPACE);
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	CHECK_EQ_INT(parse(line), IO_ELINE);
	/* a long field key is refused by name length, not by overflow */
	memcpy(line, "m ", 2);
	memcpy(line + 4000, "=1", 3);
	CHECK_EQ_INT(parse(line), IO_ENAMELEN);
}

int main(void)
{
	int r;

	io_limits_default(&lim);
	scap = io_influx_scratch_size(&lim);
	scratch = malloc(scap);
	TH_RUN(test_basic);
	TH_RUN(test_tags_sorted);
	TH_RUN(test_escapes);
	TH_RUN(test_precision);
	TH_RUN(test_errors_all_or_nothing);
	TH_RUN(test_limits);
	r = th_summary();
	free(scratch);
	return r;
}
