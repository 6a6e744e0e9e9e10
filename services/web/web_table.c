/* web_table.c - a query's result as the API's JSON or CSV */
#include "web_table.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void web_table_cell_text(const PGresult *r, int row, const web_col_t *c, char *out, size_t outlen)
{
    out[0] = '\0';
    if (PQgetisnull(r, row, c->pg_col))
        return;
    const char *v = PQgetvalue(r, row, c->pg_col);
    switch (c->kind) {
    case WEB_COL_FIGURE: {
        double d = strtod(v, NULL);
        if (isfinite(d))
            snprintf(out, outlen, "%.6f", d);
        if (strcmp(out, "-0.000000") == 0)
            memmove(out, out + 1, strlen(out));
        return;
    }
    case WEB_COL_FIGURE9: { /* the expected count: latest.csv writes it so, negative zero too */
        double d = strtod(v, NULL);
        if (isfinite(d))
            snprintf(out, outlen, "%.9f", d);
        return;
    }
    case WEB_COL_BOOL:
        snprintf(out, outlen, "%s", v[0] == 't' ? "true" : "false");
        return;
    default:
        snprintf(out, outlen, "%s", v);
    }
}

int web_table_csv(strbuf_t *out, const PGresult *r, int from, int to, const web_col_t *cols,
                  size_t ncols, bool header)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    const char **fields = calloc(ncols ? ncols : 1, sizeof *fields);
    char *cells = calloc(ncols ? ncols : 1, 4096);
    int rc = fields && cells ? 0 : -1;
    if (rc == 0 && header) {
        for (size_t c = 0; c < ncols; c++)
            fields[c] = cols[c].name;
        csv_write_row(f, fields, ncols);
    }
    for (int i = from; rc == 0 && i < to; i++) {
        for (size_t c = 0; c < ncols; c++) {
            web_table_cell_text(r, i, &cols[c], cells + c * 4096, 4096);
            fields[c] = cells + c * 4096;
        }
        csv_write_row(f, fields, ncols);
    }
    free(fields);
    free(cells);
    if (fclose(f) != 0 || !buf)
        rc = -1;
    if (rc == 0)
        strbuf_append_n(out, buf, len);
    free(buf);
    return rc == 0 && !out->oom ? 0 : -1;
}

json_t *web_table_cell_json(const PGresult *r, int row, const web_col_t *c)
{
    if (PQgetisnull(r, row, c->pg_col))
        return json_null();
    const char *v = PQgetvalue(r, row, c->pg_col);
    switch (c->kind) {
    case WEB_COL_TEXT_EMPTY_NULL:
        return *v ? json_string(v) : json_null();
    case WEB_COL_INT:
        return json_integer(strtoll(v, NULL, 10));
    case WEB_COL_BOOL:
        return json_boolean(v[0] == 't');
    case WEB_COL_FIGURE:
    case WEB_COL_FIGURE9: {
        double d = strtod(v, NULL);
        return isfinite(d) ? json_real(d) : json_null();
    }
    default:
        return json_string(v);
    }
}

json_t *web_table_json(const PGresult *r, int from, int to, const web_col_t *cols, size_t ncols,
                       bool as_arrays)
{
    json_t *rows = json_array();
    for (int i = from; rows && i < to; i++) {
        json_t *row = as_arrays ? json_array() : json_object();
        for (size_t c = 0; row && c < ncols; c++) {
            json_t *v = web_table_cell_json(r, i, &cols[c]);
            if (as_arrays)
                json_array_append_new(row, v);
            else
                json_object_set_new(row, cols[c].name, v);
        }
        json_array_append_new(rows, row);
    }
    return rows;
}
