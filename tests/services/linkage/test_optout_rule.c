/* test_optout_rule.c - the national data opt-out's rule for one record (optout_rule.h), which
 * ncap-linkd and `ncap release build` both decide with: asked only where the audit applies it and
 * the record has a valid NHS number or a patient; withheld by its own listed number or one of its
 * patient's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "optout_rule.h"

static void test_asked(void **state)
{
    (void)state;
    optout_record_t r = {.nhs_number = "4010232137", .patient_id = 0, .applies = true};
    assert_true(optout_asked(&r));
    r.applies = false;
    assert_false(optout_asked(&r));
    r = (optout_record_t){.nhs_number = "", .patient_id = 0, .applies = true};
    assert_false(optout_asked(&r));
    r.nhs_number = NULL;
    assert_false(optout_asked(&r));
    r.patient_id = 7;
    assert_true(optout_asked(&r));
}

static void test_withholds(void **state)
{
    (void)state;
    optout_record_t r = {.nhs_number = "4010232137", .patient_id = 7, .applies = true};
    assert_true(optout_withholds(&r, true, false));
    assert_true(optout_withholds(&r, false, true));
    assert_false(optout_withholds(&r, false, false));
    /* without a valid number of its own, only the patient's count */
    r.nhs_number = "";
    assert_false(optout_withholds(&r, true, false));
    assert_true(optout_withholds(&r, false, true));
    /* without a patient either, nothing */
    r.patient_id = 0;
    assert_false(optout_withholds(&r, true, true));
    /* an audit the opt-out does not apply to withholds nothing */
    r = (optout_record_t){.nhs_number = "4010232137", .patient_id = 7, .applies = false};
    assert_false(optout_withholds(&r, true, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asked),
        cmocka_unit_test(test_withholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
