/* test_blocking.c - blocking's rules put records whose key agrees into one block and no others:
 * keys are compared as text, so parts that run together alike ("ab" + "c", "a" + "bc") are two
 * blocks; forename and surname swapped share one; a record with a null part is in none; and the
 * candidate pairs are each pair of a block once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "blocking.h"

static void test_parts_never_run_together(void **state)
{
    (void)state;
    /* surname sound code + postcode district */
    const char *values[] = {
        "smith", "ab1 2cd", /* S530 + AB1 */
        "smyth", "ab1 9zz", /* the same block */
        "smith", "ab12 3x", /* S530 + AB12: another */
        "jones", NULL,      /* no block */
        "",      "ab1 2cd", /* no block */
    };
    fs_data_t d = {.nrecords = 5, .nfields = 2, .values = values};
    d.kinds[0] = FS_KIND_SURNAME;
    d.kinds[1] = FS_KIND_POSTCODE;
    blocking_rule_t rule = {2, {0, 1}, {BLOCKING_PART_SOUNDEX, BLOCKING_PART_DISTRICT}};
    uint32_t block[5];
    assert_int_equal(blocking_rule_blocks(&d, &rule, block), 2);
    assert_int_equal(block[0], 0);
    assert_int_equal(block[1], 0);
    assert_int_equal(block[2], 1);
    assert_int_equal(block[3], BLOCKING_NONE);
    assert_int_equal(block[4], BLOCKING_NONE);

    /* two values whose bytes run together alike: "ab" + "c" and "a" + "bc" */
    const char *run[] = {"ab", "c", "a", "bc", "ab", "c"};
    fs_data_t r = {.nrecords = 3, .nfields = 2, .values = run};
    r.kinds[0] = r.kinds[1] = FS_KIND_EXACT;
    blocking_rule_t both = {2, {0, 1}, {BLOCKING_PART_VALUE, BLOCKING_PART_VALUE}};
    assert_int_equal(blocking_rule_blocks(&r, &both, block), 2);
    assert_int_equal(block[0], block[2]);
    assert_int_not_equal(block[0], block[1]);
}

static void test_names_swapped_share_a_block(void **state)
{
    (void)state;
    const char *values[] = {"mary", "smith", "smith", "mary", "mary", "jones"};
    fs_data_t d = {.nrecords = 3, .nfields = 2, .values = values};
    d.kinds[0] = FS_KIND_FORENAME;
    d.kinds[1] = FS_KIND_SURNAME;
    blocking_rule_t rule = {2, {0, 1}, {BLOCKING_PART_SOUNDEX_EITHER_ORDER, BLOCKING_PART_SOUNDEX}};
    uint32_t block[3];
    assert_int_equal(blocking_rule_blocks(&d, &rule, block), 2);
    assert_int_equal(block[0], block[1]);
    assert_int_not_equal(block[0], block[2]);
    uint64_t *pairs;
    size_t npairs, nrules;
    assert_int_equal(blocking_candidates(&d, &pairs, &npairs, &nrules), 0);
    assert_true(nrules >= 1);
    assert_int_equal(npairs, 1);
    assert_true(pairs[0] == FS_PAIR(0, 1));
    free(pairs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_never_run_together),
        cmocka_unit_test(test_names_swapped_share_a_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
