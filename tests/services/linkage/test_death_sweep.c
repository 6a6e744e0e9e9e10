/* test_death_sweep.c - deaths loaded after the records of their patients, on a real PostgreSQL
 * ($NCAP_TEST_PG): records are linked and validated with no death; the register of deaths is
 * loaded (`ncap refdata load deaths`); linkage's death sweep gives the right patients' records
 * their date_of_death as link revision 1 and leaves the decoy deaths unlinked; validation and
 * metric take the revision once, whether it comes as a message (sent twice) or from their
 * backlog; a second sweep changes nothing; a reload without a death takes date_of_death away
 * again (revision 2), and an older revision arriving late changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include "commands.h"
#include "death_sweep.h"
#include "link_pg_fixture.h"
#include "metric_stage.h"
#include "patient_index.h"
#include "pg_fixture.h"
#include "validation_stage.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    if (link_pg_create("ncap_test_death_sweep", conninfo, sizeof conninfo) != 0)
        return -1;
    if (conninfo[0])
        setenv("NCAP_PG", conninfo, 1);
    return 0;
}

/* An NHFD record as linkage passes it on (identifiers gone), arriving on the 10th of month
 * (YYYY-MM), operated on the next day, discharged on the 20th. */
static void record_payload(char *out, size_t len, int record_id, const char *month)
{
    snprintf(out, len,
             "{\"local_record_id\": \"RH8-%2$d\", \"sex\": \"2\", \"trust_code\": \"RH8\", "
             "\"site_code\": \"RH801\", \"ethnic_category\": \"A\","
             " \"arrival_datetime\": \"%1$s-10T02:20\", \"ward_admission_datetime\":"
             " \"%1$s-10T06:16\", \"never_admitted_to_ward\": \"N\","
             " \"residence_at_fracture\": \"2\", \"pre_fracture_mobility\": \"5\","
             " \"amts_pre_op\": \"1\", \"fracture_type\": \"ICD\", \"fracture_side\": \"R\","
             " \"pathological_fracture\": \"N\", \"asa_grade\": \"4\","
             " \"orthogeriatric_assessment_datetime\": \"%1$s-11T08:48\","
             " \"surgery_datetime\": \"%1$s-11T10:17\", \"operation\": \"HA\","
             " \"amts_post_op\": \"ND\", \"discharge_destination\": \"3\","
             " \"discharge_date\": \"%1$s-20\", \"age_at_arrival\": \"85\","
             " \"age_band\": \"80-89\"}",
             month, record_id);
}

/* Links record record_id (version 1) of a person to a patient, as ncap-linkd would have before
 * any death was loaded. Returns the patient id. */
static int64_t link_record(PGconn *db, const link_params_t *p, int record_id, const char *nhs,
                           const char *forename, const char *surname, const char *dob,
                           const char *arrival)
{
    char err[1024];
    link_ident_t id;
    link_ident_from_values(nhs, forename, surname, dob, "2", "EX3 1SG", &id);
    patient_match_t m;
    pg_fixture_exec(db, "BEGIN");
    if (patient_index_assign(db, p, &id, 1, false, &m, NULL, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
    char rid[16], pid[24], pseud[32], payload[1024];
    snprintf(rid, sizeof rid, "%d", record_id);
    snprintf(pid, sizeof pid, "%lld", (long long)m.patient_id);
    snprintf(pseud, sizeof pseud, "pseudonym-%lld", (long long)m.patient_id);
    record_payload(payload, sizeof payload, record_id, arrival);
    const char *pv[] = {rid, pid, pseud, payload};
    if (db_execp(db,
                 "WITH l AS (INSERT INTO linkage.link (record_id, version, patient_id, method)"
                 " VALUES ($1::bigint, 1, $2::bigint, 'new'))"
                 " INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
                 " local_id, submission_id, row_number, pseudonym, payload, linked_at)"
                 " VALUES ($1::bigint, 1, 'nhfd', 'RH8', 'RH801', 'RH8-' || $1, 1, $1::int, $3,"
                 " $4::jsonb, now() - interval '1 minute')",
                 4, pv, err, sizeof err) != 0)
        fail_msg("%s", err);
    pg_fixture_exec(db, "COMMIT");
    return m.patient_id;
}

static result_t refdata(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_refdata, "refdata", arg, ap);
    va_end(ap);
    return r;
}

/* `ncap refdata load deaths` of text. */
static void load_deaths(const char *text)
{
    char path[64];
    temp_file(path, text);
    result_t r = refdata("load", "deaths", path, NULL);
    unlink(path);
    if (r.rc != 0)
        fail_msg("ncap refdata load deaths: %s", r.err);
    result_free(&r);
}

/* One sweep as ncap-linkd runs it: each step in a transaction of its own, as its role. */
static death_sweep_counts_t sweep(PGconn *db, audit_cache_t *audits, const link_params_t *p,
                                  stage_keys_t *out)
{
    char err[1024];
    death_sweep_counts_t c = {0};
    out->n = 0;
    pg_fixture_exec(db, "BEGIN; SET LOCAL ROLE ncap_linkage");
    if (death_sweep_link(db, p, 500, &c, err, sizeof err) != 0)
        fail_msg("death sweep: %s", err);
    pg_fixture_exec(db, "COMMIT");
    pg_fixture_exec(db, "BEGIN; SET LOCAL ROLE ncap_linkage");
    if (death_sweep_revise(db, audits, 500, out, &c, err, sizeof err) != 0)
        fail_msg("death sweep: %s", err);
    pg_fixture_exec(db, "COMMIT");
    return c;
}

/* The keys in nudges through a stage, as the stage's role (the stage contract's batch). */
static void run_stage(PGconn *db, const stage_ops_t *ops, const char *stage, const stage_keys_t *in,
                      stage_keys_t *out)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET ROLE ncap_%s", stage);
    pg_fixture_exec(db, sql);
    out->n = 0;
    if (stage_run_keys(ops, stage, db, in->keys, in->n, out) < 0)
        fail_msg("a batch of %s failed", stage);
    pg_fixture_exec(db, "RESET ROLE");
}

