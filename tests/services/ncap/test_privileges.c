/* test_privileges.c - what every role may do after `ncap migrate` on an empty database (a real
 * PostgreSQL, $NCAP_TEST_PG): the whole privilege matrix, role by object, exactly as written below,
 * so that a grant added or dropped by any migration must change this file too; then, as each
 * daemon's role, that it creates nothing anywhere, that the columns and writes held back are
 * refused, and that its stage still reads what it needs; that PUBLIC may do nothing; and that in
 * the registry (ops.instance) a role writes only its own stage's instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkage_stage.h"
#include "metric_stage.h"
#include "pg_fixture.h"
#include "registry.h"
#include "validation_stage.h"

static const char *const stage_roles[] = {"ncap_ingest", "ncap_linkage", "ncap_validation",
                                          "ncap_metric", "ncap_publish", "ncap_web"};
#define N_STAGE_ROLES (sizeof stage_roles / sizeof *stage_roles)

/* Every privilege any role other than an object's owner holds on the database, on each schema
 * other than PostgreSQL's own, and on each table, view, sequence and function in them (table-level,
 * and column-level as PRIVILEGE(columns)); a grant with grant option ends in "WITH GRANT OPTION".
 * Then the tables under row-level security (role "ALL") and their policies (one line each, its
 * roles joined by commas), and each daemon role's attributes and memberships ("role").
 * Superusers are not listed: they hold everything. Composite types (one per table, USAGE for
 * PUBLIC by default) are left out. */
static const char matrix_sql[] =
    "WITH sch AS (SELECT oid, nspname FROM pg_namespace"
    "   WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'),"
    " obj AS ("
    "   SELECT 'database' AS object, coalesce(datacl, acldefault('d', datdba)) AS acl,"
    "     datdba AS owner FROM pg_database WHERE datname = current_database()"
    "   UNION ALL SELECT 'schema ' || quote_ident(n.nspname),"
    "     coalesce(n.nspacl, acldefault('n', n.nspowner)), n.nspowner"
    "     FROM pg_namespace n JOIN sch USING (oid)"
    "   UNION ALL SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view '"
    "       WHEN 'm' THEN 'matview ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END"
    "       || format('%I.%I', s.nspname, c.relname),"
    "     coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::\"char\""
    "       ELSE 'r'::\"char\" END, c.relowner)), c.relowner"
    "     FROM pg_class c JOIN sch s ON s.oid = c.relnamespace"
    "     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
    "   UNION ALL SELECT 'function ' || p.oid::regprocedure::text,"
    "     coalesce(p.proacl, acldefault('f', p.proowner)), p.proowner"
    "     FROM pg_proc p JOIN sch s ON s.oid = p.pronamespace),"
    " col AS ("
    "   SELECT 'table ' || format('%I.%I', s.nspname, c.relname) AS object, e.grantee,"
    "     e.privilege_type, e.is_grantable, a.attname"
    "   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    "     JOIN sch s ON s.oid = c.relnamespace, aclexplode(a.attacl) e"
    "   WHERE a.attnum > 0 AND NOT a.attisdropped AND e.grantee <> c.relowner),"
    " priv AS ("
    "   SELECT e.grantee, o.object, e.privilege_type AS kind, e.privilege_type"
    "     || CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS word"
    "   FROM obj o, aclexplode(o.acl) e WHERE e.grantee <> o.owner"
    "   UNION ALL SELECT grantee, object, privilege_type, privilege_type || '('"
    "     || string_agg(quote_ident(attname), ', ' ORDER BY attname) || ')'"
    "     || CASE WHEN is_grantable THEN ' WITH GRANT OPTION' ELSE '' END"
    "   FROM col GROUP BY grantee, object, privilege_type, is_grantable)"
    " SELECT CASE grantee WHEN 0 THEN 'PUBLIC' ELSE grantee::regrole::text END, object,"
    "   string_agg(word, ' ' ORDER BY array_position(ARRAY['CONNECT', 'TEMPORARY', 'CREATE',"
    "     'USAGE', 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER',"
    "     'EXECUTE'], kind), word)"
    " FROM priv WHERE NOT (SELECT rolsuper FROM pg_roles WHERE oid = grantee) IS TRUE"
    " GROUP BY 1, 2"
    " UNION ALL SELECT 'ALL', 'table ' || format('%I.%I', s.nspname, c.relname),"
    "   'ROW LEVEL SECURITY' || CASE WHEN c.relforcerowsecurity THEN ' FORCED' ELSE '' END"
    " FROM pg_class c JOIN sch s ON s.oid = c.relnamespace WHERE c.relrowsecurity"
    " UNION ALL SELECT (SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT CASE r WHEN 0 THEN"
    "     'PUBLIC' ELSE r::regrole::text END FROM unnest(p.polroles) AS r) AS u(x)),"
    "   format('policy %I.%I.%I', s.nspname, c.relname, p.polname),"
    "   concat_ws(' ', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN"
    "     'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,"
    "     CASE WHEN NOT p.polpermissive THEN 'RESTRICTIVE' END,"
    "     'USING ' || pg_get_expr(p.polqual, p.polrelid),"
    "     'WITH CHECK ' || pg_get_expr(p.polwithcheck, p.polrelid))"
    " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN sch s ON s.oid = c.relnamespace"
    " UNION ALL SELECT r.rolname, 'role', concat_ws(' ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END,"
    "   CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,"
    "   CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,"
    "   CASE WHEN r.rolreplication THEN 'REPLICATION' END,"
    "   CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END, CASE WHEN r.rolcanlogin THEN 'LOGIN' END,"
    "   (SELECT 'MEMBER OF ' || string_agg(m.roleid::regrole::text, ', '"
    "     ORDER BY m.roleid::regrole::text)"
    "     FROM pg_auth_members m WHERE m.member = r.oid),"
    "   (SELECT 'GRANTED TO ' || string_agg(m.member::regrole::text, ', '"
    "     ORDER BY m.member::regrole::text)"
    "     FROM pg_auth_members m WHERE m.roleid = r.oid))"
    " FROM pg_roles r WHERE r.rolname = ANY($1::text[])";

