/* test_fs_model.c - Fellegi-Sunter: values normalised per kind, comparison levels per kind, a
 * blank or unparseable value on either side weighing nothing in every kind (missing is not
 * disagreement) and left out of EM, the waterfall of a pair (fs_model_explain), term frequencies
 * weighting a common surname below a rare one, deterministic NHS number links, and two files that
 * share no one linking nothing while typo'd copies link. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "fs_model.h"

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.6f, want %.6f", got, want);
}

static void normalise(fs_kind_t kind, const char *raw, int want_rc, const char *want)
{
    char out[64];
    int rc = fs_value_normalise(kind, raw, out, sizeof out);
    if (rc != want_rc)
        fail_msg("%s \"%s\": rc %d, want %d", fs_kind_name(kind), raw, rc, want_rc);
    if (rc == 1)
        assert_string_equal(out, want);
}

static void values_normalised_per_kind(void **state)
{
    (void)state;
    normalise(FS_KIND_DOB, "1955-11-19", 1, "19551119");
    normalise(FS_KIND_DOB, "19551119", 1, "19551119");
    normalise(FS_KIND_DOB, "19/11/1955", 1, "19551119");
    normalise(FS_KIND_DOB, "19551192", -1, NULL);
    normalise(FS_KIND_DOB, "19000229", -1, NULL);
    normalise(FS_KIND_DOB, "20000229", 1, "20000229");
    normalise(FS_KIND_DOB, "", 0, NULL);
    normalise(FS_KIND_POSTCODE, "sw1a1aa", 1, "SW1A 1AA");
    normalise(FS_KIND_POSTCODE, "M1 1AE", 1, "M1 1AE");
    normalise(FS_KIND_POSTCODE, "4011", -1, NULL);
    /* dates and postcodes as the rest of the pipeline reads them (common/datetime.c, postcode.c) */
    normalise(FS_KIND_DOB, " 1955-11-19", 1, "19551119");
    normalise(FS_KIND_DOB, "1799-12-31", -1, NULL);
    normalise(FS_KIND_POSTCODE, "ZZ99 3VZ", 1, "ZZ99 3VZ"); /* no fixed abode: a shared value */
    normalise(FS_KIND_POSTCODE, "GIR 0AA", 1, "GIR 0AA");
    normalise(FS_KIND_POSTCODE, "QA1 1AA", -1, NULL); /* no postcode begins with Q */
    normalise(FS_KIND_POSTCODE, "S W1A 1AA", -1, NULL);
    normalise(FS_KIND_SEX, "Female", 1, "f");
    normalise(FS_KIND_SEX, "1", 1, "m");
    normalise(FS_KIND_SEX, "9", 0, NULL);
    normalise(FS_KIND_SEX, "q", -1, NULL);
    normalise(FS_KIND_SURNAME, "  O'Brien--Smith ", 1, "o'brien--smith");
    normalise(FS_KIND_NAME, "Mary  Ann", 1, "mary ann");
    normalise(FS_KIND_NHS_NUMBER, "943 476 5919", 1, "9434765919");
    normalise(FS_KIND_NHS_NUMBER, "94347", -1, NULL);
    normalise(FS_KIND_NUMBER, "69-88 048", 1, "6988048");
    normalise(FS_KIND_NUMBER, "12.5", -1, NULL);
    /* placeholders for "not known" are null, not values that disagree with every real one */
    normalise(FS_KIND_POSTCODE, "ZZ99 3WZ", 0, NULL); /* address not known */
    normalise(FS_KIND_POSTCODE, "zz99 3cz", 0, NULL); /* England, not otherwise specified */
    normalise(FS_KIND_SURNAME, " - ", 0, NULL);
    normalise(FS_KIND_FORENAME, "UNKNOWN", 0, NULL);
    normalise(FS_KIND_NAME, "N/K", 0, NULL);
    normalise(FS_KIND_TEXT, "Not Known", 0, NULL);
    normalise(FS_KIND_SURNAME, "Nasser", 1, "nasser");
    normalise(FS_KIND_NHS_NUMBER, "0000000000", 0, NULL);
    normalise(FS_KIND_SEX, "unknown", 0, NULL);
    /* capitals beyond ASCII lowered too: one name however a hospital's system writes it */
    normalise(FS_KIND_FORENAME, "ZOË", 1, "zoë");
    normalise(FS_KIND_SURNAME, "MÜLLER-ÅSTRÖM", 1, "müller-åström");
    normalise(FS_KIND_SURNAME, "ŁUKASZEWICZ", 1, "łukaszewicz");
    normalise(FS_KIND_NAME, "ΣΟΦΙΑ ИВАНОВА", 1, "σοφια иванова");
    normalise(FS_KIND_FORENAME, "İLKAY", 1, "İlkay"); /* its lower case is two characters: kept */
    normalise(FS_KIND_FORENAME, "zoë", 1, "zoë");
    /* cut where a lowered character no longer fits, never inside it (62 bytes at most) */
    normalise(FS_KIND_SURNAME, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAÉÉ", 1,
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé");
}

