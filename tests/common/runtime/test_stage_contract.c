/* test_stage_contract.c - the runtime's side of the stage contract (stage.h) against a real
 * PostgreSQL, with a small stage of its own: a record that cannot be read, decided or stored is
 * quarantined with its class and SQLSTATE, in its batch's transaction, while the others are stored
 * and passed on; a deadlock or serialization failure is retried, not quarantined; a quarantined
 * record is left out until `ncap quarantine retry` releases it, and leaves the quarantine once
 * taken; a record store defers stays in the backlog. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "pg_fixture.h"
#include "quarantine.h"
#include "stage.h"
#include "stage_watermark.h"
#include "test_skip.h"

static PGconn *db;

/* The stage "validation" of this test: ct.src in, ct.out out, validation.quarantine for what it
 * cannot take and validation.watermark for how far it has taken ct.src (the runtime writes the
 * quarantine of the stage it is told it runs). Its queries are built as the stages build theirs. */
#define SOURCE "SELECT s.record_id, s.version, 0, s.v FROM ct.src s"
#define NOT_TAKEN                                                                                  \
    " NOT EXISTS (SELECT 1 FROM ct.out o WHERE o.id = s.record_id)" STAGE_NOT_QUARANTINED(         \
        "validation", "s", "0")
static const char load_sql[] = STAGE_LOAD_SQL(SOURCE, "s", NOT_TAKEN) " ORDER BY 1";
static const char backlog_sql[] = STAGE_BACKLOG_SQL("validation", SOURCE, "s", "at", NOT_TAKEN);
static const char advance_sql[] = STAGE_ADVANCE_SQL("validation", "ct.src", "s", NOT_TAKEN);

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
        else if (b->items[i].input && strcmp(b->items[i].input, "bad-long") == 0)
            /* a message longer than an item holds, an é across its last byte */
            stage_item_fail(&b->items[i], STAGE_ERR_EVALUATION, "%0*d\xc3\xa9 and more", 510, 0);
}

static int store_calls;
/* store defers the items whose input is "busy" (another instance holds what they need) */
static bool busy_defers;

static int store(void *state, PGconn *conn, stage_batch_t *b, char *err, size_t errlen)
{
    (void)state;
    store_calls++;
    if (db_exec(conn, "SELECT ct.flaky()", err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].error != STAGE_OK)
            continue;
        if (busy_defers && strcmp(b->items[i].input, "busy") == 0) {
            b->items[i].deferred = true;
            continue;
        }
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
                                .advance_sql = advance_sql,
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
                    /* as the tables the stages read (migration 0018) */
                    "CREATE TABLE ct.src (record_id bigint PRIMARY KEY,"
                    "  version int NOT NULL DEFAULT 1, v text NOT NULL,"
                    "  at timestamptz NOT NULL DEFAULT now(),"
                    "  write_xid xid8 NOT NULL DEFAULT pg_current_xact_id());"
                    "CREATE INDEX ON ct.src (write_xid, record_id, version);"
                    "CREATE TRIGGER stamp_write_xid BEFORE UPDATE ON ct.src"
                    "  FOR EACH ROW EXECUTE FUNCTION ops.stamp_write_xid();"
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
    return pg_fixture_count(db, sql);
}

