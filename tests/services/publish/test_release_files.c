/* test_release_files.c - a release's rows (publish.output) as release_files_store sends them by
 * COPY from latest.json (on a real PostgreSQL: $NCAP_TEST_PG): the same rows, value for value, as
 * PostgreSQL reads from the same JSON as jsonb (the statement that wrote them before), for text
 * with escapes (quotes, backslashes, tabs, newlines, \u escapes and a surrogate pair), nulls in
 * text and number columns, numbers in exponent form and a negative zero; a row of the wrong width
 * and text that is not JSON refused with a clear error, nothing stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_fixture.h"
#include "release_files.h"
#include "release_output_sql.h"

/* A new release's id (revision rev). */
static char *new_release(PGconn *db, int rev, char *id, size_t len)
{
    char sql[256], err[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO publish.release (audit, period, revision, records, content_hash)"
             " VALUES ('nhfd', '2026Q1', %d, 1, 'h%d') RETURNING release_id",
             rev, rev);
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    snprintf(id, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return id;
}

/* Stores json as release rev's latest.json; returns release_files_store's result, err its
 * message. */
static int store(PGconn *db, int rev, const char *json, char *err, size_t errlen)
{
    char id[32];
    pg_fixture_exec(db, "BEGIN");
    new_release(db, rev, id, sizeof id);
    const char *content[RELEASE_N_FILES] = {"csv\n", json, "f\n", "s\n", "ss\n", NULL, NULL};
    int rc = release_files_store(db, id, content, err, errlen);
    pg_fixture_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK");
    return rc;
}

static void test_rows_as_jsonb_reads_them(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_release_files");
    /* 32 values a row: audit, period, level ... */
    static const char json[] =
        "{\"metadata\": {\"rows\": [1, 2], \"x\": \"]\\\"[\"}, \"rows\": [\n"
        "  [\"nhfd\", \"2026Q1\", \"trust\", \"RA1\", \"Tab\\there \\\"q\\\" back\\\\slash\\nnl\","
        "   null, \"m1\", \"all\", null, 12, 40, 0.29999999999999999, 1e-05, -0.0, -0, 2.5E+3,"
        "   -1.25, \"similar\", null, null, 0.1, 0.9, \"\", \"caf\\u00e9 \\ud83d\\ude00 \\/\","
        "   3.0, 0, 1, 2, 3, null, 1.7976931348623157e308, 7],\n"
        "  [\"nhfd\", \"2026Q1\", \"england\", \"E92000001\", \"England\", \"\", \"m1\", \"all\","
        "   \"\", null, null, null, null, null, null, null, null, \"\", null, null, null, null,"
        "   \"\", \"\", null, null, null, null, null, null, null, null]\n"
        "], \"after\": {\"a\": [true, false, null]}}";
    char err[1024];
    if (store(db, 1, json, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.output"), 2);
    assert_int_equal(pg_fixture_count(db, RELEASE_ROWS_UNLIKE_JSON_SQL), 0);
    /* the negative zero as numeric has it; the text unescaped */
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.output WHERE ordinal = 1"
                                          " AND upper95::text = '0' AND lower998::text = '0'"
                                          " AND area_name = E'Tab\\there \"q\" back\\\\slash\\nnl'"
                                          " AND note = 'café 😀 /' AND parent_code = ''"),
                     1);
    /* no rows: none stored */
    if (store(db, 2, "{\"rows\": []}", err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.output"), 2);

    /* refused, nothing stored */
    assert_int_equal(
        store(db, 3, "{\"rows\": [[\"nhfd\", \"2026Q1\", \"trust\"]]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "row 1 has 3 values, expected 32"));
    assert_int_equal(
        store(db, 4, "{\"rows\": [[\"nhfd\", \"2026Q1\" \"trust\"]]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "could not read the rows of latest.json at byte"));
    assert_int_equal(store(db, 5, "{\"metadata\": {}}", err, sizeof err), -1);
    assert_non_null(strstr(err, "no \"rows\""));
    assert_int_equal(store(db, 6, "{\"rows\": [[\"a\\u0000\"]]}", err, sizeof err), -1);
    assert_non_null(strstr(err, "\\u0000"));
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.output"), 2);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_as_jsonb_reads_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
