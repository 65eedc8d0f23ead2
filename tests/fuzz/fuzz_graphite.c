/*
 * tests/fuzz/fuzz_graphite.c: libFuzzer target for the line splitter and
 * the Graphite parser.
 *
 * The first byte picks the read size, so lines get split across reads at
 * every possible place. Invariants checked on every parsed line (a
 * violation aborts, which libFuzzer reports as a crash):
 * - the name is NUL-terminated, name_len long, at most max_name bytes;
 * - the value is finite, t is >= 0 and within now + max_skew_s;
 * - normalization is idempotent: the name parsed again is unchanged.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/graphite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000.0

static io_limits lim;
static char name[1200], again[1200];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void on_line(void *ctx, const char *line, size_t len)
{
	io_sample s;
	char buf[1300];
	io_limits relim = lim;
	int n;

	(void)ctx;
	check(len > 0 && len <= lim.max_line && !memchr(line, '\n', len));
	if (io_graphite_parse(line, len, NOW, &lim, name, sizeof(name), &s))
		return;
	check(s.name == name && strlen(name) == s.name_len);
	check(s.name_len <= lim.max_name);
	check(isfinite(s.value) && s.t >= 0 && s.t <= NOW + lim.max_skew_s);
	n = snprintf(buf, sizeof(buf), "%s 1 -1", name);
	check(n > 0 && (size_t)n < sizeof(buf));
	relim.max_line = sizeof(buf); /* the name plus " 1 -1" may not fit */
	check(io_graphite_parse(buf, (size_t)n, NOW, &relim, again,
				sizeof(again), &s) == IO_OK);
	check(strcmp(again, name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256];
	io_lines l;
	size_t chunk, off = 0;

	if (size == 0)
		return 0;
	io_limits_default(&lim);
	lim.max_line = sizeof(buf);
	lim.max_tags = 8;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	io_lines_init(&l, buf, sizeof(buf));
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		io_lines_feed(&l, (const char *)data + off, n, on_line, NULL);
		off += n;
	}
	io_lines_finish(&l, on_line, NULL);
	return 0;
}
