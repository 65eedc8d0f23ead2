/* tests/io/test_chart.c: band levels, frame fitting, round ticks. */
#include <math.h>
#include <string.h>

#include "io/chart.h"
#include "tests/harness.h"

static void test_levels(void)
{
	static const float l9[9] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f,
				    0.6f, 0.7f, 0.8f, 0.9f};
	static const float l3[3] = {0.05f, 0.5f, 0.95f};

	CHECK_EQ_INT(io_chart_level(l9, 9, 0.1f), 0);
	CHECK_EQ_INT(io_chart_level(l9, 9, 0.5f), 4);
	CHECK_EQ_INT(io_chart_level(l9, 9, 0.9f), 8);
	CHECK_EQ_INT(io_chart_level(l3, 3, 0.1f), 0);
	CHECK_EQ_INT(io_chart_level(l3, 3, 0.9f), 2);
	CHECK_EQ_INT(io_chart_level(l3, 0, 0.5f), -1);
}

static void test_fit(void)
{
	static const float lv[3] = {0.1f, 0.5f, 0.9f};
	static const float q[2 * 3] = {0, 5, 30, -10, 5, 12};
	double t[3] = {100, 110, 120}, v[3] = {1, NAN, 9};
	io_chart c;
	io_chart_frame f;

	memset(&c, 0, sizeof c);
	c.t = t;
	c.v = v;
	c.n = 3;
	io_chart_fit(&c, &f);
	CHECK(f.t0 == 100 && f.t1 == 120);
	CHECK_NEAR(f.y0, 1 - 0.4, 1e-12); /* 5% margin of 8 */
	CHECK_NEAR(f.y1, 9 + 0.4, 1e-12);
	CHECK_EQ_INT(f.lo, -1);
	c.H = 2;
	c.Q = 3;
	c.levels = lv;
	c.q = q;
	c.origin_t = 120;
	c.step_s = 10;
	io_chart_fit(&c, &f);
	CHECK(f.t1 == 140);
	CHECK_NEAR(f.y0, -10 - 2, 1e-12);
	CHECK_NEAR(f.y1, 30 + 2, 1e-12);
	CHECK(f.lo == 0 && f.mid == 1 && f.hi == 2);
	/* Nothing finite: a unit frame, no division by zero later. */
	v[0] = v[2] = NAN;
	c.H = 0;
	io_chart_fit(&c, &f);
	CHECK(f.y0 == 0 && f.y1 == 1 && f.t0 < f.t1);
	/* A flat line gets a margin. */
	v[0] = v[2] = 4;
	io_chart_fit(&c, &f);
	CHECK(f.y0 < 4 && f.y1 > 4);
}

static void test_ticks(void)
{
	double x[16];
	int n;

	n = io_chart_ticks(0.03, 0.97, 5, x, 16);
	CHECK_EQ_INT(n, 4);
	CHECK(x[0] == 0.2 && x[1] == 0.4 && x[2] == 0.6 && x[3] == 0.8);
	n = io_chart_ticks(-13, 87, 5, x, 16);
	CHECK_EQ_INT(n, 5);
	CHECK(x[0] == 0 && x[4] == 80);
	n = io_chart_ticks(0, 1e6, 4, x, 16);
	CHECK(n == 6 && x[1] == 200000 && x[5] == 1e6);
	CHECK_EQ_INT(io_chart_ticks(1, 1, 5, x, 16), 0);
	CHECK_EQ_INT(io_chart_ticks(0, 100, 5, x, 2), 2);
}

int main(void)
{
	TH_RUN(test_levels);
	TH_RUN(test_fit);
	TH_RUN(test_ticks);
	return th_summary();
}
