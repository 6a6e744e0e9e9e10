/* test_postcode.c - UK postcodes in the NHS Data Dictionary's format and the ZZ99 pseudo-postcodes:
 * what is accepted, how it is normalised, and what is refused */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "postcode.h"

static void assert_postcode(const char *in, postcode_status_t want, const char *normal)
{
    char out[9];
    postcode_status_t st = postcode_check(in, out);
    if (st != want)
        fail_msg("\"%s\": status %d (%s), expected %d (%s)", in, st, postcode_status_text(st), want,
                 postcode_status_text(want));
    assert_string_equal(out, normal);
}

static void test_every_outward_shape(void **state)
{
    (void)state;
    assert_postcode("M1 1AE", POSTCODE_VALID, "M1 1AE");     /* A9 */
    assert_postcode("B33 8TH", POSTCODE_VALID, "B33 8TH");   /* A99 */
    assert_postcode("CR2 6XH", POSTCODE_VALID, "CR2 6XH");   /* AA9 */
    assert_postcode("DN55 1PT", POSTCODE_VALID, "DN55 1PT"); /* AA99 */
    assert_postcode("W1A 0AX", POSTCODE_VALID, "W1A 0AX");   /* A9A */
    assert_postcode("EC1A 1BB", POSTCODE_VALID, "EC1A 1BB"); /* AA9A */
    assert_postcode("GIR 0AA", POSTCODE_VALID, "GIR 0AA");   /* the one historic exception */
}

static void test_spacing_and_case_are_normalised(void **state)
{
    (void)state;
    assert_postcode("ls1 4ap", POSTCODE_VALID, "LS1 4AP");
    assert_postcode("LS14AP", POSTCODE_VALID, "LS1 4AP");
    assert_postcode("  LS1 4AP\t", POSTCODE_VALID, "LS1 4AP");
    /* the Data Dictionary's 8-character form pads the outward code to 4 characters */
    assert_postcode("M1  1AE", POSTCODE_VALID, "M1 1AE");
    assert_postcode("sw1a1aa", POSTCODE_VALID, "SW1A 1AA");
}

static void test_pseudo_postcodes(void **state)
{
    (void)state;
    assert_postcode("ZZ99 3VZ", POSTCODE_NO_FIXED_ABODE, "ZZ99 3VZ");
    assert_postcode("zz993vz", POSTCODE_NO_FIXED_ABODE, "ZZ99 3VZ");
    assert_postcode("ZZ99 3WZ", POSTCODE_NOT_KNOWN, "ZZ99 3WZ");
    assert_postcode("ZZ99 3CZ", POSTCODE_PSEUDO, "ZZ99 3CZ"); /* England, not otherwise stated */
    assert_postcode("ZZ99 3GZ", POSTCODE_PSEUDO, "ZZ99 3GZ"); /* Wales */
    assert_postcode("ZZ99 1WZ", POSTCODE_PSEUDO, "ZZ99 1WZ"); /* Scotland */
    assert_postcode("ZZ99 5EZ", POSTCODE_PSEUDO, "ZZ99 5EZ"); /* a country abroad */
    assert_postcode("ZZ99 3VA", POSTCODE_FORMAT, "");         /* pseudo forms end in Z */
    assert_postcode("ZZ99 VVZ", POSTCODE_FORMAT, "");
}

static void test_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "1M 1AE",    /* starts with a digit */
        "M1 AAE",    /* inward code starts with a letter */
        "M1 1A",     /* inward code too short */
        "EC1AB 1BB", /* outward code too long */
        "M1-1AE",    /* not a space */
        "LS",        /* too short */
        "ABC 1AB",   /* outward AAA */
        "M1 1CE",    /* C never in the inward code */
        "M1 1AI",    /* nor I */
        "QA1 1AA",   /* Q never first */
        "AI1 1AA",   /* I never second */
        "W1I 0AX",   /* I never third in A9A */
        "EC1C 1BB",  /* C never fourth in AA9A */
        "L S1 4AP",  /* a space inside the outward code */
        "LS1 4A P",  /* or inside the inward code */
        "LS1 4AP 1", /* trailing text */
        "ZZ99 3VZ9", /* too long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_postcode(bad[i], POSTCODE_FORMAT, "");
    assert_postcode("", POSTCODE_EMPTY, "");
    assert_postcode("   ", POSTCODE_EMPTY, "");
    char out[9];
    assert_int_equal(postcode_check(NULL, out), POSTCODE_EMPTY);
}

static void test_status_texts(void **state)
{
    (void)state;
    assert_string_equal(postcode_status_text(POSTCODE_NO_FIXED_ABODE),
                        "pseudo-postcode: no fixed abode");
    assert_string_equal(postcode_status_text(POSTCODE_NOT_KNOWN), "pseudo-postcode: not known");
    assert_string_equal(postcode_status_text(POSTCODE_FORMAT), "not a UK postcode such as LS1 4AP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_outward_shape),
        cmocka_unit_test(test_spacing_and_case_are_normalised),
        cmocka_unit_test(test_pseudo_postcodes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_status_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
