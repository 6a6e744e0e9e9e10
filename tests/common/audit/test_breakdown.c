/* test_breakdown.c - the inequality categories an NHFD record falls in (deprivation decile, ONS
 * ethnic group, sex, age band from the definition's bands), what a missing or odd value gives, and
 * a definition that declares only some breakdowns */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhfd_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "breakdown.h"

typedef char categories_t[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX];

/* The categories of a record with these values (NULL: the field is left out). */
static void categorise(const audit_def_t *def, const char *imd, const char *ethnic, const char *sex,
                       const char *age, categories_t out)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "trust_code", "RR8");
    const char *names[] = {"imd_decile", "ethnic_category", "sex", "age_at_arrival"};
    const char *values[] = {imd, ethnic, sex, age};
    for (size_t i = 0; i < 4; i++)
        if (values[i])
            ncap_record_set(r, names[i], values[i]);
    char err[256] = "";
    if (breakdown_categories(def, r, out, err, sizeof err) != 0)
        fail_msg("breakdown_categories failed: %s", err);
    ncap_record_destroy(&r);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(breakdown_name(BREAKDOWN_IMD_DECILE), "imd_decile");
    assert_string_equal(breakdown_name(BREAKDOWN_ETHNICITY), "ethnicity");
    assert_string_equal(breakdown_name(BREAKDOWN_SEX), "sex");
    assert_string_equal(breakdown_name(BREAKDOWN_AGE), "age");
}

static void test_a_record_in_every_breakdown(void **state)
{
    const audit_def_t *def = *state;
    categories_t c;
    categorise(def, "3", "N", "2", "84", c);
    assert_string_equal(c[BREAKDOWN_IMD_DECILE], "3");
    assert_string_equal(c[BREAKDOWN_ETHNICITY], "black");
    assert_string_equal(c[BREAKDOWN_SEX], "female");
    assert_string_equal(c[BREAKDOWN_AGE], "80-89");
}

/* Every NHS ethnic category in its ONS group */
static void test_ethnic_groups(void **state)
{
    const audit_def_t *def = *state;
    static const struct {
        const char *code, *group;
    } cases[] = {
        {"A", "white"},      {"B", "white"},    {"C", "white"},   {"D", "mixed"},
        {"E", "mixed"},      {"F", "mixed"},    {"G", "mixed"},   {"H", "asian"},
        {"J", "asian"},      {"K", "asian"},    {"L", "asian"},   {"M", "black"},
        {"N", "black"},      {"P", "black"},    {"R", "other"},   {"S", "other"},
        {"Z", "not_stated"}, {"99", "unknown"}, {" A ", "white"}, {"I", "unknown"},
        {"AB", "unknown"},   {"a", "unknown"},
    };
    categories_t c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        categorise(def, NULL, cases[i].code, NULL, NULL, c);
        if (strcmp(c[BREAKDOWN_ETHNICITY], cases[i].group) != 0)
            fail_msg("ethnic category \"%s\": got %s, expected %s", cases[i].code,
                     c[BREAKDOWN_ETHNICITY], cases[i].group);
    }
}

static void test_sex_and_deprivation(void **state)
{
    const audit_def_t *def = *state;
    categories_t c;
    const char *sexes[][2] = {
        {"1", "male"}, {"2", "female"}, {"9", "indeterminate"}, {"X", "unknown"}, {"M", "unknown"}};
    for (size_t i = 0; i < 5; i++) {
        categorise(def, NULL, NULL, sexes[i][0], NULL, c);
        assert_string_equal(c[BREAKDOWN_SEX], sexes[i][1]);
    }
    for (int d = 1; d <= 10; d++) {
        char v[4], want[4];
        snprintf(v, sizeof v, "%d", d);
        snprintf(want, sizeof want, "%d", d);
        categorise(def, v, NULL, NULL, NULL, c);
        assert_string_equal(c[BREAKDOWN_IMD_DECILE], want);
    }
    categorise(def, "11", NULL, NULL, NULL, c); /* out of 1..10 */
    assert_string_equal(c[BREAKDOWN_IMD_DECILE], "unknown");
    categorise(def, " 7 ", NULL, NULL, NULL, c);
    assert_string_equal(c[BREAKDOWN_IMD_DECILE], "7");
}

/* Bands 60, 70, 80, 90: 0-59, 60-69, 70-79, 80-89, 90+, each edge in the band it starts */
static void test_age_bands(void **state)
{
    const audit_def_t *def = *state;
    static const struct {
        const char *age, *band;
    } cases[] = {{"0", "0-59"},     {"59", "0-59"},  {"60", "60-69"}, {"69", "60-69"},
                 {"70", "70-79"},   {"89", "80-89"}, {"90", "90+"},   {"104", "90+"},
                 {"-1", "unknown"}, {"", "unknown"}};
    categories_t c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        categorise(def, NULL, NULL, NULL, cases[i].age, c);
        if (strcmp(c[BREAKDOWN_AGE], cases[i].band) != 0)
            fail_msg("age %s: got %s, expected %s", cases[i].age, c[BREAKDOWN_AGE], cases[i].band);
    }
}