/* The matrix: one line per role and object it holds anything on (role, object, privileges;
 * spacing is free). Nothing for PUBLIC. Why each line is so: deploy/migrations, 0012 above all. */
/* clang-format off */
#define DAEMONS "ncap_ingest,ncap_linkage,ncap_metric,ncap_publish,ncap_validation"
#define OWN_STAGE "(CURRENT_USER = ('ncap_'::text || stage))"
static const char *const expected[] = {
    /* the registry (0011): every daemon reads every instance, and writes its own stage's only */
    "ALL              table ops.instance                           ROW LEVEL SECURITY",
    DAEMONS " policy ops.instance.instance_read       SELECT USING true",
    DAEMONS " policy ops.instance.instance_register   INSERT WITH CHECK " OWN_STAGE,
    DAEMONS " policy ops.instance.instance_refresh    UPDATE USING " OWN_STAGE " WITH CHECK " OWN_STAGE,
    DAEMONS " policy ops.instance.instance_remove     DELETE USING " OWN_STAGE,

    /* ingest: stores submissions; reads every stage's problems and validation's progress for
     * `ncap feedback` (0004, 0006), and for `ncap results` what each record contributes (no
     * pseudonym, no category) and the version metric applied (0021); registers in ops.instance */
    "ncap_ingest      role                                         LOGIN",
    "ncap_ingest      database                                     CONNECT TEMPORARY",
    "ncap_ingest      schema ops                                   USAGE",
    "ncap_ingest      schema ingest                                USAGE",
    "ncap_ingest      schema linkage                               USAGE",
    "ncap_ingest      schema validation                            USAGE",
    "ncap_ingest      schema metric                                USAGE",
    "ncap_ingest      table ops.instance                           SELECT INSERT UPDATE DELETE",
    "ncap_ingest      table ingest.submission                      SELECT INSERT UPDATE",
    "ncap_ingest      table ingest.record                          SELECT INSERT UPDATE",
    "ncap_ingest      table ingest.raw_record                      SELECT INSERT",
    "ncap_ingest      table ingest.problem                         SELECT INSERT",
    "ncap_ingest      table ingest.tally                           SELECT INSERT DELETE",
    "ncap_ingest      sequence ingest.submission_submission_id_seq USAGE",
    "ncap_ingest      sequence ingest.record_record_id_seq         USAGE",
    "ncap_ingest      table linkage.problem                        SELECT",
    "ncap_ingest      table linkage.optout_count                   SELECT",
    "ncap_ingest      table validation.problem                     SELECT",
    "ncap_ingest      table validation.record                      SELECT(record_id, submission_id, valid, version)",
    /* ncap results (0021) and outlier cases (0020): a trust's records' contributions, no
     * pseudonym, no category */
    "ncap_ingest      table metric.contribution                    SELECT(audit, denominator,"
                                                                   " expected_e9, held, metric_id,"
                                                                   " missing, numerator, period,"
                                                                   " record_id, site, trust, value)",
    "ncap_ingest      table metric.record_state                    SELECT(record_id, version)",
    /* outlier cases (0020): a trust's own cases, its response moving a case to trust_responded */
    "ncap_ingest      schema publish                               USAGE",
    "ncap_ingest      table publish.outlier_case                   SELECT UPDATE(state, state_at, state_by,"
                                                                   " updated_at)",
    "ncap_ingest      table publish.outlier_transition             INSERT",
    "ncap_ingest      table publish.outlier_response               SELECT INSERT",
    "ncap_ingest      sequence publish.outlier_transition_transition_id_seq USAGE",
    "ncap_ingest      sequence publish.outlier_response_response_id_seq USAGE",

    /* linkage: reads ingest's records; adds patients, keys, links and pseudonymised records, and
     * moves the keys and links of a patient merged into another (0032); reads the operator's
     * reference data and parameters, marking deaths considered */
    "ncap_linkage     role                                         LOGIN",
    "ncap_linkage     database                                     CONNECT",
    "ncap_linkage     schema ops                                   USAGE",
    "ncap_linkage     schema ingest                                USAGE",
    "ncap_linkage     schema linkage                               USAGE",
    "ncap_linkage     table ops.instance                           SELECT INSERT UPDATE DELETE",
    "ncap_linkage     table ingest.record                          SELECT",
    "ncap_linkage     table ingest.raw_record                      SELECT",
    "ncap_linkage     table linkage.patient                        SELECT INSERT UPDATE(merged_into)",
    "ncap_linkage     sequence linkage.patient_patient_id_seq      USAGE",
    "ncap_linkage     table linkage.block                          SELECT INSERT DELETE",
    "ncap_linkage     table linkage.link                           SELECT INSERT UPDATE(patient_id)",
    "ncap_linkage     table linkage.pseudo_record                  SELECT INSERT UPDATE",
    "ncap_linkage     table linkage.problem                        SELECT INSERT",
    "ncap_linkage     table linkage.quarantine                     SELECT INSERT UPDATE DELETE",
    "ncap_linkage     table linkage.death                          SELECT UPDATE(considered_at)",
    "ncap_linkage     table linkage.death_link                     SELECT INSERT DELETE",
    "ncap_linkage     table linkage.death_recheck                  SELECT INSERT DELETE",
    "ncap_linkage     table linkage.death_coverage                 SELECT",
    "ncap_linkage     table linkage.optout                         SELECT",
    "ncap_linkage     table linkage.optout_withheld                SELECT INSERT",
    "ncap_linkage     table linkage.optout_count                   SELECT INSERT UPDATE",
    "ncap_linkage     table linkage.imd                            SELECT",
    "ncap_linkage     table linkage.match_param                    SELECT INSERT",
    "ncap_linkage     table linkage.match_setting                  SELECT INSERT",
    "ncap_linkage     table linkage.match_term_freq                SELECT",
    "ncap_linkage     table linkage.watermark                      SELECT UPDATE",
    "ncap_linkage     table linkage.tally                          SELECT INSERT DELETE",
    "ncap_linkage     table linkage.key_in_use                     SELECT INSERT UPDATE DELETE",
    /* the linkage quality facts (0027): one row per record, its latest version's; their counts
     * (linkage.quality_count, and the changes not yet folded in linkage.quality_delta: 0055) are
     * kept by triggers and folded by a function, with their owner's rights, never by the role */
    "ncap_linkage     table linkage.record_quality                 SELECT INSERT UPDATE",
    "ncap_linkage     function linkage.quality_fold()              EXECUTE",
    /* each record's method from its patient's records (0030), with the role's own rights */
    "ncap_linkage     function linkage.quality_methods(bigint[])   EXECUTE",

    /* validation: reads linkage's pseudonymised records; replaces outcomes and problems */
    "ncap_validation  role                                         LOGIN",
    "ncap_validation  database                                     CONNECT",
    "ncap_validation  schema ops                                   USAGE",
    "ncap_validation  schema linkage                               USAGE",
    "ncap_validation  schema validation                            USAGE",
    "ncap_validation  table ops.instance                           SELECT INSERT UPDATE DELETE",
    "ncap_validation  table linkage.pseudo_record                  SELECT",
    "ncap_validation  table validation.record                      SELECT INSERT UPDATE",
    "ncap_validation  table validation.problem                     SELECT INSERT DELETE",
    "ncap_validation  table validation.quarantine                  SELECT INSERT UPDATE DELETE",
    "ncap_validation  table validation.watermark                   SELECT UPDATE",
    "ncap_validation  table validation.tally                       SELECT INSERT DELETE",

    /* metric: reads of validation's outcomes no pseudonym, local id, submission or row */
    "ncap_metric      role                                         LOGIN",
    "ncap_metric      database                                     CONNECT",
    "ncap_metric      schema ops                                   USAGE",
    "ncap_metric      schema validation                            USAGE",
    "ncap_metric      schema metric                                USAGE",
    "ncap_metric      table ops.instance                           SELECT INSERT UPDATE DELETE",
    "ncap_metric      table validation.record                      SELECT(audit, link_revision, payload,"
                                                                   " record_id, site, trust, valid,"
                                                                   " validated_at, version, write_xid)",
    "ncap_metric      table metric.processed                       SELECT INSERT UPDATE",
    "ncap_metric      table metric.record_state                    SELECT INSERT UPDATE",
    "ncap_metric      table metric.record_contribution             SELECT INSERT DELETE",
    "ncap_metric      view metric.contribution                     SELECT",
    "ncap_metric      table metric.aggregate                       SELECT INSERT UPDATE DELETE",
    "ncap_metric      table metric.aggregate_gone                  SELECT INSERT UPDATE(gone_at) DELETE",
    "ncap_metric      table metric.cell                            SELECT INSERT",
    "ncap_metric      table metric.measure                         SELECT INSERT UPDATE DELETE",
    "ncap_metric      table metric.measure_gone                    SELECT INSERT UPDATE(gone_at) DELETE",
    "ncap_metric      table metric.quarantine                      SELECT INSERT UPDATE DELETE",
    "ncap_metric      table metric.watermark                       SELECT UPDATE",
    "ncap_metric      table metric.tally                           SELECT INSERT DELETE",

    /* publish: reads the sums per cell (0014) and the values per cell (0016), never a
     * contribution (0015); reads the organisations the operator loads; releases and their files
     * never changed, only provisional revisions pruned (0019), and `ncap release now`'s requests
     * taken */
    "ncap_publish     role                                         LOGIN",
    "ncap_publish     database                                     CONNECT",
    "ncap_publish     schema ops                                   USAGE",
    "ncap_publish     schema metric                                USAGE",
    "ncap_publish     schema publish                               USAGE",
    "ncap_publish     table ops.instance                           SELECT INSERT UPDATE DELETE",
    "ncap_publish     table metric.record_state                    SELECT(audit, link_revision, period,"
                                                                   " record_id, trust, valid,"
                                                                   " version, write_xid)",
    "ncap_publish     table metric.aggregate                       SELECT",
    "ncap_publish     table metric.aggregate_gone                  SELECT",
    "ncap_publish     table metric.cell                            SELECT",
    "ncap_publish     table metric.measure                         SELECT",
    "ncap_publish     table metric.measure_gone                    SELECT",
    "ncap_publish     table publish.organisation                   SELECT",
    "ncap_publish     table publish.seen                           SELECT INSERT UPDATE",
    "ncap_publish     table publish.release                        SELECT INSERT DELETE",
    "ncap_publish     sequence publish.release_release_id_seq      USAGE",
    "ncap_publish     table publish.output                         SELECT INSERT DELETE",
    "ncap_publish     table publish.release_file                   SELECT INSERT DELETE",
    "ncap_publish     table publish.release_request                SELECT DELETE",
    /* why cells changed, counts per trust (0025); final releases (0025) are the operator's */
    "ncap_publish     table publish.pending_change                 SELECT INSERT UPDATE DELETE",
    "ncap_publish     table publish.release_change                 SELECT INSERT UPDATE DELETE",
    "ncap_publish     table publish.watermark                      SELECT UPDATE",
    "ncap_publish     table publish.tally                          SELECT INSERT DELETE",
    "ncap_publish     table publish.action                         SELECT(action_date, action_id, audit,"
                                                                   " metric_id, published, trust)"
                                                                   " UPDATE(published)",
    /* outlier cases (0020): opened, updated, moved on; their transitions kept; the team's file */
    "ncap_publish     table publish.outlier_case                   SELECT INSERT UPDATE",
    "ncap_publish     sequence publish.outlier_case_case_id_seq    USAGE",
    "ncap_publish     table publish.outlier_transition             SELECT INSERT",
    "ncap_publish     sequence publish.outlier_transition_transition_id_seq USAGE",
    "ncap_publish     table publish.outlier_response               SELECT",
    "ncap_publish     table publish.outlier_export                 SELECT INSERT UPDATE",
    /* the delay ledger (0026): the histograms, which a trigger on publish.seen keeps with its
     * owner's rights (publish reads no record's receipt or event time), and delays.csv's hash */
    "ncap_publish     table publish.delay                          SELECT",
    "ncap_publish     table publish.delay_export                   SELECT INSERT UPDATE",
    /* case ascertainment (0026): the expected cases the operator loads, ascertainment.csv's hash */
    "ncap_publish     table publish.expected_cases                 SELECT",
    "ncap_publish     table publish.ascertainment_export           SELECT INSERT UPDATE",
    /* linkage quality (0027): linkage's counts through a view of publish's own, never a record's
     * facts (no right in schema linkage); linkage_quality.csv's and .json's hashes */
    "ncap_publish     view publish.linkage_quality                 SELECT",
    "ncap_publish     table publish.linkage_quality_export         SELECT INSERT UPDATE",
    "ncap_publish     table publish.linkage_quality_json_export    SELECT INSERT UPDATE",
    /* a final's late records (0028), which finalise and a trigger on publish.seen keep with its
     * owner's rights, late.csv's hash and which finals there are; a link revision's payload
     * revision (0028: deaths loaded or re-keyed), a number read with the function owner's rights */
    "ncap_publish     table publish.final                          SELECT(audit, year)",
    "ncap_publish     table publish.final_late                     SELECT",
    "ncap_publish     table publish.final_late_export              SELECT INSERT UPDATE",
    "ncap_publish     function publish.link_payload_revision(bigint,integer) EXECUTE",

    /* the web server (0029): what publish has released, read only; nothing else of publish's */
    "ncap_web         role                                         LOGIN",
    "ncap_web         database                                     CONNECT",
    "ncap_web         schema publish                               USAGE",
    "ncap_web         table publish.release                        SELECT",
    "ncap_web         table publish.output                         SELECT",
    "ncap_web         table publish.release_file                   SELECT",
};
/* clang-format on */
#define N_EXPECTED (sizeof expected / sizeof *expected)

