/* test_stage_contract.c - the runtime's side of the stage contract (stage.h) against a real
 * PostgreSQL, with a small stage of its own: a record that cannot be read, decided or stored is
 * quarantined with its class and SQLSTATE, in its batch's transaction, while the others are stored
 * and passed on; a deadlock or serialization failure is retried, not quarantined; a quarantined
 * record is left out until `ncap quarantine retry` releases it, and leaves the quarantine once
 * taken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pg_fixture.h"
#include "quarantine.h"
#include "stage.h"
#include "test_skip.h"

static PGconn *db;

/* The stage "validation" of this test: ct.src in, ct.out out, validation.quarantine for what it
 * cannot take (the runtime writes the quarantine of the stage it is told it runs). */
static const char load_sql[] =
    "SELECT s.id, 1, 0, s.v FROM ct.src s JOIN unnest($1::bigint[], $2::int[]) AS k(id, version)"
    " USING (id) WHERE NOT EXISTS (SELECT 1 FROM ct.out o WHERE o.id = s.id)"
    " AND NOT EXISTS (SELECT 1 FROM validation.quarantine q WHERE q.record_id = s.id AND q.held)"
    " ORDER BY s.id";
static const char backlog_sql[] =
    "SELECT s.id, 1, 0, s.v FROM ct.src s WHERE $2::int >= 0"
    " AND NOT EXISTS (SELECT 1 FROM ct.out o WHERE o.id = s.id)"
    " AND NOT EXISTS (SELECT 1 FROM validation.quarantine q WHERE q.record_id = s.id AND q.held)"
    " ORDER BY s.id LIMIT $1::int";

static void *read_row(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen)
{
    (void)state;
    (void)class_out;
    const char *v = PQgetvalue(r, row, 3);
    if (strcmp(v, "unreadable") == 0) {
        snprintf(err, errlen, "the row is unreadable");
        return NULL;
    }
    return strdup(v);
}

static void free_input(void *state, void *input)
{
    (void)state;
    free(input);
}

static void decide(void *state, stage_batch_t *b)
{
    (void)state;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].input && strcmp(b->items[i].input, "bad-eval") == 0)
            stage_item_fail(&b->items[i], STAGE_ERR_EVALUATION, "metric \"m\": no value");
}

static int store_calls;

static int store(void *state, PGconn *conn, stage_batch_t *b, char *err, size_t errlen)
{
    (void)state;
    store_calls++;
    if (db_exec(conn, "SELECT ct.flaky()", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].error != STAGE_OK)
            continue;
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)b->items[i].key.record_id);
        const char *p[] = {id, b->items[i].input};
        if (db_execp(conn, "INSERT INTO ct.out (id, v) VALUES ($1::bigint, $2)", 2, p, err,
                     errlen) != 0)
            return -1;
        b->items[i].forward = true;
    }
    return 0;
}

static const stage_ops_t ops = {.load_sql = load_sql,
                                .backlog_sql = backlog_sql,
                                .read_row = read_row,
                                .free_input = free_input,
                                .decide = decide,
                                .store = store};

static int setup(void **state)
{
    (void)state;
    if (!ncap_test_has_pg())
        return 0;
    db = pg_fixture_open("test_stage_contract");
    pg_fixture_exec(db,
                    "CREATE SCHEMA ct;"
                    "CREATE TABLE ct.src (id bigint PRIMARY KEY, v text NOT NULL);"
                    "CREATE TABLE ct.out (id bigint PRIMARY KEY,"
                    "  v text NOT NULL CHECK (v <> 'bad-data'));"
                    /* store fails its first n calls: a sequence, which no rollback undoes */
                    "CREATE TABLE ct.failures (n int NOT NULL, code text NOT NULL DEFAULT '40001');"
                    "INSERT INTO ct.failures VALUES (0);"
                    "CREATE SEQUENCE ct.calls;"
                    "CREATE FUNCTION ct.flaky() RETURNS void LANGUAGE plpgsql AS $$"
                    " BEGIN IF nextval('ct.calls') <= (SELECT n FROM ct.failures) THEN"
                    "   RAISE EXCEPTION 'failure %', (SELECT code FROM ct.failures)"
                    "     USING ERRCODE = (SELECT code FROM ct.failures);"
                    " END IF; END $$;");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(db);
    return 0;
}

static long long count(const char *sql)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static char *text(const char *sql, char *out, size_t len)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