/* How many records the stage's backlog finds (grace 0), without taking them. */
static size_t backlog_of(PGconn *db, const stage_ops_t *ops, const char *stage)
{
    char err[1024];
    const char *p[] = {"1000", "0"};
    PGresult *r = stage_wm_query(db, stage, ops->backlog_sql, 2, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    size_t n = (size_t)PQntuples(r);
    PQclear(r);
    return n;
}

/* The backlog's records through the stage (grace 0), its watermark moved before and after as its
 * sweep moves it: a revision must be found after the watermark passed the record. */
static void run_backlog(PGconn *db, const stage_ops_t *ops, const char *stage, stage_keys_t *out)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET ROLE ncap_%s", stage);
    pg_fixture_exec(db, sql);
    out->n = 0;
    if (stage_run_advance(ops, stage, db, 1000) < 0 ||
        stage_run_backlog(ops, stage, db, 1000, 0, out) < 0 ||
        stage_run_advance(ops, stage, db, 1000) < 0)
        fail_msg("the backlog of %s failed", stage);
    pg_fixture_exec(db, "RESET ROLE");
}

/* The text of the first value of sql, or "" when there is no row. */
static char *text_of(PGconn *db, const char *sql, char *out, size_t len)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

#define DEATHS_HEADER "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"
/* Ada (NHS number and date of birth agree), Bea (no NHS number anywhere: names, date of birth,
 * sex and postcode), a decoy born the same day as Ada who is nobody held, and a stranger. */
#define ADA_DEATH "4010232137,Ada,Morgan,1940-02-04,2,EX3 1SG,2025-04-01\n"
#define BEA_DEATH ",Bea,Quinn,1936-07-19,2,EX3 1SG,2025-06-20\n"
#define DECOYS                                                                                     \
    "4505577104,Zoe,Tanner,1940-02-04,1,LS1 4AP,2025-03-03\n"                                      \
    ",Yan,Ellis,1951-11-30,1,M1 1AE,2025-02-02\n"

