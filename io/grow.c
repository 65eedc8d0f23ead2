/* io/grow.c: see io/grow.h. */
#include "io/grow.h"

#include <stdint.h>
#include <stdlib.h>

size_t io_grow_cap(size_t cap, size_t need, size_t elem, size_t first)
{
	size_t max, c;

	if (elem == 0)
		return 0;
	max = SIZE_MAX / elem; /* the most elements whose bytes fit size_t */
	if (need > max)
		return 0;
	if (need <= cap)
		return cap;
	c = cap ? cap : (first ? first : 1);
	if (c > max)
		c = max;
	/* Doubling past max would wrap: stop at max, which holds need. */
	while (c < need)
		c = c > max / 2 ? max : 2 * c;
	return c;
}

int io_grow(void *pp, size_t *cap, size_t need, size_t elem, size_t first)
{
	void **p = pp;
	size_t c;
	void *q;

	if (need <= *cap)
		return 0;
	c = io_grow_cap(*cap, need, elem, first);
	if (c == 0)
		return -1;
	q = realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}
