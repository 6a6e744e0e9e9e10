/* test_feedback.c - a submission's feedback summary survives the trip from ingest to the ncap
 * command: to its message, packed, unpacked and back, every figure and name as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feedback.h"

static void test_summary_round_trip(void **state)
{
    (void)state;
    feedback_summary_t s = {.audit = "nhfd",
                            .trust = "RH8",
                            .filename = "RH8 2026-11.csv",
                            .received_at = "2026-11-23T13:10:00Z",
                            .rows = 100000,
                            .stored = 99000,
                            .unchanged = 500,
                            .rejected_ingest = 500,
                            .validated = 98000,
                            .rejected_validation = 1200,
                            .in_flight = 1000,
                            .errors = 5000000000ULL,
                            .warnings = 7};
    Ncap__V1__FeedbackSummary m;
    feedback_summary_to_message(&s, &m);
    size_t len = ncap__v1__feedback_summary__get_packed_size(&m);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    ncap__v1__feedback_summary__pack(&m, buf);
    Ncap__V1__FeedbackSummary *back = ncap__v1__feedback_summary__unpack(NULL, len, buf);
    assert_non_null(back);
    feedback_summary_t t;
    feedback_summary_from_message(back, &t);
    assert_string_equal(t.audit, s.audit);
    assert_string_equal(t.trust, s.trust);
    assert_string_equal(t.filename, s.filename);
    assert_string_equal(t.received_at, s.received_at);
    const unsigned long long want[] = {
        s.rows,      s.stored, s.unchanged, s.rejected_ingest, s.validated, s.rejected_validation,
        s.in_flight, s.errors, s.warnings};
    const unsigned long long got[] = {
        t.rows,      t.stored, t.unchanged, t.rejected_ingest, t.validated, t.rejected_validation,
        t.in_flight, t.errors, t.warnings};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_int_equal(got[i], want[i]);
    ncap__v1__feedback_summary__free_unpacked(back, NULL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
