/* array_grow.h - room in a growing array: its capacity doubled as elements are added, so that n
 * additions cost O(n) in all */
#ifndef NCAP_ARRAY_GROW_H
#define NCAP_ARRAY_GROW_H

#include <stddef.h>

/* Makes *items, an array of *cap elements of size bytes, hold at least need: its capacity doubled
 * (from need when it is 0) until it does, the new elements zeroed. Returns 0, or -1 when out of
 * memory or the size overflows (*items and *cap left as they were). */
int array_grow(void **items, size_t *cap, size_t need, size_t size);

/* As array_grow, the capacity never past max elements (a doubling past it cut to max), so that an
 * array bounded by a budget never takes room it may not use. Returns -1 too when need is past max.
 */
int array_grow_max(void **items, size_t *cap, size_t need, size_t max, size_t size);

/* The capacity array_grow_max gives an array of cap elements to hold need (cap when it holds them
 * already), or 0 when need is past max or the doubling overflows: what a caller makes room for
 * before it grows. */
size_t array_grow_cap(size_t cap, size_t need, size_t max);

#endif
