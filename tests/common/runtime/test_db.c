/* test_db.c - db_query on a real PostgreSQL ($NCAP_TEST_PG): a statement is prepared on its
 * connection the second time its text runs there, and gives the same answers as when it was not;
 * it stays prepared across a transaction that rolls back; in a failed transaction the server's own
 * error comes back (25P02), and the statement is prepared afterwards; a new connection (a
 * reconnect, even at the same address) prepares it again; a text with its values written in,
 * a DECLARE or a statement without parameters is never prepared; a table altered under a
 * prepared statement is read as it is now; more texts than the cache holds all run right; a
 * thread's statements go with it; and db_each_row hands on every row through its cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_test_db.h"
#include "test_skip.h"

static char conninfo[1024];

static int setup(void **state)
{
    (void)state;
    return pg_test_db_create("ncap_test_db", conninfo, sizeof conninfo);
}

static PGconn *open_db(void)
{
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_db", err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    return db;
}

static void exec_ok(PGconn *db, const char *sql)
{
    char err[1024];
    if (db_exec(db, sql, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
}

/* The one value sql returns with its parameters. */
static long long value_of(PGconn *db, const char *sql, int n, const char *const *p)
{
    char err[1024];
    PGresult *r = db_query(db, sql, n, p, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    assert_int_equal(PQntuples(r), 1);
    long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* How many statements of the session are prepared with text sql (asked without parameters:
 * this question itself is never prepared). */
static long long prepared_count(PGconn *db, const char *sql)
{
    char *quoted = PQescapeLiteral(db, sql, strlen(sql));
    assert_non_null(quoted);
    char q[4096];
    snprintf(q, sizeof q, "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s",
             quoted);
    PQfreemem(quoted);
    PGresult *r = PQexec(db, q);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static const char sum_sql[] =
    "SELECT sum(x) FROM unnest($1::bigint[]) AS u(x) WHERE x > $2::bigint";

static void test_prepared_on_second_run(void **state)
{
    (void)state;
    PGconn *db = open_db();
    const char *p[] = {"{1,2,3,4}", "1"};
    assert_int_equal(value_of(db, sum_sql, 2, p), 9);
    assert_int_equal(prepared_count(db, sum_sql), 0);
    const char *q[] = {"{10,20,30}", "15"};
    assert_int_equal(value_of(db, sum_sql, 2, q), 50);
    assert_int_equal(prepared_count(db, sum_sql), 1);
    /* many more runs (past PostgreSQL's five custom plans): the same answers, one statement */
    for (int i = 0; i < 12; i++) {
        char arr[64], bound[16];
        snprintf(arr, sizeof arr, "{%d,%d,%d}", i, i + 1, i + 2);
        snprintf(bound, sizeof bound, "%d", i);
        const char *v[] = {arr, bound};
        assert_int_equal(value_of(db, sum_sql, 2, v), 2 * i + 3);
    }
    assert_int_equal(prepared_count(db, sum_sql), 1);
    PQfinish(db);
}

static void test_rollback_and_failed_transaction(void **state)
{
    (void)state;
    PGconn *db = open_db();
    const char *p[] = {"{5,6}", "0"};
    exec_ok(db, "BEGIN");
    assert_int_equal(value_of(db, sum_sql, 2, p), 11);
    assert_int_equal(value_of(db, sum_sql, 2, p), 11); /* prepared now */
    exec_ok(db, "ROLLBACK");
    assert_int_equal(prepared_count(db, sum_sql), 1);
    assert_int_equal(value_of(db, sum_sql, 2, p), 11);

    /* a text first prepared in a failed transaction: the server's error, then prepared after */
    static const char other[] = "SELECT $1::int + 1";
    const char *one[] = {"1"};
    assert_int_equal(value_of(db, other, 1, one), 2);
    exec_ok(db, "BEGIN");
    char err[1024];
    assert_int_equal(db_exec(db, "SELECT 1 / 0", err, sizeof err), -1);
    assert_null(db_query(db, other, 1, one, err, sizeof err));
    assert_string_equal(db_last_sqlstate(), "25P02");
    exec_ok(db, "ROLLBACK");
    assert_int_equal(value_of(db, other, 1, one), 2);
    assert_int_equal(prepared_count(db, other), 1);
    /* a data error in a prepared statement is the statement's error, as before */
    const char *bad[] = {"x"};
    assert_null(db_query(db, other, 1, bad, err, sizeof err));
    assert_string_equal(db_last_sqlstate(), "22P02");
    assert_int_equal(value_of(db, other, 1, one), 2);
    PQfinish(db);
}

static void test_new_connection_prepares_again(void **state)
{
    (void)state;
    const char *p[] = {"{7}", "0"};
    for (int round = 0; round < 3; round++) { /* each may get the last one's address */
        PGconn *db = open_db();
        assert_int_equal(prepared_count(db, sum_sql), 0);
        assert_int_equal(value_of(db, sum_sql, 2, p), 7);
        assert_int_equal(value_of(db, sum_sql, 2, p), 7);
        assert_int_equal(prepared_count(db, sum_sql), 1);
        PQfinish(db);
    }
    /* two connections at once: each its own */
    PGconn *a = open_db(), *b = open_db();
    assert_int_equal(value_of(a, sum_sql, 2, p), 7);
    assert_int_equal(value_of(a, sum_sql, 2, p), 7);
    assert_int_equal(value_of(b, sum_sql, 2, p), 7);
    assert_int_equal(prepared_count(a, sum_sql), 1);
    assert_int_equal(prepared_count(b, sum_sql), 0);
    assert_int_equal(value_of(b, sum_sql, 2, p), 7);
    assert_int_equal(prepared_count(b, sum_sql), 1);
    PQfinish(a);
    PQfinish(b);
}

static void test_never_prepared(void **state)
{
    (void)state;
    PGconn *db = open_db();
    /* values written into the text: each text runs once */
    for (int i = 0; i < 5; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + $1::int", i);
        const char *p[] = {"1"};
        assert_int_equal(value_of(db, sql, 1, p), i + 1);
        assert_int_equal(prepared_count(db, sql), 0);
    }
    /* a cursor declared with parameters, twice: not a kind PREPARE takes */
    static const char decl[] =
        "DECLARE c NO SCROLL CURSOR FOR SELECT x FROM generate_series(1, $1::int) AS g(x)";
    const char *three[] = {"3"};
    char err[1024];
    for (int i = 0; i < 2; i++) {
        exec_ok(db, "BEGIN");
        if (db_execp(db, decl, 1, three, err, sizeof err) != 0)
            fail_msg("%s", err);
        PGresult *r = db_query(db, "FETCH 10 FROM c", 0, NULL, err, sizeof err);
        assert_non_null(r);
        assert_int_equal(PQntuples(r), 3);
        PQclear(r);
        exec_ok(db, "COMMIT");
    }
    assert_int_equal(prepared_count(db, decl), 0);
    /* no parameters: run as it is */
    for (int i = 0; i < 3; i++)
        assert_int_equal(value_of(db, "SELECT 40 + 2", 0, NULL), 42);
    assert_int_equal(prepared_count(db, "SELECT 40 + 2"), 0);
    PQfinish(db);
}

static void test_table_altered_under_it(void **state)
{
    (void)state;
    PGconn *db = open_db();
    exec_ok(db, "DROP TABLE IF EXISTS t_db; CREATE TABLE t_db (a int, b text)");
    exec_ok(db, "INSERT INTO t_db VALUES (1, 'one'), (2, 'two')");
    static const char sql[] = "SELECT count(*) FROM t_db WHERE a >= $1::int";
    const char *p[] = {"1"};
    assert_int_equal(value_of(db, sql, 1, p), 2);
    assert_int_equal(value_of(db, sql, 1, p), 2);
    /* altered and refilled by another session: the prepared statement sees the table as it is */
    PGconn *other = open_db();
    exec_ok(other, "ALTER TABLE t_db ADD COLUMN c int; INSERT INTO t_db VALUES (3, 'three', 3)");
    exec_ok(other, "DROP TABLE t_db; CREATE TABLE t_db (a bigint); INSERT INTO t_db VALUES (5)");
    PQfinish(other);
    assert_int_equal(value_of(db, sql, 1, p), 1);
    PQfinish(db);
}

static void test_more_texts_than_held(void **state)
{
    (void)state;
    PGconn *db = open_db();
    /* 600 texts, each run twice in turn, then all of them again: every answer right */
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < 600; i++) {
            char sql[64], arg[16];
            snprintf(sql, sizeof sql, "SELECT $1::int * %d", i + 1);
            snprintf(arg, sizeof arg, "%d", pass + 1);
            const char *p[] = {arg};
            assert_int_equal(value_of(db, sql, 1, p), (long long)(pass + 1) * (i + 1));
            if (pass == 0)
                assert_int_equal(value_of(db, sql, 1, p), (long long)(pass + 1) * (i + 1));
        }
    PQfinish(db);
}

static void *thread_run(void *arg)
{
    (void)arg;
    PGconn *db = open_db();
    const char *p[] = {"{1,1}", "0"};
    for (int i = 0; i < 3; i++)
        if (value_of(db, sum_sql, 2, p) != 2)
            return (void *)1;
    bool prepared = prepared_count(db, sum_sql) == 1;
    PQfinish(db);
    return prepared ? NULL : (void *)1;
}

/* Threads of their own (ingest's store pool): each prepares on its connections, and what it
 * holds goes when it ends (the sanitizers' leak check runs at exit). */
static void test_threads(void **state)
{
    (void)state;
    ncap_require_pg();
    for (int round = 0; round < 3; round++) {
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, thread_run, NULL), 0);
        for (int i = 0; i < 2; i++) {
            void *rc;
            assert_int_equal(pthread_join(t[i], &rc), 0);
            assert_null(rc);
        }
    }
}

