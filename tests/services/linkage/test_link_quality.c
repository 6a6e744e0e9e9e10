/* test_link_quality.c - the linkage quality facts (link_quality.h: a record's period, categories
 * and NHS number key) and, on a real PostgreSQL ($NCAP_TEST_PG), their counts
 * (linkage.quality_count, migration 0027, with the changes not yet folded: 0055): kept exactly
 * equal to the facts, as linkage's role, when a newer version supersedes a record (its old counts
 * subtracted: another site, method, withheld), when an older or the same version comes again
 * (nothing changes), when the death sweep's revision finds a patient's death linked, then
 * removed, and when two instances write at once; and each record's method as its patient's
 * records make it (migration 0030), whichever of them came first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "link_pg_fixture.h"
#include "link_quality.h"
#include "quality_store.h"
#include "test_skip.h"

#define NHFD_PATH NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml"

static char conninfo[1024];
static audit_def_t *nhfd;

static int group_setup(void **state)
{
    (void)state;
    char err[256];
    if (!(nhfd = audit_def_load(NHFD_PATH, err, sizeof err))) {
        fprintf(stderr, "could not load %s: %s\n", NHFD_PATH, err);
        return -1;
    }
    return link_pg_create("ncap_test_link_quality", conninfo, sizeof conninfo);
}

static int group_teardown(void **state)
{
    (void)state;
    audit_def_destroy(&nhfd);
    return 0;
}

/* A pseudonymised NHFD record's period (the quarter of arrival_datetime) and categories: the IMD
 * decile as its quintile, the ONS ethnic group, sex, the definition's age band. */
static void test_period_and_categories(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "arrival_datetime", "2025-08-10T02:20");
    ncap_record_set(rec, "imd_decile", "3");
    ncap_record_set(rec, "ethnic_category", "H");
    ncap_record_set(rec, "sex", "1");
    ncap_record_set(rec, "age_at_arrival", "85");
    link_ident_t id;
    link_ident_from_values("4010232137", "Ann", "Smith", "1940-01-01", "2", "SW1A 1AA", &id);
    link_quality_t q;
    link_quality_of(nhfd, rec, &id, &q);
    assert_string_equal(q.period, "2025Q3");
    assert_string_equal(q.nhs_key, "4010232137:19400101");
    assert_string_equal(q.imd_quintile, "2");
    assert_string_equal(q.ethnicity, "asian");
    assert_string_equal(q.sex, "male");
    assert_string_equal(q.age, "80-89");
    /* deciles 9 and 10 are quintile 5; nothing known is "unknown"; no period, none */
    ncap_record_set(rec, "imd_decile", "10");
    ncap_record_remove(rec, "ethnic_category");
    ncap_record_remove(rec, "arrival_datetime");
    ncap_record_set(rec, "age_at_arrival", "abc"); /* not a number: every category unknown */
    /* without a date of birth, or with an invalid NHS number, no key */
    link_ident_from_values("4010232137", "Ann", "Smith", "", "2", "SW1A 1AA", &id);
    link_quality_of(nhfd, rec, &id, &q);
    assert_string_equal(q.period, "");
    assert_string_equal(q.nhs_key, "");
    assert_string_equal(q.imd_quintile, "unknown");
    assert_string_equal(q.sex, "unknown");
    ncap_record_set(rec, "age_at_arrival", "59");
    link_ident_from_values("4010232138", "Ann", "Smith", "1940-01-01", "2", "", &id);
    link_quality_of(nhfd, rec, &id, &q);
    assert_string_equal(q.nhs_key, "");
    assert_string_equal(q.imd_quintile, "5");
    assert_string_equal(q.ethnicity, "unknown");
    assert_string_equal(q.age, "0-59");
    ncap_record_destroy(&rec);
}

/* Stores facts as ncap-linkd does, in a transaction of its own, as its role. */
static void store(PGconn *db, const quality_fact_t *f, size_t n)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN; SET LOCAL ROLE ncap_linkage");
    if (quality_store_facts(db, f, n, err, sizeof err) != 0)
        fail_msg("quality_store_facts: %s", err);
    pg_fixture_exec(db, "COMMIT");
}

/* The death sweep's step for patient 10; returns the facts changed. */
static long deaths(PGconn *db)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN; SET LOCAL ROLE ncap_linkage");
    long n = quality_store_deaths(db, "{10}", err, sizeof err);
    if (n < 0)
        fail_msg("quality_store_deaths: %s", err);
    pg_fixture_exec(db, "COMMIT");
    return n;
}

