/* test_patient_index.c - the patient index (linkage.block) across migrations 0049, 0050 and
 * 0052, on a real PostgreSQL ($NCAP_TEST_PG), through linkage's stage hooks as ncap-linkd runs
 * them. A deployment before 0049 (its key under the database's collation) holds patients; 0049
 * keeps every row as it was, compares keys byte by byte (COLLATE "C"), and a record linked after
 * it joins the patient its identifiers belong to, found through the rebuilt primary key, as
 * before. A record whose blocking key another linkage instance holds is deferred, not waited for
 * (up to LINKAGE_DEFER_MAX batches in a row). Names are lowered beyond ASCII, and 0056 lowers those
 * already held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "link_incremental.h"
#include "link_pg_fixture.h"
#include "linkage_stage.h"
#include "migrate.h"
#include "patient_index.h"
#include "test_skip.h"
#include "utf8.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_patient_index", conninfo, sizeof conninfo);
}

/* Linkage's batch of record record_id, version 1, as its role; returns the records it committed
 * (not those deferred). */
static int link_batch(PGconn *db, const stage_ops_t *ops, int record_id)
{
    stage_key_t key = {record_id, 1, 0};
    stage_keys_t out = {0};
    pg_fixture_exec(db, "SET ROLE ncap_linkage");
    int done = stage_run_keys(ops, "linkage", db, &key, 1, &out);
    pg_fixture_exec(db, "RESET ROLE");
    stage_keys_free(&out);
    return done;
}

/* The same, which must link the record. */
static void link_record(PGconn *db, const stage_ops_t *ops, int record_id)
{
    assert_int_equal(link_batch(db, ops, record_id), 1);
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

/* An empty patient index, and linkage's stage hooks as ncap-linkd runs them. */
typedef struct {
    PGconn *db;
    audit_cache_t *audits;
    linkage_t lk;
    stage_ops_t ops;
} linking_t;

static void linking_open(linking_t *l)
{
    char err[1024];
    memset(l, 0, sizeof *l);
    l->db = db_connect(conninfo, "test_patient_index", err, sizeof err);
    assert_non_null(l->db);
    pg_fixture_exec(l->db, "TRUNCATE linkage.block, linkage.link, linkage.patient CASCADE");
    l->audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    l->lk.audits = l->audits;
    memset(l->lk.key, 7, sizeof l->lk.key);
    l->ops = linkage_stage_ops(&l->lk);
}

static void linking_close(linking_t *l)
{
    linkage_stage_clear(&l->lk);
    audit_cache_destroy(&l->audits);
    PQfinish(l->db);
}

/* Puts the index back as it was before migration name (before_sql), forgets the migration, and
 * migrates again: that one migration applied. */
static void migrate_again(PGconn *db, const char *before_sql, const char *name)
{
    char err[1024], sql[256];
    pg_fixture_exec(db, before_sql);
    snprintf(sql, sizeof sql, "DELETE FROM public.ncap_schema_migration WHERE name LIKE '%s%%'",
             name);
    pg_fixture_exec(db, sql);
    int applied = 0;
    if (migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(applied, 1);
}

/* True when records a and b were linked to one patient. */
static bool one_patient(PGconn *db, int a, int b)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT patient_id) FROM linkage.link WHERE record_id IN (%d, %d)", a,
             b);
    return link_pg_count(db, sql) == 1;
}

/* A deployment before 0050 holds its patients under date-of-birth keys without the sex; 0050
 * rewrites each such key from its row's identifiers ("d:<date of birth>:<sex>", the date of birth
 * alone kept where the sex is not known), and a record linked after it, found by its date of birth
 * and sex, joins the patient as before. */
