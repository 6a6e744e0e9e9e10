/* test_validation_payload.c - a stored payload that is not a record of its audit, on a real
 * PostgreSQL ($NCAP_TEST_PG): validation reads linkage.pseudo_record through the runtime's
 * reader (stage_record.h), as metric and linkage read their upstreams; a payload with fields the
 * definition does not have (one, or 100,000) is quarantined with a message saying what, and the
 * good record of the same batch is validated as usual. */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pg_fixture.h"
#include "stage.h"
#include "test_skip.h"
#include "validation_stage.h"

/* An NHFD record as linkage passes it on (identifiers gone), as jsonb text. */
static const char good_payload[] =
    "{\"local_record_id\": \"RH8-1\", \"sex\": \"2\", \"trust_code\": \"RH8\", "
    "\"site_code\": \"RH801\", \"ethnic_category\": \"A\","
    " \"arrival_datetime\": \"2026-01-10T02:20\", \"ward_admission_datetime\":"
    " \"2026-01-10T06:16\", \"never_admitted_to_ward\": \"N\","
    " \"residence_at_fracture\": \"2\", \"pre_fracture_mobility\": \"5\","
    " \"amts_pre_op\": \"1\", \"fracture_type\": \"ICD\", \"fracture_side\": \"R\","
    " \"pathological_fracture\": \"N\", \"asa_grade\": \"4\","
    " \"orthogeriatric_assessment_datetime\": \"2026-01-11T08:48\","
    " \"surgery_datetime\": \"2026-01-11T10:17\", \"operation\": \"HA\","
    " \"amts_post_op\": \"ND\", \"discharge_destination\": \"3\","
    " \"discharge_date\": \"2026-01-20\", \"age_at_arrival\": \"85\","
    " \"age_band\": \"80-89\"}";

/* Stores record id in linkage.pseudo_record with the payload given by the SQL expression payload
 * ($1 is good_payload as jsonb). */
static void store(PGconn *db, int id, const char *payload)
{
    char sql[1024], err[1024], rid[16];
    snprintf(rid, sizeof rid, "%d", id);
    snprintf(sql, sizeof sql,
             "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
             " local_id, submission_id, row_number, pseudonym, payload, linked_at)"
             " VALUES ($2::bigint, 1, 'nhfd', 'RH8', 'RH801', 'RH8-' || $2, 1, $2::int,"
             " 'pseudonym-' || $2, %s, now())",
             payload);
    const char *p[] = {good_payload, rid};
    if (db_execp(db, sql, 2, p, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static char *text_of(PGconn *db, const char *sql)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    char *v = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return v;
}

static void test_a_payload_with_fields_the_audit_lacks_is_quarantined(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_validation_payload");
    store(db, 1, "$1::jsonb");
    store(db, 2,
          "$1::jsonb || (SELECT jsonb_object_agg('extra_' || i, 'x')"
          " FROM generate_series(1, 100000) i)");
    store(db, 3, "$1::jsonb || '{\"evil\": \"1\"}'::jsonb");
    store(db, 4, "$1::jsonb - 'asa_grade' || '{\"asa_grade\": \"4\", \"\\u00e9\": \"1\"}'::jsonb");

    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    assert_non_null(audits);
    validation_t vs = {.audits = audits};
    stage_ops_t ops = validation_stage_ops(&vs);
    stage_key_t keys[] = {{1, 1, 0}, {2, 1, 0}, {3, 1, 0}, {4, 1, 0}};
    stage_keys_t out = {0};
    pg_fixture_exec(db, "SET ROLE ncap_validation");
    if (stage_run_keys(&ops, "validation", db, keys, 4, &out) < 0)
        fail_msg("the batch failed");
    pg_fixture_exec(db, "RESET ROLE");

    /* the good record is validated and passed on; the others are held, each saying why */
    char *v = text_of(db, "SELECT string_agg(record_id::text, ',' ORDER BY record_id)"
                          " FROM validation.record");
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.keys[0].record_id, 1);
    v = text_of(db, "SELECT string_agg(record_id || ' ' || error_class || ': ' || message, '\n'"
                    " ORDER BY record_id) FROM validation.quarantine WHERE held");
    assert_string_equal(v,
                        "2 input: the record has 100023 fields, expected at most 33 (the fields, "
                        "linked fields and derived fields of audit nhfd)\n"
                        "3 input: the record has the field \"evil\", expected only fields, "
                        "linked fields and derived fields of audit nhfd\n"
                        "4 input: the record has the field \"\xc3\xa9\", expected only fields, "
                        "linked fields and derived fields of audit nhfd");
    free(v);
    free(out.keys);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_payload_with_fields_the_audit_lacks_is_quarantined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
