/* test_nhs_number.c - the NHS number check, with worked Modulus 11 vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nhs_number.h"

/* 401 023 2137: 4*10 + 0*9 + 1*8 + 0*7 + 2*6 + 3*5 + 2*4 + 1*3 + 3*2 = 92; 92 mod 11 = 4;
 * 11 - 4 = 7, the last digit. */
static void test_valid_number_in_each_layout(void **state)
{
    (void)state;
    char d[11];
    assert_int_equal(nhs_number_check("4010232137", d), NHS_NUMBER_VALID);
    assert_string_equal(d, "4010232137");
    assert_int_equal(nhs_number_check("401 023 2137", d), NHS_NUMBER_VALID);
    assert_string_equal(d, "4010232137");
    assert_int_equal(nhs_number_check("401-023-2137", d), NHS_NUMBER_VALID);
    assert_string_equal(d, "4010232137");
    assert_int_equal(nhs_number_check("  401 023 2137 ", d), NHS_NUMBER_VALID);
    assert_int_equal(nhs_number_check("6409384564", d), NHS_NUMBER_VALID);
    assert_int_equal(nhs_number_check("7382910458", d), NHS_NUMBER_VALID);
}

static void test_check_digit_worked_vectors(void **state)
{
    (void)state;
    assert_int_equal(nhs_number_check_digit("401023213"), 7);
    /* 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299; 299 mod 11 = 2; 11 - 2 = 9 */
    assert_int_equal(nhs_number_check_digit("943476591"), 9);
    /* 1*10 = 10; 10 mod 11 = 10; 11 - 10 = 1 */
    assert_int_equal(nhs_number_check_digit("100000000"), 1);
    /* 2*10 + 1*2 = 22; 22 mod 11 = 0; 11 - 0 = 11, written 0 */
    assert_int_equal(nhs_number_check_digit("200000001"), 0);
    /* 10+18+24+28+30+30+28+24+18 = 210; 210 mod 11 = 1; 11 - 1 = 10: no valid number */
    assert_int_equal(nhs_number_check_digit("123456789"), 10);
}

static void test_test_range_passes_the_check(void **state)
{
    (void)state;
    char d[11];
    assert_int_equal(nhs_number_check("943 476 5919", d), NHS_NUMBER_TEST);
    assert_string_equal(d, "9434765919");
    assert_int_equal(nhs_number_check("943-476-5919", d), NHS_NUMBER_TEST);
}

static void test_wrong_check_digit(void **state)
{
    (void)state;
    char d[11];
    assert_int_equal(nhs_number_check("4010232138", d), NHS_NUMBER_CHECKSUM);
    assert_string_equal(d, "4010232138"); /* the digits are still given back */
    /* two adjacent digits swapped: the weighted sum changes, so the check fails */
    assert_int_equal(nhs_number_check("4100232137", d), NHS_NUMBER_CHECKSUM);
    /* remainder 10: no check digit can make it valid */
    for (char c = '0'; c <= '9'; c++) {
        char s[11] = "123456789";
        s[9] = c;
        s[10] = '\0';
        assert_int_equal(nhs_number_check(s, d), NHS_NUMBER_CHECKSUM);
    }
    assert_int_equal(nhs_number_check("2000000010", d), NHS_NUMBER_VALID);
}

static void test_every_repeated_digit_is_a_placeholder(void **state)
{
    (void)state;
    /* the weights 10..2 sum to 54 = 10 mod 11, so d repeated gives check digit d: all ten pass
     * the check, and none is a real number */
    for (char c = '0'; c <= '9'; c++) {
        char s[11];
        memset(s, c, 10);
        s[10] = '\0';
        char nine[9];
        memcpy(nine, s, 9);
        assert_int_equal(nhs_number_check_digit(nine), c - '0');
        assert_int_equal(nhs_number_check(s, NULL), NHS_NUMBER_PLACEHOLDER);
    }
    assert_int_equal(nhs_number_check("444 444 4444", NULL), NHS_NUMBER_PLACEHOLDER);
}

static void test_layouts_other_than_3_3_4_are_rejected(void **state)
{
    (void)state;
    char d[11] = "x";
    const char *bad[] = {"401023213",     "40102321370",  "4010 232137",  "40 1023 2137",
                         "401  023 2137", "401.023.2137", "401/023/2137", "40102321a7",
                         "401 0232137",   "+4010232137",  "4010232137x",  "401 023 2137 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nhs_number_check(bad[i], d), NHS_NUMBER_FORMAT);
        assert_string_equal(d, "");
    }
}

static void test_empty(void **state)
{
    (void)state;
    char d[11] = "x";
    assert_int_equal(nhs_number_check("", d), NHS_NUMBER_EMPTY);
    assert_string_equal(d, "");
    assert_int_equal(nhs_number_check("   ", d), NHS_NUMBER_EMPTY);
    assert_int_equal(nhs_number_check(NULL, d), NHS_NUMBER_EMPTY);
}

static void test_status_text(void **state)
{
    (void)state;
    assert_string_equal(nhs_number_status_text(NHS_NUMBER_VALID), "valid");
    assert_string_equal(nhs_number_status_text(NHS_NUMBER_CHECKSUM), "check digit does not match");
    assert_non_null(strstr(nhs_number_status_text(NHS_NUMBER_TEST), "test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_number_in_each_layout),
        cmocka_unit_test(test_check_digit_worked_vectors),
        cmocka_unit_test(test_test_range_passes_the_check),
        cmocka_unit_test(test_wrong_check_digit),
        cmocka_unit_test(test_every_repeated_digit_is_a_placeholder),
        cmocka_unit_test(test_layouts_other_than_3_3_4_are_rejected),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
