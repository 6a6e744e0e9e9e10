/* array_grow.c - a growing array's capacity doubled */
#include "array_grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int array_grow(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : need;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    if (size == 0 || c > SIZE_MAX / size)
        return -1;
    void *p = realloc(*items, c * size);
    if (!p)
        return -1;
    memset((char *)p + *cap * size, 0, (c - *cap) * size);
    *items = p;
    *cap = c;
    return 0;
}
