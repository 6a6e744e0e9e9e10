/* test_rekey_sweep.c - rotating the pseudonymisation key, on a real PostgreSQL ($NCAP_TEST_PG):
 * records pseudonymised under key A are validated (one patient's second record a probable
 * duplicate of the first); ncap-linkd restarts with key B; its sweep (step 4, rekey_sweep.h), in
 * batches smaller than the work, gives every record version B's pseudonym and key id, counts up
 * the revision of each record's latest version whose pseudonym changed and passes it on, and only
 * stamps a superseded version or a row from before key ids whose pseudonym is B's already; a
 * second sweep changes nothing. Validation takes the revisions one at a time, the later record of
 * the patient first: its history problems end as they were, and no old pseudonym is left in
 * validation.record. A process heard with another key since the sweeper started stops the
 * re-keying; one heard before it started (the rotation itself) does not. `ncap status` counts the
 * versions still to re-key in linkage's backlog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "link_pg_fixture.h"
#include "linkage_stage.h"
#include "pipeline_status.h"
#include "rekey_sweep.h"
#include "validation_stage.h"
#include "test_skip.h"

#define KEY_A "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
#define KEY_B "a0b1c2d3e4f5061728394a5b6c7d8e9ffedcba98765432100123456789abcdef"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_rekey_sweep", conninfo, sizeof conninfo);
}

static int64_t new_patient(PGconn *db)
{
    return link_pg_count(db, "INSERT INTO linkage.patient DEFAULT VALUES RETURNING patient_id");
}

/* Record record_id's version of patient pid as ncap-linkd stores it: an NHFD record arriving on
 * day (YYYY-MM-DD) from trust RH8, right hip, pseudonymised under key with key id key_id (NULL:
 * a row from before key ids). */
