/* completeness_query.h - the records behind a completeness report, read from PostgreSQL with the
 * operator's connection: the latest version of each record validation has finished, its fields,
 * validation's errors and linkage's identifier problems. */
#ifndef NCAP_COMPLETENESS_QUERY_H
#define NCAP_COMPLETENESS_QUERY_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_def.h"
#include "completeness.h"

typedef struct {
    const audit_def_t *def;
    const audit_field_t *const *fields; /* the fields table counts, in its order */
    size_t n_fields;
    const char *trust;       /* only this trust's records, or NULL for every trust */
    const char (*months)[8]; /* only records in these months ("YYYY-MM"), or NULL for all */
    size_t n_months;
} completeness_query_t;

/* Adds every matching record to table. Returns 0, or -1 with a message in err. */
int completeness_read(PGconn *db, const completeness_query_t *q, completeness_t *table, char *err,
                      size_t errlen);

#endif
