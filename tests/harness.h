/*
 * tests/harness.h: the unit-test harness (in-house, about 100 lines).
 *
 * A test file defines `static void test_x(void)` functions and a main() that
 * calls TH_RUN(test_x) for each, then returns th_summary(). A failed CHECK
 * records the failure with file:line and lets the test continue, so one run
 * shows every broken expectation. th_summary() prints "N passed, N failed"
 * (counting tests, not checks) and returns the process exit status.
 *
 * Why in-house: tests run forked under timeouts from tests/run.sh already; a
 * framework would add a dependency for nothing we use.
 */
#ifndef STATECAST_TESTS_HARNESS_H
#define STATECAST_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>

void th_run(const char *name, void (*fn)(void));
int th_summary(void);
void th_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define TH_RUN(fn) th_run(#fn, fn)

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond))                                             \
			th_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                    \
	do {                                                                  \
		long long th_a_ = (long long)(a), th_b_ = (long long)(b);     \
		if (th_a_ != th_b_)                                           \
			th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
				#a, #b, th_a_, th_b_);                        \
	} while (0)

/* |a - b| <= tol, and NaN never passes. */
#define CHECK_NEAR(a, b, tol)                                                \
	do {                                                                 \
		double th_a_ = (double)(a), th_b_ = (double)(b);             \
		if (!(fabs(th_a_ - th_b_) <= (double)(tol)))                 \
			th_fail(__FILE__, __LINE__,                          \
				"%s ~= %s: %.9g vs %.9g (tol %.3g)", #a, #b, \
				th_a_, th_b_, (double)(tol));                \
	} while (0)

#endif
