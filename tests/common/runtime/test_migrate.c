/* test_migrate.c - migrations on a real PostgreSQL ($NCAP_TEST_PG): applied once, safe to repeat,
 * safe from two processes at once, and they leave one schema per stage; the daemon roles'
 * passwords set from their files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "pg_test_db.h"
#include "migrate.h"
#include "test_skip.h"

static char conninfo[1024];

static int setup(void **state)
{
    (void)state;
    return pg_test_db_create("ncap_test_migrate", conninfo, sizeof conninfo);
}

static int migrate_once(int *applied)
{
    char err[2048];
    PGconn *db = db_connect(conninfo, "test_migrate", err, sizeof err);
    if (!db)
        return -1;
    int rc = migrate_run(db, applied, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "migrate: %s\n", err);
    PQfinish(db);
    return rc;
}

static void test_two_processes_at_once_then_again(void **state)
{
    (void)state;
    ncap_require_pg();
    int total = 0;
    while (ncap_migrations[total].name)
        total++;
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            int applied;
            _exit(migrate_once(&applied) == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int st;
        waitpid(kids[i], &st, 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    int applied = -1;
    assert_int_equal(migrate_once(&applied), 0);
    assert_int_equal(applied, 0);

    char err[1024];
    PGconn *db = db_connect(conninfo, "test_migrate", err, sizeof err);
    assert_non_null(db);
    PGresult *r =
        db_query(db, "SELECT count(*) FROM public.ncap_schema_migration", 0, NULL, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), total);
    PQclear(r);
    r = db_query(db,
                 "SELECT count(*) FROM pg_namespace WHERE nspname IN ('ingest', 'linkage', "
                 "'validation', 'metric', 'publish', 'ops')",
                 0, NULL, err, sizeof err);
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), 6);
    PQclear(r);
    /* the patient index is vacuumed promptly, so candidates come from index-only scans */
    r = db_query(db,
                 "SELECT 'autovacuum_vacuum_insert_scale_factor=0.01' = ANY(reloptions)"
                 " FROM pg_class WHERE oid = 'linkage.block'::regclass",
                 0, NULL, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    /* what each role may do: tests/services/ncap/test_privileges.c */
    PQfinish(db);
}

/* The role's password verifier as the server keeps it ("" for none). */
static void verifier_of(PGconn *db, const char *role, char *out, size_t len)
{
    char err[1024];
    const char *p[] = {role};
    PGresult *r = db_query(db, "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = $1",
                           1, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

/* `ncap migrate --role-passwords DIR`: every daemon role gets a SCRAM-SHA-256 verifier of its own
 * file's password, all or none. */
static void test_role_passwords_all_or_none(void **state)
{
    (void)state;
    ncap_require_pg();
    int applied;
    assert_int_equal(migrate_once(&applied), 0);
    char dir[] = "/tmp/ncap_role_passwords_XXXXXX", path[128], err[1024];
    assert_non_null(mkdtemp(dir));
    for (int i = 0; migrate_daemon_roles[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, migrate_daemon_roles[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "password of %s\n", migrate_daemon_roles[i]);
        fclose(f);
    }
    PGconn *db = db_connect(conninfo, "test_migrate", err, sizeof err);
    assert_non_null(db);
    assert_int_equal(migrate_set_passwords(db, dir, err, sizeof err), 0);
    char before[8][256], now[256];
    for (int i = 0; migrate_daemon_roles[i]; i++) {
        verifier_of(db, migrate_daemon_roles[i], before[i], sizeof before[i]);
        assert_int_equal(strncmp(before[i], "SCRAM-SHA-256$4096:", 19), 0);
        assert_null(strstr(before[i], "password of"));
    }
    /* one file missing: an error naming role and file, and no password changed */
    snprintf(path, sizeof path, "%s/ncap_publish", dir);
    unlink(path);
    assert_int_equal(migrate_set_passwords(db, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "no password for role ncap_publish"));
    assert_non_null(strstr(err, path));
    for (int i = 0; migrate_daemon_roles[i]; i++) {
        verifier_of(db, migrate_daemon_roles[i], now, sizeof now);
        assert_string_equal(now, before[i]);
    }
    for (int i = 0; migrate_daemon_roles[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, migrate_daemon_roles[i]);
        unlink(path);
    }
    rmdir(dir);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processes_at_once_then_again),
        cmocka_unit_test(test_role_passwords_all_or_none),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
