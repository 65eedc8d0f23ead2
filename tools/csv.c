/*
 * tools/csv.c: reading `t,value` rows (see csv.h).
 */
#include "tools/csv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int csv_open(csv_reader *r, const char *path)
{
	r->line = 0;
	r->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	return r->f ? 0 : -1;
}

void csv_close(csv_reader *r)
{
	if (r->f && r->f != stdin)
		fclose(r->f);
	r->f = NULL;
}

int csv_next(csv_reader *r, double *t, double *value)
{
	while (fgets(r->buf, sizeof r->buf, r->f)) {
		char *p = r->buf, *end;
		r->line++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		/* A first line that does not start with a number is the
		 * header. */
		if (r->line == 1 && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '+' && *p != '.')
			continue;
		*t = strtod(p, &end);
		if (end == p)
			return -1;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',')
			return -1;
		p++;
		*value = strtod(p, &end);
		if (end == p)
			return -1;
		while (isspace((unsigned char)*end))
			end++;
		if (*end != '\0')
			return -1;
		return 1;
	}
	return 0;
}
