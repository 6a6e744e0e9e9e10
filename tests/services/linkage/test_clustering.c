/* test_clustering.c - scored pairs into people: connected components with the smallest record
 * index as a stable id, whatever the order of the pairs, the threshold inclusive; groups that hold
 * together (a record bridging two people joins one, the two stay apart; a record matching one
 * member of a group but not the others stays out; two files count only pairs across them); and
 * one-to-one (a death links to at most one patient), the most probable pair first, ties to the
 * smaller pair. */
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

/* Two people of two records each (0-1, 2-3) and a record 4 that looks like both. Connected
 * components make one person of all five; groups that hold together put 4 with the one it matches
 * best and keep the other apart, whatever the order of the pairs. */
static void cohesive_bridge_merges_no_one(void **state)
{
    (void)state;
    uint64_t pr[] = {FS_PAIR(0, 1), FS_PAIR(2, 3), FS_PAIR(0, 4), FS_PAIR(1, 4),
                     FS_PAIR(2, 4), FS_PAIR(3, 4), FS_PAIR(0, 2), FS_PAIR(1, 3)};
    double pp[] = {0.99, 0.99, 0.95, 0.9, 0.93, 0.9, 0.001, 0.002};
    size_t cluster[5];
    assert_int_equal(clustering_components(5, pr, pp, 8, 0.5, cluster), 0);
    size_t all[] = {0, 0, 0, 0, 0};
    assert_memory_equal(cluster, all, sizeof all);
    assert_int_equal(clustering_cohesive(5, 0, pr, pp, NULL, 8, 0.5, cluster), 0);
    size_t want[] = {0, 0, 2, 2, 0};
    assert_memory_equal(cluster, want, sizeof want);
    /* reversed order, and the unlikely pr between the two people not scored at all */
    uint64_t rev[6];
    double rprob[6];
    for (size_t k = 0; k < 6; k++)
        rev[k] = pr[5 - k], rprob[k] = pp[5 - k];
    assert_int_equal(clustering_cohesive(5, 0, rev, rprob, NULL, 6, 0.5, cluster), 0);
    assert_memory_equal(cluster, want, sizeof want);
}

static void cohesive_member_must_match_the_group(void **state)
{
    (void)state;
    /* 2 matches 1 but was scored against 0 as a non-match: it stays out; 3 matches both 0 and 1 */
    uint64_t pr[] = {FS_PAIR(0, 1), FS_PAIR(1, 2), FS_PAIR(0, 2), FS_PAIR(0, 3), FS_PAIR(1, 3)};
    double pp[] = {0.99, 0.9, 0.01, 0.8, 0.7};
    size_t cluster[4];
    assert_int_equal(clustering_cohesive(4, 0, pr, pp, NULL, 5, 0.5, cluster), 0);
    size_t want[] = {0, 0, 2, 0};
    assert_memory_equal(cluster, want, sizeof want);
    /* at the threshold exactly: a pair joins, as in components */
    uint64_t one[] = {FS_PAIR(0, 1)};
    double at[] = {0.5};
    assert_int_equal(clustering_cohesive(4, 0, one, at, NULL, 1, 0.5, cluster), 0);
    size_t pair[] = {0, 0, 2, 3};
    assert_memory_equal(cluster, pair, sizeof pair);
}

/* Two files: records 0 and 1 in A, 2 and 3 in B; 0-2 and 1-3 match, and 0-1 and 2-3 could never
 * be scored (one file each). Group {0, 2} and group {1, 3} join when the pr across the files
 * between them match: 0-3 and 1-2. */
static void cohesive_two_files_count_pairs_across(void **state)
{
    (void)state;
    uint64_t pr[] = {FS_PAIR(0, 2), FS_PAIR(1, 3), FS_PAIR(0, 3), FS_PAIR(1, 2)};
    double pp[] = {0.99, 0.98, 0.9, 0.9};
    size_t cluster[4];
    assert_int_equal(clustering_cohesive(4, 2, pr, pp, NULL, 4, 0.5, cluster), 0);
    size_t one[] = {0, 0, 0, 0};
    assert_memory_equal(cluster, one, sizeof one);
    /* counted as one file, the two unscorable pr would count as non-matches: 1.8 / 4 */
    assert_int_equal(clustering_cohesive(4, 0, pr, pp, NULL, 4, 0.5, cluster), 0);
    size_t two[] = {0, 1, 0, 1};
    assert_memory_equal(cluster, two, sizeof two);
}

/* Records 0 and 1 match well (0.99), as do 2 and 3 (0.98) and every pair across (0.9); but 1-2
 * is apart (two different valid NHS numbers): the two groups never join, and 0.9 across does not
 * override it. */
static void cohesive_apart_never_joins(void **state)
{
    (void)state;
    uint64_t pr[] = {FS_PAIR(0, 1), FS_PAIR(2, 3), FS_PAIR(0, 2),
                     FS_PAIR(0, 3), FS_PAIR(1, 2), FS_PAIR(1, 3)};
    double pp[] = {0.99, 0.98, 0.9, 0.9, 0.9, 0.9};
    uint8_t apart[] = {0, 0, 0, 0, 1, 0};
    size_t cluster[4];
    assert_int_equal(clustering_cohesive(4, 0, pr, pp, apart, 6, 0.5, cluster), 0);
    size_t two[] = {0, 0, 2, 2};
    assert_memory_equal(cluster, two, sizeof two);
    assert_int_equal(clustering_cohesive(4, 0, pr, pp, NULL, 6, 0.5, cluster), 0);
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
        cmocka_unit_test(cohesive_bridge_merges_no_one),
        cmocka_unit_test(cohesive_member_must_match_the_group),
        cmocka_unit_test(cohesive_two_files_count_pairs_across),
        cmocka_unit_test(cohesive_apart_never_joins),
        cmocka_unit_test(one_to_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
