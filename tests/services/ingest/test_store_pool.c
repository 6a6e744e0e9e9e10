/* test_store_pool.c - storer threads on a real PostgreSQL ($NCAP_TEST_PG), connected as ingest's
 * own role: a trust's file is stored while another trust's is held up, one trust's files become
 * record versions in the order they were submitted, a refused file keeps nothing, and jobs not
 * begun can be taken back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "pg_fixture.h"
#include "ingest_hold_fixture.h"
#include "store_pool.h"

#define NHFD_PATH NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml"
#define DB_NAME "ncap_test_store_pool"

/* The required NHFD fields, plus nhs_number and surgery_datetime; amts_pre_op (0-10) is what the
 * tests change to make a new version. */
#define HEADER                                                                                     \
    "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"          \
    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,"         \
    "pathological_fracture,surgery_datetime\n"

typedef struct {
    audit_def_t *def;
    char conninfo[1200];
    daemon_config_t cfg;
    PGconn *db; /* the test's own, as the superuser */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof f);
    char err[256];
    if (!(f.def = audit_def_load(NHFD_PATH, err, sizeof err))) {
        fprintf(stderr, "could not load %s: %s\n", NHFD_PATH, err);
        return -1;
    }
    char base[1024];
    if (pg_test_db_create_migrated(DB_NAME, base, sizeof base) != 0)
        return -1;
    if (base[0]) {
        snprintf(f.conninfo, sizeof f.conninfo, "%s options='-c role=ncap_ingest'", base);
        f.cfg.pg = f.conninfo;
        f.cfg.service = "test_store_pool";
        f.db = db_connect(base, "test_store_pool", err, sizeof err);
        if (!f.db)
            return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    PQfinish(f->db);
    audit_def_destroy(&f->def);
    return 0;
}

/* A job for trust's file: one row per local id in ids, each with amts_pre_op amts. */
static store_job_t *job_for(const fixture_t *f, const char *trust, const char *ids, int amts)
{
    char csv[4096] = HEADER, row[256];
    char copy[256];
    snprintf(copy, sizeof copy, "%s", ids);
    for (char *id = strtok(copy, " "); id; id = strtok(NULL, " ")) {
        snprintf(row, sizeof row,
                 "%s,%s,%s01,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,%d,ICD,L,N,"
                 "2026-01-11T09:00\n",
                 id, trust, trust, amts);
        strncat(csv, row, sizeof csv - strlen(csv) - 1);
    }
    upload_t up;
    memset(&up, 0, sizeof up);
    snprintf(up.token, sizeof up.token, "%s-%d", trust, amts);
    snprintf(up.audit, sizeof up.audit, "nhfd");
    snprintf(up.trust, sizeof up.trust, "%s", trust);
    snprintf(up.filename, sizeof up.filename, "%s.csv", trust);
    up.data = strdup(csv);
    up.len = strlen(csv);
    store_job_t *job = store_job_new(&up, f->def, "client", 6);
    assert_non_null(job);
    assert_null(up.data); /* moved into the job */
    return job;
}

/* The next finished job, waiting for it as the request loop does (poll on the pool's fd). */
static store_job_t *next_finished(store_pool_t *pool)
{
    for (;;) {
        store_job_t *job = store_pool_finished(pool);
        if (job)
            return job;
        struct pollfd p = {store_pool_fd(pool), POLLIN, 0};
        poll(&p, 1, -1);
    }
}