/* What each_row saw, and when it stops or fails. */
typedef struct {
    long long rows, sum;
    long long stop_at, fail_at; /* 0: never */
} each_t;

static int each_row(void *ctx, const PGresult *r, int i)
{
    each_t *e = ctx;
    e->rows++;
    e->sum += strtoll(PQgetvalue(r, i, 0), NULL, 10);
    if (e->fail_at && e->rows == e->fail_at)
        return -1;
    return e->stop_at && e->rows == e->stop_at ? 1 : 0;
}

/* db_each_row: every row of a result larger than a fetch, in order, with its parameters; a stop
 * closes the cursor (the next call on the connection declares it again); a row that fails says
 * "out of memory" unless it said why; outside a transaction, PostgreSQL's own error. */
static void test_each_row(void **state)
{
    (void)state;
    PGconn *db = open_db();
    char err[1024];
    const char *sql = "SELECT g FROM generate_series(1, $1::int) g ORDER BY g";
    char n[24];
    snprintf(n, sizeof n, "%d", 2 * DB_ROWS_PER_FETCH + 5);
    const char *p[] = {n};
    exec_ok(db, "BEGIN");
    each_t e = {0};
    assert_int_equal(db_each_row(db, sql, 1, p, each_row, &e, err, sizeof err), 0);
    long long want = 2 * DB_ROWS_PER_FETCH + 5;
    assert_int_equal(e.rows, want);
    assert_int_equal(e.sum, want * (want + 1) / 2);
    e = (each_t){.stop_at = 10};
    assert_int_equal(db_each_row(db, sql, 1, p, each_row, &e, err, sizeof err), 1);
    assert_int_equal(e.rows, 10);
    assert_int_equal(e.sum, 55);
    e = (each_t){.fail_at = DB_ROWS_PER_FETCH + 1};
    assert_int_equal(db_each_row(db, sql, 1, p, each_row, &e, err, sizeof err), -1);
    assert_string_equal(err, "out of memory");
    exec_ok(db, "ROLLBACK");
    assert_int_equal(db_each_row(db, sql, 1, p, each_row, &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "transaction"));
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepared_on_second_run),
        cmocka_unit_test(test_rollback_and_failed_transaction),
        cmocka_unit_test(test_new_connection_prepares_again),
        cmocka_unit_test(test_never_prepared),
        cmocka_unit_test(test_table_altered_under_it),
        cmocka_unit_test(test_more_texts_than_held),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_each_row),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
