/*
 * tests/fuzz/fuzz_influx.c: libFuzzer target for the Influx line protocol
 * parser. The input is split into lines as io_lines would; the first byte
 * picks the timestamp precision. Invariants: emitted names are
 * NUL-terminated, at most max_name bytes, start with the measurement and
 * hold no newline; values are finite; a refused line emits nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/influx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000.0

static io_limits lim;
static int emitted;

static void check(int cond)
{
	if (!cond)
		abort();
}

static void sink(void *ctx, const io_sample *s)
{
	(void)ctx;
	emitted++;
	check(strlen(s->name) == s->name_len && s->name_len <= lim.max_name);
	check(!memchr(s->name, '\n', s->name_len));
	check(strchr(s->name, '.') != NULL);
	check(isfinite(s->value) && s->t >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *scratch;
	static size_t cap;
	const char *p, *end;
	io_precision prec;

	if (size == 0)
		return 0;
	io_limits_default(&lim);
	lim.max_line = 512;
	lim.max_name = 200;
	lim.max_tags = 8;
	if (!scratch) {
		cap = io_influx_scratch_size(&lim);
		scratch = malloc(cap);
	}
	prec = (io_precision)(data[0] % 4);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int r, sk;

		emitted = 0;
		r = io_influx_parse(p, n, NOW, prec, &lim, scratch, cap, sink,
				    NULL, &sk);
		check(r < 0 ? emitted == 0 : r == emitted);
		check(r < 0 ? sk == 0 : sk >= 0);
		p += n + (nl ? 1 : 0);
	}
	return 0;
}