static void test_block_dob_key_takes_the_sex(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[1024];
    linking_t l;
    linking_open(&l);
    link_pg_ingest_nhfd(l.db, 11, "", "Ann", "Lee", "1936-03-04", "B1 1AA", "2025-03-01T08:00:00");
    link_record(l.db, &l.ops, 11);
    /* the index as it was before 0050: the date-of-birth key alone; and a set without a sex */
    migrate_again(l.db,
                  "UPDATE linkage.block SET key = 'd:' || dob WHERE key LIKE 'd:%';"
                  " INSERT INTO linkage.block (key, patient_id, forename, dob)"
                  " SELECT 'd:19360304', patient_id, 'ann', '19360304' FROM linkage.link"
                  " WHERE record_id = 11",
                  "0050");
    assert_string_equal(link_pg_text(l.db,
                                     "SELECT string_agg(key || '|' || sex, ' ' ORDER BY key)"
                                     " FROM linkage.block WHERE key LIKE 'd:%'",
                                     buf, sizeof buf),
                        "d:19360304| d:19360304:f|f");
    /* her record at another address, her forename spelt otherwise: found by her date of birth
     * and sex alone (its other keys are not hers), it joins her patient */
    link_pg_ingest_nhfd(l.db, 12, "", "Anne", "Lee", "1936-03-04", "M1 1AA", "2025-03-20T08:00:00");
    link_record(l.db, &l.ops, 12);
    assert_true(one_patient(l.db, 11, 12));
    linking_close(&l);
}

/* A deployment before 0052 holds its patients under forename keys without the surname's first
 * character; 0052 rewrites each such key from its row's identifiers (left(surname, 1), the first
 * character as link_ident_keys takes it, whole when it is more than a byte; nothing after the year
 * where the surname is not known), and a record linked after it, found by its forename, year of
 * birth and initial alone, joins the patient as before. */
static void test_block_forename_key_takes_the_initial(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[1024];
    linking_t l;
    linking_open(&l);
    link_pg_ingest_nhfd(l.db, 21, "", "Zoë", "Øster", "1936-03-04", "B1 1AA",
                        "2025-03-01T08:00:00");
    link_record(l.db, &l.ops, 21);
    /* what linkage looks her up by now, as C makes it */
    link_ident_t zoe;
    link_ident_from_values("", "Zoë", "Øster", "1936-03-04", "", "B1 1AA", &zoe);
    char keys[LINK_MAX_KEYS][LINK_KEY_LEN];
    assert_int_equal(link_ident_keys(&zoe, keys), 3);
    assert_memory_equal(keys[2], "f:", 2);
    /* the index as it was before 0052: the forename key without the initial; and a set without a
     * surname */
    migrate_again(l.db,
                  "UPDATE linkage.block SET key = regexp_replace(key, ':[^:]*$', '')"
                  " WHERE key LIKE 'f:%';"
                  " INSERT INTO linkage.block (key, patient_id, forename, dob)"
                  " SELECT 'f:zoë:1936', patient_id, 'zoë', '19360304' FROM linkage.link"
                  " WHERE record_id = 21",
                  "0052");
    assert_string_equal(link_pg_text(l.db,
                                     "SELECT string_agg(key, ' ') FROM linkage.block"
                                     " WHERE key LIKE 'f:%' AND surname <> ''",
                                     buf, sizeof buf),
                        keys[2]);
    assert_string_equal(link_pg_text(l.db,
                                     "SELECT string_agg(key, ' ') FROM linkage.block"
                                     " WHERE key LIKE 'f:%' AND surname = ''",
                                     buf, sizeof buf),
                        "f:zoë:1936:");
    /* her record with her day and month of birth swapped, at another address: found by her
     * forename, year of birth and initial alone (its other keys are not hers), it joins her */
    link_pg_ingest_nhfd(l.db, 22, "", "Zoë", "Øster", "1936-04-03", "M1 1AA",
                        "2025-03-20T08:00:00");
    link_record(l.db, &l.ops, 22);
    assert_true(one_patient(l.db, 21, 22));
    linking_close(&l);
}

/* A name longer than the forename key's 40 bytes, or than a name's field, with a character
 * across the cut: the record is linked and its identifiers stored (each cut between characters:
 * link_incremental.h), where the half character made PostgreSQL refuse the batch and the record
 * was quarantined. */
static void test_long_names_are_stored(void **state)
{
    (void)state;
    ncap_require_pg();
    char fn[64], sn[64];
    snprintf(fn, sizeof fn,
             "%.39s\xc3\xa9"
             "b",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    snprintf(sn, sizeof sn, "%.45s\xc3\xa9", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    linking_t l;
    linking_open(&l);
    link_pg_ingest_nhfd(l.db, 31, "", fn, sn, "1936-03-04", "B1 1AA", "2025-03-01T08:00:00");
    link_record(l.db, &l.ops, 31);
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.quarantine"), 0);
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.link WHERE record_id = 31"),
                     1);
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.block WHERE key LIKE"
                                         " 'f:' || repeat('a', 39) || ':1936:b'"),
                     1);
    linking_close(&l);
}