static void test_deaths_loaded_after_records_reach_them_as_revisions(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], buf[2048];
    PGconn *db = db_connect(conninfo, "test_death_sweep", err, sizeof err);
    assert_non_null(db);
    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    link_params_t params;
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(patient_index_load_params(db, &params, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    validation_t vs = {audits};
    metric_t ms = {audits};
    stage_ops_t vops = validation_stage_ops(&vs), mops = metric_stage_ops(&ms);
    stage_keys_t out = {0}, rev1 = {0}, validated = {0};

    /* Ada's two records (the second arrives after her death), Bea's, and Cy's, who lives */
    link_record(db, &params, 1, "4010232137", "Ada", "Morgan", "1940-02-04", "2025-03");
    link_record(db, &params, 2, "4010232137", "Ada", "Morgan", "1940-02-04", "2025-05");
    link_record(db, &params, 3, "", "Bea", "Quinn", "1936-07-19", "2025-06");
    link_record(db, &params, 4, "", "Cy", "Reyes", "1938-01-01", "2025-06");
    assert_int_equal(backlog_of(db, &vops, "validation"), 4);
    run_backlog(db, &vops, "validation", &validated);
    assert_int_equal(validated.n, 4);
    run_stage(db, &mops, "metric", &validated, &out);
    assert_string_equal(
        text_of(db,
                "SELECT coalesce(string_agg(DISTINCT rule || ' ' || message, '; '), '')"
                " FROM validation.problem WHERE severity = 'error'",
                buf, sizeof buf),
        "");

    /* the register of deaths arrives; the sweep links and revises */
    load_deaths(DEATHS_HEADER ADA_DEATH BEA_DEATH DECOYS);
    death_sweep_counts_t c = sweep(db, audits, &params, &rev1);
    assert_int_equal(c.deaths, 4);
    assert_int_equal(c.links, 2);
    assert_int_equal(c.revised, 3);
    assert_int_equal(rev1.n, 3);
    assert_string_equal(text_of(db,
                                "SELECT string_agg(record_id || ':' || revision || ':' ||"
                                " coalesce(payload->>'date_of_death', '-'), ' ' ORDER BY"
                                " record_id) FROM linkage.pseudo_record",
                                buf, sizeof buf),
                        "1:1:2025-04-01 2:1:2025-04-01 3:1:2025-06-20 4:0:-");
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.death d WHERE NOT EXISTS"
                                       " (SELECT 1 FROM linkage.death_link l"
                                       " WHERE l.death_id = d.death_id) AND forename IN"
                                       " ('Zoe', 'Yan')"),
                     2);

    /* validation's backlog finds the revisions too, should the messages be lost */
    assert_int_equal(backlog_of(db, &vops, "validation"), 3);
    /* the revisions as nudges, twice: taken once */
    run_stage(db, &vops, "validation", &rev1, &validated);
    assert_int_equal(validated.n, 3);
    run_stage(db, &vops, "validation", &rev1, &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(backlog_of(db, &vops, "validation"), 0);
    assert_string_equal(text_of(db,
                                "SELECT string_agg(record_id || ':' || link_revision || ':' ||"
                                " coalesce(payload->>'date_of_death', '-') || ':' || valid, ' '"
                                " ORDER BY record_id) FROM validation.record",
                                buf, sizeof buf),
                        "1:1:2025-04-01:true 2:1:2025-04-01:false 3:1:2025-06-20:true 4:0:-:true");
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM validation.problem"
                                       " WHERE rule = 'admission_after_death' AND record_id = 2"),
                     1);
    /* metric: the backlog and the messages, each taken once */
    assert_int_equal(backlog_of(db, &mops, "metric"), 3);
    run_stage(db, &mops, "metric", &validated, &out);
    assert_int_equal(out.n, 3); /* publish is nudged with the three */
    run_stage(db, &mops, "metric", &validated, &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(backlog_of(db, &mops, "metric"), 0);
    assert_string_equal(text_of(db,
                                "SELECT string_agg(record_id || ':' || link_revision || ':' ||"
                                " valid, ' ' ORDER BY record_id) FROM metric.record_state",
                                buf, sizeof buf),
                        "1:1:true 2:1:false 3:1:true 4:0:true");
    /* record 2, invalid now, is in no metric: counted once as rejected (the selection ledger) */
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM metric.contribution"
                                       " WHERE record_id = 2 AND metric_id <> '!rejected'"),
                     0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM metric.contribution"
                                       " WHERE record_id = 2 AND metric_id = '!rejected'"),
                     1);

    /* a second sweep finds nothing to do */
    c = sweep(db, audits, &params, &out);
    assert_int_equal(c.links + c.revised + out.n, 0);
    assert_int_equal(link_pg_count(db, "SELECT sum(revision) FROM linkage.pseudo_record"), 3);

    /* a reload without Ada's death takes it away from her records: revision 2 */
    load_deaths(DEATHS_HEADER BEA_DEATH DECOYS);
    c = sweep(db, audits, &params, &out);
    assert_int_equal(c.revised, 2);
    assert_string_equal(text_of(db,
                                "SELECT string_agg(record_id || ':' || revision || ':' ||"
                                " coalesce(payload->>'date_of_death', '-'), ' ' ORDER BY"
                                " record_id) FROM linkage.pseudo_record",
                                buf, sizeof buf),
                        "1:2:- 2:2:- 3:1:2025-06-20 4:0:-");
    run_stage(db, &vops, "validation", &out, &validated);
    assert_int_equal(validated.n, 2);
    /* revision 1, late: older than what validation holds, so nothing changes */
    run_stage(db, &vops, "validation", &rev1, &out);
    assert_int_equal(out.n, 0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM validation.record WHERE"
                                       " payload::jsonb ? 'date_of_death' AND record_id IN (1, 2)"),
                     0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM validation.problem"
                                       " WHERE rule = 'admission_after_death'"),
                     0);
    run_stage(db, &mops, "metric", &validated, &out);
    assert_string_equal(text_of(db,
                                "SELECT string_agg(record_id || ':' || link_revision || ':' ||"
                                " valid, ' ' ORDER BY record_id) FROM metric.record_state",
                                buf, sizeof buf),
                        "1:2:true 2:2:true 3:1:true 4:0:true");

    stage_keys_free(&out);
    stage_keys_free(&rev1);
    stage_keys_free(&validated);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deaths_loaded_after_records_reach_them_as_revisions),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
