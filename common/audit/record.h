/* record.h - one record as named text values (types come from the audit definition) */
#ifndef NCAP_RECORD_H
#define NCAP_RECORD_H

#include <stddef.h>

typedef struct {
    char *name;
    char *value; /* never NULL; "" means missing */
} ncap_field_t;

typedef struct {
    ncap_field_t *fields;
    size_t n;
    size_t cap;
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
void ncap_record_clear(ncap_record_t *self);

#endif