/* c (U+0080-U+07FF) in UTF-8 at out; returns the bytes written (2). */
static size_t put_two_bytes(unsigned c, char *out)
{
    out[0] = (char)(0xc0 | c >> 6);
    out[1] = (char)(0x80 | (c & 0x3f));
    return 2;
}

/* Names lowered beyond ASCII (migration 0056). linkage.fold_case, which lowers the names already
 * stored, agrees with utf8_lower, which lowers each record's, on every pair. A record written in
 * capitals and one in mixed case are one patient under one forename key. A deployment before it
 * held "ZOË" as "zoË" (ASCII lowered only); 0056 lowers the stored rows and their keys as a
 * record's are now, keeping one row where a patient holds both forms, and the term frequencies
 * of the two forms add up. */
static void test_names_lowered_beyond_ascii(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[4096], err[1024];
    linking_t l;
    linking_open(&l);
    unsigned up[600], lo[600];
    size_t n = utf8_lower_pairs(up, lo, 600);
    assert_true(n >= 400 && n <= 600);
    char uppers[1300], lowers[1300];
    size_t u = 0, w = 0;
    for (size_t k = 0; k < n; k++) {
        assert_true(up[k] >= 0x80 && up[k] < 0x800 && lo[k] >= 0x80 && lo[k] < 0x800);
        assert_int_equal(utf8_lower(up[k]), lo[k]);
        assert_int_equal(utf8_lower(lo[k]), lo[k]);
        u += put_two_bytes(up[k], uppers + u);
        w += put_two_bytes(lo[k], lowers + w);
    }
    uppers[u] = lowers[w] = '\0';
    const char *pu[] = {uppers}, *pl[] = {lowers};
    PGresult *r = db_query(l.db, "SELECT linkage.fold_case($1)", 1, pu, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), lowers);
    PQclear(r);
    assert_non_null(r = db_query(l.db, "SELECT linkage.fold_case($1)", 1, pl, err, sizeof err));
    assert_string_equal(PQgetvalue(r, 0, 0), lowers);
    PQclear(r);

    /* one in capitals, one in mixed case, at other addresses: one patient, one form stored */
    link_pg_ingest_nhfd(l.db, 51, "", "ZOË", "MÜLLER", "1941-05-02", "LS1 4AP",
                        "2025-01-10T08:00:00");
    link_pg_ingest_nhfd(l.db, 52, "", "Zoë", "Müller", "1941-05-02", "M1 1AA",
                        "2025-01-11T08:00:00");
    link_pg_ingest_nhfd(l.db, 53, "", "ÉLODIE", "DUPONT", "1950-07-08", "B1 1AA",
                        "2025-01-12T08:00:00");
    for (int rec = 51; rec <= 53; rec++)
        link_record(l.db, &l.ops, rec);
    assert_true(one_patient(l.db, 51, 52));
    assert_string_equal(
        link_pg_text(l.db,
                     "SELECT string_agg(DISTINCT (forename || ' ' || surname) COLLATE \"C\","
                     " ',' ORDER BY (forename || ' ' || surname) COLLATE \"C\")"
                     " FROM linkage.block",
                     buf, sizeof buf),
        "zoë müller,élodie dupont");
    const char *rows = "SELECT string_agg(key || '|' || patient_id || '|' || forename || '|' ||"
                       " surname || '|' || postcode, ' ' ORDER BY convert_to(key, 'UTF8'),"
                       " patient_id, convert_to(postcode, 'UTF8')) FROM linkage.block";
    char after_linking[4096];
    link_pg_text(l.db, rows, after_linking, sizeof after_linking);
    assert_non_null(strstr(after_linking, "f:élodie:1950:d|"));

    /* as a deployment before 0056 held them: Zoë's rows in both forms, Élodie's in the old one */
    migrate_again(l.db,
                  "INSERT INTO linkage.block SELECT replace(replace(key, 'zoë', 'zoË'), 'mü',"
                  " 'mÜ'), patient_id, nhs_number, 'zoË', 'mÜller', dob, sex, postcode"
                  " FROM linkage.block WHERE forename = 'zoë';"
                  " UPDATE linkage.block SET key = replace(key, 'élodie', 'Élodie'),"
                  " forename = 'Élodie' WHERE forename = 'élodie';"
                  " INSERT INTO linkage.match_term_freq VALUES ('forename', 'zoË', 0.25),"
                  " ('forename', 'zoë', 0.5), ('surname', 'mÜller', 0.125),"
                  " ('postcode', 'LS1 4AP', 0.0625)",
                  "0056");
    link_pg_text(l.db, rows, buf, sizeof buf);
    assert_string_equal(buf, after_linking);
    assert_string_equal(link_pg_text(l.db,
                                     "SELECT string_agg(field || ' ' || value || ' ' || frequency,"
                                     " ',' ORDER BY field, value) FROM linkage.match_term_freq",
                                     buf, sizeof buf),
                        "forename zoë 0.75,postcode LS1 4AP 0.0625,surname müller 0.125");
    linking_close(&l);
}