/* Every kind: a value against a null, either way round, is level 0 whatever the value, as is a
 * null against a null; a value against another is not. */
static void missing_is_level_zero_in_every_kind(void **state)
{
    (void)state;
    static const struct {
        fs_kind_t kind;
        const char *a, *b;
    } cases[] = {
        {FS_KIND_NHS_NUMBER, "9434765919", "4010232137"},
        {FS_KIND_FORENAME, "mary", "john"},
        {FS_KIND_SURNAME, "smith", "jones"},
        {FS_KIND_NAME, "mary smith", "john jones"},
        {FS_KIND_DOB, "19501231", "19600101"},
        {FS_KIND_SEX, "f", "m"},
        {FS_KIND_POSTCODE, "LS1 4AP", "SW1A 1AA"},
        {FS_KIND_NUMBER, "12345", "98765"},
        {FS_KIND_TEXT, "high street", "church lane"},
        {FS_KIND_EXACT, "a", "b"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *values[] = {cases[k].a, NULL, cases[k].b, NULL};
        fs_data_t d = {.nrecords = 4, .nfields = 1, .values = values};
        d.kinds[0] = cases[k].kind;
        uint8_t g;
        fs_compare(&d, 0, 1, &g);
        assert_int_equal(g, 0);
        fs_compare(&d, 1, 2, &g);
        assert_int_equal(g, 0);
        fs_compare(&d, 1, 3, &g);
        assert_int_equal(g, 0);
        fs_compare(&d, 0, 2, &g);
        if (g != fs_kind_levels(cases[k].kind) - 1)
            fail_msg("%s: \"%s\" and \"%s\" at level %u, want the last",
                     fs_kind_name(cases[k].kind), cases[k].a, cases[k].b, g);
        assert_string_equal(fs_kind_level_name(cases[k].kind, 0), "null");
    }
    /* a forename that equals the other record's surname: that surname null on the other side */
    const char *swap[] = {"john", NULL, NULL, "john"};
    fs_data_t d = {.nrecords = 2, .nfields = 2, .values = swap};
    d.kinds[0] = FS_KIND_FORENAME;
    d.kinds[1] = FS_KIND_SURNAME;
    uint8_t g[2];
    fs_compare(&d, 0, 1, g);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[1], 0);
}

/* EM: a field null in every pair is no evidence, its m stays where it started; with some pairs
 * null, its m over the levels other than null still sums to 1 and is the same as without the
 * null pairs when the other fields leave no doubt. */
