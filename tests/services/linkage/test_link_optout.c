/* test_link_optout.c - the national data opt-out on a real PostgreSQL ($NCAP_TEST_PG): records of
 * opted-out patients (by their own NHS number or one linked to the same patient) are withheld only
 * for audits the opt-out applies to, counted once per record
 * version per audit, trust and submission, and nothing kept names the patient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "link_pg_fixture.h"
#include "optout.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_optout", conninfo, sizeof conninfo);
}

static void withhold(PGconn *db, const optout_record_t *recs, size_t n, bool *withheld)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN");
    if (optout_withhold(db, recs, n, withheld, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
    pg_fixture_exec(db, "COMMIT");
}

static void test_opted_out_records_go_no_further_and_are_counted(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_optout", err, sizeof err);
    assert_non_null(db);
    pg_fixture_exec(db, "INSERT INTO linkage.optout (nhs_number) VALUES ('4010232137')");
    optout_record_t recs[] = {
        {1, 1, "nela", "RH8", 10, "4010232137", 0, true},  /* opted out, audit applies: withheld */
        {2, 1, "nela", "RH8", 10, "4505577104", 0, true},  /* not opted out */
        {3, 1, "nhfd", "RH8", 11, "4010232137", 0, false}, /* the opt-out does not apply to nhfd */
        {4, 1, "nela", "RH8", 10, "", 0, true},            /* no valid NHS number */
        {5, 1, "nela", "RTH", 12, "4010232137", 0, true},  /* withheld, another trust */
    };
    bool withheld[5];
    withhold(db, recs, 5, withheld);
    assert_true(withheld[0]);
    assert_false(withheld[1]);
    assert_false(withheld[2]);
    assert_false(withheld[3]);
    assert_true(withheld[4]);
    /* a record without its NHS number, linked to a patient whose other record gave an opted-out
     * one, is withheld too; a patient with only numbers not opted out is not */
    pg_fixture_exec(db, "INSERT INTO linkage.patient (patient_id) VALUES (77), (78)");
    pg_fixture_exec(db, "INSERT INTO linkage.block (key, patient_id, nhs_number, surname) VALUES"
                        " ('n:4010232137', 77, '4010232137', 'ada'), ('d:19400101', 77, '', 'ada'),"
                        " ('n:4505577104', 78, '4505577104', 'bo')");
    optout_record_t linked[] = {
        {6, 1, "nela", "RH8", 12, "", 77, true},
        {7, 1, "nela", "RH8", 12, "", 78, true},
        {8, 1, "nhfd", "RH8", 13, "", 77, false},
    };
    bool w3[3];
    withhold(db, linked, 3, w3);
    assert_true(w3[0]);
    assert_false(w3[1]);
    assert_false(w3[2]);
    /* the same record again, and a new version of it: counted once per version */
    optout_record_t again[] = {recs[0], {1, 2, "nela", "RH8", 10, "4010232137", 0, true}};
    withhold(db, again, 2, withheld);
    assert_true(withheld[0] && withheld[1]);
    assert_int_equal(link_pg_count(db, "SELECT records FROM linkage.optout_count"
                                       " WHERE audit = 'nela' AND trust = 'RH8'"
                                       " AND submission_id = 10"),
                     2);
    assert_int_equal(link_pg_count(db, "SELECT sum(records) FROM linkage.optout_count"), 4);
    /* what is kept has no column that could name the patient */
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM information_schema.columns"
                                       " WHERE table_schema = 'linkage' AND table_name IN"
                                       " ('optout_count', 'optout_withheld') AND column_name"
                                       " NOT IN ('audit', 'trust', 'submission_id', 'records',"
                                       " 'record_id', 'version')"),
                     0);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opted_out_records_go_no_further_and_are_counted),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