/* amts_pre_op of each version of trust's record id, in version order, e.g. "1 2 3". */
static void versions_of(const fixture_t *f, const char *trust, const char *id, char *out,
                        size_t outlen)
{
    char err[1024];
    const char *p[] = {trust, id};
    PGresult *r = db_query(f->db,
                           "SELECT string_agg(x.payload->>'amts_pre_op', ' ' ORDER BY x.version) "
                           "FROM ingest.record r JOIN ingest.raw_record x USING (record_id) "
                           "WHERE r.audit = 'nhfd' AND r.trust = $1 AND r.local_id = $2",
                           2, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void
test_a_trust_is_stored_while_another_is_held_up_and_one_trusts_files_keep_order(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    ingest_hold_record(f->db, "RA1", "HF-1"); /* RA1's files cannot finish */
    store_pool_t *pool = store_pool_new(&f->cfg, 2);
    assert_non_null(pool);
    assert_int_equal(store_pool_submit(pool, job_for(f, "RA1", "HF-1 HF-2", 1)), 0);
    assert_int_equal(store_pool_submit(pool, job_for(f, "RA1", "HF-1", 2)), 0);
    assert_int_equal(store_pool_submit(pool, job_for(f, "RA1", "HF-1 HF-2", 3)), 0);
    assert_int_equal(store_pool_submit(pool, job_for(f, "RH8", "HF-1", 7)), 0);
    /* Two workers: RA1's later files wait behind its first without taking the second worker. */
    store_job_t *job = next_finished(pool);
    assert_string_equal(job->trust, "RH8");
    assert_int_equal(job->state, STORE_JOB_STORED);
    assert_int_equal(job->res.accepted, 1);
    assert_int_equal(store_pool_jobs(pool), 3);
    char v[64];
    versions_of(f, "RH8", "HF-1", v, sizeof v);
    assert_string_equal(v, "7"); /* committed before its job came back */
    store_job_destroy(&job);

    pg_fixture_exec(f->db, "ROLLBACK");
    for (int amts = 1; amts <= 3; amts++) {
        job = next_finished(pool);
        assert_string_equal(job->trust, "RA1");
        assert_int_equal(job->state, STORE_JOB_STORED);
        char token[16];
        snprintf(token, sizeof token, "RA1-%d", amts);
        assert_string_equal(job->token, token);
        assert_memory_equal(job->client, "client", 6);
        assert_int_equal(job->res.accepted, amts == 2 ? 1 : 2);
        store_job_destroy(&job);
    }
    versions_of(f, "RA1", "HF-1", v, sizeof v);
    assert_string_equal(v, "1 2 3");
    versions_of(f, "RA1", "HF-2", v, sizeof v);
    assert_string_equal(v, "1 3");
    assert_int_equal(store_pool_jobs(pool), 0);
    store_pool_destroy(&pool);
    assert_null(pool);
}

static void test_a_refused_file_keeps_nothing_and_an_unchanged_one_adds_no_version(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    store_pool_t *pool = store_pool_new(&f->cfg, 1);
    upload_t up;
    memset(&up, 0, sizeof up);
    snprintf(up.token, sizeof up.token, "bad");
    snprintf(up.audit, sizeof up.audit, "nhfd");
    snprintf(up.trust, sizeof up.trust, "RX1");
    up.data = strdup("local_record_id,trust_code\nHF-1,RX1\n"); /* required columns missing */
    up.len = strlen(up.data);
    store_pool_submit(pool, store_job_new(&up, f->def, "", 0));
    store_pool_submit(pool, job_for(f, "RX1", "HF-9", 4));
    store_pool_submit(pool, job_for(f, "RX1", "HF-9", 4));
    store_job_t *job = next_finished(pool);
    assert_int_equal(job->state, STORE_JOB_REFUSED);
    assert_non_null(strstr(job->error, "file refused: "));
    store_job_destroy(&job);
    job = next_finished(pool);
    assert_int_equal(job->state, STORE_JOB_STORED);
    assert_int_equal(job->res.accepted, 1);
    store_job_destroy(&job);
    job = next_finished(pool);
    assert_int_equal(job->state, STORE_JOB_STORED);
    assert_int_equal(job->res.accepted, 0);
    assert_int_equal(job->res.unchanged, 1);
    store_job_destroy(&job);
    char err[1024];
    PGresult *r = db_query(f->db, "SELECT count(*) FROM ingest.submission WHERE trust = 'RX1'", 0,
                           NULL, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "2"); /* the refused file left no submission */
    PQclear(r);
    store_pool_destroy(&pool);
}

static void test_jobs_not_begun_are_taken_back_in_order_and_destroy_frees_the_rest(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    ingest_hold_record(f->db, "RY1", "HF-1");
    store_pool_t *pool = store_pool_new(&f->cfg, 1);
    store_pool_submit(pool, job_for(f, "RY1", "HF-1", 1));
    while (ingest_lock_waiters(f->db, "test_store_pool") != 1)
        poll(NULL, 0, 10); /* until RY1-1 is being stored, held up */
    store_pool_submit(pool, job_for(f, "RY1", "HF-1", 2));
    store_pool_submit(pool, job_for(f, "RZ1", "HF-1", 3));
    store_job_t *job = store_pool_take_back(pool);
    assert_non_null(job);
    assert_string_equal(job->token, "RY1-2");
    store_job_destroy(&job);
    job = store_pool_take_back(pool);
    assert_non_null(job);
    assert_string_equal(job->token, "RZ1-3");
    store_job_destroy(&job);
    assert_null(store_pool_take_back(pool)); /* never the one being stored */
    assert_int_equal(store_pool_jobs(pool), 1);
    store_pool_submit(pool, job_for(f, "RZ1", "HF-2", 4));
    pg_fixture_exec(f->db, "ROLLBACK");
    /* Waits for RY1-1 to be committed, begins nothing more, and frees RY1-1 (finished, never
     * collected) and RZ1-4 (never begun): the sanitizer build checks that nothing leaks. */
    store_pool_destroy(&pool);
    assert_null(pool);
    char v[64];
    versions_of(f, "RY1", "HF-1", v, sizeof v);
    assert_string_equal(v, "1");
    versions_of(f, "RZ1", "HF-2", v, sizeof v);
    assert_string_equal(v, "");
}

static void test_worker_count_is_checked(void **state)
{
    fixture_t *f = *state;
    assert_null(store_pool_new(&f->cfg, 0));
    assert_null(store_pool_new(&f->cfg, STORE_POOL_MAX_WORKERS + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_trust_is_stored_while_another_is_held_up_and_one_trusts_files_keep_order),
        cmocka_unit_test(test_a_refused_file_keeps_nothing_and_an_unchanged_one_adds_no_version),
        cmocka_unit_test(test_jobs_not_begun_are_taken_back_in_order_and_destroy_frees_the_rest),
        cmocka_unit_test(test_worker_count_is_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