static void em_leaves_null_out(void **state)
{
    (void)state;
    size_t nlevels[2] = {3, 3};
    double u[2 * FS_MAX_LEVELS] = {0, 0.01, 0.99, 0, 0, 0, 0, 0.1, 0.9};
    /* field 0 certain; field 1: matches agree 3 times in 4 when known */
    uint8_t with_null[] = {1, 1, 1, 1, 1, 1, 1, 2, 1, 0, 1, 0, 2, 2, 2, 2, 2, 0, 2, 2};
    uint8_t without[] = {1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2};
    double m1[2 * FS_MAX_LEVELS] = {0, 0.9, 0.1, 0, 0, 0, 0, 0.9, 0.1};
    double m2[2 * FS_MAX_LEVELS] = {0, 0.9, 0.1, 0, 0, 0, 0, 0.9, 0.1};
    double prior1 = 0.5, prior2 = 0.5;
    fs_em(with_null, 10, 2, nlevels, u, m1, &prior1, 200);
    fs_em(without, 7, 2, nlevels, u, m2, &prior2, 200);
    assert_near(m1[FS_MAX_LEVELS + 1] + m1[FS_MAX_LEVELS + 2], 1.0, 1e-9);
    assert_near(m1[FS_MAX_LEVELS + 1], m2[FS_MAX_LEVELS + 1], 0.02);
    assert_near(m1[FS_MAX_LEVELS + 1], 0.75, 0.02);
    uint8_t all_null[] = {1, 0, 1, 0, 2, 0, 2, 0};
    double m3[2 * FS_MAX_LEVELS] = {0, 0.9, 0.1, 0, 0, 0, 0, 0.7, 0.3};
    double prior3 = 0.5;
    fs_em(all_null, 4, 2, nlevels, u, m3, &prior3, 200);
    assert_near(m3[FS_MAX_LEVELS + 1], 0.7, 0);
    assert_near(m3[FS_MAX_LEVELS + 2], 0.3, 0);
}

enum { F_FORE, F_SUR, F_DOB, F_PC, F_NHS, NF };

static void levels_per_kind(void **state)
{
    (void)state;
    const char *values[][NF] = {
        {"john", "smith", "19501231", "SW1A 1AA", "9434765919"},
        {"smith", "john", "19503112", "SW1A 1AB", "9434765991"},
        {"jon", "smyth", "19501230", "SW1A 2AA", NULL},
        {"peter", "jones", "19510601", "SW2 1AA", "4010232137"},
        {"john", "smith", "19400101", "SE1 9AA", "9434765919"},
    };
    fs_data_t d = {.nrecords = 5, .nfields = NF, .values = &values[0][0]};
    d.kinds[F_FORE] = FS_KIND_FORENAME;
    d.kinds[F_SUR] = FS_KIND_SURNAME;
    d.kinds[F_DOB] = FS_KIND_DOB;
    d.kinds[F_PC] = FS_KIND_POSTCODE;
    d.kinds[F_NHS] = FS_KIND_NHS_NUMBER;
    uint8_t g[NF];
    fs_compare(&d, 0, 0, g);
    for (size_t f = 0; f < NF; f++)
        assert_int_equal(g[f], 1); /* exact everywhere */
    fs_compare(&d, 0, 1, g);
    assert_int_equal(g[F_FORE], 2); /* names swapped */
    assert_int_equal(g[F_SUR], 2);
    assert_int_equal(g[F_DOB], 2); /* day and month swapped */
    assert_int_equal(g[F_PC], 2);  /* same sector */
    assert_int_equal(g[F_NHS], 2); /* one transposition */
    fs_compare(&d, 0, 2, g);
    assert_int_equal(g[F_FORE], 3); /* Jaro-Winkler john/jon 0.93 */
    assert_int_equal(g[F_SUR], 4);  /* smith/smyth 0.89 */
    assert_int_equal(g[F_DOB], 3);  /* one component off */
    assert_int_equal(g[F_PC], 3);   /* same district */
    assert_int_equal(g[F_NHS], 0);  /* null */
    fs_compare(&d, 0, 3, g);
    assert_int_equal(g[F_FORE], 5);
    assert_int_equal(g[F_DOB], 4); /* within a year */
    assert_int_equal(g[F_PC], 4);  /* same area */
    assert_int_equal(g[F_NHS], 3);
    fs_compare(&d, 0, 4, g);
    assert_int_equal(g[F_DOB], 5);
    assert_int_equal(g[F_PC], 5);
}