/* Every schema a role could try to create in. */
static const char *const schemas[] = {"public",     "ops",    "ingest", "linkage",
                                      "validation", "metric", "publish"};

/* s with every run of white space made one space, and none at either end. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    assert_non_null(out);
    size_t n = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            if (n > 0 && out[n - 1] != ' ')
                out[n++] = ' ';
        } else {
            out[n++] = *s;
        }
    }
    if (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs sql as role in a transaction that is then rolled back; returns its SQLSTATE, "" when it
 * succeeded. */
static const char *as_role(PGconn *db, const char *role, const char *sql, char state[6])
{
    char set[128], err[2048];
    snprintf(set, sizeof set, "BEGIN; SET LOCAL ROLE %s", role);
    pg_fixture_exec(db, set);
    if (db_exec(db, sql, err, sizeof err) == 0)
        state[0] = '\0';
    else
        snprintf(state, 6, "%s", db_last_sqlstate());
    pg_fixture_exec(db, "ROLLBACK");
    return state;
}

static void assert_refused(PGconn *db, const char *role, const char *sql)
{
    char state[6];
    if (strcmp(as_role(db, role, sql, state), "42501") != 0)
        fail_msg("%s was %s: %s", role,
                 state[0] ? "refused, but not for want of a privilege" : "allowed", sql);
}

