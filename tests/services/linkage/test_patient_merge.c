/* test_patient_merge.c - two patients of one person merged by ncap-linkd, on a real PostgreSQL
 * ($NCAP_TEST_PG), through linkage's and validation's stage hooks as the daemons run them (their
 * roles, their transactions). Mary's first two records make patient A; a third, with another date
 * of birth in the same year at a new address, makes patient B, linked to her death in the
 * register. A fourth record, her first date of birth at the new address, bridges them: B is merged
 * into A (more records) in that record's transaction. A kill half way through that transaction
 * changes nothing. Then: B holds no blocking key and says where it went, B's record is linked to
 * A, pseudonymised as A's and passed on as a link revision beside the new record, its quality fact
 * moved, B's death moved to A; validation ends with the four records under one pseudonym, one row
 * each; the death sweep gives A's other records the date of death; the bridging record taken
 * again changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "link_pg_fixture.h"
#include "linkage_stage.h"
#include "patient_index.h"
#include "patient_merge.h"
#include "validation_stage.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_patient_merge", conninfo, sizeof conninfo);
}

/* A raw NHFD record of Mary, as record record_id. */
static void ingest_record(PGconn *db, int record_id, const char *dob, const char *postcode,
                          const char *arrival)
{
    link_pg_ingest_nhfd(db, record_id, "", "Mary", "Jones", dob, postcode, arrival);
}

/* linkage's batch of the keys, as its role; the keys passed on. */
static int link_keys(PGconn *db, const stage_ops_t *ops, const stage_key_t *keys, size_t n,
                     stage_keys_t *out)
{
    out->n = 0;
    pg_fixture_exec(db, "SET ROLE ncap_linkage");
    int done = stage_run_keys(ops, "linkage", db, keys, n, out);
    pg_fixture_exec(db, "RESET ROLE");
    return done;
}

/* Each linked record: id:patient:revision:date_of_death, in record order. */
static char *linked(PGconn *db, char *out, size_t len)
{
    return link_pg_text(db,
                        "SELECT string_agg(l.record_id || ':' || l.patient_id || ':' ||"
                        " p.revision || ':' || coalesce(p.payload->>'date_of_death', '-'), ' '"
                        " ORDER BY l.record_id) FROM linkage.link l"
                        " JOIN linkage.pseudo_record p USING (record_id, version)",
                        out, len);
}

