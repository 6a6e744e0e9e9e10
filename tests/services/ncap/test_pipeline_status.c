/* test_pipeline_status.c - what `ncap status` reads (pipeline_status.c) on a real PostgreSQL
 * ($NCAP_TEST_PG), from what the stages keep (migration 0018) rather than from counting their
 * tables: records processed from each stage's tally, written by each role's own statements
 * (inserted rows, not rows merely rewritten); each backlog counted after the stage's watermark,
 * link revisions and records released from the quarantine behind it included, records held left
 * out; the rate over the last minute; and the same counts after the tallies are folded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "linkage_stage.h"
#include "pg_fixture.h"
#include "pipeline_status.h"
#include "quarantine.h"
#include "stage_watermark.h"
#include "tally.h"
#include "validation_stage.h"

static PGconn *db;

/* One line per stage: "name processed/backlog/quarantined", in flow order. */
static const char *status(char *out, size_t len)
{
    stage_status_t st[PIPELINE_STAGES];
    char err[1024];
    if (pipeline_status_read(db, 0, st, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < PIPELINE_STAGES; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%s %lld/%lld/%lld", i ? ", " : "", st[i].name,
                              st[i].processed, st[i].backlog, st[i].quarantined);
    return out;
}

/* Each stage's backlog (or, when held, the records held in its quarantine), counted up to bound
 * rows a part (0: all), in flow order, "N+" past it. */
static const char *counted(long long bound, bool held, char *out, size_t len)
{
    stage_status_t st[PIPELINE_STAGES];
    char err[1024];
    if (pipeline_status_read(db, bound, st, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < PIPELINE_STAGES; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%lld%s", i ? " " : "",
                              held ? st[i].quarantined : st[i].backlog,
                              (held ? st[i].quarantined_more : st[i].backlog_more) ? "+" : "");
    return out;
}

static const char *backlogs(long long bound, char *out, size_t len)
{
    return counted(bound, false, out, len);
}

static const char *quarantines(long long bound, char *out, size_t len)
{
    return counted(bound, true, out, len);
}

static double rate_of(int stage)
{
    stage_status_t st[PIPELINE_STAGES];
    char err[1024];
    if (pipeline_status_read(db, 0, st, err, sizeof err) != 0)
        fail_msg("%s", err);
    return st[stage].rate;
}

/* Runs sql as role (RESET after). */
static void as_role(const char *role, const char *sql)
{
    char set[64];
    snprintf(set, sizeof set, "SET ROLE %s", role);
    pg_fixture_exec(db, set);
    pg_fixture_exec(db, sql);
    pg_fixture_exec(db, "RESET ROLE");
}

static long long count(const char *sql)
{
    return pg_fixture_count(db, sql);
}

static void test_status_reads_what_the_stages_keep(void **state)
{
    (void)state;
    db = pg_fixture_open("ncap_test_pipeline_status");
    char buf[512], err[1024];
    pg_fixture_exec(db, "INSERT INTO ingest.submission (submission_id, audit, trust)"
                        " VALUES (1, 'nhfd', 'RA1');"
                        "INSERT INTO ingest.record (record_id, audit, trust, local_id)"
                        " SELECT g, 'nhfd', 'RA1', 'L' || g FROM generate_series(1, 5) g;"
                        "INSERT INTO linkage.patient (patient_id) VALUES (1)");
    as_role("ncap_ingest", "INSERT INTO ingest.raw_record (record_id, version, submission_id,"
                           " row_number, payload, content_hash)"
                           " SELECT g, 1, 1, g, '{}', 'h' FROM generate_series(1, 5) g");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 0/5/0, validation 0/0/0,"
                                                 " metric 0/0/0, publish 0/0/0");
    assert_true(rate_of(0) > 0.08 && rate_of(0) < 0.09); /* 5 in the last minute */
    /* `ncap wait` asks only whether any is left: counted with bound 1, a backlog reads "more
     * than 1"; `ncap status` counts up to its bound, and says when there is more */
    assert_string_equal(backlogs(1, buf, sizeof buf), "0 1+ 0 0 0");
    assert_string_equal(backlogs(3, buf, sizeof buf), "0 3+ 0 0 0");
    assert_string_equal(backlogs(4, buf, sizeof buf), "0 4+ 0 0 0");
    assert_string_equal(backlogs(5, buf, sizeof buf), "0 5 0 0 0");
    assert_string_equal(backlogs(0, buf, sizeof buf), "0 5 0 0 0");

    /* linkage links 1-3 and withholds 4 under the opt-out; holds 5 in quarantine */
    as_role("ncap_linkage",
            "INSERT INTO linkage.link (record_id, version, patient_id, method)"
            " SELECT g, 1, 1, 'new' FROM generate_series(1, 3) g;"
            "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site, local_id,"
            " submission_id, row_number, pseudonym, payload)"
            " SELECT g, 1, 'nhfd', 'RA1', '', 'L' || g, 1, g, 'P', '{}'"
            " FROM generate_series(1, 3) g;"
            "INSERT INTO linkage.optout_withheld VALUES (4, 1);"
            "INSERT INTO linkage.quarantine (record_id, version, stage, error_class, message)"
            " VALUES (5, 1, 'linkage', 'input', 'bad')");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/0/1, validation 0/3/0,"
                                                 " metric 0/0/0, publish 0/0/0");
    /* its watermark passes all five (taken, withheld, held) */
    const stage_ops_t lops = linkage_stage_ops(NULL);
    pg_fixture_exec(db, "SET ROLE ncap_linkage");
    assert_int_equal(stage_advance_expect(&lops, "linkage", db, 5), 5);
    pg_fixture_exec(db, "RESET ROLE");
    assert_int_equal(count("SELECT record_id FROM linkage.watermark"), 5);
    /* released behind the watermark: in the backlog again, out of the quarantined */
    pg_fixture_exec(db, "UPDATE linkage.quarantine SET held = false");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/1/0, validation 0/3/0,"
                                                 " metric 0/0/0, publish 0/0/0");

    /* validation takes 1 and 2; then a death loaded late revises 1: in its backlog again */
    as_role("ncap_validation",
            "INSERT INTO validation.record (record_id, version, audit, trust, site, local_id,"
            " submission_id, row_number, pseudonym, valid, payload)"
            " SELECT g, 1, 'nhfd', 'RA1', '', 'L' || g, 1, g, 'P', true, '{}'"
            " FROM generate_series(1, 2) g");
    as_role("ncap_linkage", "UPDATE linkage.pseudo_record SET revision = 1 WHERE record_id = 1");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/1/0, validation 2/2/0,"
                                                 " metric 0/2/0, publish 0/0/0");
    /* taken at the new revision: rewritten, not one more record processed, but in its rate */
    as_role("ncap_validation",
            "UPDATE validation.record SET link_revision = 1 WHERE record_id = 1");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/1/0, validation 2/1/0,"
                                                 " metric 0/2/0, publish 0/0/0");
    assert_true(rate_of(2) > 0.049 && rate_of(2) < 0.051); /* 3 rows written */

    /* metric takes 1 at its old revision (one still to take), publish is shown the record */
    as_role("ncap_metric", "INSERT INTO metric.processed (record_id, version) VALUES (1, 1);"
                           "INSERT INTO metric.record_state (record_id, version, audit, trust,"
                           " period, valid) VALUES (1, 1, 'nhfd', 'RA1', '2026Q1', true)");
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/1/0, validation 2/1/0,"
                                                 " metric 1/2/0, publish 0/1/0");

    /* folded a minute on: the same counts from one row per tally, and no rate */
    static const char *const stages[] = {"ingest", "linkage", "validation", "metric", "publish"};
    pg_fixture_exec(db, "UPDATE ingest.tally SET at = at - interval '2 min';"
                        "UPDATE linkage.tally SET at = at - interval '2 min';"
                        "UPDATE validation.tally SET at = at - interval '2 min';"
                        "UPDATE metric.tally SET at = at - interval '2 min'");
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
            char role[32];
            snprintf(role, sizeof role, "SET ROLE ncap_%s", stages[i]);
            pg_fixture_exec(db, role);
            if (tally_fold(db, stages[i], err, sizeof err) != 0)
                fail_msg("%s: %s", stages[i], err);
            pg_fixture_exec(db, "RESET ROLE");
        }
    assert_int_equal(count("SELECT count(*) FROM linkage.tally"), 1);
    assert_int_equal(count("SELECT count(*) FROM validation.tally"), 1);
    assert_string_equal(status(buf, sizeof buf), "ingest 5/0/0, linkage 4/1/0, validation 2/1/0,"
                                                 " metric 1/2/0, publish 0/1/0");
    assert_true(rate_of(0) == 0 && rate_of(2) == 0);
    PQfinish(db);
}