static void assert_allowed(PGconn *db, const char *role, const char *sql)
{
    char state[6];
    if (strcmp(as_role(db, role, sql, state), "") != 0)
        fail_msg("%s was refused (SQLSTATE %s): %s", role, state, sql);
}

static void test_the_whole_matrix(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_privileges_matrix");
    char err[2048];
    const char *p[] = {
        "{ncap_ingest,ncap_linkage,ncap_validation,ncap_metric,ncap_publish,ncap_web}"};
    PGresult *r = db_query(db, matrix_sql, 1, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    size_t n = (size_t)PQntuples(r);
    char **got = calloc(n + 1, sizeof *got), **want = calloc(N_EXPECTED + 1, sizeof *want);
    assert_true(got && want);
    for (size_t i = 0; i < n; i++) {
        char line[4096];
        snprintf(line, sizeof line, "%s %s %s", PQgetvalue(r, (int)i, 0), PQgetvalue(r, (int)i, 1),
                 PQgetvalue(r, (int)i, 2));
        got[i] = squeeze(line);
    }
    PQclear(r);
    for (size_t i = 0; i < N_EXPECTED; i++)
        want[i] = squeeze(expected[i]);
    qsort(got, n, sizeof *got, by_text);
    qsort(want, N_EXPECTED, sizeof *want, by_text);
    /* a merge of the two sorted lists: every line one side lacks */
    size_t i = 0, k = 0, wrong = 0;
    while (i < n || k < N_EXPECTED) {
        int c = i == n ? 1 : k == N_EXPECTED ? -1 : strcmp(got[i], want[k]);
        if (c < 0) {
            print_error("held but not expected: %s\n", got[i++]);
            wrong++;
        } else if (c > 0) {
            print_error("expected but not held: %s\n", want[k++]);
            wrong++;
        } else {
            i++;
            k++;
        }
    }
    for (i = 0; i < n; i++)
        free(got[i]);
    for (k = 0; k < N_EXPECTED; k++)
        free(want[k]);
    free(got);
    free(want);
    PQfinish(db);
    if (wrong)
        fail_msg("%zu line(s) of the privilege matrix differ: change the grant or this test",
                 wrong);
}

/* No daemon's role creates a table in any schema, a schema, or (but ingest, for its COPY) a
 * temporary table. */
static void test_no_stage_role_creates_anything(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_privileges_create");
    char sql[256];
    for (size_t i = 0; i < N_STAGE_ROLES; i++) {
        for (size_t s = 0; s < sizeof schemas / sizeof *schemas; s++) {
            snprintf(sql, sizeof sql, "CREATE TABLE %s.probe (x integer)", schemas[s]);
            assert_refused(db, stage_roles[i], sql);
            snprintf(sql, sizeof sql, "CREATE VIEW %s.probe AS SELECT 1 AS x", schemas[s]);
            assert_refused(db, stage_roles[i], sql);
        }
        assert_refused(db, stage_roles[i], "CREATE SCHEMA probe");
        if (strcmp(stage_roles[i], "ncap_ingest") == 0)
            assert_allowed(db, stage_roles[i], "CREATE TEMP TABLE probe (x integer)");
        else
            assert_refused(db, stage_roles[i], "CREATE TEMP TABLE probe (x integer)");
    }
    PQfinish(db);
}

/* What 0012 took away is refused, and each record stage's reads (its load and backlog queries)
 * still run as its role. */
static void test_held_back_refused_and_stage_reads_allowed(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_privileges_columns");
    /* metric: nothing that names a patient or a row of a trust's file */
    assert_refused(db, "ncap_metric", "SELECT pseudonym FROM validation.record");
    assert_refused(db, "ncap_metric", "SELECT local_id FROM validation.record");
    assert_refused(db, "ncap_metric", "SELECT submission_id, row_number FROM validation.record");
    assert_refused(db, "ncap_metric", "SELECT * FROM validation.record");
    /* ingest: a trust's records' contributions for its outlier cases (0020) and its results
     * (0021), never their breakdown categories; a case's state and nothing else of it */
    assert_allowed(db, "ncap_ingest", "SELECT record_id, site, numerator FROM metric.contribution");
    assert_refused(db, "ncap_ingest", "SELECT ethnicity FROM metric.contribution");
    assert_refused(db, "ncap_ingest", "SELECT imd_decile, sex, age FROM metric.contribution");
    assert_refused(db, "ncap_ingest", "UPDATE publish.outlier_case SET flag = 'in_control'");
    assert_refused(db, "ncap_ingest", "DELETE FROM publish.outlier_transition");
    assert_refused(db, "ncap_publish", "DELETE FROM publish.outlier_case");
    /* publish: no record's own contribution */
    assert_refused(db, "ncap_publish", "SELECT record_id, numerator FROM metric.contribution");
    assert_refused(db, "ncap_publish", "SELECT site FROM metric.contribution");
    assert_refused(db, "ncap_publish", "SELECT sum(numerator) FROM metric.contribution");
    assert_refused(db, "ncap_publish", "SELECT record_id, sex, age FROM metric.contribution");
    assert_allowed(db, "ncap_publish", "SELECT * FROM metric.aggregate");
    assert_refused(db, "ncap_publish", "UPDATE metric.aggregate SET numerator = 0");
    assert_refused(db, "ncap_publish", "SELECT record_id, value FROM metric.contribution");
    assert_refused(db, "ncap_publish", "SELECT value, month FROM metric.contribution");
    assert_allowed(db, "ncap_publish", "SELECT * FROM metric.measure");
    assert_refused(db, "ncap_publish", "DELETE FROM metric.measure");
    assert_allowed(db, "ncap_publish", "SELECT code, name, region FROM publish.organisation");
    assert_refused(db, "ncap_publish", "DELETE FROM publish.organisation");
    assert_refused(db, "ncap_metric", "SELECT * FROM publish.organisation");
    assert_refused(db, "ncap_publish", "UPDATE publish.release SET status = 'final'");
    /* pruning deletes whole provisional revisions (0019); no release row is ever changed */
    assert_refused(db, "ncap_publish", "UPDATE publish.output SET note = ''");
    assert_refused(db, "ncap_publish", "UPDATE publish.release_file SET content = ''");
    /* the web server: releases read, nothing written, nothing private read */
    assert_allowed(db, "ncap_web", "SELECT audit, period, revision FROM publish.release");
    assert_allowed(db, "ncap_web", "SELECT * FROM publish.output");
    assert_refused(db, "ncap_web", "DELETE FROM publish.output");
    assert_refused(db, "ncap_web", "SELECT * FROM publish.outlier_case");
    assert_refused(db, "ncap_web", "SELECT * FROM publish.action");
    assert_refused(db, "ncap_web", "SELECT * FROM metric.aggregate");
    assert_refused(db, "ncap_web", "SELECT * FROM ops.instance");
    /* linkage: the register of deaths and the opt-outs are the operator's */
    assert_refused(db, "ncap_linkage", "UPDATE linkage.death SET date_of_death = '2020-01-01'");
    assert_refused(
        db, "ncap_linkage",
        "INSERT INTO linkage.death (date_of_death, row_hash) VALUES ('2020-01-01', 'x')");
    assert_refused(db, "ncap_linkage", "DELETE FROM linkage.optout");
    /* linkage quality (0027): publish sees the counts only; linkage writes facts, never counts */
    assert_allowed(db, "ncap_publish", "SELECT * FROM publish.linkage_quality");
    assert_refused(db, "ncap_publish", "SELECT * FROM linkage.record_quality");
    assert_refused(db, "ncap_publish", "SELECT * FROM linkage.quality_count");
    assert_refused(db, "ncap_linkage", "UPDATE linkage.quality_count SET records = 0");
    assert_refused(db, "ncap_linkage", "DELETE FROM linkage.quality_delta");
    assert_refused(db, "ncap_publish", "SELECT * FROM linkage.quality_delta");
    assert_refused(db, "ncap_linkage", "DELETE FROM linkage.record_quality");
    assert_refused(db, "ncap_validation", "SELECT * FROM linkage.record_quality");
    /* a link's record and method are never rewritten, only its patient when two merge (0032) */
    assert_refused(db, "ncap_linkage", "UPDATE linkage.link SET method = 'new'");
    assert_refused(db, "ncap_linkage", "UPDATE linkage.patient SET created_at = now()");
    assert_refused(db, "ncap_linkage", "SELECT setval('linkage.patient_patient_id_seq', 1)");
    assert_allowed(db, "ncap_linkage", "UPDATE linkage.death SET considered_at = now()");
    /* ... and so is how far the register reaches (0017): linkage reads it */
    assert_refused(db, "ncap_linkage",
                   "INSERT INTO linkage.death_coverage (covers_to) VALUES ('2030-01-01')");
    assert_allowed(db, "ncap_linkage", "SELECT covers_to FROM linkage.death_coverage");
    /* ingest: a stored raw version is never rewritten */
    assert_refused(db, "ncap_ingest", "UPDATE ingest.raw_record SET payload = '{}'");
    assert_refused(db, "ncap_ingest", "DELETE FROM ingest.record");

    /* the record stages read what they need: their queries, as run, planned and executed */
    const struct {
        const char *role;
        stage_ops_t ops;
    } stages[] = {{"ncap_linkage", linkage_stage_ops(NULL)},
                  {"ncap_validation", validation_stage_ops(NULL)},
                  {"ncap_metric", metric_stage_ops(NULL)}};
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
        char sql[8192];
        snprintf(sql, sizeof sql,
                 "DEALLOCATE ALL; PREPARE probe_load AS %s; EXECUTE probe_load('{1}', '{1}')",
                 stages[i].ops.load_sql);
        assert_allowed(db, stages[i].role, sql);
        snprintf(sql, sizeof sql,
                 "DEALLOCATE ALL; PREPARE probe_backlog AS %s; EXECUTE probe_backlog('0', 0, 0, 10,"
                 " 0)",
                 stages[i].ops.backlog_sql);
        assert_allowed(db, stages[i].role, sql);
        snprintf(
            sql, sizeof sql,
            "DEALLOCATE ALL; PREPARE probe_advance AS %s; EXECUTE probe_advance('0', 0, 0, 10)",
            stages[i].ops.advance_sql);
        assert_allowed(db, stages[i].role, sql);
    }
    PQfinish(db);
}

