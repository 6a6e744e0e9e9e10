/* str_map.h - ncap's one map from strings: each key put gets an index, 0, 1, 2, ... in the order
 * keys were first put, and the caller keeps what it maps a key to in arrays by that index (a row
 * number, a count, a group). So a lookup is a key to a small dense number, and going over the
 * keys (0 to str_map_size - 1) follows the order they came in, the same in every run: no output
 * depends on the hash.
 *
 * The hash is SipHash-2-4 (libsodium's crypto_shorthash) under a random key drawn for each map,
 * so keys chosen to collide (a crafted submission, a file of names) cannot force long probe
 * chains: put and get take O(1) on average whatever the keys. Open addressing with linear
 * probing, at most half full, doubling as it grows; keys are copied into blocks that never move.
 * Cost per key: its bytes and NUL, plus about 24 bytes. At most STR_MAP_MAX_KEYS keys. Not thread
 * safe: one writer, or readers only. */
#ifndef NCAP_STR_MAP_H
#define NCAP_STR_MAP_H

#include <stddef.h>
#include <stdint.h>

/* What str_map_get returns for a key the map does not hold. */
#define STR_MAP_MISSING SIZE_MAX
/* The most keys a map holds (2^31 - 1: slots hold indexes and hashes in 32 bits). */
#define STR_MAP_MAX_KEYS ((size_t)INT32_MAX)

typedef struct str_map_t str_map_t;

/* An empty map with room for about expected keys before it first grows (0 for a small one).
 * Returns NULL when out of memory. */
str_map_t *str_map_new(size_t expected);
/* Frees the map and its copies of the keys, and sets *self_p to NULL; harmless on NULL. */
void str_map_destroy(str_map_t **self_p);

/* Puts key (copied) unless the map holds it already; *index (may be NULL) receives the key's
 * index either way. Returns 1 when key was added (its index is the previous size), 0 when the map
 * held it already (its index is the one it got then), or -1 when out of memory or full (the map
 * is left as it was). */
int str_map_put(str_map_t *self, const char *key, size_t *index);
/* The index of key, or STR_MAP_MISSING when the map does not hold it. */
size_t str_map_get(const str_map_t *self, const char *key);
/* How many keys the map holds. */
size_t str_map_size(const str_map_t *self);
/* The key with this index (index < str_map_size): the map's copy, valid until it is destroyed. */
const char *str_map_key(const str_map_t *self, size_t index);

#endif