/* What linkage's death sweep has still to look at is in linkage's backlog, each of its queues
 * counted up to the bound like the parts after the watermark: a register of deaths just loaded is
 * a queue as long as the register, never read whole by `ncap status`. */
static void test_death_sweep_counted_up_to_the_bound(void **state)
{
    (void)state;
    db = pg_fixture_open("ncap_test_pipeline_status_deaths");
    char buf[512];
    /* 7 deaths not yet considered, 1 considered; 2 patients whose death link changed */
    pg_fixture_exec(db, "INSERT INTO linkage.death (date_of_death, row_hash, considered_at)"
                        " SELECT date '2026-01-01', 'h' || g, CASE WHEN g = 8 THEN now() END"
                        " FROM generate_series(1, 8) g;"
                        "INSERT INTO linkage.death_recheck (patient_id) VALUES (1), (2)");
    assert_string_equal(backlogs(0, buf, sizeof buf), "0 9 0 0 0");
    assert_string_equal(backlogs(9, buf, sizeof buf), "0 9 0 0 0");
    /* the deaths' queue counted up to 7 and the patients' 2: above 7 */
    assert_string_equal(backlogs(7, buf, sizeof buf), "0 7+ 0 0 0");
    assert_string_equal(backlogs(8, buf, sizeof buf), "0 8+ 0 0 0");
    assert_string_equal(backlogs(1, buf, sizeof buf), "0 1+ 0 0 0");
    /* the sweep considers them all: nothing left */
    pg_fixture_exec(db, "UPDATE linkage.death SET considered_at = now();"
                        "DELETE FROM linkage.death_recheck");
    assert_string_equal(backlogs(1, buf, sizeof buf), "0 0 0 0 0");
    PQfinish(db);
}

