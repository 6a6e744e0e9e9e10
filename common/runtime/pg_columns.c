/* pg_columns.c - one PostgreSQL array literal per column */
#include "pg_columns.h"

#include <assert.h>

void pg_columns_open(pg_columns_t *self, size_t ncols)
{
    assert(self && ncols <= PG_COLUMNS_MAX);
    self->ncols = ncols;
    self->nrows = 0;
    for (size_t c = 0; c < ncols; c++) {
        strbuf_init(&self->col[c]);
        strbuf_pg_array_open(&self->col[c]);
        self->params[c] = NULL;
    }
}

void pg_columns_row(pg_columns_t *self, const char *const *values)
{
    assert(self);
    for (size_t c = 0; c < self->ncols; c++)
        strbuf_pg_array_elem(&self->col[c], values[c]);
    self->nrows++;
}

int pg_columns_close(pg_columns_t *self)
{
    assert(self);
    int oom = 0;
    for (size_t c = 0; c < self->ncols; c++) {
        strbuf_pg_array_close(&self->col[c]);
        self->params[c] = self->col[c].s;
        oom |= self->col[c].oom || !self->col[c].s;
    }
    return oom ? -1 : 0;
}

void pg_columns_free(pg_columns_t *self)
{
    assert(self);
    for (size_t c = 0; c < self->ncols; c++)
        strbuf_free(&self->col[c]);
    self->ncols = 0;
}
