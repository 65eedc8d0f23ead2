/*
 * daemon/log.c: priority-prefixed lines on stderr (see log.h).
 */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>

static int max_level = LOG_INFO;

void srv_log_set_level(int max_priority)
{
	max_level = max_priority;
}

void srv_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (priority > max_level)
		return;
	n = snprintf(line, sizeof line, "<%d>", priority);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fputs per line: stderr is unbuffered, so the line reaches the
	 * reader whole and in order with other processes' writes. */
	fprintf(stderr, "%s\n", line);
}
