/*
 * io/influx.h: the InfluxDB line protocol, one line at a time.
 *
 *   measurement[,tag=v...] field=value[,field=value...] [timestamp]
 *
 * Escaping (as InfluxDB documents it): in the measurement, `\,` and `\ `; in
 * tag keys, tag values and field keys, `\,` `\=` and `\ `; in string field
 * values `\"` and `\\`. A backslash before any other character is itself.
 * Lines starting with `#` are comments (return 0 samples).
 *
 * Field values: float (`1.5`, `-2e3`, `7`), signed integer (`7i`), unsigned
 * integer (`7u`), boolean (t T true True TRUE f F false False FALSE) and
 * string (`"..."`). Only numeric fields become samples; booleans and strings
 * are validated, skipped and counted in *skipped. Integers beyond 2^53 lose
 * precision in the conversion to double (samples are doubles).
 *
 * Each numeric field becomes series `measurement.field` with the point's tags
 * in the canonical form of io/lines.h (`cpu.usage;host=a;region=eu`). A
 * measurement, field key or tag that could not be represented in that form
 * (holding `;`, a key holding `=`, an empty tag value) is refused.
 *
 * Timestamp: an integer in the configured precision (ns by default, like
 * InfluxDB). Absent or 0 means now; negative is IO_ETIME; beyond now +
 * max_skew_s is IO_EFUTURE.
 *
 * A line is all or nothing: it is validated completely before the first
 * sample is emitted, so a bad field never leaves half a point behind.
 */
#ifndef STATECAST_IO_INFLUX_H
#define STATECAST_IO_INFLUX_H

#include "io/lines.h"

typedef enum io_precision {
	IO_PREC_NS = 0,
	IO_PREC_US = 1,
	IO_PREC_MS = 2,
	IO_PREC_S = 3,
} io_precision;

/* "ns", "us", "ms", "s" -> IO_PREC_*, or IO_EINVAL. */
int io_precision_parse(const char *s);
const char *io_precision_name(io_precision p);

/* Called once per numeric field of a valid line, in line order. */
typedef void (*io_sample_fn)(void *ctx, const io_sample *s);

/*
 * Bytes of scratch io_influx_parse() needs for limits lim: room for the
 * unescaped tags, their canonical suffix and one composed name.
 */
size_t io_influx_scratch_size(const io_limits *lim);

/*
 * Parse one line; for each numeric field call fn(ctx, &sample), where
 * sample.name points into scratch (valid during the call only). scratch holds
 * at least io_influx_scratch_size(lim) bytes (else IO_ESPACE). skipped (may
 * be NULL) receives the number of boolean and string fields skipped.
 * Returns the number of samples emitted (>= 0) or a negative IO_E* code, in
 * which case nothing was emitted.
 */
int io_influx_parse(const char *line, size_t len, double now, io_precision prec,
		    const io_limits *lim, char *scratch, size_t scratch_cap,
		    io_sample_fn fn, void *ctx, int *skipped);

#endif
