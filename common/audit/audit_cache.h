/* audit_cache.h - audit definitions loaded once per process, by audit name */
#ifndef NCAP_AUDIT_CACHE_H
#define NCAP_AUDIT_CACHE_H

#include <stddef.h>

#include "audit_def.h"

typedef struct audit_cache_t audit_cache_t;

audit_cache_t *audit_cache_new(const char *dir);
void audit_cache_destroy(audit_cache_t **self_p);
/* The definition of audit (loaded on first use), or NULL with a message in err: an audit name
 * that is not [a-z0-9_]{1,32}, no such definition, or a broken one. */
const audit_def_t *audit_cache_get(audit_cache_t *self, const char *audit, char *err,
                                   size_t errlen);

#endif