/* 40 people, each twice, the copy with a typo; surname "smith" for 20 of them. */
static void model_on_a_small_population(void **state)
{
    (void)state;
    static char buf[80][4][16];
    static const char *values[80 * 4];
    static const char *fore[] = {"anne", "bella", "carl", "dora", "edwin", "fred", "gina",
                                 "hugo", "ivy",   "jack", "kate", "liam",  "mona", "nick",
                                 "olga", "paul",  "rita", "sam",  "tina",  "vic"};
    for (size_t p = 0; p < 40; p++)
        for (size_t copy = 0; copy < 2; copy++) {
            size_t r = p * 2 + copy;
            snprintf(buf[r][0], 16, "%s", fore[p % 20]);
            if (p < 20)
                snprintf(buf[r][1], 16, "smith");
            else
                snprintf(buf[r][1], 16, "rare%c%c", (char)('a' + p % 26), (char)('a' + p / 26));
            snprintf(buf[r][2], 16, "19%02zu%02zu%02zu", 30 + p, 1 + p % 12, 1 + p % 28);
            snprintf(buf[r][3], 16, "%07zu", 1000000 + p * 7919);
            if (copy == 1)
                buf[r][3][6] = buf[r][3][6] == '9' ? '0' : (char)(buf[r][3][6] + 1);
            for (size_t f = 0; f < 4; f++)
                values[r * 4 + f] = buf[r][f];
        }
    fs_data_t d = {.nrecords = 80, .nfields = 4, .values = values};
    d.kinds[0] = FS_KIND_FORENAME;
    d.kinds[1] = FS_KIND_SURNAME;
    d.kinds[2] = FS_KIND_DOB;
    d.kinds[3] = FS_KIND_NUMBER;
    fs_result_t res;
    assert_int_equal(fs_link(&d, 7, 0.5, &res), 0);
    for (size_t p = 0; p < 40; p++) {
        assert_int_equal(res.cluster[p * 2], p * 2); /* stable id: the smallest index */
        assert_int_equal(res.cluster[p * 2 + 1], p * 2);
    }
    assert_true(res.prior > 0 && res.prior < 0.1);
    fs_result_free(&res);

    /* term frequency: an exact "smith" is worth less than an exact rare surname */
    fs_model_t *model = fs_model_new(&d);
    assert_non_null(model);
    uint64_t *pairs;
    size_t npairs;
    assert_int_equal(blocking_candidates(&d, &pairs, &npairs, NULL), 0);
    assert_int_equal(fs_model_train(model, pairs, npairs, 7), 0);
    double p_common, p_rare;
    double w_common = fs_model_score(model, 0, 1, &p_common); /* smith */
    double w_rare = fs_model_score(model, 60, 61, &p_rare);   /* rare surname */
    /* smith, half the records, weighs less; a rare surname keeps log2(m / u), never more */
    assert_true(w_rare > w_common + 0.5);
    assert_true(fs_model_m(model, 0, 1) > fs_model_u(model, 0, 1));

    /* the waterfall adds up to the score: the term-frequency adjustment lowers "smith" */
    fs_explain_t x;
    fs_model_explain(model, 0, 1, &x);
    assert_near(x.total, w_common, 1e-6);
    assert_near(x.probability, p_common, 1e-12);
    double sum = 0;
    for (size_t f = 0; f < 4; f++) {
        assert_near(x.weight[f], x.level[f] ? log2(x.m[f] / x.u[f]) : 0, 1e-9);
        sum += x.weight[f] + x.tf[f];
    }
    assert_near(sum, x.total, 1e-9);
    assert_true(x.tf[1] < 0);        /* smith: a common surname */
    assert_near(x.tf[2], 0, 0);      /* dob: no adjustment */
    assert_int_equal(x.level[3], 2); /* the copy's number has a typo */
    assert_near(x.log2_prior_odds, log2(fs_model_prior(model) / (1 - fs_model_prior(model))), 1e-9);
    /* the candidates trained on score from the levels kept, as compared afresh; no NHS number:
     * nothing apart */
    for (size_t k = 0; k < npairs; k++) {
        double pa, pb;
        assert_near(fs_model_score_trained(model, pairs, k, &pa),
                    fs_model_score(model, FS_PAIR_LEFT(pairs[k]), FS_PAIR_RIGHT(pairs[k]), &pb),
                    1e-12);
        assert_near(pa, pb, 1e-12);
        assert_false(fs_model_apart_trained(model, pairs, k));
    }

    /* a blank weighs nothing: the copy without its number scores what it scores on the rest */
    const char *saved = values[1 * 4 + 3];
    values[1 * 4 + 3] = NULL;
    fs_model_t *blank = fs_model_new(&d);
    assert_non_null(blank);
    assert_int_equal(fs_model_train(blank, pairs, npairs, 7), 0);
    fs_model_explain(blank, 0, 1, &x);
    assert_int_equal(x.level[3], 0);
    assert_near(x.weight[3], 0, 0);
    assert_near(x.total, x.weight[0] + x.tf[0] + x.weight[1] + x.tf[1] + x.weight[2], 1e-9);
    fs_model_destroy(&blank);
    values[1 * 4 + 3] = saved;
    free(pairs);
    fs_model_destroy(&model);
    assert_null(model);
}

