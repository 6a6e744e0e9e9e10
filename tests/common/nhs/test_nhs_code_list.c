/* test_nhs_code_list.c - the NHS Data Dictionary's ethnic category and person stated gender, and
 * the ODS national groupings (regions) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhs_code_list.h"

static void test_ethnic_category(void **state)
{
    (void)state;
    nhs_code_list_t l;
    assert_int_equal(nhs_code_list_from_name("ethnic_category", &l), 0);
    assert_int_equal(l, NHS_CODE_LIST_ETHNIC_CATEGORY);
    size_t n = 0;
    const nhs_code_t *codes = nhs_code_list_codes(l, &n);
    assert_int_equal(n, 18); /* A-H (8), J-N (5), P, R, S, Z, 99 */
    assert_string_equal(codes[0].code, "A");
    assert_string_equal(codes[17].code, "99");
    assert_string_equal(nhs_code_list_label(l, "A"), "White - British");
    assert_string_equal(nhs_code_list_label(l, "H"), "Asian or Asian British - Indian");
    assert_string_equal(nhs_code_list_label(l, "J"), "Asian or Asian British - Pakistani");
    assert_string_equal(nhs_code_list_label(l, "N"), "Black or Black British - African");
    assert_string_equal(nhs_code_list_label(l, "P"),
                        "Black or Black British - Any other Black background");
    assert_string_equal(nhs_code_list_label(l, "R"), "Other Ethnic Groups - Chinese");
    assert_string_equal(nhs_code_list_label(l, "S"),
                        "Other Ethnic Groups - Any other ethnic group");
    assert_string_equal(nhs_code_list_label(l, "Z"), "Not stated");
    assert_string_equal(nhs_code_list_label(l, "99"), "Not known");
    /* letters the Data Dictionary skips, lower case, padding, neighbours of 99 */
    static const char *bad[] = {"I",  "O",  "Q", "T",  "U",   "Y", "a", " A",
                                "A ", "AB", "9", "98", "099", "",  "1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nhs_code_list_label(l, bad[i]))
            fail_msg("\"%s\" accepted as an ethnic category", bad[i]);
    assert_null(nhs_code_list_label(l, NULL));
}

static void test_stated_gender(void **state)
{
    (void)state;
    nhs_code_list_t l;
    assert_int_equal(nhs_code_list_from_name("stated_gender", &l), 0);
    assert_int_equal(l, NHS_CODE_LIST_STATED_GENDER);
    size_t n = 0;
    nhs_code_list_codes(l, &n);
    assert_int_equal(n, 4);
    assert_string_equal(nhs_code_list_label(l, "1"), "Male");
    assert_string_equal(nhs_code_list_label(l, "2"), "Female");
    assert_string_equal(nhs_code_list_label(l, "9"), "Indeterminate");
    assert_string_equal(nhs_code_list_label(l, "X"), "Not known");
    static const char *bad[] = {"0", "3", "x", "M", "F", "U", "01", "", " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nhs_code_list_label(l, bad[i]))
            fail_msg("\"%s\" accepted as a stated gender", bad[i]);
}

static void test_national_grouping(void **state)
{
    (void)state;
    nhs_code_list_t l;
    assert_int_equal(nhs_code_list_from_name("national_grouping", &l), 0);
    assert_int_equal(l, NHS_CODE_LIST_NATIONAL_GROUPING);
    size_t n = 0;
    nhs_code_list_codes(l, &n);
    assert_int_equal(n, 11); /* Y54-Y63, W00 */
    assert_string_equal(nhs_national_grouping_name("Y56"), "London");
    assert_string_equal(nhs_national_grouping_name("Y54"), "North of England");
    assert_string_equal(nhs_national_grouping_name("Y55"), "Midlands and East of England");
    assert_string_equal(nhs_national_grouping_name("Y57"), "South of England");
    assert_string_equal(nhs_national_grouping_name("Y63"), "North East and Yorkshire");
    assert_string_equal(nhs_national_grouping_name("W00"), "Wales");
    static const char *bad[] = {"Y53", "Y64", "y56", "Y5", "Y560", "", "Q71", "unknown"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (nhs_national_grouping_name(bad[i]))
            fail_msg("\"%s\" named as a national grouping", bad[i]);
    assert_null(nhs_national_grouping_name(NULL));
}

static void test_names(void **state)
{
    (void)state;
    nhs_code_list_t l = NHS_CODE_LIST_NONE;
    assert_int_equal(nhs_code_list_from_name("ethnicity", &l), -1);
    assert_int_equal(nhs_code_list_from_name("none", &l), -1);
    assert_int_equal(nhs_code_list_from_name(NULL, &l), -1);
    assert_string_equal(nhs_code_list_name(NHS_CODE_LIST_STATED_GENDER), "stated_gender");
    size_t n = 7;
    assert_null(nhs_code_list_codes(NHS_CODE_LIST_NONE, &n));
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethnic_category),
        cmocka_unit_test(test_stated_gender),
        cmocka_unit_test(test_national_grouping),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
