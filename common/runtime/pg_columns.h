/* pg_columns.h - rows of values sent to PostgreSQL as one array literal per column, to be read
 * back with unnest($1::type[], $2::type[], ...): one statement for a whole batch. */
#ifndef NCAP_PG_COLUMNS_H
#define NCAP_PG_COLUMNS_H

#include <stddef.h>

#include "strbuf.h"

#define PG_COLUMNS_MAX 20

typedef struct {
    strbuf_t col[PG_COLUMNS_MAX];
    size_t ncols;
    size_t nrows;
    const char *params[PG_COLUMNS_MAX]; /* after pg_columns_close: the literals, in order */
} pg_columns_t;

/* Starts ncols (at most PG_COLUMNS_MAX) empty columns. */
void pg_columns_open(pg_columns_t *self, size_t ncols);
/* Appends one row: values[ncols] (NULL for SQL NULL). */
void pg_columns_row(pg_columns_t *self, const char *const *values);
/* Ends the literals and fills params. Returns 0, or -1 when memory ran out on the way. */
int pg_columns_close(pg_columns_t *self);
void pg_columns_free(pg_columns_t *self);

#endif
