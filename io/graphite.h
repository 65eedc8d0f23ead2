/*
 * io/graphite.h: the Graphite plaintext protocol, one line at a time.
 *
 *   name value timestamp
 *
 * Fields are separated by runs of spaces or tabs (carbon splits on any
 * whitespace); leading and trailing whitespace is ignored. The line comes from
 * io_lines (io/lines.h), so it has no newline; a stray '\r' at the end is
 * tolerated anyway.
 *
 * - name: `path` or `path;k=v;...` (Graphite tags). The tags are sorted by key
 *   into the canonical form of io/lines.h. A key is non-empty and holds none of
 *   `;=!^~` nor whitespace; a value is non-empty, holds no `;` and does not
 *   start with `~` (Graphite's tag rules). Duplicate keys are refused.
 * - value: a decimal number (`-1.5`, `2e3`, `7`); hex, "nan", "inf" and
 *   anything that overflows to Inf are refused (IO_EVALUE / IO_ENONFINITE).
 * - timestamp: Unix seconds, decimal, fraction allowed. -1 and 0 mean "now"
 *   (the caller's now, so parsing stays a pure function). Other negatives are
 *   IO_ETIME; t > now + max_skew_s is IO_EFUTURE.
 *
 * Allocation-free; the caller owns every buffer.
 */
#ifndef STATECAST_IO_GRAPHITE_H
#define STATECAST_IO_GRAPHITE_H

#include "io/lines.h"

/*
 * Parse one line. now is the current Unix time in seconds. name_buf receives
 * the canonical name, NUL-terminated; name_cap must be at least
 * lim->max_name + 1 (else IO_ESPACE). On success fills *out (out->name =
 * name_buf) and returns IO_OK; otherwise a negative IO_E* code and *out is
 * unspecified. Checks in order: line length, structure, name, value, time.
 */
int io_graphite_parse(const char *line, size_t len, double now,
		      const io_limits *lim, char *name_buf, size_t name_cap,
		      io_sample *out);

/*
 * The canonical form of a series name `path` or `path;k=v;...` (tags sorted
 * by key, the same checks as a line's name field) written NUL-terminated into
 * buf, which holds at least lim->max_name + 1 bytes. For names that arrive
 * outside a line (msgpack `push`, lookups by name), so `a;y=1;x=2` and
 * `a;x=2;y=1` are one series whichever way they come in. Returns the length
 * or a negative IO_E* code (IO_ENAME, IO_ENAMELEN, IO_ETAG, IO_ETAGS).
 */
long io_graphite_name(const char *name, size_t n, const io_limits *lim,
		      char *buf, size_t cap);

#endif