/* linkage folding the changes to the counts after a commit, as its role; returns the changes
 * folded. */
static long fold(PGconn *db)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN; SET LOCAL ROLE ncap_linkage");
    long n = quality_store_fold(db, err, sizeof err);
    if (n < 0)
        fail_msg("quality_store_fold: %s", err);
    pg_fixture_exec(db, "COMMIT");
    return n;
}

/* The counts recomputed from the facts, compared with those kept: the rows that differ, either
 * way. */
#define RECOUNT                                                                                    \
    "WITH f AS (SELECT q.*, b.breakdown, b.category FROM linkage.record_quality q"                 \
    "   CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_quintile', q.imd_quintile),"                 \
    "   ('ethnicity', q.ethnicity), ('sex', q.sex), ('age', q.age)) AS b(breakdown, category)"     \
    "   WHERE q.period <> '' AND (b.breakdown = 'all' OR b.category <> '')),"                      \
    " r AS (SELECT audit, period, trust, site, breakdown, category,"                               \
    "   count(*) FILTER (WHERE NOT withheld) AS records,"                                          \
    "   count(*) FILTER (WHERE NOT withheld AND method = 'nhs_number') AS nhs_number,"             \
    "   count(*) FILTER (WHERE NOT withheld AND method = 'probabilistic') AS probabilistic,"       \
    "   count(*) FILTER (WHERE NOT withheld AND method = 'singleton') AS singleton,"               \
    "   count(*) FILTER (WHERE NOT withheld AND death_matched) AS death_matched,"                  \
    "   count(*) FILTER (WHERE withheld) AS withheld_opt_out FROM f GROUP BY 1, 2, 3, 4, 5, 6)"    \
    " SELECT count(*) FROM ((SELECT * FROM r EXCEPT SELECT * FROM publish.linkage_quality)"        \
    " UNION ALL (SELECT * FROM publish.linkage_quality EXCEPT SELECT * FROM r)) d"

static long long cell(PGconn *db, const char *col, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(%s), 0) FROM publish.linkage_quality WHERE breakdown = 'all'"
             " AND %s",
             col, where);
    return link_pg_count(db, sql);
}

/* The test database, as its owner (or the test stops: no PostgreSQL under CI is a failure). */
static PGconn *connect_db(void)
{
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_quality", err, sizeof err);
    if (!db)
        fail_msg("could not connect: %s", err);
    return db;
}

