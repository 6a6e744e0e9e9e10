/* test_linkage_fold.c - when ncap-linkd folds its quality counts' changes after a commit
 * (linkage_fold_due): at the first commit; at most every LINKAGE_FOLD_MS while it writes; and,
 * while it writes nothing (an idle sweep every few seconds), only every LINKAGE_FOLD_IDLE_MS, so
 * that an idle sweep no longer pays the fold's read of the emptied pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "linkage_stage.h"

static void test_first_commit_folds(void **state)
{
    (void)state;
    linkage_t lk = {0};
    assert_true(linkage_fold_due(&lk, 5));
}

static void test_writing_folds_at_most_every_fold_ms(void **state)
{
    (void)state;
    linkage_t lk = {.folded_ms = 100000, .unfolded = true};
    assert_false(linkage_fold_due(&lk, 100000 + LINKAGE_FOLD_MS - 1));
    assert_true(linkage_fold_due(&lk, 100000 + LINKAGE_FOLD_MS));
}

static void test_idle_folds_only_every_idle_ms(void **state)
{
    (void)state;
    linkage_t lk = {.folded_ms = 100000, .unfolded = false};
    assert_false(linkage_fold_due(&lk, 100000 + LINKAGE_FOLD_MS));
    assert_false(linkage_fold_due(&lk, 100000 + LINKAGE_FOLD_IDLE_MS - 1));
    /* another instance's changes, left when it stopped, are folded by then */
    assert_true(linkage_fold_due(&lk, 100000 + LINKAGE_FOLD_IDLE_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_commit_folds),
        cmocka_unit_test(test_writing_folds_at_most_every_fold_ms),
        cmocka_unit_test(test_idle_folds_only_every_idle_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
