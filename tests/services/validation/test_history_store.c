/* test_history_store.c - on a real PostgreSQL ($NCAP_TEST_PG): a patient's other stored records
 * (latest version each, never the record itself, never another audit's or patient's), and the
 * per-patient lock that keeps two validation instances from missing each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "history_store.h"
#include "pg_test_db.h"
#include "test_skip.h"

static char conninfo[1024];

static int setup(void **state)
{
    (void)state;
    char err[1024];
    if (pg_test_db_create_migrated("ncap_test_history", conninfo, sizeof conninfo) != 0)
        return -1;
    if (!conninfo[0])
        return 0;
    PGconn *db = db_connect(conninfo, "test_history_store", err, sizeof err);
    int rc = db ? 0 : -1;
    if (rc == 0)
        rc = db_exec(db,
                     "INSERT INTO validation.record (record_id, version, audit, trust, site,"
                     " local_id, submission_id, row_number, pseudonym, valid, payload) VALUES"
                     " (1, 1, 'nhfd', 'RR8', 'RR801', 'A', 1, 2, 'p1', true,"
                     "  '{\"fracture_side\": \"L\", \"arrival_datetime\": \"2026-01-01T08:00\"}'),"
                     " (1, 2, 'nhfd', 'RR8', 'RR801', 'A', 2, 2, 'p1', true,"
                     "  '{\"fracture_side\": \"R\", \"arrival_datetime\": \"2026-01-01T08:00\"}'),"
                     " (2, 1, 'nhfd', 'RR8', 'RR801', 'B', 1, 3, 'p1', true,"
                     "  '{\"fracture_side\": \"L\", \"arrival_datetime\": \"2026-01-09T08:00\"}'),"
                     " (3, 1, 'nhfd', 'RR8', 'RR801', 'C', 1, 4, 'p2', true, '{}'),"
                     " (4, 1, 'nela', 'RR8', 'RR801', 'D', 1, 5, 'p1', true, '{}')",
                     err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "test_history_store: %s\n", err);
    PQfinish(db);
    return rc;
}

static void test_other_records_of_the_patient(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[512] = "";
    PGconn *db = db_connect(conninfo, "test_history_store", err, sizeof err);
    assert_non_null(db);
    stored_records_t st;
    /* record 5 is new: patient p1 of nhfd has records 1 (latest version 2) and 2; a record is not
     * its own history (record 2); another patient, another audit, nobody; NULL: no history asked */
    const char *audits[] = {"nhfd", NULL, "nhfd", "nhfd", "nela"};
    const char *pseudonyms[] = {"p1", "p1", "p1", "p2", "p2"};
    const int64_t ids[] = {5, 7, 2, 9, 9};
    assert_int_equal(history_store_load(db, audits, pseudonyms, ids, 5, &st, err, sizeof err), 0);
    assert_int_equal(st.n, 4);
    assert_int_equal(st.items[0].of, 0);
    assert_int_equal(st.items[0].record_id, 1);
    assert_int_equal(st.items[0].version, 2);
    assert_string_equal(ncap_record_get(st.items[0].rec, "fracture_side"), "R");
    assert_int_equal(st.items[1].of, 0);
    assert_int_equal(st.items[1].record_id, 2);
    assert_string_equal(ncap_record_get(st.items[1].rec, "arrival_datetime"), "2026-01-09T08:00");
    assert_int_equal(st.items[2].of, 2);
    assert_int_equal(st.items[2].record_id, 1);
    assert_int_equal(st.items[3].of, 3);
    assert_int_equal(st.items[3].record_id, 3);
    stored_records_clear(&st);
    /* nothing asked, nothing loaded */
    assert_int_equal(
        history_store_load(db, audits + 1, pseudonyms + 1, ids + 1, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.n, 0);
    stored_records_clear(&st);
    PQfinish(db);
}

