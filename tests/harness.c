/* tests/harness.c: see harness.h. Single-threaded by design. */
#include "tests/harness.h"

#include <stdarg.h>

static int th_passed, th_failed, th_cur_failed;
static const char *th_cur_name;

void th_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	th_cur_failed++;
	fprintf(stderr, "  %s:%d: %s: ", file, line,
		th_cur_name ? th_cur_name : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void th_run(const char *name, void (*fn)(void))
{
	th_cur_name = name;
	th_cur_failed = 0;
	fn();
	if (th_cur_failed) {
		th_failed++;
		printf("FAIL %s\n", name);
	} else {
		th_passed++;
		printf("ok   %s\n", name);
	}
	fflush(stdout);
	th_cur_name = NULL;
}

int th_summary(void)
{
	fflush(stderr);
	printf("%d passed, %d failed\n", th_passed, th_failed);
	return th_failed ? 1 : 0;
}
