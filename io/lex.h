/*
 * io/lex.h: internal helpers shared by the line parsers (not a public API).
 *
 * io__parse_number: strict decimal numbers (`[+-]digits[.digits][e[+-]d]`,
 * also `.5` and `5.`), correctly rounded: up to 15 digits without an
 * exponent by one exact division (the bits strtod gives), the rest by
 * strtod on a bounded stack copy; "nan"/"inf" spellings are recognised only
 * to be refused as IO_ENONFINITE, hex floats are IO_EVALUE.
 *
 * io__tags_suffix: the canonical tag suffix `;k1=v1;k2=v2` (sorted by key,
 * duplicate keys refused) written into out.
 */
#ifndef STATECAST_IO_LEX_H
#define STATECAST_IO_LEX_H

#include <stddef.h>

typedef struct io__tag {
	const char *k, *v;
	size_t kn, vn;
} io__tag;

int io__parse_number(const char *p, size_t n, double *out);

/*
 * Write `;k=v...` for tags[0..n) sorted by key into out (cap bytes, no NUL).
 * Sorts tags in place. Returns the length written, IO_ETAG on a duplicate
 * key, or IO_ENAMELEN if it would exceed cap.
 */
long io__tags_suffix(io__tag *tags, int n, char *out, size_t cap);

#endif
