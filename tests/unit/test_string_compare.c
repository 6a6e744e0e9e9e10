/* test_string_compare.c - the comparators on the textbook worked examples: Jaro and Jaro-Winkler
 * (Winkler 1990), Levenshtein, optimal string alignment against true Damerau distance, Soundex. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "string_compare.h"

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.6f, want %.6f", got, want);
}

static void jaro_worked_examples(void **state)
{
    (void)state;
    assert_near(string_jaro("MARTHA", "MARHTA"), 0.944, 0.0005);
    assert_near(string_jaro("DWAYNE", "DUANE"), 0.822, 0.0005);
    assert_near(string_jaro("DIXON", "DICKSONX"), 0.767, 0.0005);
    assert_near(string_jaro("CRATE", "TRACE"), 0.733, 0.0005);
    assert_near(string_jaro("same", "same"), 1.0, 0);
    assert_near(string_jaro("", ""), 1.0, 0);
    assert_near(string_jaro("abc", ""), 0.0, 0);
    assert_near(string_jaro("abc", "xyz"), 0.0, 0);
}

static void jaro_winkler_worked_examples(void **state)
{
    (void)state;
    assert_near(string_jaro_winkler("MARTHA", "MARHTA"), 0.961, 0.0005);
    assert_near(string_jaro_winkler("DWAYNE", "DUANE"), 0.840, 0.0005);
    assert_near(string_jaro_winkler("DIXON", "DICKSONX"), 0.813, 0.0005);
    /* symmetric, and the prefix bonus stops at four bytes */
    assert_near(string_jaro_winkler("MARHTA", "MARTHA"), 0.961, 0.0005);
    assert_true(string_jaro_winkler("abcdefgh", "abcdefxy") < 1.0);
}

static void levenshtein_and_osa(void **state)
{
    (void)state;
    assert_int_equal(string_levenshtein("kitten", "sitting"), 3);
    assert_int_equal(string_levenshtein("", "abc"), 3);
    assert_int_equal(string_levenshtein("flaw", "lawn"), 2);
    assert_int_equal(string_levenshtein("6988048", "6988408"), 2);
    /* one transposition is one edit for Damerau, two for Levenshtein */
    assert_int_equal(string_damerau_levenshtein("6988048", "6988408"), 1);
    assert_int_equal(string_damerau_levenshtein("6988048", "6988049"), 1);
    assert_int_equal(string_damerau_levenshtein("kitten", "sitting"), 3);
    /* optimal string alignment edits no substring twice: CA -> ABC is 3, not the true 2 */
    assert_int_equal(string_damerau_levenshtein("CA", "ABC"), 3);
    assert_int_equal(string_damerau_levenshtein("same", "same"), 0);
}

static void soundex_worked_examples(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"Robert", "R163"},   {"Rupert", "R163"},  {"Rubin", "R150"},   {"Ashcraft", "A261"},
        {"Ashcroft", "A261"}, {"Tymczak", "T522"}, {"Pfister", "P236"}, {"Honeyman", "H555"},
        {"Lee", "L000"},      {"o'brien", "O165"}, {"123", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char code[5];
        string_soundex(cases[i][0], code);
        assert_string_equal(code, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jaro_worked_examples),
        cmocka_unit_test(jaro_winkler_worked_examples),
        cmocka_unit_test(levenshtein_and_osa),
        cmocka_unit_test(soundex_worked_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
