/* test_clustering.c - scored pairs into people: connected components with the smallest record
 * index as a stable id, whatever the order of the pairs, the threshold inclusive; and one-to-one
 * (a death links to at most one patient), the most probable pair first, ties to the smaller pair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clustering.h"
#include "fs_model.h"

/* Seven records: 3-5 likely, 1-5 less so, 0-2 below the threshold, 4-6 near certain. */
static const uint64_t pairs[] = {FS_PAIR(3, 5), FS_PAIR(1, 5), FS_PAIR(0, 2), FS_PAIR(4, 6)};
static const double prob[] = {0.9, 0.6, 0.4, 0.99};

static void components_with_stable_ids(void **state)
{
    (void)state;
    size_t cluster[7];
    assert_int_equal(clustering_components(7, pairs, prob, 4, 0.5, cluster), 0);
    size_t want[] = {0, 1, 2, 1, 4, 1, 4};
    assert_memory_equal(cluster, want, sizeof want);

    /* the pairs in another order: the same ids */
    uint64_t reversed[] = {FS_PAIR(4, 6), FS_PAIR(0, 2), FS_PAIR(1, 5), FS_PAIR(3, 5)};
    double reversed_prob[] = {0.99, 0.4, 0.6, 0.9};
    assert_int_equal(clustering_components(7, reversed, reversed_prob, 4, 0.5, cluster), 0);
    assert_memory_equal(cluster, want, sizeof want);

    /* a chain 0-1-2-3 joins into one person; a pair exactly at the threshold counts */
    uint64_t chain[] = {FS_PAIR(2, 3), FS_PAIR(1, 2), FS_PAIR(0, 1)};
    double at[] = {0.5, 0.5, 0.5};
    assert_int_equal(clustering_components(4, chain, at, 3, 0.5, cluster), 0);
    size_t one[] = {0, 0, 0, 0};
    assert_memory_equal(cluster, one, sizeof one);
}

static void one_to_one(void **state)
{
    (void)state;
    size_t cluster[7];
    /* 5 goes to 3 (0.9), so 1-5 is not taken; 0-2 is below the threshold */
    assert_int_equal(clustering_one_to_one(7, pairs, prob, 4, 0.5, cluster), 0);
    size_t want[] = {0, 1, 2, 3, 4, 3, 4};
    assert_memory_equal(cluster, want, sizeof want);

    /* patients 0 and 1 both match death 2 equally: the smaller pair (0, 2) takes it */
    uint64_t tie[] = {FS_PAIR(1, 2), FS_PAIR(0, 2)};
    double same[] = {0.8, 0.8};
    assert_int_equal(clustering_one_to_one(3, tie, same, 2, 0.5, cluster), 0);
    size_t want_tie[] = {0, 1, 0};
    assert_memory_equal(cluster, want_tie, sizeof want_tie);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(components_with_stable_ids),
        cmocka_unit_test(one_to_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