/* A definition that fails every record of an audit holds them all in validation's quarantine:
 * `ncap status` counts them up to its bound, as a backlog, and says when there are more. */
static void test_quarantine_counted_up_to_the_bound(void **state)
{
    (void)state;
    db = pg_fixture_open("ncap_test_pipeline_status_quarantine");
    char buf[512];
    pg_fixture_exec(db, "INSERT INTO validation.quarantine (record_id, version, stage,"
                        " error_class, message, held)"
                        " SELECT g, 1, 'validation', 'definition', 'x', g <= 6"
                        " FROM generate_series(1, 8) g;"
                        "INSERT INTO metric.quarantine (record_id, version, stage, error_class,"
                        " message) VALUES (1, 1, 'metric', 'evaluation', 'y')");
    assert_string_equal(quarantines(0, buf, sizeof buf), "0 0 6 1 0");
    assert_string_equal(quarantines(6, buf, sizeof buf), "0 0 6 1 0");
    assert_string_equal(quarantines(5, buf, sizeof buf), "0 0 5+ 1 0");
    assert_string_equal(quarantines(1, buf, sizeof buf), "0 0 1+ 1 0");
    /* released: no longer held, not counted */
    pg_fixture_exec(db, "UPDATE validation.quarantine SET held = false WHERE record_id > 1");
    assert_string_equal(quarantines(1, buf, sizeof buf), "0 0 1 1 0");
    PQfinish(db);
}

/* The rows of validation's quarantine read by scans of the table (not of an index) so far, as
 * this connection's statistics last flushed. */
static long long quarantine_rows_scanned(void)
{
    pg_fixture_exec(db, "SELECT pg_stat_force_next_flush()");
    return count("SELECT seq_tup_read FROM pg_stat_user_tables"
                 " WHERE schemaname = 'validation' AND relname = 'quarantine'");
}

/* The entries of validation's index of the released (migration 0057) read so far, as this
 * connection's statistics last flushed. */
static long long released_entries_read(void)
{
    pg_fixture_exec(db, "SELECT pg_stat_force_next_flush()");
    return count("SELECT idx_tup_read FROM pg_stat_user_indexes WHERE schemaname = 'validation'"
                 " AND indexrelname = 'quarantine_released_idx'");
}

/* Migration 0057: each backlog count and sweep walks the records released from the quarantine
 * (STAGE_RELEASED) in an index of them alone, as far as it takes them, not a scan of every record
 * held nor an array of every one released. */
static void test_released_found_by_their_index(void **state)
{
    (void)state;
    db = pg_fixture_open("ncap_test_pipeline_status_released");
    char buf[512];
    /* a definition failed on 20,000 linked records: validation holds them all, its watermark
     * passes them */
    pg_fixture_exec(db, "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
                        " local_id, submission_id, row_number, pseudonym, payload)"
                        " SELECT g, 1, 'nhfd', 'RA1', '', 'L' || g, 1, g, 'P', '{}'"
                        " FROM generate_series(1, 20000) g;"
                        "INSERT INTO validation.quarantine (record_id, version, stage,"
                        " error_class, message)"
                        " SELECT g, 1, 'validation', 'definition', 'x'"
                        " FROM generate_series(1, 20000) g;"
                        "ANALYZE validation.quarantine");
    const stage_ops_t vops = validation_stage_ops(NULL);
    assert_int_equal(stage_advance_expect(&vops, "validation", db, 20000), 20000);
    long long before = quarantine_rows_scanned();
    /* counted with bound 1: the held ones' count reads two rows; the backlog's none */
    assert_string_equal(quarantines(1, buf, sizeof buf), "0 0 1+ 0 0");
    assert_true(quarantine_rows_scanned() - before < 100);
    /* mended and all released (`ncap quarantine retry --all`): the backlog again, counted up to
     * the bound by reading about as many of the released */
    pg_fixture_exec(db, "UPDATE validation.quarantine SET held = false");
    before = released_entries_read();
    assert_string_equal(backlogs(10, buf, sizeof buf), "0 0 10+ 0 0");
    assert_true(released_entries_read() - before < 100);
    PQfinish(db);
}

