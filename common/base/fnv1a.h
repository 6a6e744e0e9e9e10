/* fnv1a.h - the one unkeyed string hash: 64-bit FNV-1a (Fowler, Noll, Vo). For tables of strings
 * the program itself chose (field names of a definition, SQL texts, series names), looked up
 * where a string compare per entry would cost more than the hash; never for input a peer can
 * choose to make collide (str_map.h, keyed SipHash, is for those). Header-only: it sits in hot
 * lookups. */
#ifndef NCAP_FNV1A_H
#define NCAP_FNV1A_H

#include <stdint.h>

static inline uint64_t fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

#endif