static void put_record(PGconn *db, int record_id, int version, int64_t pid,
                       const unsigned char *key, const char *key_id, const char *day)
{
    char err[1024], rid[16], ver[16], ppid[24], pseud[65], payload[1024];
    snprintf(rid, sizeof rid, "%d", record_id);
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(ppid, sizeof ppid, "%lld", (long long)pid);
    pseudonym_of(key, pid, pseud);
    snprintf(payload, sizeof payload,
             "{\"local_record_id\": \"RH8-%2$d\", \"sex\": \"2\", \"trust_code\": \"RH8\","
             " \"site_code\": \"RH801\", \"arrival_datetime\": \"%1$sT02:20\","
             " \"fracture_side\": \"R\", \"fracture_type\": \"ICD\", \"asa_grade\": \"3\","
             " \"age_at_arrival\": \"85\", \"age_band\": \"80-89\"}",
             day, record_id);
    const char *pv[] = {rid, ver, ppid, pseud, payload, key_id};
    if (db_execp(db,
                 "WITH l AS (INSERT INTO linkage.link (record_id, version, patient_id, method)"
                 " VALUES ($1::bigint, $2::int, $3::bigint, 'nhs'))"
                 " INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
                 " local_id, submission_id, row_number, pseudonym, payload, key_id, linked_at)"
                 " VALUES ($1::bigint, $2::int, 'nhfd', 'RH8', 'RH801', 'RH8-' || $1, 1, $1::int,"
                 " $4, $5::jsonb, $6, now() - interval '1 minute')",
                 6, pv, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* One call of linkage's periodic hook as ncap-linkd makes it (its own transaction, its role). */
static int sweep(PGconn *db, const stage_ops_t *ops, int limit, stage_keys_t *out)
{
    char err[1024];
    out->n = 0;
    pg_fixture_exec(db, "SET ROLE ncap_linkage");
    int n = stage_run_periodic(ops, db, limit, out, err, sizeof err);
    if (n < 0)
        fail_msg("sweep: %s", err);
    pg_fixture_exec(db, "RESET ROLE");
    return n;
}

/* The history problems, as text. */
static char *history_problems(PGconn *db, char *buf, size_t len)
{
    return link_pg_text(db,
                        "SELECT coalesce(string_agg(record_id || ':' || version || ':' || rule,"
                        " ' ' ORDER BY record_id, version), '') FROM validation.problem"
                        " WHERE rule = 'probable_duplicate_episode'",
                        buf, len);
}

/* How many record versions in linkage.pseudo_record lack the pseudonym key gives their patient. */
static int wrong_pseudonyms(PGconn *db, const unsigned char *key)
{
    char err[1024];
    PGresult *r = db_query(db,
                           "SELECT l.patient_id, p.pseudonym FROM linkage.pseudo_record p"
                           " JOIN linkage.link l USING (record_id, version)",
                           0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    int wrong = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        char want[65];
        pseudonym_of(key, strtoll(PQgetvalue(r, i, 0), NULL, 10), want);
        wrong += strcmp(want, PQgetvalue(r, i, 1)) != 0;
    }
    PQclear(r);
    return wrong;
}

/* linkage's backlog as `ncap status` counts it. */
static long long linkage_backlog(PGconn *db)
{
    char err[1024];
    stage_status_t st[PIPELINE_STAGES];
    if (pipeline_status_read(db, 0, st, err, sizeof err) != 0)
        fail_msg("%s", err);
    return st[1].backlog;
}

static void test_rotated_key_reaches_every_record_once(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], before[1024], buf[1024], idb[PSEUDONYM_KEY_ID_LEN + 1];
    PGconn *db = db_connect(conninfo, "test_rekey_sweep", err, sizeof err);
    assert_non_null(db);
    audit_cache_t *audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    linkage_t lk = {.audits = audits};
    unsigned char key_a[PSEUDONYM_KEY_BYTES];
    char ida[PSEUDONYM_KEY_ID_LEN + 1];
    assert_int_equal(pseudonym_parse_key(KEY_A, key_a), 0);
    assert_int_equal(pseudonym_parse_key(KEY_B, lk.key), 0);
    pseudonym_key_id(key_a, ida);
    pseudonym_key_id(lk.key, idb);
    assert_string_not_equal(ida, idb);
    assert_int_equal(strlen(ida), PSEUDONYM_KEY_ID_LEN);
    validation_t vs = {audits};
    stage_ops_t ops = linkage_stage_ops(&lk), vops = validation_stage_ops(&vs);

    /* Ada: a record, the same episode sent again ten days later, and a record in June in two
     * versions; Bea: one record; Cy: a row from before key ids, already under key B */
    int64_t ada = new_patient(db), bea = new_patient(db), cy = new_patient(db);
    put_record(db, 1, 1, ada, key_a, ida, "2025-03-10");
    put_record(db, 2, 1, ada, key_a, ida, "2025-03-20");
    put_record(db, 3, 1, ada, key_a, ida, "2025-06-01");
    put_record(db, 3, 2, ada, key_a, ida, "2025-06-02");
    put_record(db, 4, 1, bea, key_a, ida, "2025-03-12");
    put_record(db, 5, 1, cy, lk.key, NULL, "2025-04-01");
    /* everything validated under key A, in one batch */
    stage_key_t first[] = {{1, 1, 0}, {2, 1, 0}, {3, 1, 0}, {3, 2, 0}, {4, 1, 0}, {5, 1, 0}};
    link_pg_validate(db, &vops, first, 6);
    history_problems(db, before, sizeof before);
    assert_string_equal(before, "2:1:probable_duplicate_episode");

    /* the process before the restart, with key A, was heard before this one started: the
     * rotation, not two keys at once */
    assert_int_equal(rekey_sweep_register(db, "old-host:1:0", ida, err, sizeof err), 0);
    assert_int_equal(rekey_sweep_remaining(db, idb, 0, err, sizeof err), 6);
    assert_int_equal(rekey_sweep_remaining(db, idb, 4, err, sizeof err), 4); /* up to a bound */
    /* ncap status counts against the key heard last: A's, so only Cy's row without a key id */
    assert_int_equal(linkage_backlog(db), 1);

    /* in batches of 2: six versions, three calls */
    stage_keys_t out = {0}, all = {0};
    int calls = 0, n;
    while ((n = sweep(db, &ops, 2, &out)) > 0) {
        assert_true(n <= 2);
        calls++;
        for (size_t i = 0; i < out.n; i++)
            assert_int_equal(stage_keys_push(&all, out.keys[i]), 0);
        assert_int_equal(rekey_sweep_remaining(db, idb, 0, err, sizeof err), 6 - 2 * calls);
        assert_int_equal(linkage_backlog(db), 6 - 2 * calls);
    }
    assert_int_equal(calls, 3);
    assert_int_equal(wrong_pseudonyms(db, lk.key), 0);
    assert_int_equal(rekey_sweep_remaining(db, idb, 0, err, sizeof err), 0);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.pseudo_record"
                                       " WHERE key_id IS NULL"),
                     0);
    /* the latest versions re-keyed are revisions, passed on; 3/1 superseded and 5 (already
     * under B) only stamped */
    assert_string_equal(link_pg_text(db,
                                     "SELECT string_agg(record_id || '/' || version || ':' ||"
                                     " revision, ' ' ORDER BY record_id, version)"
                                     " FROM linkage.pseudo_record",
                                     buf, sizeof buf),
                        "1/1:1 2/1:1 3/1:0 3/2:1 4/1:1 5/1:0");
    assert_int_equal(all.n, 4);
    for (size_t i = 0; i < all.n; i++)
        assert_int_equal(all.keys[i].link_revision, 1);

    /* idempotent: nothing left */
    assert_int_equal(sweep(db, &ops, 2, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(link_pg_count(db, "SELECT sum(revision) FROM linkage.pseudo_record"), 4);

    /* validation takes the revisions one at a time, Ada's later record first: it does not see
     * the first (still under A) and loses its warning, which the first gives it back */
    const stage_key_t order[] = {{2, 1, 1}, {4, 1, 1}, {1, 1, 1}, {3, 2, 1}};
    for (size_t i = 0; i < 4; i++)
        link_pg_validate(db, &vops, &order[i], 1);
    assert_string_equal(history_problems(db, buf, sizeof buf), before);
    /* no old pseudonym left: superseded 3/1 followed its record */
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM validation.record v"
                                       " JOIN linkage.pseudo_record p USING (record_id, version)"
                                       " WHERE v.pseudonym <> p.pseudonym"),
                     0);
    assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT pseudonym) FROM validation.record"),
                     3);
    /* the same revisions again change nothing */
    for (size_t i = 0; i < 4; i++)
        link_pg_validate(db, &vops, &order[i], 1);
    assert_string_equal(history_problems(db, buf, sizeof buf), before);

    /* another process with key A heard since this one started: no re-keying */
    put_record(db, 6, 1, bea, key_a, ida, "2025-07-01");
    assert_int_equal(rekey_sweep_register(db, "other-host:2:0", ida, err, sizeof err), 0);
    assert_int_equal(sweep(db, &ops, 10, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(rekey_sweep_remaining(db, idb, 0, err, sizeof err), 1);
    /* once it has not been heard for a minute, the sweep goes on */
    pg_fixture_exec(db, "UPDATE linkage.key_in_use SET heard_at = now() - interval '2 minutes'"
                        " WHERE holder = 'other-host:2:0'");
    assert_int_equal(sweep(db, &ops, 10, &out), 1);
    assert_int_equal(out.n, 1);
    assert_int_equal(rekey_sweep_remaining(db, idb, 0, err, sizeof err), 0);
    assert_int_equal(wrong_pseudonyms(db, lk.key), 0);

    stage_keys_free(&out);
    stage_keys_free(&all);
    linkage_stage_clear(&lk);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

/* linkage.pseudo_record's payload_revision (migrations 0028, 0051): the revision at which a
 * version's payload last changed, by its content, not its text. A payload stored before 0051 reads
 * as jsonb printed it, and a revision that leaves its fields as they were (a re-keying) may write
 * them in another order and spacing: no change. A field added is one. */
static void test_payload_revision_follows_the_content(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024], buf[64];
    PGconn *db = db_connect(conninfo, "test_rekey_sweep", err, sizeof err);
    assert_non_null(db);
    unsigned char key[PSEUDONYM_KEY_BYTES];
    assert_int_equal(pseudonym_parse_key(KEY_A, key), 0);
    put_record(db, 901, 1, new_patient(db), key, "k901", "2025-01-10");
    const char *now = "SELECT revision || ' ' || payload_revision FROM linkage.pseudo_record"
                      " WHERE record_id = 901";
    pg_fixture_exec(db, "UPDATE linkage.pseudo_record SET revision = revision + 1, payload ="
                        " (SELECT json_object_agg(k, v ORDER BY k DESC)"
                        " FROM json_each_text(payload) AS e(k, v)) WHERE record_id = 901");
    assert_string_equal(link_pg_text(db, now, buf, sizeof buf), "1 0");
    pg_fixture_exec(db, "UPDATE linkage.pseudo_record SET revision = revision + 1, payload ="
                        " (payload::jsonb || '{\"date_of_death\": \"2025-02-01\"}')::json"
                        " WHERE record_id = 901");
    assert_string_equal(link_pg_text(db, now, buf, sizeof buf), "2 2");
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotated_key_reaches_every_record_once),
        cmocka_unit_test(test_payload_revision_follows_the_content),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
