/* test_term_freq.c - the table of values' frequencies ncap-linkd scores with: a value is found
 * only under its own field, amounts add up, thousands of values stay reachable as the table grows,
 * and every value can be listed once for storing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "term_freq.h"

static void values_are_found_under_their_field(void **state)
{
    (void)state;
    term_freq_t *tf = term_freq_new();
    assert_non_null(tf);
    assert_true(term_freq_get(tf, 2, "smith") == 0);
    assert_int_equal(term_freq_add(tf, 2, "smith", 0.0126), 0);
    assert_int_equal(term_freq_add(tf, 1, "mary", 0.02), 0);
    assert_int_equal(term_freq_add(tf, 1, "mary", 0.01), 0); /* amounts add up */
    assert_true(term_freq_get(tf, 2, "smith") == 0.0126);
    assert_true(term_freq_get(tf, 1, "smith") == 0); /* a forename "smith" is another value */
    assert_true(fabs(term_freq_get(tf, 1, "mary") - 0.03) < 1e-15);
    assert_true(term_freq_get(tf, 1, "mar") == 0);
    assert_int_equal(term_freq_size(tf), 2);
    term_freq_destroy(&tf);
    assert_null(tf);
    term_freq_destroy(&tf); /* harmless twice */
}

static void many_values_stay_reachable_and_are_listed_once(void **state)
{
    (void)state;
    term_freq_t *tf = term_freq_new();
    assert_non_null(tf);
    char v[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof v, "name%d", i);
        assert_int_equal(term_freq_add(tf, (size_t)(i % 3), v, i + 1), 0);
    }
    assert_int_equal(term_freq_size(tf), 20000);
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof v, "name%d", i);
        assert_true(term_freq_get(tf, (size_t)(i % 3), v) == i + 1);
        assert_true(term_freq_get(tf, (size_t)((i + 1) % 3), v) == 0);
    }
    double sum = 0;
    for (size_t k = 0; k < term_freq_size(tf); k++) {
        size_t field;
        const char *value;
        double freq;
        term_freq_entry(tf, k, &field, &value, &freq);
        assert_true(term_freq_get(tf, field, value) == freq);
        sum += freq;
    }
    assert_true(sum == 20000.0 * 20001.0 / 2);
    term_freq_destroy(&tf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_are_found_under_their_field),
        cmocka_unit_test(many_values_stay_reachable_and_are_listed_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