static void test_counts_follow_the_latest_version(void **state)
{
    (void)state;
    PGconn *db = connect_db();
    /* a and c carry one NHS number key, b and none none */
    link_quality_t a = {"2025Q3", "4010232137:19400101", "2", "asian", "male", "80-89"};
    link_quality_t b = {"2025Q3", "", "unknown", "white", "female", "70-79"};
    link_quality_t c = {"2025Q3", "4010232137:19400101", "1", "white", "female", "90+"};
    link_quality_t none = {"", "", "1", "white", "female", "90+"};
    quality_fact_t v1[] = {
        {1, 1, 10, "nhfd", "RH8", "RH801", &a, false, false, false},
        {2, 1, 11, "nhfd", "RH8", "RH801", &b, false, false, false},
        {3, 1, 12, "nhfd", "RH8", "RH802", &c, false, true, false}, /* withheld */
        {4, 1, 10, "nhfd", "RTH", "RTH01", &c, false, false, false},
        {5, 1, 13, "nhfd", "RTH", "RTH01", &none, false, false, false}, /* no period: nowhere */
    };
    store(db, v1, 5);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    assert_int_equal(cell(db, "records", "trust = 'RH8'"), 2);
    assert_int_equal(cell(db, "nhs_number", "trust = 'RH8'"), 1); /* record 1, with 4 */
    assert_int_equal(cell(db, "singleton", "trust = 'RH8'"), 1);
    assert_int_equal(cell(db, "nhs_number", "trust = 'RTH'"), 1); /* record 4, with 1 */
    assert_int_equal(cell(db, "withheld_opt_out", "site = 'RH802'"), 1);
    assert_int_equal(cell(db, "records", "site = 'RH802'"), 0);
    assert_int_equal(cell(db, "records", "true"), 3);
    /* a newer version of record 1 at another site, without its NHS number (b): it and record 4
     * are linked probabilistically now; of record 3, no longer withheld; record 2's version
     * again, and record 4's older one: nothing */
    quality_fact_t v2[] = {
        {1, 2, 10, "nhfd", "RH8", "RH802", &b, false, false, false},
        {3, 2, 12, "nhfd", "RH8", "RH802", &a, false, false, false},
        {2, 1, 11, "nhfd", "RH8", "RH801", &a, true, true, false},
    };
    store(db, v2, 3);
    store(db, (quality_fact_t[]){{4, 2, 10, "nhfd", "RTH", "RTH01", &a, false, false, false}}, 1);
    store(db, (quality_fact_t[]){{4, 1, 10, "nhfd", "RTH", "RTH01", &b, true, true, false}}, 1);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    assert_int_equal(cell(db, "records", "site = 'RH801'"), 1); /* record 2 only */
    assert_int_equal(cell(db, "singleton", "site = 'RH801'"), 1);
    assert_int_equal(cell(db, "records", "site = 'RH802'"), 2);
    assert_int_equal(cell(db, "singleton", "site = 'RH802'"), 1); /* record 3 */
    assert_int_equal(cell(db, "probabilistic", "true"), 2);       /* records 1 and 4 */
    assert_int_equal(cell(db, "nhs_number", "true"), 0);
    assert_int_equal(cell(db, "withheld_opt_out", "true"), 0);
    /* the changes wait for linkage to fold them (migration 0055): the same counts after */
    assert_true(link_pg_count(db, "SELECT count(*) FROM linkage.quality_delta") > 0);
    assert_true(fold(db) > 0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.quality_delta"), 0);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    assert_int_equal(fold(db), 0); /* nothing left: nothing changes */
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    /* a superseded cell that emptied is gone, not kept at 0 */
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.quality_count"
                                       " WHERE records = 0 AND withheld_opt_out = 0"),
                     0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM publish.linkage_quality"
                                       " WHERE breakdown = 'sex' AND category = 'male'"
                                       " AND site = 'RH801'"),
                     0);
    /* the death sweep: patient 10 (records 1 and 4) linked to a death, then the death removed */
    pg_fixture_exec(db, "INSERT INTO linkage.patient (patient_id) VALUES (10)");
    pg_fixture_exec(db, "INSERT INTO linkage.death (death_id, date_of_death, row_hash)"
                        " VALUES (1, '2025-09-01', 'h1')");
    pg_fixture_exec(db, "INSERT INTO linkage.death_link (death_id, patient_id, weight)"
                        " VALUES (1, 10, 20)");
    const char *revisions = "SELECT sum(revision) FROM linkage.record_quality";
    long long rev = link_pg_count(db, revisions);
    assert_int_equal(deaths(db), 2);
    assert_int_equal(deaths(db), 0); /* again: nothing changes */
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    assert_int_equal(cell(db, "death_matched", "true"), 2);
    assert_int_equal(link_pg_count(db, revisions), rev + 2);
    pg_fixture_exec(db, "DELETE FROM linkage.death_link");
    assert_int_equal(deaths(db), 2);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    assert_int_equal(cell(db, "death_matched", "true"), 0);
    assert_true(fold(db) > 0);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    /* only the counts reach publish: its role reads the view, not the facts */
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(link_pg_count(db, "SELECT (count(*) > 0)::int FROM publish.linkage_quality"),
                     1);
    PGresult *r = PQexec(db, "SELECT count(*) FROM linkage.record_quality");
    assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    pg_fixture_exec(db, "RESET ROLE");
    PQfinish(db);
}

/* Two linkage instances storing facts of the same cells at once: the second never waits for the
 * first's transaction (before migration 0055, it waited on the cells' row locks until the first
 * committed; lock_timeout turns such a wait into an error at once), and the counts are right
 * whichever commits first. */