/* The summary of the quarantine, a line a group: "stage audit class state
 * records/held/trusts/errors message". */
static const char *summary(const char *stage, const char *audit, char *out, size_t len)
{
    quarantine_summary_t q;
    char err[1024];
    if (quarantine_summary(db, stage, audit, &q, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q.n; i++) {
        const quarantine_group_t *g = &q.groups[i];
        n += (size_t)snprintf(out + n, len - n, "%s%s %s %s %s %lld/%lld/%lld/%lld %s",
                              i ? "; " : "", g->stage, g->audit, g->error_class,
                              g->sqlstate[0] ? g->sqlstate : "-", g->records, g->held, g->trusts,
                              g->messages, g->message);
    }
    quarantine_summary_free(&q);
    return out;
}

/* `ncap quarantine summary`: the records in groups of stage, audit, error class and SQLSTATE,
 * the most first, each with its records held, trusts, distinct errors and the most common. */
static void test_quarantine_summary_groups(void **state)
{
    (void)state;
    db = pg_fixture_open("ncap_test_pipeline_status_summary");
    char buf[1024];
    pg_fixture_exec(db, "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
                        " local_id, submission_id, row_number, pseudonym, payload) VALUES"
                        " (1, 1, 'nhfd', 'RA1', '', 'L1', 1, 1, 'P', '{}'),"
                        " (2, 1, 'nhfd', 'RA1', '', 'L2', 1, 2, 'P', '{}'),"
                        " (3, 1, 'nhfd', 'RA1', '', 'L3', 1, 3, 'P', '{}'),"
                        " (4, 1, 'nhfd', 'RA2', '', 'L4', 1, 4, 'P', '{}'),"
                        " (5, 1, 'nhfd', 'RA2', '', 'L5', 1, 5, 'P', '{}'),"
                        " (6, 1, 'nela', 'RA1', '', 'L6', 1, 6, 'P', '{}');"
                        "INSERT INTO validation.record (record_id, version, audit, trust, site,"
                        " local_id, submission_id, row_number, pseudonym, valid, payload)"
                        " VALUES (7, 1, 'nhfd', 'RA3', '', 'L7', 1, 7, 'P', true, '{}');"
                        "INSERT INTO validation.quarantine (record_id, version, stage,"
                        " error_class, sqlstate, message, held) VALUES"
                        " (1, 1, 'validation', 'definition', NULL, 'nhfd.yaml fails', true),"
                        " (2, 1, 'validation', 'definition', NULL, 'nhfd.yaml fails', true),"
                        " (3, 1, 'validation', 'definition', NULL, 'nhfd.yaml fails', true),"
                        " (4, 1, 'validation', 'definition', NULL, 'another', true),"
                        " (5, 1, 'validation', 'definition', NULL, 'nhfd.yaml fails', false),"
                        " (6, 1, 'validation', 'data', '23514', 'check', true);"
                        "INSERT INTO metric.quarantine (record_id, version, stage, error_class,"
                        " message) VALUES (7, 1, 'metric', 'evaluation', 'y')");
    assert_string_equal(summary(NULL, NULL, buf, sizeof buf),
                        "validation nhfd definition - 5/4/2/2 nhfd.yaml fails;"
                        " validation nela data 23514 1/1/1/1 check;"
                        " metric nhfd evaluation - 1/1/1/1 y");
    assert_string_equal(summary(NULL, "nela", buf, sizeof buf),
                        "validation nela data 23514 1/1/1/1 check");
    assert_string_equal(summary("metric", NULL, buf, sizeof buf),
                        "metric nhfd evaluation - 1/1/1/1 y");
    assert_string_equal(summary("linkage", NULL, buf, sizeof buf), "");
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_reads_what_the_stages_keep),
        cmocka_unit_test(test_death_sweep_counted_up_to_the_bound),
        cmocka_unit_test(test_quarantine_counted_up_to_the_bound),
        cmocka_unit_test(test_released_found_by_their_index),
        cmocka_unit_test(test_quarantine_summary_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