static char *text_on(PGconn *conn, const char *sql, char *out, size_t len)
{
    char err[1024];
    PGresult *r = db_query(conn, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

static char *text(const char *sql, char *out, size_t len)
{
    return text_on(db, sql, out, len);
}

/* A listed record as "record_id class message" into ctx (quarantine_list's each). */
static void list_row(void *ctx, const quarantine_row_t *q)
{
    snprintf(ctx, 256, "%lld %s %s", q->record_id, q->error_class, q->message);
}

static void test_bad_records_are_quarantined_and_the_others_stored(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[2048];
    pg_fixture_exec(
        db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
            "INSERT INTO ct.src (record_id, v) VALUES (1, 'a'), (2, 'unreadable'), (3, 'b'),"
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
    /* the backlog leaves out what is stored and what is quarantined, and the watermark passes
     * both */
    out.n = 0;
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 0);
    assert_int_equal(stage_advance_expect(&ops, "validation", db, 6), 6);
    assert_int_equal(stage_run_advance(&ops, "validation", db, 100), 0);
    /* released after a fix: taken again, and out of the quarantine (2 and 5, rewritten, lie after
     * the watermark again; 4 is released behind it) */
    pg_fixture_exec(db, "UPDATE ct.src SET v = 'fixed' WHERE record_id IN (2, 5)");
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
    char listed[256];
    assert_int_equal(quarantine_list(db, "validation", NULL, list_row, listed, buf, sizeof buf), 1);
    assert_string_equal(listed, "4 evaluation metric \"m\": no value");
    stage_keys_free(&out);
}

/* A message cut to what an item holds, through a character, is mended (the half character a '?'):
 * a character cut in half is not UTF-8, PostgreSQL would refuse the quarantine's row, and the
 * record would stay in the backlog, failing again at every sweep. */
static void test_a_long_message_cut_through_a_character_is_mended(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[2048];
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src (record_id, v) VALUES (7, 'bad-long'), (8, 'd')");
    stage_key_t keys[] = {{7, 1, 0}, {8, 1, 0}};
    stage_keys_t out = {0};
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 2, &out), 2);
    assert_int_equal(out.n, 1);
    assert_string_equal(text("SELECT record_id || ':' || error_class || ':' || length(message)"
                             " || ':' || right(message, 2) FROM validation.quarantine",
                             buf, sizeof buf),
                        "7:evaluation:511:0?");
    stage_keys_free(&out);
}

static void test_a_serialization_failure_is_retried_not_quarantined(void **state)
{
    (void)state;
    ncap_require_pg();
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src (record_id, v) VALUES (1, 'a'), (2, 'b');"
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
    pg_fixture_exec(
        db,
        "INSERT INTO ct.src (record_id, v) VALUES (3, 'c'); UPDATE ct.failures SET n = 1000000");
    out.n = 0;
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), -1);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine"), 0);
    pg_fixture_exec(db, "UPDATE ct.failures SET n = 0");
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1);
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 3);
    stage_keys_free(&out);
}

/* A batch PostgreSQL refuses for one record's data is committed in halves, each whole or split
 * again: the bad records end in the quarantine and the rest are stored in about 2 log2(n)
 * transactions, not n (record by record, as before, a batch of 2,000 took 2,001). */
static void test_a_bad_record_is_found_by_halves(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[256];
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "UPDATE ct.failures SET n = 0, code = '40001';"
                        "INSERT INTO ct.src (record_id, v) SELECT g, CASE WHEN g IN (17, 40)"
                        " THEN 'bad-data' ELSE 'ok' END FROM generate_series(1, 64) g");
    stage_key_t keys[64];
    for (int i = 0; i < 64; i++)
        keys[i] = (stage_key_t){i + 1, 1, 0};
    stage_keys_t out = {0};
    store_calls = 0;
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 64, &out), 64);
    assert_int_equal(out.n, 62);
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 62);
    assert_string_equal(text("SELECT string_agg(record_id || ':' || error_class, ' ' ORDER BY"
                             " record_id) FROM validation.quarantine",
                             buf, sizeof buf),
                        "17:data 40:data");
    /* the batch; its halves; for each bad record the half holding it split at each of five
     * levels (16, 8, 4, 2, 1), the good half beside it committed whole (the quarantine's commit,
     * with nothing to store, calls no store): 1 + 2 + 2 x 10 = 23. Record by record: 1 + 64 */
    assert_int_equal(store_calls, 23);
    stage_keys_free(&out);
}

