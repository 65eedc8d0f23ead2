/*
 * io/grow.h: growing an array by doubling, with the size arithmetic checked.
 *
 * The one piece of code behind every "append, and double the array when it
 * is full" in the tree (the daemon's tick rounds and slab chunk lists, the
 * store's batches, the text buffer, file readers). Doubling keeps the cost
 * of n appends O(n); the checks keep a huge or corrupt count from wrapping
 * size_t into a small allocation that later writes would overrun.
 *
 * Units: counts are in elements, `elem` is the size of one element in bytes
 * (`sizeof *p`), so `cap * elem` is the allocation in bytes.
 *
 * Invariants after a successful io_grow(): the array holds at least `need`
 * elements, its first (old *cap) elements are kept, *cap is the new capacity
 * (the old one, or `first`, times a power of two, or the ceiling below), and
 * `*cap * elem` fits size_t.
 *
 * Ownership: like realloc(). On failure the old array is untouched and still
 * the caller's (to free), and *cap is unchanged.
 */
#ifndef STATECAST_IO_GROW_H
#define STATECAST_IO_GROW_H

#include <stddef.h>

/*
 * The capacity an array of `cap` elements of `elem` bytes grows to so that
 * it holds `need`: `cap` itself when it already does (need 0 included),
 * else `cap` (or `first` when `cap` is 0; 1 when both are) doubled until it
 * does, stopping at the largest count whose byte size fits size_t.
 * 0 when `need * elem` does not fit size_t, or when `elem` is 0.
 */
size_t io_grow_cap(size_t cap, size_t need, size_t elem, size_t first);

/*
 * Grows the array *pp (`pp` is the address of the caller's array pointer,
 * any `T **`; NULL with *cap 0 for an empty array) to io_grow_cap(*cap,
 * need, elem, first) elements with realloc(), and updates *cap. Nothing is
 * allocated when *cap already holds `need`. 0, or -1 when the size
 * overflows or memory runs out; *pp and *cap are then unchanged.
 *
 *     if (io_grow(&a->v, &a->cap, a->n + 1, sizeof *a->v, 64))
 *             return -1;
 *     a->v[a->n++] = x;
 *
 * Why `void *` for a `T **`: object pointers share one representation on
 * every platform POSIX covers (dlsym() relies on it), and GCC and Clang let
 * a void * lvalue alias any object pointer.
 */
int io_grow(void *pp, size_t *cap, size_t need, size_t elem, size_t first);

#endif