static void test_two_writers_share_cells_without_waiting(void **state)
{
    (void)state;
    PGconn *a = connect_db(), *b = connect_db();
    link_quality_t q = {"2024Q1", "", "3", "white", "female", "90+"};
    quality_fact_t fa[] = {{101, 1, 201, "nhfd", "RH8", "RH801", &q, false, false, false}};
    quality_fact_t fb[] = {{102, 1, 202, "nhfd", "RH8", "RH801", &q, false, false, false}};
    char err[1024];
    pg_fixture_exec(a, "BEGIN; SET LOCAL ROLE ncap_linkage");
    if (quality_store_facts(a, fa, 1, err, sizeof err) != 0)
        fail_msg("quality_store_facts: %s", err);
    pg_fixture_exec(b, "BEGIN; SET LOCAL ROLE ncap_linkage; SET LOCAL lock_timeout = '50ms'");
    if (quality_store_facts(b, fb, 1, err, sizeof err) != 0)
        fail_msg("the second writer waited for the first: %s", err);
    pg_fixture_exec(b, "COMMIT");
    const char *period = "period = '2024Q1' AND site = 'RH801'";
    assert_int_equal(cell(b, "records", period), 1);
    pg_fixture_exec(a, "COMMIT");
    assert_int_equal(cell(b, "records", period), 2);
    assert_int_equal(link_pg_count(b, RECOUNT), 0);
    fold(b);
    assert_int_equal(cell(b, "records", period), 2);
    assert_int_equal(link_pg_count(b, RECOUNT), 0);
    PQfinish(a);
    PQfinish(b);
}

/* The method of each record of an audit's patient ("nhs_number", "probabilistic", "singleton"). */
static void assert_methods(PGconn *db, const char *audit, int64_t patient, const char *want)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(method, ',' ORDER BY record_id), '')"
             " FROM linkage.record_quality WHERE audit = '%s' AND patient_id = %lld",
             audit, (long long)patient);
    PGresult *r = PQexec(db, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    if (strcmp(PQgetvalue(r, 0, 0), want) != 0)
        fail_msg("patient %lld of %s: methods %s, expected %s", (long long)patient, audit,
                 PQgetvalue(r, 0, 0), want);
    PQclear(r);
}

/* A record's method is its patient's, in its audit: alone, a singleton; with another record of
 * the same valid NHS number and date of birth, by NHS number; else probabilistic. The same
 * whichever record of the patient came first, and as records join and leave a patient. */
static void test_methods_are_the_patients(void **state)
{
    (void)state;
    PGconn *db = connect_db();
    link_quality_t k = {"2025Q3", "4010232137:19400101", "2", "asian", "male", "80-89"};
    link_quality_t k2 = {"2025Q3", "4010232137:19400102", "2", "asian", "male", "80-89"};
    link_quality_t no = {"2025Q3", "", "2", "asian", "male", "80-89"};
    /* patient 20 seen once, then again with the same NHS number: both by NHS number; patient 21
     * the same two records the other way round, in one batch */
    store(db, (quality_fact_t[]){{20, 1, 20, "nhfd", "RH8", "RH801", &k, false, false, false}}, 1);
    assert_methods(db, "nhfd", 20, "singleton");
    store(db, (quality_fact_t[]){{21, 1, 20, "nhfd", "RTH", "RTH01", &k, false, false, false}}, 1);
    assert_methods(db, "nhfd", 20, "nhs_number,nhs_number");
    store(db,
          (quality_fact_t[]){{23, 1, 21, "nhfd", "RTH", "RTH01", &k, false, false, false},
                             {22, 1, 21, "nhfd", "RH8", "RH801", &k, false, false, false}},
          2);
    assert_methods(db, "nhfd", 21, "nhs_number,nhs_number");
    /* a third record of patient 20 without an NHS number, a fourth with another date of birth:
     * probabilistic, the first two still by NHS number */
    store(db,
          (quality_fact_t[]){{24, 1, 20, "nhfd", "RH8", "RH801", &no, false, false, false},
                             {25, 1, 20, "nhfd", "RH8", "RH801", &k2, false, false, false}},
          2);
    assert_methods(db, "nhfd", 20, "nhs_number,nhs_number,probabilistic,probabilistic");
    /* patient 22: a record with an NHS number and one without, the latter withheld: both
     * linked, probabilistically; the same patient in another audit is another matter */
    store(db,
          (quality_fact_t[]){{26, 1, 22, "nhfd", "RH8", "RH801", &k, false, false, false},
                             {27, 1, 22, "nhfd", "RH8", "RH801", &no, false, true, false},
                             {28, 1, 22, "nela", "RH8", "RH801", &k, false, false, false}},
          3);
    assert_methods(db, "nhfd", 22, "probabilistic,probabilistic");
    assert_methods(db, "nela", 22, "singleton");
    /* a newer version of record 27 moves it to patient 23: 26 and 27 are singletons; again,
     * nothing changes */
    quality_fact_t moved[] = {{27, 2, 23, "nhfd", "RH8", "RH801", &no, false, false, false}};
    store(db, moved, 1);
    assert_methods(db, "nhfd", 22, "singleton");
    assert_methods(db, "nhfd", 23, "singleton");
    const char *revisions = "SELECT sum(revision) FROM linkage.record_quality";
    long long rev = link_pg_count(db, revisions);
    store(db, moved, 1);
    assert_int_equal(link_pg_count(db, revisions), rev);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    PQfinish(db);
}

