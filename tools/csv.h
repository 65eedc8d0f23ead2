/*
 * tools/csv.h: the two-column CSV the CLI streams (`send`, `replay`):
 * an optional header line (`t,value`), then one `t,value` row per line,
 * t in Unix seconds (or any increasing number), value a decimal number.
 * Blank lines and lines starting with '#' are skipped.
 */
#ifndef STATECAST_TOOLS_CSV_H
#define STATECAST_TOOLS_CSV_H

#include <stdio.h>

typedef struct csv_reader {
	FILE *f;
	long line; /* number of the line last read, 1-based */
	char buf[4096];
} csv_reader;

/* path "-" reads stdin. 0, or -1 (errno set). */
int csv_open(csv_reader *r, const char *path);
void csv_close(csv_reader *r);
/* The next row: 1, 0 at the end, -1 for a malformed row (r->line names
 * it; the caller decides whether to go on). */
int csv_next(csv_reader *r, double *t, double *value);

#endif
