/* test_link_concurrency.c - DESIGN.md invariant 4 on a real PostgreSQL ($NCAP_TEST_PG): two
 * processes, each with its own connection, link the same people's records at the same moment
 * (one in order, the other in reverse, in small batches, every record seen by both), and every
 * person ends up as exactly one patient. Without the advisory locks on the blocking keys, both
 * would create a patient for a person neither had seen.
 *
 * Then with people whose first two records make two patients and a third bridges them
 * (link_assign.h): the two instances merge patients while the other links records of the same
 * people. Neither waits for ever (the keys of a patient to merge are locked without waiting), no
 * merged patient keeps a blocking key, and no patient holds two people; a merge skipped because
 * the other instance held a key is made when the bridging record is linked again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
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

/* Person p's record c of the bridging people: c 0 her first, 1 after a move (another day and
 * month of birth in the same year, another sector of the district: too unlike the first to join
 * it), 2 the bridge (the first's date of birth at the new address). A forename, a date of birth
 * and a district each person's alone: two people never share a blocking key. */
static link_ident_t bridging_record_of(int p, int c)
{
    static const char *const fn[] = {"ada", "ben", "cara", "dev", "eli", "fay"};
    char forename[32], dob[32], postcode[32];
    snprintf(forename, sizeof forename, "%s%c", fn[p % 6], 'a' + p / 6 % 26);
    snprintf(dob, sizeof dob, "19%02d-%s", 10 + p, c == 1 ? "09-17" : "02-03");
    snprintf(postcode, sizeof postcode, "LS%d %s", 1 + p, c == 0 ? "1AE" : "9ZZ");
    link_ident_t id;
    link_ident_from_values("", forename, "jones", dob, "F", postcode, &id);
    return id;
}

typedef link_ident_t (*record_fn)(int p, int c);

/* One linkage instance: every record (make(r / COPIES, r % COPIES), or with by_kind the
 * people's first records, then their second, then their third), in batches, in the given
 * direction, merging patients as ncap-linkd does. Exit status 0 when all batches committed. */
static int instance(int reverse, int start_fd, record_fn make, bool by_kind)
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
        /* by kind: both instances take the kinds in order (every first and second record before
         * any bridge, so that each bridge meets two patients), the people in opposite orders */
        ids[n++] = by_kind ? make(reverse ? PEOPLE - 1 - k % PEOPLE : k % PEOPLE, k / PEOPLE)
                           : make(r / COPIES, r % COPIES);
        if (n == BATCH || k == PEOPLE * COPIES - 1) {
            link_merge_t *merges = NULL;
            size_t nmerges = 0;
            if (db_exec(db, "BEGIN", err, sizeof err) != 0 ||
                patient_index_assign(db, &p, ids, n, false, out, &merges, &nmerges, err,
                                     sizeof err) != 0 ||
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

/* Both instances at once, from an empty index; each must commit every batch. */
static void run_both(PGconn *db, record_fn make, bool by_kind)
{
    pg_fixture_exec(db, "TRUNCATE linkage.block, linkage.link, linkage.patient CASCADE");
    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            close(start[1]);
            _exit(instance(k, start[0], make, by_kind));
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
}

/* No person's records in two patients: forenames are the people's own. */
#define PEOPLE_SPLIT                                                                               \
    "SELECT count(*) FROM (SELECT forename FROM linkage.block GROUP BY forename"                   \
    " HAVING count(DISTINCT patient_id) > 1) s"

static void test_two_instances_one_patient_per_person(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_concurrency", err, sizeof err);
    assert_non_null(db);
    for (int round = 0; round < ROUNDS; round++) {
        run_both(db, record_of, false);
        /* each person (their forename is theirs alone) is one patient */
        assert_int_equal(link_pg_count(db, PEOPLE_SPLIT), 0);
        assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM"
                                           " linkage.block"),
                         PEOPLE);
        assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.patient"), PEOPLE);
    }
    PQfinish(db);
}

static void test_two_instances_merge_bridged_patients(void **state)
{
    (void)state;
    ncap_require_pg();
    /* the people are as described: the first two records apart, the third bridging them */
    link_params_t p;
    link_params_default(&p);
    link_ident_t first = bridging_record_of(7, 0), moved = bridging_record_of(7, 1),
                 bridge = bridging_record_of(7, 2);
    double p01, p20, p21;
    link_score(&p, &first, &moved, &p01);
    link_score(&p, &bridge, &first, &p20);
    link_score(&p, &bridge, &moved, &p21);
    assert_true(p01 < p.threshold && p20 >= p.threshold && p21 >= p.threshold);
    assert_true((p01 + p21) / 2 >= p.threshold);

    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_concurrency", err, sizeof err);
    assert_non_null(db);
    long long merged = 0;
    for (int round = 0; round < ROUNDS; round++) {
        run_both(db, bridging_record_of, true);
        /* a merged patient holds no key; no patient holds two people */
        assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.block b JOIN"
                                           " linkage.patient p USING (patient_id)"
                                           " WHERE p.merged_into IS NOT NULL"),
                         0);
        assert_int_equal(link_pg_count(db, "SELECT count(*) FROM (SELECT patient_id FROM"
                                           " linkage.block GROUP BY patient_id"
                                           " HAVING count(DISTINCT forename) > 1) s"),
                         0);
        /* each bridge linked once more, alone: every person is one patient */
        link_params_t lp;
        assert_int_equal(patient_index_load_params(db, &lp, err, sizeof err), 0);
        for (int q = 0; q < PEOPLE; q++) {
            link_ident_t id = bridging_record_of(q, 2);
            patient_match_t m;
            link_merge_t *merges = NULL;
            size_t nmerges = 0;
            pg_fixture_exec(db, "BEGIN");
            if (patient_index_assign(db, &lp, &id, 1, false, &m, &merges, &nmerges, err,
                                     sizeof err) != 0)
                fail_msg("%s", err);
            pg_fixture_exec(db, "COMMIT");
            free(merges);
        }
        assert_int_equal(link_pg_count(db, PEOPLE_SPLIT), 0);
        assert_int_equal(link_pg_count(db, "SELECT count(DISTINCT patient_id) FROM"
                                           " linkage.block"),
                         PEOPLE);
        merged += link_pg_count(db, "SELECT count(*) FROM linkage.patient"
                                    " WHERE merged_into IS NOT NULL");
    }
    /* every first and second record made a patient of its own before the bridges: patients
     * were merged, while the other instance linked or, a merge skipped, by the bridge again */
    assert_true(merged >= ROUNDS * PEOPLE);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_instances_one_patient_per_person),
        cmocka_unit_test(test_two_instances_merge_bridged_patients),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
