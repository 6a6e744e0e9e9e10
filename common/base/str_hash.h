/* str_hash.h - a fast, non-cryptographic hash of a string (FNV-1a) for in-memory hash tables.
 * Never for anything an adversary could choose to collide on a large scale, nor for content
 * identity (that is SHA-256, as ingest's content hash). */
#ifndef NCAP_STR_HASH_H
#define NCAP_STR_HASH_H

#include <stddef.h>

static inline size_t str_hash(const char *s)
{
    size_t h = (size_t)1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
    return h;
}

#endif