static void nhs_number_and_dob_link_at_once(void **state)
{
    (void)state;
    const char *values[] = {"4010232137", "19501231", "alice", "4010232137", "19501231", "bob"};
    fs_data_t d = {.nrecords = 2, .nfields = 3, .values = values};
    d.kinds[0] = FS_KIND_NHS_NUMBER;
    d.kinds[1] = FS_KIND_DOB;
    d.kinds[2] = FS_KIND_FORENAME;
    fs_model_t *model = fs_model_new(&d);
    uint64_t pair = FS_PAIR(0, 1);
    assert_int_equal(fs_model_train(model, &pair, 1, 1), 0);
    double p;
    fs_model_score(model, 0, 1, &p);
    assert_near(p, 1.0, 0);
    assert_false(fs_model_apart_trained(model, &pair, 0));
    fs_model_destroy(&model);
}

/* Two valid NHS numbers more than a digit apart (twins: the rest agrees) are apart; a typo of one
 * digit is not. */
static void different_valid_nhs_numbers_apart(void **state)
{
    (void)state;
    const char *values[] = {"4010232137", "19501231",   "alice",    "4857773457", "19501231",
                            "alice",      "4010232138", "19501231", "alice"};
    fs_data_t d = {.nrecords = 3, .nfields = 3, .values = values};
    d.kinds[0] = FS_KIND_NHS_NUMBER;
    d.kinds[1] = FS_KIND_DOB;
    d.kinds[2] = FS_KIND_FORENAME;
    fs_model_t *model = fs_model_new(&d);
    uint64_t pairs[] = {FS_PAIR(0, 1), FS_PAIR(0, 2)};
    assert_int_equal(fs_model_train(model, pairs, 2, 1), 0);
    assert_true(fs_model_apart_trained(model, pairs, 0));
    assert_false(fs_model_apart_trained(model, pairs, 1));
    fs_model_destroy(&model);
}

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Two files of 3,000 made-up people each, no person in both, born in one decade and living in a
 * few districts, so that blocking on date of birth or district finds many pairs that agree on it
 * by chance. Nothing may link: the model must not take the agreement blocking selected for a
 * class of matches. Then file B gets a typo'd copy of 300 people of A, and those must link. */