/* The idx_scan of validation's pseudonym index as this connection's statistics last flushed. */
static long pseudonym_index_scans(PGconn *db)
{
    char err[512];
    PGresult *r = db_query(db,
                           "SELECT s.idx_scan FROM pg_stat_user_indexes s JOIN pg_class c ON"
                           " c.oid = s.indexrelid JOIN pg_am a ON a.oid = c.relam"
                           " WHERE s.schemaname = 'validation'"
                           " AND s.indexrelname = 'validation_record_pseudonym_idx'"
                           " AND a.amname = 'hash'",
                           0, NULL, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 1);
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* Migration 0054: a patient's records are found by the hash index on the pseudonym (the B-tree
 * over the audit and the pseudonym it replaced was the widest index a record adds), one probe per
 * record asked, among many other patients' records. */
static void test_history_found_by_the_pseudonym_index(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[512] = "";
    PGconn *db = db_connect(conninfo, "test_history_store", err, sizeof err);
    assert_non_null(db);
    assert_int_equal(db_exec(db,
                             "INSERT INTO validation.record (record_id, version, audit, trust,"
                             " site, local_id, submission_id, row_number, pseudonym, valid,"
                             " payload) SELECT 1000 + g, 1, 'nhfd', 'RR8', 'RR801', 'L' || g, 1,"
                             " g, md5(g::text) || md5((g + 1)::text), true, '{}'"
                             " FROM generate_series(1, 20000) g;"
                             " ANALYZE validation.record",
                             err, sizeof err),
                     0);
    assert_int_equal(db_exec(db, "SELECT pg_stat_force_next_flush()", err, sizeof err), 0);
    long before = pseudonym_index_scans(db);
    const char *audits[] = {"nhfd", "nhfd"};
    const char *pseudonyms[] = {"p1", "p2"};
    const int64_t ids[] = {5, 9};
    stored_records_t st;
    assert_int_equal(history_store_load(db, audits, pseudonyms, ids, 2, &st, err, sizeof err), 0);
    assert_int_equal(st.n, 3); /* p1's records 1 and 2, p2's 3 */
    stored_records_clear(&st);
    assert_int_equal(db_exec(db, "SELECT pg_stat_force_next_flush()", err, sizeof err), 0);
    assert_int_equal(pseudonym_index_scans(db) - before, 2);
    assert_int_equal(
        db_exec(db, "DELETE FROM validation.record WHERE record_id > 1000", err, sizeof err), 0);
    PQfinish(db);
}

static void test_patient_lock_serialises_instances(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[512] = "";
    PGconn *a = db_connect(conninfo, "test_history_store_a", err, sizeof err);
    PGconn *b = db_connect(conninfo, "test_history_store_b", err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    const char *keys[] = {"nhfd:p2", "nhfd:p1", "nhfd:p2"};
    assert_int_equal(db_exec(a, "BEGIN", err, sizeof err), 0);
    assert_int_equal(history_store_lock(a, keys, 3, err, sizeof err), 0);
    assert_string_equal(keys[0], "nhfd:p1"); /* sorted in place */
    /* while a holds them, b cannot take p1's lock; it can take another patient's */
    const char *q = "SELECT pg_try_advisory_xact_lock(hashtext('ncap.validation.history'),"
                    " hashtext($1))";
    const char *p1[] = {"nhfd:p1"}, *p3[] = {"nhfd:p3"};
    assert_int_equal(db_exec(b, "BEGIN", err, sizeof err), 0);
    PGresult *r = db_query(b, q, 1, p1, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "f");
    PQclear(r);
    r = db_query(b, q, 1, p3, err, sizeof err);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    assert_int_equal(db_exec(b, "COMMIT", err, sizeof err), 0);
    /* the lock ends with a's transaction */
    assert_int_equal(db_exec(a, "COMMIT", err, sizeof err), 0);
    assert_int_equal(db_exec(b, "BEGIN", err, sizeof err), 0);
    r = db_query(b, q, 1, p1, err, sizeof err);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    assert_int_equal(db_exec(b, "COMMIT", err, sizeof err), 0);
    PQfinish(a);
    PQfinish(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_records_of_the_patient),
        cmocka_unit_test(test_patient_lock_serialises_instances),
        cmocka_unit_test(test_history_found_by_the_pseudonym_index),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
