/* test_web_table.c - a row's cells as the read API writes them, in latest.csv's text (figures
 * "%.6f", the expected count "%.9f", a negative zero as latest.csv writes each, SQL NULL empty)
 * and in JSON (numbers, empty text and NULL as null), on a result built with libpq's own
 * PQmakeEmptyPGresult/PQsetvalue: no server needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "web_table.h"

static const web_col_t cols[] = {
    {"note", WEB_COL_TEXT_EMPTY_NULL, 0},
    {"held", WEB_COL_INT, 1},
    {"value", WEB_COL_FIGURE, 2},
    {"expected", WEB_COL_FIGURE9, 3},
};
#define NCOLS (sizeof cols / sizeof *cols)

/* A result of NCOLS text columns, one row per entry of cells (NULL: SQL NULL). */
static PGresult *result_of(const char *const cells[][NCOLS], int rows)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(r);
    PGresAttDesc att[NCOLS];
    memset(att, 0, sizeof att);
    for (size_t c = 0; c < NCOLS; c++) {
        att[c].name = (char *)cols[c].name;
        att[c].typlen = -1;
        att[c].atttypmod = -1;
    }
    assert_int_equal(PQsetResultAttrs(r, NCOLS, att), 1);
    for (int i = 0; i < rows; i++)
        for (size_t c = 0; c < NCOLS; c++)
            assert_int_equal(PQsetvalue(r, i, (int)c, (char *)cells[i][c],
                                        cells[i][c] ? (int)strlen(cells[i][c]) : -1),
                             1);
    return r;
}

static void test_csv_as_latest_csv(void **state)
{
    (void)state;
    const char *const cells[][NCOLS] = {
        {"", "0", "0.5252100000000001", "57.123456789"},
        {"suppressed", NULL, "-0.0000001", "-0"},
        {NULL, "12", NULL, "1234.5"},
    };
    PGresult *r = result_of(cells, 3);
    strbuf_t out;
    strbuf_init(&out);
    assert_int_equal(web_table_csv(&out, r, 0, 3, cols, NCOLS, true), 0);
    assert_string_equal(out.s, "note,held,value,expected\n"
                               ",0,0.525210,57.123456789\n"
                               "suppressed,,0.000000,-0.000000000\n"
                               ",12,,1234.500000000\n");
    strbuf_free(&out);

    json_t *rows = web_table_json(r, 0, 3, cols, NCOLS, true);
    char *s = json_dumps(rows, JSON_COMPACT | JSON_REAL_PRECISION(15));
    assert_string_equal(s, "[[null,0,0.52521,57.123456789],[\"suppressed\",null,-1e-7,-0.0],"
                           "[null,12,null,1234.5]]");
    free(s);
    json_decref(rows);
    PQclear(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_as_latest_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
