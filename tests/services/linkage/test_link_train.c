/* test_link_train.c - ncap-linkd's parameters learned from identifiers: link_incremental's fields
 * compare with the same levels as the fs_model kinds they are mapped to; on a worked population
 * (1,500 people, 30 % of them seen a second time with errors) training gives the same parameters
 * for the same seed, agreement weighs for a match in every field, the prior is that of a record
 * and one held patient (about 900 / 1,950 / 1,500 here), and a degenerate fit is refused; term
 * frequencies count each patient once per value and keep the values more common than u. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_train.h"

#define PEOPLE 1500

static uint64_t rng;
static unsigned rnd(unsigned below)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % below);
}

/* A valid NHS number: nine digits and the modulus-11 check digit. */
static void nhs_number(char *out)
{
    for (;;) {
        int sum = 0;
        for (int i = 0; i < 9; i++) {
            out[i] = (char)('0' + (i == 0 ? 4 + rnd(5) : rnd(10)));
            sum += (out[i] - '0') * (10 - i);
        }
        int check = 11 - sum % 11;
        if (check == 10)
            continue;
        out[9] = (char)('0' + (check == 11 ? 0 : check));
        out[10] = '\0';
        return;
    }
}

static void name(char *out, size_t len)
{
    static const char *a[] = {"al",  "ber", "car", "dor", "el", "fen", "gar",  "hol", "is",  "jen",
                              "kel", "lor", "mar", "nor", "ol", "pen", "quin", "ros", "sam", "tor"};
    static const char *b[] = {"a",   "ton",  "ley",  "ric", "ina", "son", "wood",
                              "en",  "ette", "ford", "ham", "ly",  "don", "ia",
                              "win", "ell",  "by",   "er",  "lin", "wick"};
    snprintf(out, len, "%s%s%s", a[rnd(20)], b[rnd(20)], rnd(3) ? "" : b[rnd(20)]);
}

static void person(link_ident_t *id)
{
    char nhs[11], fn[48], sn[48], dob[16], pc[16];
    nhs_number(nhs);
    name(fn, sizeof fn);
    name(sn, sizeof sn);
    snprintf(dob, sizeof dob, "%04u%02u%02u", 1920 + rnd(40), 1 + rnd(12), 1 + rnd(28));
    snprintf(pc, sizeof pc, "%c%u %u%c%c", 'A' + rnd(20), 1 + rnd(30), rnd(10), 'A' + rnd(26),
             'A' + rnd(26));
    link_ident_from_values(nhs, fn, sn, dob, rnd(2) ? "m" : "f", pc, id);
}

/* A second record of the same person: a typo, a missing NHS number, a moved house. */
static void second(const link_ident_t *first, link_ident_t *id)
{
    *id = *first;
    if (rnd(100) < 30)
        id->nhs[0] = '\0';
    if (rnd(100) < 20 && strlen(id->surname) > 3)
        id->surname[2] = (char)('a' + rnd(26));
    if (rnd(100) < 10 && strlen(id->forename) > 3)
        id->forename[1] = (char)('a' + rnd(26));
    if (rnd(100) < 25)
        snprintf(id->postcode, sizeof id->postcode, "Z%u %uAA", 1 + rnd(30), rnd(10));
    if (rnd(100) < 3)
        id->dob[7] = id->dob[7] == '1' ? '2' : '1';
}

static link_ident_t *population(size_t *n)
{
    link_ident_t *ids = calloc(2 * PEOPLE, sizeof *ids);
    assert_non_null(ids);
    rng = 0x9E3779B97F4A7C15u;
    size_t k = 0;
    for (size_t p = 0; p < PEOPLE; p++) {
        person(&ids[k++]);
        if (p % 10 < 3) {
            second(&ids[k - 1], &ids[k]);
            k++;
        }
    }
    *n = k;
    return ids;
}

static void fields_map_to_kinds_with_the_same_levels(void **state)
{
    (void)state;
    for (size_t f = 0; f < LI_NFIELDS; f++)
        assert_int_equal(link_field_levels(f), fs_kind_levels(link_train_kind(f)));
    assert_int_equal(link_train_kind(LI_NHS), FS_KIND_NHS_NUMBER);
    assert_int_equal(link_train_kind(LI_POSTCODE), FS_KIND_POSTCODE);
}

