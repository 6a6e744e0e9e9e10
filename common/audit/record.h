/* record.h - one record as named text values (types come from the audit definition).
 *
 * A name is found in O(1) whatever the number of fields: up to RECORD_SCAN_MAX fields by going
 * over them, comparing a hash of each name (FNV-1a, kept with the field) before the name itself
 * (nothing to allocate; a name is compared once, not once a field), past it through an index
 * (str_map.h: keyed SipHash, so names chosen to collide cost no more), built once when the record
 * grows past RECORD_SCAN_MAX and kept as fields are added. So setting n fields costs O(n), where a
 * scan per field made it O(n^2): 100,000 fields took 16 s. Removing a field rebuilds the index
 * (O(n)): it is rare (linkage revising a date of death).
 *
 * The names and values are copied into blocks the record owns (2 KiB, or one as large as a long
 * value), never freed one by one: a record of 30 fields costs one or two allocations where a copy
 * of each name and value cost 60, and clearing it frees nothing but the blocks past its first,
 * kept for the next record. A value replaced or a field removed leaves its bytes in the block
 * until the record is cleared or destroyed (a record's values are replaced a handful of times at
 * most). A value returned by ncap_record_get stays valid until the record is cleared or
 * destroyed, even after its field is set again or removed. */
#ifndef NCAP_RECORD_H
#define NCAP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "str_map.h"

#define RECORD_SCAN_MAX 32

typedef struct {
    char *name;
    char *value;   /* never NULL; "" means missing */
    uint32_t hash; /* of name: a scan compares it before the name */
} ncap_field_t;

typedef struct ncap_record_block ncap_record_block_t; /* record.c */

typedef struct {
    ncap_field_t *fields; /* in the order they were first set */
    size_t n;
    size_t cap;
    str_map_t *index;            /* name -> position in fields, past RECORD_SCAN_MAX fields */
    ncap_record_block_t *blocks; /* the names' and values' bytes, the newest block first */
} ncap_record_t;

ncap_record_t *ncap_record_new(void);
void ncap_record_destroy(ncap_record_t **self_p);
/* Sets name to value (copied), replacing an existing value. Returns 0, or -1 when out of memory. */
int ncap_record_set(ncap_record_t *self, const char *name, const char *value);
/* The value of name, or NULL when the record has no such field. */
const char *ncap_record_get(const ncap_record_t *self, const char *name);
/* True when the field is absent or empty after trimming spaces. */
int ncap_record_missing(const ncap_record_t *self, const char *name);
void ncap_record_remove(ncap_record_t *self, const char *name);
/* Forgets every field (the room for them is kept, for the next record). */
void ncap_record_clear(ncap_record_t *self);

#endif
