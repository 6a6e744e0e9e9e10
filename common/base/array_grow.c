/* array_grow.c - a growing array's capacity doubled */
#include "array_grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t array_grow_cap(size_t cap, size_t need, size_t max)
{
    if (need <= cap)
        return cap;
    if (need > max)
        return 0;
    size_t c = cap ? cap : need;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return 0;
        c *= 2;
    }
    return c < max ? c : max;
}

int array_grow_max(void **items, size_t *cap, size_t need, size_t max, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = array_grow_cap(*cap, need, max);
    if (c == 0 || size == 0 || c > SIZE_MAX / size)
        return -1;
    void *p = realloc(*items, c * size);
    if (!p)
        return -1;
    memset((char *)p + *cap * size, 0, (c - *cap) * size);
    *items = p;
    *cap = c;
    return 0;
}

int array_grow(void **items, size_t *cap, size_t need, size_t size)
{
    return array_grow_max(items, cap, need, SIZE_MAX, size);
}