/* A role granted nothing (what PUBLIC has) may not even connect, nor read or create anything. */
static void test_public_has_nothing(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_privileges_public");
    pg_fixture_exec(db, "DO $$ BEGIN CREATE ROLE ncap_test_nobody LOGIN;"
                        " EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    char conninfo[1024], err[2048];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s dbname=%s user=ncap_test_nobody",
             PQhost(db), PQport(db), PQdb(db));
    PGconn *nobody = db_connect(conninfo, "test_privileges", err, sizeof err);
    PQfinish(nobody);
    if (nobody)
        fail_msg("a role granted nothing connected to the database");
    assert_non_null(strstr(err, "permission denied for database"));
    for (size_t s = 0; s < sizeof schemas / sizeof *schemas; s++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE TABLE %s.probe (x integer)", schemas[s]);
        assert_refused(db, "ncap_test_nobody", sql);
    }
    assert_refused(db, "ncap_test_nobody", "CREATE TEMP TABLE probe (x integer)");
    assert_refused(db, "ncap_test_nobody", "SELECT count(*) FROM ops.instance");
    assert_refused(db, "ncap_test_nobody", "SELECT count(*) FROM public.ncap_schema_migration");
    pg_fixture_exec(db, "DROP ROLE ncap_test_nobody");
    PQfinish(db);
}