static void test_missing_values_are_unknown(void **state)
{
    const audit_def_t *def = *state;
    categories_t c;
    categorise(def, NULL, NULL, NULL, NULL, c);
    for (int b = 0; b < BREAKDOWN_COUNT; b++)
        assert_string_equal(c[b], "unknown");
    categorise(def, "", " ", "", "", c);
    for (int b = 0; b < BREAKDOWN_COUNT; b++)
        assert_string_equal(c[b], "unknown");
}

/* A value that is not of its type cannot be placed: an error, never "unknown" */
static void test_unreadable_numbers_are_errors(void **state)
{
    const audit_def_t *def = *state;
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "age_at_arrival", "eighty");
    categories_t c;
    char err[256] = "";
    assert_int_equal(breakdown_categories(def, r, c, err, sizeof err), -1);
    assert_string_equal(err, "breakdown age: \"age_at_arrival\" is \"eighty\", expected a number");
    ncap_record_set(r, "age_at_arrival", "80");
    ncap_record_set(r, "imd_decile", "3rd");
    assert_int_equal(breakdown_categories(def, r, c, err, sizeof err), -1);
    assert_string_equal(err, "breakdown imd_decile: \"imd_decile\" is \"3rd\", expected a number");
    ncap_record_destroy(&r);
}

static void test_category_lists(void **state)
{
    const audit_def_t *def = *state;
    char list[BREAKDOWN_MAX_CATEGORIES][BREAKDOWN_CATEGORY_MAX];
    size_t n = breakdown_category_list(def, BREAKDOWN_AGE, list, BREAKDOWN_MAX_CATEGORIES);
    assert_int_equal(n, 6);
    const char *ages[] = {"0-59", "60-69", "70-79", "80-89", "90+", "unknown"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list[i], ages[i]);
    n = breakdown_category_list(def, BREAKDOWN_ETHNICITY, list, BREAKDOWN_MAX_CATEGORIES);
    assert_int_equal(n, 7);
    assert_string_equal(list[0], "white");
    assert_string_equal(list[5], "not_stated");
    assert_string_equal(list[6], "unknown");
    n = breakdown_category_list(def, BREAKDOWN_IMD_DECILE, list, BREAKDOWN_MAX_CATEGORIES);
    assert_int_equal(n, 11);
    assert_string_equal(list[9], "10");
    n = breakdown_category_list(def, BREAKDOWN_SEX, list, BREAKDOWN_MAX_CATEGORIES);
    assert_int_equal(n, 4);
    assert_string_equal(list[2], "indeterminate");
    /* the list is cut at max */
    assert_int_equal(breakdown_category_list(def, BREAKDOWN_AGE, list, 2), 2);
}

/* A definition declaring only sex and age: the others are "" and have no categories; the age of
 * a band one year wide is labelled FROM-FROM */
static void test_undeclared_breakdowns_are_empty(void **state)
{
    (void)state;
    char path[] = "/tmp/ncap_test_breakdown_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *text = "audit: demo\n"
                       "name: Demo\n"
                       "dataset_version: \"1\"\n"
                       "record_key: id\n"
                       "trust_field: trust\n"
                       "site_field: site\n"
                       "period_field: arrived\n"
                       "opt_out_applies: false\n"
                       "fields:\n"
                       "  - {name: id, type: string}\n"
                       "  - {name: trust, type: ods_code}\n"
                       "  - {name: site, type: ods_code}\n"
                       "  - {name: arrived, type: datetime}\n"
                       "  - {name: gender, type: code, standard: stated_gender}\n"
                       "  - {name: age_years, type: decimal}\n"
                       "breakdowns: {sex: gender, age: age_years, age_bands: [18, 19, 65]}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512] = "";
    audit_def_t *def = audit_def_load(path, err, sizeof err);
    unlink(path);
    if (!def)
        fail_msg("%s", err);
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "gender", "1");
    ncap_record_set(r, "age_years", "18.5");
    categories_t c;
    assert_int_equal(breakdown_categories(def, r, c, err, sizeof err), 0);
    assert_string_equal(c[BREAKDOWN_IMD_DECILE], "");
    assert_string_equal(c[BREAKDOWN_ETHNICITY], "");
    assert_string_equal(c[BREAKDOWN_SEX], "male");
    assert_string_equal(c[BREAKDOWN_AGE], "18-18");
    ncap_record_set(r, "age_years", "17.99");
    assert_int_equal(breakdown_categories(def, r, c, err, sizeof err), 0);
    assert_string_equal(c[BREAKDOWN_AGE], "0-17");
    char list[BREAKDOWN_MAX_CATEGORIES][BREAKDOWN_CATEGORY_MAX];
    assert_int_equal(
        breakdown_category_list(def, BREAKDOWN_ETHNICITY, list, BREAKDOWN_MAX_CATEGORIES), 0);
    assert_null(breakdown_field(def, BREAKDOWN_IMD_DECILE));
    assert_string_equal(breakdown_field(def, BREAKDOWN_AGE), "age_years");
    ncap_record_destroy(&r);
    audit_def_destroy(&def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_a_record_in_every_breakdown),
        cmocka_unit_test(test_ethnic_groups),
        cmocka_unit_test(test_sex_and_deprivation),
        cmocka_unit_test(test_age_bands),
        cmocka_unit_test(test_missing_values_are_unknown),
        cmocka_unit_test(test_unreadable_numbers_are_errors),
        cmocka_unit_test(test_category_lists),
        cmocka_unit_test(test_undeclared_breakdowns_are_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
