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

/* With lengths given, and the bit-mask matching of strings up to 64 bytes against the plain one
 * for longer strings: the same figures. */
static void known_lengths_and_long_strings(void **state)
{
    (void)state;
    assert_near(string_jaro_n("MARTHAxx", 6, "MARHTAyy", 6), 0.944, 0.0005);
    assert_near(string_jaro_winkler_n("DWAYNE", 6, "DUANE", 5), 0.840, 0.0005);
    /* 70 bytes: a transposition near the end, over the 64-byte fast path */
    char a[71], b[71];
    for (int i = 0; i < 70; i++)
        a[i] = b[i] = (char)('a' + (i * 7) % 26);
    a[70] = b[70] = '\0';
    b[66] = a[67];
    b[67] = a[66];
    double j70 = string_jaro(a, b);
    assert_true(j70 < 1.0 && j70 > 0.99);
    a[64] = b[64] = '\0'; /* the first 64 bytes are equal */
    assert_near(string_jaro(a, b), 1.0, 0);
}

/* Only whether the score reaches the threshold matters: lengths alone rule out JONATHAN/JO
 * (at most (2/8 + 2/2 + 1)/3 = 0.75, and 0.80 with the 2-byte prefix) against 0.85, and the
 * true score comes back whenever it could reach it. */
static void jaro_winkler_at_least(void **state)
{
    (void)state;
    assert_near(string_jaro_winkler_at_least("jonathan", 8, "jo", 2, 0.85), 0.0, 0);
    assert_near(string_jaro_winkler_at_least("jonathan", 8, "jo", 2, 0.70),
                string_jaro_winkler("jonathan", "jo"), 1e-12);
    assert_near(string_jaro_winkler_at_least("MARTHA", 6, "MARHTA", 6, 0.80), 0.961, 0.0005);
}

/* The bound is the distance when it is within it, else bound + 1. */
static void damerau_levenshtein_bounded(void **state)
{
    (void)state;
    assert_int_equal(string_damerau_levenshtein_bounded("6988048", 7, "6988408", 7, 1), 1);
    assert_int_equal(string_damerau_levenshtein_bounded("6988048", 7, "6988048", 7, 0), 0);
    assert_int_equal(string_damerau_levenshtein_bounded("6988048", 7, "6988049", 7, 0), 1);
    assert_int_equal(string_damerau_levenshtein_bounded("kitten", 6, "sitting", 7, 3), 3);
    assert_int_equal(string_damerau_levenshtein_bounded("kitten", 6, "sitting", 7, 2), 3);
    assert_int_equal(string_damerau_levenshtein_bounded("kitten", 6, "sitting", 7, 1), 2);
    /* a shift: every position differs, yet one deletion and one insertion */
    assert_int_equal(string_damerau_levenshtein_bounded("1234567", 7, "2345678", 7, 2), 2);
    assert_int_equal(string_damerau_levenshtein_bounded("1234567", 7, "2345678", 7, 1), 2);
    /* lengths 4 apart, and byte counts far apart */
    assert_int_equal(string_damerau_levenshtein_bounded("12", 2, "123456", 6, 2), 3);
    assert_int_equal(string_damerau_levenshtein_bounded("1111111", 7, "2222222", 7, 2), 3);
    assert_int_equal(string_damerau_levenshtein_bounded("CA", 2, "ABC", 3, 5), 3);
    /* same length, bound 1 (dates, NHS numbers): one substitution or adjacent transposition, at
     * either end too; two of them, or a transposition apart, more */
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "29501231", 8, 1), 1);
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "19501213", 8, 1), 1);
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "91501231", 8, 1), 1);
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "29501232", 8, 1), 2);
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "10591231", 8, 1), 2);
    assert_int_equal(string_damerau_levenshtein_bounded("19501231", 8, "91501213", 8, 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jaro_worked_examples),
        cmocka_unit_test(jaro_winkler_worked_examples),
        cmocka_unit_test(levenshtein_and_osa),
        cmocka_unit_test(soundex_worked_examples),
        cmocka_unit_test(known_lengths_and_long_strings),
        cmocka_unit_test(jaro_winkler_at_least),
        cmocka_unit_test(damerau_levenshtein_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
