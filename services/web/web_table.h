/* web_table.h - a query's result as the API's JSON or CSV: the one writer of the read API's
 * answers, so that a column means the same in both formats.
 *
 * Each column has a kind saying how its text from PostgreSQL becomes JSON: a string (SQL NULL as
 * null; WEB_COL_TEXT_EMPTY_NULL also "" as null, as latest.json writes its empty text), an
 * integer, a boolean, a figure (float8 as a JSON number, in CSV "%.6f" as latest.csv writes it;
 * WEB_COL_FIGURE9 "%.9f", as latest.csv writes a ratio's expected count).
 * Pure: no SQL, no sockets. */
#ifndef NCAP_WEB_TABLE_H
#define NCAP_WEB_TABLE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"
#include "web_query.h"

typedef enum {
    WEB_COL_TEXT,
    WEB_COL_TEXT_EMPTY_NULL,
    WEB_COL_INT,
    WEB_COL_BOOL,
    WEB_COL_FIGURE,
    WEB_COL_FIGURE9,
} web_col_kind_t;

typedef struct {
    const char *name;
    web_col_kind_t kind;
    int pg_col; /* the result's column */
} web_col_t;

/* One cell's text for CSV: figures "%.6f" (a negative zero as 0.000000) or "%.9f", booleans
 * true/false, SQL NULL as an empty field. */
void web_table_cell_text(const PGresult *r, int row, const web_col_t *c, char *out, size_t outlen);

/* Appends the CSV of rows [from, to) of r, with the header line when header is true. Returns 0,
 * or -1 out of memory. */
int web_table_csv(strbuf_t *out, const PGresult *r, int from, int to, const web_col_t *cols,
                  size_t ncols, bool header);

/* The JSON value of one cell (a new reference). */
struct json_t *web_table_cell_json(const PGresult *r, int row, const web_col_t *c);
/* Rows [from, to) of r as a JSON array of objects (as_arrays false) or of arrays in the columns'
 * order (as_arrays true, as latest.json's "rows"). */
struct json_t *web_table_json(const PGresult *r, int from, int to, const web_col_t *cols,
                              size_t ncols, bool as_arrays);

#endif
