/* test_link_incremental_sim.c - accuracy of incremental linkage on the simulator's records with
 * its truth ($NCAP_TEST_PG): records arrive in batches as the daemon sees them, once as the
 * simulator writes them and once with noise of our own (NHS numbers dropped, surname and forename
 * typos, day and month swapped, postcodes changed) on top of the simulator's own. Pairwise F1 over
 * all record pairs must be at least 0.995 as simulated and 0.99 with the doubled noise, and every
 * death in the register links to the right patient or to none (decoys: people born the same day
 * who are not in the audit). Each runs once more with term frequencies of the simulated people
 * (link_train_term_freqs over the truth's patients), which must not lower F1 as simulated, nor by
 * more than 0.0005 with our noise (where it trades a little recall for precision: it only ever
 * lowers the weight of an agreement). */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "csv.h"
#include "death_link.h"
#include "link_pg_fixture.h"
#include "link_train.h"
#include "patient_index.h"
#include "sim.h"
#include "strbuf.h"

#define RECORDS 6000
#define BATCH 64

#include "link_sim_fixture.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_sim", conninfo, sizeof conninfo);
}

static uint64_t rng_state;
static unsigned rnd(unsigned below)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % below);
}

static void typo(char *s)
{
    size_t n = strlen(s);
    if (n < 3)
        return;
    size_t i = 1 + rnd((unsigned)n - 1);
    if (rnd(2))
        s[i] = (char)('a' + rnd(26)); /* a wrong letter */
    else
        memmove(s + i, s + i + 1, n - i); /* a letter left out */
}

/* Noise of our own on a record's identifiers (rates per record). */
static void add_noise(link_ident_t *id)
{
    if (rnd(100) < 15) {
        id->nhs[0] = '\0';
        id->nhs_valid = false;
    }
    if (rnd(100) < 6)
        typo(id->surname);
    if (rnd(100) < 4)
        typo(id->forename);
    if (rnd(100) < 4 && id->dob[0] && atoi(id->dob + 6) <= 12) {
        char dd[3] = {id->dob[6], id->dob[7], 0};
        memcpy(id->dob + 6, id->dob + 4, 2);
        memcpy(id->dob + 4, dd, 2);
    }
    if (rnd(100) < 8)
        snprintf(id->postcode, sizeof id->postcode, "ZZ%u %uAA", 1 + rnd(20), rnd(10));
}

/* Deaths for some of the simulated people (from one of their records, sometimes without NHS
 * number or with a typo) and decoys born the same day as one of them. row_hash holds the truth. */
static void insert_deaths(PGconn *db, const sim_records_t *s)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_append(&sql, "INSERT INTO linkage.death (nhs_number, forename, surname, date_of_birth,"
                        " sex, postcode, date_of_death, row_hash) VALUES ");
    int rows = 0;
    for (size_t i = 0; i < s->n; i += 7) {
        const link_ident_t *id = &s->ids[i];
        if (!id->dob[0] || !id->surname[0])
            continue;
        bool decoy = rnd(4) == 0;
        char fn[48], sn[48];
        snprintf(fn, sizeof fn, "%s", decoy ? "zebedee" : id->forename);
        snprintf(sn, sizeof sn, "%s", decoy ? "quartermaine" : id->surname);
        if (!decoy && rnd(5) == 0)
            typo(sn);
        const char *nhs = decoy || rnd(3) == 0 ? "" : id->nhs;
        strbuf_appendf(&sql,
                       "%s('%s', $q$%s$q$, $q$%s$q$, to_date('%s', 'YYYYMMDD'), '%s', '%s',"
                       " '2026-01-01', '%s:%ld:%zu')",
                       rows ? ", " : "", nhs, fn, sn, id->dob, id->sex, id->postcode,
                       decoy ? "decoy" : "person", s->truth[i], i);
        rows++;
    }
    strbuf_append(&sql, " ON CONFLICT (row_hash) DO NOTHING");
    pg_fixture_exec(db, sql.s);
    strbuf_free(&sql);
}

