/* test_ods_code.c - trust (3 characters) and site (5) ODS codes, and which trust a site belongs to
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ods_code.h"

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(ods_code_kind("RH8"), ODS_CODE_TRUST);
    assert_int_equal(ods_code_kind("R1H"), ODS_CODE_TRUST);
    assert_int_equal(ods_code_kind("RH802"), ODS_CODE_SITE);
    assert_int_equal(ods_code_kind("RRK15"), ODS_CODE_SITE);
    static const char *bad[] = {"",       "RH",    "RH80", "RH8021", "rh8",  "8RH",
                                "RH8-02", "RH 80", "RH8 ", " RH8",   "Rh802"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ods_code_kind(bad[i]) != ODS_CODE_INVALID)
            fail_msg("\"%s\" accepted as an ODS code", bad[i]);
    assert_int_equal(ods_code_kind(NULL), ODS_CODE_INVALID);
}

static void test_site_belongs_to_trust(void **state)
{
    (void)state;
    assert_true(ods_code_site_of("RH802", "RH8"));
    assert_true(ods_code_site_of("RRK15", "RRK"));
    assert_false(ods_code_site_of("RH802", "RRK"));   /* another trust's site */
    assert_false(ods_code_site_of("RH8", "RH8"));     /* a trust is not its own site */
    assert_false(ods_code_site_of("RH802", "RH802")); /* nor a site a trust */
    assert_false(ods_code_site_of("rh802", "RH8"));
    assert_false(ods_code_site_of("RH8-2", "RH8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_site_belongs_to_trust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
