/* array_grow.h - room in a growing array: its capacity doubled as elements are added, so that n
 * additions cost O(n) in all */
#ifndef NCAP_ARRAY_GROW_H
#define NCAP_ARRAY_GROW_H

#include <stddef.h>

/* Makes *items, an array of *cap elements of size bytes, hold at least need: its capacity doubled
 * (from need when it is 0) until it does, the new elements zeroed. Returns 0, or -1 when out of
 * memory or the size overflows (*items and *cap left as they were). */
int array_grow(void **items, size_t *cap, size_t need, size_t size);

#endif