static void *commit_soon(void *conn)
{
    nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
    pg_fixture_exec(conn, "COMMIT");
    return NULL;
}

/* Two linkage instances (DESIGN.md invariant 4): a record one of whose blocking keys another
 * instance's open transaction holds is deferred, not waited for: not linked, not quarantined, not
 * counted, left to this process's next batch. After LINKAGE_DEFER_MAX deferrals in a row its batch
 * waits for the key, and links the record once the other transaction ends. */
static void test_a_busy_key_defers_the_record(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    linking_t l;
    linking_open(&l);
    PGconn *other = db_connect(conninfo, "test_patient_index", err, sizeof err);
    assert_non_null(other);
    link_pg_ingest_nhfd(l.db, 41, "4010232137", "Ann", "Smith", "1940-01-01", "SW1A 1AA",
                        "2025-03-01T08:00:00");
    /* the other instance's batch holds the person's keys (the NHS number's among them) */
    link_ident_t id;
    link_ident_from_values("4010232137", "Ann", "Smith", "1940-01-01", "2", "SW1A 1AA", &id);
    bool held = false;
    pg_fixture_exec(other, "BEGIN");
    assert_int_equal(patient_index_try_keys(other, &id, 1, &held, err, sizeof err), 0);
    assert_true(held);
    for (int k = 1; k <= LINKAGE_DEFER_MAX; k++) {
        assert_int_equal(link_batch(l.db, &l.ops, 41), 0);
        assert_int_equal(l.lk.ndeferred, 1);
        assert_int_equal(l.lk.deferred[0].times, k);
    }
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.link WHERE record_id = 41"),
                     0);
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.quarantine"), 0);
    /* the next batch waits for the key; the other transaction ends meanwhile */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, commit_soon, other), 0);
    assert_int_equal(link_batch(l.db, &l.ops, 41), 1);
    pthread_join(t, NULL);
    assert_int_equal(l.lk.ndeferred, 0);
    assert_int_equal(link_pg_count(l.db, "SELECT count(*) FROM linkage.link WHERE record_id = 41"),
                     1);
    /* a key held no longer defers anything */
    link_pg_ingest_nhfd(l.db, 42, "4010232137", "Ann", "Smith", "1940-01-01", "SW1A 1AA",
                        "2025-03-02T08:00:00");
    assert_int_equal(link_batch(l.db, &l.ops, 42), 1);
    assert_int_equal(link_pg_count(l.db, "SELECT count(DISTINCT patient_id) FROM linkage.link"
                                         " WHERE record_id IN (41, 42)"),
                     1);
    PQfinish(other);
    linking_close(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_key_bytes_keeps_patients),
        cmocka_unit_test(test_block_dob_key_takes_the_sex),
        cmocka_unit_test(test_block_forename_key_takes_the_initial),
        cmocka_unit_test(test_long_names_are_stored),
        cmocka_unit_test(test_a_busy_key_defers_the_record),
        cmocka_unit_test(test_names_lowered_beyond_ascii),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