static void test_bridging_record_merges_two_patients(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], buf[1024], want[1024], keys[256], pa[65], pb[65];
    PGconn *db = db_connect(conninfo, "test_patient_merge", err, sizeof err);
    assert_non_null(db);
    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    linkage_t lk = {.audits = audits};
    memset(lk.key, 7, sizeof lk.key);
    stage_ops_t ops = linkage_stage_ops(&lk);
    validation_t vs = {audits};
    stage_ops_t vops = validation_stage_ops(&vs);
    stage_keys_t out = {0};

    /* her death in the register, as known at her new address */
    pg_fixture_exec(db, "INSERT INTO linkage.death (forename, surname, date_of_birth, sex,"
                        " postcode, date_of_death, row_hash) VALUES ('Mary', 'Jones',"
                        " '1950-09-17', '2', 'M3 4XY', '2025-04-02', 'mary')");
    ingest_record(db, 1, "1950-02-03", "M1 1AE", "2025-01-10T10:00");
    ingest_record(db, 2, "1950-02-03", "M1 1AE", "2025-02-10T10:00");
    ingest_record(db, 3, "1950-09-17", "M3 4XY", "2025-03-01T10:00");
    for (int r = 1; r <= 3; r++) {
        stage_key_t k = {r, 1, 0};
        assert_int_equal(link_keys(db, &ops, &k, 1, &out), 1);
        link_pg_validate(db, &vops, out.keys, out.n);
    }
    long long a = link_pg_count(db, "SELECT patient_id FROM linkage.link WHERE record_id = 1");
    long long b = link_pg_count(db, "SELECT patient_id FROM linkage.link WHERE record_id = 3");
    assert_true(a != b);
    snprintf(want, sizeof want, "1:%lld:0:- 2:%lld:0:- 3:%lld:0:2025-04-02", a, a, b);
    assert_string_equal(linked(db, buf, sizeof buf), want);
    pseudonym_of(lk.key, a, pa);
    pseudonym_of(lk.key, b, pb);

    /* the bridge, in a transaction killed after the merge was made: nothing changes */
    ingest_record(db, 4, "1950-02-03", "M3 4XY", "2025-03-15T10:00");
    PGconn *doomed = db_connect(conninfo, "test_patient_merge_doomed", err, sizeof err);
    assert_non_null(doomed);
    pg_fixture_exec(doomed, "BEGIN; SET LOCAL ROLE ncap_linkage");
    link_params_t p;
    assert_int_equal(patient_index_load_params(doomed, &p, err, sizeof err), 0);
    link_ident_t bridge;
    link_ident_from_values("", "Mary", "Jones", "1950-02-03", "2", "M3 4XY", &bridge);
    patient_match_t m;
    link_merge_t *merges = NULL;
    size_t nmerges = 0;
    stage_keys_t revised = {0};
    assert_int_equal(
        patient_index_assign(doomed, &p, &bridge, 1, false, &m, &merges, &nmerges, err, sizeof err),
        0);
    assert_int_equal(nmerges, 1);
    assert_int_equal(merges[0].from, b);
    assert_int_equal(merges[0].into, a);
    assert_int_equal(m.patient_id, a);
    assert_int_equal(
        patient_merge_records(doomed, merges, nmerges, lk.key, "k", &revised, err, sizeof err), 0);
    assert_string_equal(link_pg_keys_text(&revised, keys, sizeof keys), "3:1");
    free(merges);
    stage_keys_free(&revised);
    link_pg_kill(db, doomed);
    assert_string_equal(linked(db, buf, sizeof buf), want);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.patient"
                                       " WHERE merged_into IS NOT NULL"),
                     0);

    /* the bridge as ncap-linkd takes it: B merged into A, B's record passed on again */
    stage_key_t k4 = {4, 1, 0};
    assert_int_equal(link_keys(db, &ops, &k4, 1, &out), 1);
    assert_string_equal(link_pg_keys_text(&out, keys, sizeof keys), "4:0 3:1");
    snprintf(want, sizeof want, "1:%lld:0:- 2:%lld:0:- 3:%lld:1:2025-04-02 4:%lld:0:2025-04-02", a,
             a, a, a);
    assert_string_equal(linked(db, buf, sizeof buf), want);
    snprintf(want, sizeof want, "SELECT merged_into FROM linkage.patient WHERE patient_id = %lld",
             b);
    assert_int_equal(link_pg_count(db, want), a);
    snprintf(want, sizeof want, "SELECT count(*) FROM linkage.block WHERE patient_id = %lld", b);
    assert_int_equal(link_pg_count(db, want), 0);
    /* every record's pseudonym is A's, under the running key */
    snprintf(want, sizeof want,
             "SELECT count(*) FROM linkage.pseudo_record WHERE pseudonym = '%s' AND key_id = '%s'",
             pa, lk.key_id);
    assert_int_equal(link_pg_count(db, want), 4);
    /* the death went with B's record; A is queued for the death sweep */
    snprintf(want, sizeof want, "SELECT patient_id FROM linkage.death_link");
    assert_int_equal(link_pg_count(db, want), a);
    snprintf(want, sizeof want,
             "SELECT count(*) FROM linkage.death_recheck WHERE patient_id = %lld", a);
    assert_int_equal(link_pg_count(db, want), 1);
    /* the quality facts: four records of one patient, all linked */
    snprintf(want, sizeof want,
             "SELECT count(*) FROM linkage.record_quality WHERE patient_id = %lld"
             " AND method = 'probabilistic'",
             a);
    assert_int_equal(link_pg_count(db, want), 4);

    /* validation: the four records, once each, under A's pseudonym */
    link_pg_validate(db, &vops, out.keys, out.n);
    snprintf(want, sizeof want, "4 4 1 %s", pa);
    assert_string_equal(link_pg_text(db,
                                     "SELECT count(*) || ' ' || count(DISTINCT record_id) || ' ' ||"
                                     " count(DISTINCT pseudonym) || ' ' || min(pseudonym)"
                                     " FROM validation.record",
                                     buf, sizeof buf),
                        want);
    snprintf(want, sizeof want,
             "SELECT link_revision FROM validation.record WHERE record_id = 3 AND pseudonym = '%s'",
             pa);
    assert_int_equal(link_pg_count(db, want), 1);
    snprintf(want, sizeof want, "SELECT count(*) FROM validation.record WHERE pseudonym = '%s'",
             pb);
    assert_int_equal(link_pg_count(db, want), 0);

    /* the death sweep: A's first two records take her date of death, as revisions */
    link_pg_sweep(db, &ops, &out);
    assert_string_equal(link_pg_keys_text(&out, keys, sizeof keys), "1:1 2:1");
    snprintf(want, sizeof want,
             "1:%lld:1:2025-04-02 2:%lld:1:2025-04-02 3:%lld:1:2025-04-02 4:%lld:0:2025-04-02", a,
             a, a, a);
    assert_string_equal(linked(db, buf, sizeof buf), want);
    link_pg_validate(db, &vops, out.keys, out.n);
    assert_string_equal(link_pg_text(db,
                                     "SELECT count(*) || ' ' || count(DISTINCT pseudonym) || ' ' ||"
                                     " count(*) FILTER (WHERE payload::jsonb ? 'date_of_death')"
                                     " FROM validation.record",
                                     buf, sizeof buf),
                        "4 1 4");

    /* the bridge nudged again: nothing to do */
    assert_int_equal(link_keys(db, &ops, &k4, 1, &out), 0);
    assert_int_equal(out.n, 0);

    stage_keys_free(&out);
    linkage_stage_clear(&lk);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridging_record_merges_two_patients),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