/* Each linked death's patient holds records of the death's person; decoys link to no one. */
static void check_deaths(PGconn *db, const sim_records_t *s, const int64_t *patient)
{
    char err[1024];
    PGresult *r = db_query(db,
                           "SELECT d.row_hash, coalesce(l.patient_id, 0) FROM linkage.death d"
                           " LEFT JOIN linkage.death_link l USING (death_id)",
                           0, NULL, err, sizeof err);
    assert_non_null(r);
    int linked = 0, people = 0;
    for (int k = 0; k < PQntuples(r); k++) {
        const char *h = PQgetvalue(r, k, 0);
        int64_t pid = strtoll(PQgetvalue(r, k, 1), NULL, 10);
        bool decoy = strncmp(h, "decoy:", 6) == 0;
        long person = strtol(strchr(h, ':') + 1, NULL, 10);
        people += !decoy;
        if (pid == 0)
            continue;
        if (decoy) {
            fprintf(stderr, "decoy death %s linked to patient %lld\n", h, (long long)pid);
            fail();
        }
        linked++;
        bool right = false;
        for (size_t i = 0; i < s->n && !right; i++)
            right = patient[i] == pid && s->truth[i] == person;
        if (!right) {
            fprintf(stderr, "death %s linked to the wrong patient %lld\n", h, (long long)pid);
            fail();
        }
    }
    PQclear(r);
    printf("deaths: %d of %d people's deaths linked, every one to the right patient\n", linked,
           people);
    assert_true(linked >= people * 9 / 10);
}

/* Pairwise F1 of s linked with the defaults, and with term frequencies of the people when tf. */
static double run(bool noise, double min_f1, bool tf)
{
    ncap_require_pg();
    sim_records_t s;
    load_sim(&s);
    rng_state = 0x243F6A8885A308D3u;
    if (noise)
        for (size_t i = 0; i < s.n; i++)
            add_noise(&s.ids[i]);
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_incremental_sim", err, sizeof err);
    assert_non_null(db);
    pg_fixture_exec(db, "TRUNCATE linkage.death_link, linkage.death, linkage.block,"
                        " linkage.patient CASCADE");
    insert_deaths(db, &s);
    link_params_t p;
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(patient_index_load_params(db, &p, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    term_freq_t *freqs = NULL;
    if (tf) {
        int64_t *people = calloc(s.n, sizeof *people);
        link_ident_t *ids = calloc(s.n, sizeof *ids);
        assert_non_null(people);
        assert_non_null(ids);
        size_t *order = calloc(s.n, sizeof *order);
        assert_non_null(order);
        /* the records grouped by person, as link-train reads the index */
        size_t k = 0;
        for (size_t i = 0; i < s.n; i++) {
            bool first = true;
            for (size_t j = 0; j < i && first; j++)
                first = s.truth[j] != s.truth[i];
            for (size_t j = i; first && j < s.n; j++)
                if (s.truth[j] == s.truth[i])
                    order[k++] = j;
        }
        for (size_t i = 0; i < s.n; i++) {
            ids[i] = s.ids[order[i]];
            people[i] = s.truth[order[i]];
        }
        assert_int_equal(link_train_term_freqs(ids, people, s.n, &p, &freqs, err, sizeof err), 0);
        p.tf = freqs;
        free(order);
        free(ids);
        free(people);
    }
    int64_t *patient = calloc(s.n, sizeof *patient);
    assert_non_null(patient);
    link_all(db, &p, s.ids, s.n, patient);
    double precision, recall, f1 = pairwise_f1(s.truth, patient, s.n, &precision, &recall);
    printf("%s%s: %zu records, pairwise precision %.4f recall %.4f F1 %.6f\n",
           noise ? "with our noise" : "as simulated", tf ? ", with term frequencies" : "", s.n,
           precision, recall, f1);
    if (freqs)
        printf("  (%zu values more common than u)\n", term_freq_size(freqs));
    assert_true(f1 >= min_f1);
    check_deaths(db, &s, patient);
    term_freq_destroy(&freqs);
    free(patient);
    free(s.ids);
    free(s.truth);
    PQfinish(db);
    return f1;
}

static void test_f1_on_simulated_records(void **state)
{
    (void)state;
    double f1 = run(false, 0.995, false); /* issue 4's figure, on the simulator's own noise */
    assert_true(run(false, 0.995, true) >= f1);
}

static void test_f1_with_noise_of_our_own(void **state)
{
    (void)state;
    /* our noise on top of the simulator's: about twice the errors of real submissions, a check
     * that accuracy degrades gently rather than a target of the issue */
    double f1 = run(true, 0.99, false);
    assert_true(run(true, 0.99, true) >= f1 - 0.0005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f1_on_simulated_records),
        cmocka_unit_test(test_f1_with_noise_of_our_own),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
