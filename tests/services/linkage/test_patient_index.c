/* test_patient_index.c - the patient index (linkage.block) across migrations 0049 and 0050, on a
 * real PostgreSQL ($NCAP_TEST_PG), through linkage's stage hooks as ncap-linkd runs them. A
 * deployment before 0049 (its key under the database's collation) holds patients; 0049 keeps every
 * row as it was, compares keys byte by byte (COLLATE "C"), and a record linked after it joins the
 * patient its identifiers belong to, found through the rebuilt primary key, as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "link_pg_fixture.h"
#include "linkage_stage.h"
#include "migrate.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_patient_index", conninfo, sizeof conninfo);
}

/* linkage's batch of record record_id, version 1, as its role. */
static void link_record(PGconn *db, const stage_ops_t *ops, int record_id)
{
    stage_key_t key = {record_id, 1, 0};
    stage_keys_t out = {0};
    pg_fixture_exec(db, "SET ROLE ncap_linkage");
    int done = stage_run_keys(ops, "linkage", db, &key, 1, &out);
    pg_fixture_exec(db, "RESET ROLE");
    stage_keys_free(&out);
    assert_int_equal(done, 1);
}

/* Every row of the patient index, in one order whatever the collation. */
#define BLOCK_ROWS                                                                                 \
    "SELECT string_agg(concat_ws('|', key, patient_id, nhs_number, forename, surname, dob, sex,"   \
    " postcode), ' ' ORDER BY convert_to(key, 'UTF8'), patient_id, convert_to(nhs_number, "        \
    "'UTF8'),"                                                                                     \
    " convert_to(forename, 'UTF8'), convert_to(surname, 'UTF8'), convert_to(postcode, 'UTF8'))"    \
    " FROM linkage.block"

static void test_block_key_bytes_keeps_patients(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], before[4096], after[4096], buf[256];
    PGconn *db = db_connect(conninfo, "test_patient_index", err, sizeof err);
    assert_non_null(db);
    /* the database as it was before 0049 */
    pg_fixture_exec(db, "ALTER TABLE linkage.block ALTER COLUMN key TYPE text COLLATE \"default\";"
                        " DELETE FROM public.ncap_schema_migration WHERE name >= '0049'"
                        " AND name < '0050'");
    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    linkage_t lk = {.audits = audits};
    memset(lk.key, 7, sizeof lk.key);
    stage_ops_t ops = linkage_stage_ops(&lk);

    /* two people, one of them with a name outside ASCII and two records */
    link_pg_ingest_nhfd(db, 1, "9434765919", "Zoë", "O'Brien", "1941-05-02", "LS1 4AP",
                        "2025-01-10T08:00:00");
    link_pg_ingest_nhfd(db, 2, "", "Mary", "Jones", "1938-11-20", "M1 1AA", "2025-01-11T08:00:00");
    link_pg_ingest_nhfd(db, 3, "9434765919", "Zoë", "O'Brien", "1941-05-02", "LS1 4AP",
                        "2025-01-12T08:00:00");
    for (int r = 1; r <= 3; r++)
        link_record(db, &ops, r);
    assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM linkage.link"), 2);
    link_pg_text(db, BLOCK_ROWS, before, sizeof before);
    assert_true(strlen(before) > 0);

    int applied = 0;
    if (migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(applied, 1);
    assert_string_equal(link_pg_text(db,
                                     "SELECT c.collname FROM pg_attribute a JOIN pg_collation c"
                                     " ON c.oid = a.attcollation WHERE a.attrelid ="
                                     " 'linkage.block'::regclass AND a.attname = 'key'",
                                     buf, sizeof buf),
                        "C");
    assert_string_equal(link_pg_text(db, BLOCK_ROWS, after, sizeof after), before);

    /* a record of each person after it joins that person's patient */
    link_pg_ingest_nhfd(db, 4, "9434765919", "Zoe", "O'Brien", "1941-05-02", "LS1 4AP",
                        "2025-02-01T08:00:00");
    link_pg_ingest_nhfd(db, 5, "", "Mary", "Jones", "1938-11-20", "M1 1AA", "2025-02-02T08:00:00");
    link_record(db, &ops, 4);
    link_record(db, &ops, 5);
    assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM linkage.link"), 2);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.link a JOIN linkage.link b"
                                       " USING (patient_id) WHERE a.record_id = 1"
                                       " AND b.record_id IN (3, 4)"),
                     2);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.link a JOIN linkage.link b"
                                       " USING (patient_id) WHERE a.record_id = 2"
                                       " AND b.record_id = 5"),
                     1);
    /* nothing stored twice: the rebuilt key still refuses a row it holds */
    assert_int_equal(link_pg_count(db, "SELECT count(*) - count(DISTINCT (key, patient_id,"
                                       " nhs_number, forename, surname, dob, sex, postcode))"
                                       " FROM linkage.block"),
                     0);

    linkage_stage_clear(&lk);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

/* A deployment before 0050 holds its patients under date-of-birth keys without the sex; 0050
 * rewrites each such key from its row's identifiers ("d:<date of birth>:<sex>", the date of birth
 * alone kept where the sex is not known), and a record linked after it, found by its date of birth
 * and sex, joins the patient as before. */
static void test_block_dob_key_takes_the_sex(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], buf[1024];
    PGconn *db = db_connect(conninfo, "test_patient_index", err, sizeof err);
    assert_non_null(db);
    pg_fixture_exec(db, "TRUNCATE linkage.block, linkage.link, linkage.patient CASCADE");
    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    linkage_t lk = {.audits = audits};
    memset(lk.key, 7, sizeof lk.key);
    stage_ops_t ops = linkage_stage_ops(&lk);
    link_pg_ingest_nhfd(db, 11, "", "Ann", "Lee", "1936-03-04", "B1 1AA", "2025-03-01T08:00:00");
    link_record(db, &ops, 11);
    /* the index as it was before 0050: the date-of-birth key alone; and a set without a sex */
    pg_fixture_exec(db, "UPDATE linkage.block SET key = 'd:' || dob WHERE key LIKE 'd:%';"
                        " INSERT INTO linkage.block (key, patient_id, forename, dob)"
                        " SELECT 'd:19360304', patient_id, 'ann', '19360304' FROM linkage.link"
                        " WHERE record_id = 11;"
                        " DELETE FROM public.ncap_schema_migration WHERE name >= '0050'"
                        " AND name < '0051'");
    int applied = 0;
    if (migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(applied, 1);
    assert_string_equal(link_pg_text(db,
                                     "SELECT string_agg(key || '|' || sex, ' ' ORDER BY key)"
                                     " FROM linkage.block WHERE key LIKE 'd:%'",
                                     buf, sizeof buf),
                        "d:19360304| d:19360304:f|f");
    /* her record at another address, her forename spelt otherwise: found by her date of birth
     * and sex alone (its other keys are not hers), it joins her patient */
    link_pg_ingest_nhfd(db, 12, "", "Anne", "Lee", "1936-03-04", "M1 1AA", "2025-03-20T08:00:00");
    link_record(db, &ops, 12);
    assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM linkage.link"
                                       " WHERE record_id IN (11, 12)"),
                     1);
    linkage_stage_clear(&lk);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_key_bytes_keeps_patients),
        cmocka_unit_test(test_block_dob_key_takes_the_sex),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