static void files_sharing_no_one(void **state)
{
    (void)state;
    enum { N = 3000, COPIES = 300, FIELDS = 5 };
    static const char *syl[] = {"an",  "ber", "cal", "dor", "el",  "fin", "gar", "hol",
                                "is",  "jon", "ka",  "lem", "mor", "nis", "ol",  "par",
                                "ros", "sal", "tor", "ul",  "ven", "wil", "yan", "zel"};
    static char buf[2 * N][FIELDS][24];
    static const char *values[2 * N * FIELDS];
    for (size_t r = 0; r < 2 * N; r++) {
        for (size_t f = 0; f < 2; f++) {
            size_t len = 0, nsyl = 2 + rnd() % 2;
            buf[r][f][0] = '\0';
            for (size_t k = 0; k < nsyl; k++)
                len += (size_t)snprintf(buf[r][f] + len, 24 - len, "%s", syl[rnd() % 24]);
        }
        snprintf(buf[r][2], 24, "194%d%02d%02d", (int)(rnd() % 10), 1 + (int)(rnd() % 12),
                 1 + (int)(rnd() % 28));
        snprintf(buf[r][3], 24, "LS%d %d%c%c", 1 + (int)(rnd() % 5), (int)(rnd() % 10),
                 'A' + (int)(rnd() % 26), 'A' + (int)(rnd() % 26));
        snprintf(buf[r][4], 24, "%s", rnd() % 2 ? "m" : "f");
    }
    for (size_t r = 0; r < 2 * N; r++)
        for (size_t f = 0; f < FIELDS; f++)
            values[r * FIELDS + f] = buf[r][f];
    fs_data_t d = {.nrecords = 2 * N, .nfields = FIELDS, .values = values, .nleft = N};
    d.kinds[0] = FS_KIND_FORENAME;
    d.kinds[1] = FS_KIND_SURNAME;
    d.kinds[2] = FS_KIND_DOB;
    d.kinds[3] = FS_KIND_POSTCODE;
    d.kinds[4] = FS_KIND_SEX;
    fs_result_t res;
    assert_int_equal(fs_link(&d, 1, 0.5, &res), 0);
    size_t links = 0;
    for (size_t r = N; r < 2 * N; r++)
        links += res.cluster[r] != r;
    printf("disjoint files: %zu candidate pairs, prior %.3g, %zu records of B linked\n", res.npairs,
           res.prior, links);
    assert_true(res.npairs > 1000); /* blocking found plenty of lookalikes */
    assert_true(links <= 3);
    fs_result_free(&res);

    for (size_t c = 0; c < COPIES; c++) {
        size_t b = N + c * 7, a = c * 9;
        memcpy(buf[b], buf[a], sizeof buf[b]);
        char *s = buf[b][c % 2]; /* a typo in forename or surname: two letters swapped */
        char t = s[1];
        s[1] = s[2];
        s[2] = t;
    }
    assert_int_equal(fs_link(&d, 1, 0.5, &res), 0);
    size_t right = 0, wrong = 0;
    for (size_t r = N; r < 2 * N; r++) {
        bool copy = (r - N) % 7 == 0 && (r - N) / 7 < COPIES;
        if (res.cluster[r] == r)
            continue;
        if (copy && res.cluster[r] == (r - N) / 7 * 9)
            right++;
        else
            wrong++;
    }
    printf("with %d shared people: prior %.3g, %zu linked right, %zu wrong\n", COPIES, res.prior,
           right, wrong);
    assert_true(right >= COPIES * 99 / 100);
    assert_true(wrong <= 3);
    fs_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_normalised_per_kind),
        cmocka_unit_test(levels_per_kind),
        cmocka_unit_test(missing_is_level_zero_in_every_kind),
        cmocka_unit_test(em_leaves_null_out),
        cmocka_unit_test(model_on_a_small_population),
        cmocka_unit_test(nhs_number_and_dob_link_at_once),
        cmocka_unit_test(different_valid_nhs_numbers_apart),
        cmocka_unit_test(files_sharing_no_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
