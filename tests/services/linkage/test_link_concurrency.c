/* test_link_concurrency.c - DESIGN.md invariant 4 on a real PostgreSQL ($NCAP_TEST_PG): two
 * processes, each with its own connection, link the same people's records at the same moment
 * (one in order, the other in reverse, in small batches, every record seen by both), and every
 * person ends up as exactly one patient. Without the advisory locks on the blocking keys, both
 * would create a patient for a person neither had seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link_pg_fixture.h"
#include "nhs_number.h"
#include "patient_index.h"
#include "test_skip.h"

#define PEOPLE 60
#define COPIES 3 /* records per person: exact, no NHS number, surname typo */
#define BATCH 4
#define ROUNDS 3

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_concurrency", conninfo, sizeof conninfo);
}

/* Person p's record c: a forename unique to the person; dates of birth and surnames shared. */
static link_ident_t record_of(int p, int c)
{
    static const char *const fn[] = {"ada", "ben", "cara", "dev", "eli", "fay"};
    static const char *const sn[] = {"morgan", "patel", "quinn", "reyes", "stone"};
    char forename[32], surname[32], dob[16], nhs[24], postcode[16];
    snprintf(forename, sizeof forename, "%s%c", fn[p % 6], 'a' + p / 6 % 26);
    snprintf(surname, sizeof surname, "%s%s", sn[p % 5], c == 2 ? "x" : "");
    snprintf(dob, sizeof dob, "19%02d-0%d-1%d", 30 + p % 7, 1 + p % 9, p % 10);
    /* 9 digits from p, then the check digit (skipping numbers whose check digit would be 10) */
    for (long base = 400000000L + p * 7919L;; base++) {
        snprintf(nhs, sizeof nhs, "%09ld", base);
        int check = nhs_number_check_digit(nhs);
        if (check == 10)
            continue;
        nhs[9] = (char)('0' + check);
        nhs[10] = '\0';
        break;
    }
    snprintf(postcode, sizeof postcode, "LS%d %dAB", 1 + p % 29, p % 10);
    link_ident_t id;
    link_ident_from_values(c == 1 ? "" : nhs, forename, surname, dob, p % 2 ? "M" : "F", postcode,
                           &id);
    return id;
}

/* One linkage instance: every record, in batches, in the given direction. Exit status 0 when all
 * batches committed. */
static int instance(int reverse, int start_fd)
{
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_concurrency", err, sizeof err);
    if (!db)
        return 1;
    link_params_t p;
    if (db_exec(db, "BEGIN", err, sizeof err) != 0 ||
        patient_index_load_params(db, &p, err, sizeof err) != 0 ||
        db_exec(db, "COMMIT", err, sizeof err) != 0)
        return 1;
    char go;
    if (read(start_fd, &go, 1) != 1)
        return 1;
    link_ident_t ids[BATCH];
    patient_match_t out[BATCH];
    size_t n = 0;
    for (int k = 0; k < PEOPLE * COPIES; k++) {
        int r = reverse ? PEOPLE * COPIES - 1 - k : k;
        ids[n++] = record_of(r / COPIES, r % COPIES);
        if (n == BATCH || k == PEOPLE * COPIES - 1) {
            link_merge_t *merges = NULL;
            size_t nmerges = 0;
            if (db_exec(db, "BEGIN", err, sizeof err) != 0 ||
                patient_index_assign(db, &p, ids, n, out, &merges, &nmerges, err, sizeof err) !=
                    0 ||
                db_exec(db, "COMMIT", err, sizeof err) != 0) {
                fprintf(stderr, "instance %d: %s\n", reverse, err);
                PQfinish(db);
                return 1;
            }
            free(merges);
            n = 0;
        }
    }
    PQfinish(db);
    return 0;
}

static void test_two_instances_one_patient_per_person(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_concurrency", err, sizeof err);
    assert_non_null(db);
    for (int round = 0; round < ROUNDS; round++) {
        pg_fixture_exec(db, "TRUNCATE linkage.block, linkage.link,"
                            " linkage.patient CASCADE");
        int start[2];
        assert_int_equal(pipe(start), 0);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                close(start[1]);
                _exit(instance(k, start[0]));
            }
        }
        close(start[0]);
        assert_int_equal(write(start[1], "gg", 2), 2); /* both at once */
        close(start[1]);
        for (int k = 0; k < 2; k++) {
            int status;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        /* each person (their forename is theirs alone) is one patient */
        assert_int_equal(link_pg_count(db, "SELECT count(*) FROM (SELECT forename FROM"
                                           " linkage.block GROUP BY forename"
                                           " HAVING count(DISTINCT patient_id) > 1) s"),
                         0);
        assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM"
                                           " linkage.block"),
                         PEOPLE);
        assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.patient"), PEOPLE);
    }
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_instances_one_patient_per_person),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