/* The methods of a new patient's records are decided from the batch's facts (new_patient), as
 * linkage.quality_methods decides them: running it afterwards changes nothing; a held patient's
 * new record is stored with the method it decides too. A batch with two versions of one record
 * leaves them to it. */
static void test_new_patients_decided_in_batch(void **state)
{
    (void)state;
    PGconn *db = connect_db();
    link_quality_t k = {"2025Q3", "4010232137:19400101", "2", "asian", "male", "80-89"};
    link_quality_t k2 = {"2025Q3", "4010232137:19400102", "2", "asian", "male", "80-89"};
    link_quality_t no = {"2025Q3", "", "2", "asian", "male", "80-89"};
    /* patient 40: two by NHS number, one without, one in another audit; 41 alone; 42 two
     * records with other dates of birth, one withheld; 43 held before, joined now */
    store(db, (quality_fact_t[]){{50, 1, 43, "nhfd", "RH8", "RH801", &k, false, false, true}}, 1);
    store(db,
          (quality_fact_t[]){{51, 1, 40, "nhfd", "RH8", "RH801", &k, false, false, true},
                             {52, 1, 41, "nhfd", "RH8", "RH801", &k, false, false, true},
                             {53, 1, 40, "nhfd", "RTH", "RTH01", &k, false, false, true},
                             {54, 1, 40, "nhfd", "RTH", "RTH01", &no, false, false, true},
                             {55, 1, 40, "nela", "RTH", "RTH01", &k, false, false, true},
                             {56, 1, 42, "nhfd", "RTH", "RTH01", &k, false, false, true},
                             {57, 1, 42, "nhfd", "RTH", "RTH01", &k2, false, true, true},
                             {58, 1, 43, "nhfd", "RTH", "RTH01", &k, false, false, false}},
          8);
    assert_methods(db, "nhfd", 40, "nhs_number,nhs_number,probabilistic");
    assert_methods(db, "nela", 40, "singleton");
    assert_methods(db, "nhfd", 41, "singleton");
    assert_methods(db, "nhfd", 42, "probabilistic,probabilistic");
    assert_methods(db, "nhfd", 43, "nhs_number,nhs_number");
    /* the held patient's new record is stored with its method (from the facts held before and the
     * batch's); linkage.quality_methods updated only the held record it turned from a singleton */
    assert_int_equal(
        link_pg_count(db, "SELECT revision FROM linkage.record_quality WHERE record_id = 58"), 0);
    assert_int_equal(
        link_pg_count(db, "SELECT revision FROM linkage.record_quality WHERE record_id = 50"), 1);
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    const char *revisions = "SELECT sum(revision) FROM linkage.record_quality";
    long long rev = link_pg_count(db, revisions);
    pg_fixture_exec(db, "SELECT linkage.quality_methods('{40,41,42,43}')");
    assert_int_equal(link_pg_count(db, revisions), rev);
    /* two versions of record 59 in one batch: the newer one's patient, 45, by the function */
    store(db,
          (quality_fact_t[]){{59, 2, 45, "nhfd", "RH8", "RH801", &k, false, false, true},
                             {59, 1, 44, "nhfd", "RH8", "RH801", &k, false, false, true},
                             {60, 1, 45, "nhfd", "RH8", "RH801", &k, false, false, true}},
          3);
    assert_methods(db, "nhfd", 44, "");
    assert_methods(db, "nhfd", 45, "nhs_number,nhs_number");
    assert_int_equal(link_pg_count(db, RECOUNT), 0);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_and_categories),
        cmocka_unit_test(test_counts_follow_the_latest_version),
        cmocka_unit_test(test_methods_are_the_patients),
        cmocka_unit_test(test_new_patients_decided_in_batch),
        cmocka_unit_test(test_two_writers_share_cells_without_waiting),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