static void test_a_failure_not_of_the_data_quarantines_nothing(void **state)
{
    (void)state;
    ncap_require_pg();
    /* e.g. a grant missing after a bad deployment: every record would fail alike */
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "INSERT INTO ct.src (record_id, v) VALUES (1, 'a'), (2, 'b');"
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

/* A record store defers (another instance's transaction holds what it needs) is neither stored
 * nor quarantined nor counted nor passed on: it stays in the backlog, the watermark does not pass
 * it, and a quarantine it was released from stays until it is taken. */
static void test_a_deferred_record_stays_in_the_backlog(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[256];
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "UPDATE ct.failures SET n = 0, code = '40001';"
                        "INSERT INTO ct.src (record_id, v) VALUES (1, 'a'), (2, 'bad-eval')");
    stage_keys_t out = {0};
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 2);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine WHERE held"), 1);
    /* fixed, released, and busy when taken again */
    pg_fixture_exec(db, "UPDATE ct.src SET v = 'busy' WHERE record_id = 2");
    assert_int_equal(quarantine_retry(db, NULL, NULL, 0, true, buf, sizeof buf), 1);
    busy_defers = true;
    out.n = 0;
    stage_key_t keys[] = {{2, 1, 0}};
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 1, &out), 0);
    assert_int_equal(out.n, 0);
    assert_int_equal(count("SELECT count(*) FROM ct.out WHERE id = 2"), 0);
    assert_string_equal(text("SELECT record_id || ':' || held || ':' || attempts"
                             " FROM validation.quarantine",
                             buf, sizeof buf),
                        "2:false:1");
    assert_int_equal(stage_advance_expect(&ops, "validation", db, 1), 1);         /* record 1 */
    assert_int_equal(stage_run_advance(&ops, "validation", db, 100), 0);          /* not record 2 */
    assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1); /* found */
    assert_int_equal(out.n, 0);
    /* no longer busy: taken, out of the quarantine, passed on; then the watermark passes it */
    busy_defers = false;
    assert_int_equal(stage_run_keys(&ops, "validation", db, keys, 1, &out), 1);
    assert_int_equal(out.n, 1);
    assert_int_equal(count("SELECT count(*) FROM validation.quarantine"), 0);
    assert_int_equal(stage_advance_expect(&ops, "validation", db, 1), 1);
    stage_keys_free(&out);
}

/* A second connection to the test's database. */
static PGconn *second_connection(void)
{
    char conninfo[1024], err[1024];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s dbname=%s user=%s", PQhost(db), PQport(db),
             PQdb(db), PQuser(db));
    PGconn *c = db_connect(conninfo, "test_stage_contract", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    return c;
}

/* Transactions commit out of order: one that began writing first (a smaller write_xid) commits
 * after one that began later. The later one's row is taken, but the watermark does not pass it
 * while the earlier transaction is open, and the earlier one's row is found once it commits:
 * nothing is skipped (migration 0018). The same after the watermark has passed everything. */
static void test_the_watermark_never_passes_a_transaction_still_open(void **state)
{
    (void)state;
    ncap_require_pg();
    char buf[64];
    PGconn *early = second_connection();
    pg_fixture_exec(db, "TRUNCATE ct.src, ct.out, validation.quarantine;"
                        "UPDATE ct.failures SET n = 0, code = '40001'");
    stage_keys_t out = {0};
    for (int round = 0; round < 2; round++) {
        long long id = 10 + 2 * round;
        char sql[160], xid[32];
        snprintf(sql, sizeof sql, "BEGIN; INSERT INTO ct.src (record_id, v) VALUES (%lld, 'early')",
                 id);
        pg_fixture_exec(early, sql);
        snprintf(xid, sizeof xid, "%s",
                 text_on(early, "SELECT pg_current_xact_id()", buf, sizeof buf));
        snprintf(sql, sizeof sql, "INSERT INTO ct.src (record_id, v) VALUES (%lld, 'late')",
                 id + 1);
        pg_fixture_exec(db, sql);
        /* the later row is taken; the watermark stays below the open transaction */
        out.n = 0;
        assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1);
        assert_int_equal(out.keys[0].record_id, id + 1);
        assert_int_equal(stage_run_advance(&ops, "validation", db, 100), 0);
        snprintf(sql, sizeof sql, "SELECT write_xid < '%s'::xid8 FROM validation.watermark", xid);
        assert_string_equal(text(sql, buf, sizeof buf), "t");
        /* it commits: its row is found, then the watermark passes both */
        pg_fixture_exec(early, "COMMIT");
        out.n = 0;
        assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 1);
        assert_int_equal(out.keys[0].record_id, id);
        assert_int_equal(stage_advance_expect(&ops, "validation", db, 2), 2);
        assert_int_equal(stage_run_backlog(&ops, "validation", db, 100, 0, &out), 0);
    }
    assert_int_equal(count("SELECT count(*) FROM ct.out"), 4);
    stage_keys_free(&out);
    PQfinish(early);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_records_are_quarantined_and_the_others_stored),
        cmocka_unit_test(test_a_long_message_cut_through_a_character_is_mended),
        cmocka_unit_test(test_a_serialization_failure_is_retried_not_quarantined),
        cmocka_unit_test(test_a_bad_record_is_found_by_halves),
        cmocka_unit_test(test_a_failure_not_of_the_data_quarantines_nothing),
        cmocka_unit_test(test_the_watermark_never_passes_a_transaction_still_open),
        cmocka_unit_test(test_a_deferred_record_stays_in_the_backlog),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