/* Runs sql as the role set on db; true when it was refused for want of a privilege (or by a
 * row-level security policy) or changed no row. */
static bool changed_nothing(PGconn *db, const char *sql)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        return strcmp(db_last_sqlstate(), "42501") == 0;
    bool none = strcmp(PQcmdTuples(r), "0") == 0;
    PQclear(r);
    return none;
}

/* ops.instance, the registry: as each daemon's role, instances of its own stage are registered,
 * refreshed and removed as the daemon does it (registry.c); another stage's can be neither added
 * nor changed nor removed, whatever the SQL (issue 11: a fake linkage row drew identifiable
 * records). */
static void test_registry_rows_of_own_stage_only(void **state)
{
    (void)state;
    static const char *const stages[] = {"ingest", "linkage", "validation", "metric", "publish"};
    const size_t n = sizeof stages / sizeof *stages;
    PGconn *db = pg_fixture_open("ncap_test_privileges_registry");
    char err[1024], id[64], endpoint[64], sql[512];
    for (size_t j = 0; j < n; j++) {
        snprintf(id, sizeof id, "real-%s", stages[j]);
        snprintf(endpoint, sizeof endpoint, "tcp://real-%s:1", stages[j]);
        if (registry_register(db, id, stages[j], endpoint, err, sizeof err) != 0)
            fail_msg("%s", err);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "SET ROLE ncap_%s", stages[i]);
        pg_fixture_exec(db, sql);
        snprintf(id, sizeof id, "own-%s", stages[i]);
        if (registry_register(db, id, stages[i], "tcp://own:1", err, sizeof err) != 0 ||
            registry_heartbeat(db, id, err, sizeof err) != 0)
            fail_msg("ncap_%s on its own instance: %s", stages[i], err);
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            snprintf(id, sizeof id, "fake-%s-%s", stages[i], stages[j]);
            if (registry_register(db, id, stages[j], "tcp://evil:1", err, sizeof err) == 0)
                fail_msg("ncap_%s registered an instance of %s", stages[i], stages[j]);
            snprintf(sql, sizeof sql,
                     "UPDATE ops.instance SET endpoint = 'tcp://evil:1', heartbeat_at = now()"
                     " WHERE stage = '%s'",
                     stages[j]);
            if (!changed_nothing(db, sql))
                fail_msg("ncap_%s changed an instance of %s", stages[i], stages[j]);
            snprintf(sql, sizeof sql, "DELETE FROM ops.instance WHERE stage = '%s'", stages[j]);
            if (!changed_nothing(db, sql))
                fail_msg("ncap_%s removed an instance of %s", stages[i], stages[j]);
            snprintf(sql, sizeof sql,
                     "UPDATE ops.instance SET stage = '%s' WHERE instance_id = 'own-%s'", stages[j],
                     stages[i]);
            if (!changed_nothing(db, sql))
                fail_msg("ncap_%s made its own instance one of %s", stages[i], stages[j]);
        }
        snprintf(id, sizeof id, "own-%s", stages[i]);
        if (registry_remove(db, id, err, sizeof err) != 0)
            fail_msg("ncap_%s could not remove its own instance: %s", stages[i], err);
        pg_fixture_exec(db, "RESET ROLE");
    }
    /* as the administrator: the real instances as they were, and nothing else */
    PGresult *r = db_query(db,
                           "SELECT string_agg(instance_id || ' ' || stage || ' ' || endpoint, ', '"
                           " ORDER BY instance_id) FROM ops.instance",
                           0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_string_equal(PQgetvalue(r, 0, 0), "real-ingest ingest tcp://real-ingest:1, "
                                             "real-linkage linkage tcp://real-linkage:1, "
                                             "real-metric metric tcp://real-metric:1, "
                                             "real-publish publish tcp://real-publish:1, "
                                             "real-validation validation tcp://real-validation:1");
    PQclear(r);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_whole_matrix),
        cmocka_unit_test(test_no_stage_role_creates_anything),
        cmocka_unit_test(test_held_back_refused_and_stage_reads_allowed),
        cmocka_unit_test(test_public_has_nothing),
        cmocka_unit_test(test_registry_rows_of_own_stage_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