static void test_bad_records_are_quarantined_and_the_others_stored(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[2048];
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src VALUES (1, 'a'), (2, 'unreadable'), (3, 'b'),"
                        " (4, 'bad-eval'), (5, 'bad-data'), (6, 'c')");
    stage_key_t keys[] = {{6, 1, 0}, {1, 1, 0}, {2, 1, 0}, {3, 1, 0},
                          {4, 1, 0}, {5, 1, 0}, {1, 1, 0}}; /* one twice */
    stage_keys_t out = {0};
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 7, &out), 6);
    /* stored and passed on: the three good ones, once each */
    assert_int_equal(out.n, 3);
    assert_string_equal(
        text("SELECT string_agg(id::text, ',' ORDER BY id) FROM ct.out", buf, sizeof buf), "1,3,6");
    /* quarantined, each with its class, and the data error with PostgreSQL's SQLSTATE */
    assert_string_equal(
        text("SELECT string_agg(record_id || ':' || error_class || ':' || coalesce(sqlstate, '-')"
             " || ':' || attempts, ' ' ORDER BY record_id) FROM validation.quarantine",
             buf, sizeof buf),
        "2:input:-:1 4:evaluation:-:1 5:data:23514:1");
    assert_non_null(strstr(
        text("SELECT message FROM validation.quarantine WHERE record_id = 2", buf, sizeof buf),
        "unreadable"));
    assert_non_null(strstr(
        text("SELECT message FROM validation.quarantine WHERE record_id = 5", buf, sizeof buf),
        "check constraint"));
    /* the backlog leaves out what is stored and what is quarantined */
    out.n = 0;
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 0);
    /* released after a fix: taken again, and out of the quarantine */
    pg_fixture_exec(db, "UPDATE ct.src SET v = 'fixed' WHERE id IN (2, 5)");
    assert_int_equal(
        quarantine_retry(db, "validation", (long long[]){5}, 1, false, buf, sizeof buf), 1);
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1);
    assert_int_equal(out.n, 1);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine WHERE record_id = 5"), 0);
    /* released but still bad: quarantined again, one attempt more */
    assert_int_equal(quarantine_retry(db, NULL, NULL, 0, true, buf, sizeof buf), 2);
    out.n = 0;
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 2);
    assert_int_equal(out.n, 1); /* 2, fixed */
    assert_string_equal(text("SELECT string_agg(record_id || ':' || attempts || ':' || held, ' '"
                             " ORDER BY record_id) FROM validation.quarantine",
                             buf, sizeof buf),
                        "4:2:true");
    quarantine_list_t l;
    assert_int_equal(quarantine_list(db, "validation", NULL, &l, buf, sizeof buf), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].record_id, 4);
    assert_string_equal(l.rows[0].error_class, "evaluation");
    assert_string_equal(l.rows[0].message, "metric \"m\": no value");
    quarantine_list_free(&l);
    stage_keys_free(&out);
}

static void test_a_serialization_failure_is_retried_not_quarantined(void **state)
{
    (void)state;
    ncap_require_pg();
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src VALUES (1, 'a'), (2, 'b');"
                        "UPDATE ct.failures SET n = 2; ALTER SEQUENCE ct.calls RESTART");
    stage_key_t keys[] = {{1, 1, 0}, {2, 1, 0}};
    stage_keys_t out = {0};
    store_calls = 0;
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 2, &out), 2);
    assert_int_equal(store_calls, 3); /* two failures, then the batch as a whole */
    assert_int_equal(out.n, 2);
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 2);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine"), 0);
    /* failing every time: nothing is quarantined, the records stay in the backlog */
    pg_fixture_exec(db, "INSERT INTO ct.src VALUES (3, 'c'); UPDATE ct.failures SET n = 1000000");
    out.n = 0;
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), -1);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine"), 0);
    pg_fixture_exec(db, "UPDATE ct.failures SET n = 0");
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1);
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 3);
    stage_keys_free(&out);
}

static void test_a_failure_not_of_the_data_quarantines_nothing(void **state)
{
    (void)state;
    ncap_require_pg();
    /* e.g. a grant missing after a bad deployment: every record would fail alike */
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src VALUES (1, 'a'), (2, 'b');"
                        "UPDATE ct.failures SET n = 1000000, code = '42501';"
                        "ALTER SEQUENCE ct.calls RESTART");
    stage_key_t keys[] = {{1, 1, 0}, {2, 1, 0}};
    stage_keys_t out = {0};
    store_calls = 0;
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 2, &out), -1);
    assert_int_equal(store_calls, 1); /* neither retried as it is nor record by record */
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine"), 0);
    pg_fixture_exec(db, "UPDATE ct.failures SET n = 0, code = '40001'");
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 2);
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 2);
    stage_keys_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_records_are_quarantined_and_the_others_stored),
        cmocka_unit_test(test_a_serialization_failure_is_retried_not_quarantined),
        cmocka_unit_test(test_a_failure_not_of_the_data_quarantines_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
