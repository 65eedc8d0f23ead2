/*
 * io/lines.h: what the line protocols (Graphite plaintext, Influx line
 * protocol) share: the sample they produce, their limits, their error codes,
 * and the streaming line splitter that turns TCP reads into whole lines.
 *
 * Workload: every ingested sample passes through here, so nothing allocates;
 * the caller owns every buffer (one line buffer per connection, one name
 * buffer per parser call) and the parsers are pure functions over bytes.
 *
 * Canonical series names. Both protocols produce names of one form, the
 * Graphite tagged form: `path` or `path;k1=v1;k2=v2` with the tags sorted by
 * key (bytewise), keys unique and non-empty, values non-empty. Two lines that
 * name the same series with the tags in another order therefore yield the same
 * bytes, which is what the registry keys on.
 *
 * Errors are 0 or a negative IO_E* code; io_strerror() names each in a few
 * words fit for a log line or a counter label (io_errname()).
 */
#ifndef STATECAST_IO_LINES_H
#define STATECAST_IO_LINES_H

#include <stddef.h>
#include <stdint.h>

enum {
	IO_OK = 0,
	IO_ESYNTAX = -1,    /* missing or extra field, bad structure */
	IO_EVALUE = -2,	    /* the value is not a number */
	IO_ENONFINITE = -3, /* NaN or +-Inf (also a literal that overflows) */
	IO_ETIME = -4,	    /* the timestamp is not a valid time */
	IO_EFUTURE = -5,    /* timestamp beyond now + max_skew_s */
	IO_ENAMELEN = -6,   /* canonical name longer than max_name */
	IO_ETAGS = -7,	    /* more tags than max_tags */
	IO_ETAG = -8,	    /* malformed or duplicate tag */
	IO_ELINE = -9,	    /* line longer than max_line */
	IO_ENAME = -10,	    /* empty name or a character not allowed */
	IO_ESPACE = -11,    /* caller's buffer too small (a caller bug) */
	IO_EINVAL = -12,    /* bad argument (a caller bug) */
	IO_NERR = 13	    /* number of codes, for counter arrays */
};

/* A few words naming err ("bad value", "name too long", ...). */
const char *io_strerror(int err);
/* A short identifier for err ("value", "name_len", ...), for counters. */
const char *io_errname(int err);

/*
 * Hard upper bound on limits.max_tags: tag sorting uses an index array of
 * this size on the stack.
 */
#define IO_MAX_TAGS 64

/* Limits applied by the line parsers; see config/cfg.h for the settings. */
typedef struct io_limits {
	size_t max_line;   /* bytes per line, excluding the newline, >= 16 */
	size_t max_name;   /* bytes of a canonical series name, >= 1 */
	int max_tags;	   /* tags per series, 0..IO_MAX_TAGS */
	double max_skew_s; /* refuse t > now + max_skew_s; <= 0: no check */
} io_limits;

/* Defaults as in the config table: 4096, 1024, 32, 600. */
void io_limits_default(io_limits *lim);

/*
 * One parsed sample. name points into the caller's name buffer given to the
 * parser (NUL-terminated, name_len bytes without the NUL); it stays valid
 * until that buffer is reused.
 */
typedef struct io_sample {
	const char *name;
	size_t name_len;
	double value; /* finite */
	double t;     /* Unix seconds */
} io_sample;

/*
 * The streaming line splitter. One per connection; the caller hands it a
 * buffer of at least max_line bytes that holds an incomplete line between
 * reads. Lines that are complete within one read are handed out in place
 * (no copy); only a line split across reads is copied.
 *
 * A line is the bytes up to '\n', without the '\n' and without one '\r'
 * before it. Empty lines are skipped. A line longer than cap bytes is not
 * handed out: it is discarded up to and including its newline, however many
 * reads that takes, and counted in `overlong`.
 */
typedef struct io_lines {
	char *buf;	   /* caller-owned, cap bytes */
	size_t cap;	   /* = the maximum line length */
	size_t len;	   /* bytes of the pending incomplete line */
	int discarding;	   /* inside an over-long line: drop until '\n' */
	uint64_t lines;	   /* lines handed out */
	uint64_t overlong; /* lines discarded for length */
} io_lines;

/* Called once per complete line; line is not NUL-terminated. */
typedef void (*io_line_fn)(void *ctx, const char *line, size_t len);

void io_lines_init(io_lines *l, char *buf, size_t cap);

/*
 * Split n bytes of a read into lines, calling fn(ctx, line, len) for each
 * complete one in order. Keeps the incomplete tail for the next call.
 * Returns the number of lines handed out by this call.
 */
size_t io_lines_feed(io_lines *l, const char *data, size_t n, io_line_fn fn,
		     void *ctx);

/*
 * At end of stream: hand out the pending line that had no newline (if any
 * and not being discarded), then reset. Returns 1 if a line was handed out.
 */
int io_lines_finish(io_lines *l, io_line_fn fn, void *ctx);

#endif