static void learned_parameters_favour_agreement_and_repeat_by_seed(void **state)
{
    (void)state;
    size_t n;
    link_ident_t *ids = population(&n);
    assert_int_equal(n, 1950);
    link_params_t cur, a, b, c;
    link_params_default(&cur);
    char err[256];
    if (link_train(ids, n, PEOPLE, 7, &cur, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(link_train(ids, n, PEOPLE, 7, &cur, &b, err, sizeof err), 0);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(link_train(ids, n, PEOPLE, 8, &cur, &c, err, sizeof err), 0);
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        printf("%-10s m1 %.4f u1 %.6f\n", link_field_name(f), a.m[f][1], a.u[f][1]);
        assert_true(a.m[f][1] > a.u[f][1]);
        assert_true(a.w[f][1] > 0);
        size_t last = link_field_levels(f) - 1;
        assert_true(a.w[f][last] < 0); /* disagreement weighs against */
    }
    /* the names have 400-8,400 spellings, so agreement is rare between two people */
    assert_true(a.u[LI_SURNAME][1] < 0.01);
    assert_true(a.m[LI_SURNAME][1] > 0.6);
    /* about 900 / 1,950 of a record's matches per held patient */
    double want = log2(900.0 / 1950 / PEOPLE);
    printf("log2 prior odds %.3f, want about %.3f\n", a.log2_prior_odds, want);
    assert_true(fabs(a.log2_prior_odds - want) < 1.0);
    assert_true(a.threshold == cur.threshold);
    free(ids);
}

static void degenerate_fits_are_refused(void **state)
{
    (void)state;
    char err[256];
    link_params_t p;
    link_params_default(&p);
    assert_int_equal(link_train_check(&p, err, sizeof err), 0);
    p.m[LI_SURNAME][1] = 0.001;
    p.m[LI_SURNAME][5] += 0.899;
    assert_int_equal(link_train_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"surname\""));
    link_params_default(&p);
    p.log2_prior_odds = 0.5;
    assert_int_equal(link_train_check(&p, err, sizeof err), -1);
    /* people who share nothing: no matches to learn from */
    link_ident_t ids[2];
    link_ident_from_values("9434765919", "ann", "smith", "19500101", "f", "SW1A 1AA", &ids[0]);
    link_ident_from_values("", "bob", "jones", "19700505", "m", "M1 1AE", &ids[1]);
    link_params_t cur;
    link_params_default(&cur);
    assert_int_equal(link_train(ids, 2, 2, 1, &cur, &p, err, sizeof err), -1);
    assert_int_equal(link_train(ids, 1, 1, 1, &cur, &p, err, sizeof err), -1);
}

static void term_frequencies_count_patients_and_keep_common_values(void **state)
{
    (void)state;
    /* 100 patients: 7 named smith (patient 3 seen twice, after a move), 5 named jones, one
     * without surname, the others each with a surname of their own; all named mary; 10 living
     * at one care home (LS1 4AP, patient 3 also at B1 1AA), the others' postcodes unknown */
    link_ident_t ids[101];
    int64_t patient[101];
    size_t n = 0;
    for (int p = 1; p <= 100; p++) {
        char sn[16];
        snprintf(sn, sizeof sn, "rare%03d", p);
        if (p <= 12 || p == 100)
            snprintf(sn, sizeof sn, "%s", p <= 7 ? "smith" : p <= 12 ? "jones" : "");
        link_ident_from_values("", "Mary", sn, "19400512", "F", p <= 10 ? "LS1 4AP" : "", &ids[n]);
        patient[n++] = p;
        if (p == 3) {
            link_ident_from_values("", "Mary", sn, "19400512", "F", "B1 1AA", &ids[n]);
            patient[n++] = p;
        }
    }
    link_params_t learned;
    link_params_default(&learned);
    learned.u[LI_SURNAME][1] = 0.06; /* jones, at 5 in 99, is rarer */
    term_freq_t *tf = NULL;
    char err[256];
    assert_int_equal(link_train_term_freqs(ids, patient, n, &learned, &tf, err, sizeof err), 0);
    assert_non_null(tf);
    assert_true(term_freq_get(tf, LI_SURNAME, "smith") == 7.0 / 99); /* 99 with a surname */
    assert_true(term_freq_get(tf, LI_SURNAME, "jones") == 0);
    assert_true(term_freq_get(tf, LI_SURNAME, "rare050") == 0);
    assert_true(term_freq_get(tf, LI_FORENAME, "mary") == 1.0);
    assert_true(term_freq_get(tf, LI_POSTCODE, "LS1 4AP") == 1.0); /* 10 with a postcode */
    /* held by one patient: too few to tell its frequency, whatever its share */
    assert_true(term_freq_get(tf, LI_POSTCODE, "B1 1AA") == 0);
    assert_true(term_freq_get(tf, LI_DOB, "19400512") == 0); /* no term-frequency field */
    assert_int_equal(term_freq_size(tf), 3);
    term_freq_destroy(&tf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_map_to_kinds_with_the_same_levels),
        cmocka_unit_test(learned_parameters_favour_agreement_and_repeat_by_seed),
        cmocka_unit_test(degenerate_fits_are_refused),
        cmocka_unit_test(term_frequencies_count_patients_and_keep_common_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
