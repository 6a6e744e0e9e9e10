/* test_link_score.c - `ncap link-score` and its core, cluster_score: pairwise and B-cubed
 * precision, recall and F1 on examples worked by hand, two linkages compared, and its input
 * errors. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_score.h"
#include "commands.h"

#include "cmd_run.h"

static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_link_score, "link-score", arg, ap);
    va_end(ap);
    return r;
}

/* The worked example. Six records; the truth has three people, A = {1, 2, 3}, B = {4, 5},
 * C = {6}; the result joins 1 and 2 (X) and puts 3, 4, 5 and 6 together (Y).
 *
 * Cells (truth, result) and their records: (A, X) 2, (A, Y) 1, (B, Y) 2, (C, Y) 1.
 * Pairs: truth C(3,2) + C(2,2) = 4; result C(2,2) + C(4,2) = 1 + 6 = 7; agreeing, within a cell,
 * C(2,2) + C(2,2) = 2 ({1,2} and {4,5}). Precision 2/7, recall 2/4, F1 2PR/(P+R) = 4/11.
 * B-cubed precision, per record the share of its result cluster in its truth cluster:
 * 1: 2/2, 2: 2/2, 3: 1/4, 4: 2/4, 5: 2/4, 6: 1/4; sum 3.5, mean 7/12.
 * B-cubed recall, the share of its truth cluster in its result cluster:
 * 1: 2/3, 2: 2/3, 3: 1/3, 4: 2/2, 5: 2/2, 6: 1/1; sum 14/3, mean 7/9.
 * B-cubed F1 = 2 (7/12)(7/9) / (7/12 + 7/9) = 2/3. */
static const uint32_t ex_truth[6] = {0, 0, 0, 1, 1, 2};
static const uint32_t ex_result[6] = {0, 0, 1, 1, 1, 1};

static void test_worked_example(void **state)
{
    (void)state;
    cluster_score_t s;
    assert_int_equal(cluster_score(ex_truth, ex_result, 6, &s), 0);
    assert_int_equal(s.records, 6);
    assert_int_equal(s.truth_clusters, 3);
    assert_int_equal(s.result_clusters, 2);
    assert_int_equal(s.truth_pairs, 4);
    assert_int_equal(s.result_pairs, 7);
    assert_int_equal(s.agreeing_pairs, 2);
    assert_float_equal(s.precision, 2.0 / 7, 1e-12);
    assert_float_equal(s.recall, 0.5, 1e-12);
    assert_float_equal(s.f1, 4.0 / 11, 1e-12);
    assert_float_equal(s.bcubed_precision, 7.0 / 12, 1e-12);
    assert_float_equal(s.bcubed_recall, 7.0 / 9, 1e-12);
    assert_float_equal(s.bcubed_f1, 2.0 / 3, 1e-12);

    /* the other way round, precision and recall trade places */
    assert_int_equal(cluster_score(ex_result, ex_truth, 6, &s), 0);
    assert_float_equal(s.precision, 0.5, 1e-12);
    assert_float_equal(s.recall, 2.0 / 7, 1e-12);
    assert_float_equal(s.bcubed_precision, 7.0 / 9, 1e-12);
    assert_float_equal(s.bcubed_recall, 7.0 / 12, 1e-12);
}

static void test_same_clusters_other_numbers_score_one(void **state)
{
    (void)state;
    const uint32_t truth[5] = {4, 4, 0, 2, 2}, result[5] = {1, 1, 3, 0, 0};
    cluster_score_t s;
    assert_int_equal(cluster_score(truth, result, 5, &s), 0);
    assert_int_equal(s.agreeing_pairs, 2);
    assert_float_equal(s.f1, 1.0, 0);
    assert_float_equal(s.bcubed_f1, 1.0, 0);
}

/* Nobody seen twice, nothing linked: no pairs on either side, nothing got wrong. Everything
 * linked into one: every pair claimed, a quarter of them right. */
static void test_no_pairs_and_all_in_one(void **state)
{
    (void)state;
    const uint32_t single[4] = {0, 1, 2, 3}, one[4] = {0, 0, 0, 0}, halves[4] = {0, 0, 1, 1};
    cluster_score_t s;
    assert_int_equal(cluster_score(single, single, 4, &s), 0);
    assert_int_equal(s.truth_pairs + s.result_pairs, 0);
    assert_float_equal(s.precision, 1.0, 0);
    assert_float_equal(s.recall, 1.0, 0);
    assert_float_equal(s.bcubed_f1, 1.0, 0);

    /* truth {0,1} {2,3}: 2 pairs; result one cluster: 6 pairs, 2 right.
     * B-cubed precision 2/4 each record; recall 1 */
    assert_int_equal(cluster_score(halves, one, 4, &s), 0);
    assert_float_equal(s.precision, 2.0 / 6, 1e-12);
    assert_float_equal(s.recall, 1.0, 0);
    assert_float_equal(s.bcubed_precision, 0.5, 1e-12);
    assert_float_equal(s.bcubed_recall, 1.0, 0);

    /* nothing linked against that truth: recall 0, precision 1 (nothing claimed) */
    assert_int_equal(cluster_score(halves, single, 4, &s), 0);
    assert_float_equal(s.precision, 1.0, 0);
    assert_float_equal(s.recall, 0.0, 0);
    assert_float_equal(s.f1, 0.0, 0);
    assert_float_equal(s.bcubed_recall, 0.5, 1e-12);

    const uint32_t bad[2] = {0, 2};
    assert_int_equal(cluster_score(bad, single, 2, &s), -2);
    assert_int_equal(cluster_score(NULL, NULL, 0, &s), 0);
    assert_int_equal(s.records, 0);
}

/* The worked example as files: the truth with names for clusters, the result as `ncap link`
 * writes it, in another order. */
static const char *ex_truth_csv = "unique_id,first_name,cluster\n"
                                  "1,Ann,A\n"
                                  "2,Ann,A\n"
                                  "3,Anne,A\n"
                                  "4,Bob,B\n"
                                  "5,Bob,B\n"
                                  "6,Cy,C\n";
static const char *ex_result_csv = "file,record_id,cluster_id\n"
                                   "1,6,2\n"
                                   "1,5,2\n"
                                   "1,1,1\n"
                                   "1,4,2\n"
                                   "1,3,2\n"
                                   "1,2,1\n";

static void test_command_prints_the_worked_example(void **state)
{
    (void)state;
    char truth[64], res[64];
    temp_file(truth, ex_truth_csv);
    temp_file(res, ex_result_csv);
    result_t r = run("--truth", truth, res, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, "records 6\n"
                               "truth_clusters 3\n"
                               "result_clusters 2\n"
                               "truth_pairs 4\n"
                               "result_pairs 7\n"
                               "agreeing_pairs 2\n"
                               "pairwise_precision 0.285714\n"
                               "pairwise_recall 0.500000\n"
                               "pairwise_f1 0.363636\n"
                               "bcubed_precision 0.583333\n"
                               "bcubed_recall 0.777778\n"
                               "bcubed_f1 0.666667\n");
    result_free(&r);

    /* two linkages compared: the result against itself agrees fully */
    r = run("--truth", res, "--truth-column", "cluster_id", "--id-column", "record_id", res, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "pairwise_f1 1.000000\n"));
    assert_non_null(strstr(r.out, "bcubed_f1 1.000000\n"));
    result_free(&r);
    unlink(truth);
    unlink(res);
}

/* An empty truth cluster is a person of its own: 2 and 3 are not counted as one. (The truth
 * starts with a byte order mark, and the result has CRLF and spaces around a field.) */
static void test_empty_truth_cluster_is_its_own(void **state)
{
    (void)state;
    char truth[64], res[64];
    temp_file(truth, "\xEF\xBB\xBFunique_id,cluster\n1,7\n2,\n3,\n");
    temp_file(res, "record_id,cluster_id\r\n1,1\r\n 2 ,2\r\n3,2\r\n");
    result_t r = run("--truth", truth, res, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "truth_clusters 3\n"));
    assert_non_null(strstr(r.out, "truth_pairs 0\nresult_pairs 1\nagreeing_pairs 0\n"));
    result_free(&r);
    unlink(truth);
    unlink(res);
}

/* The command refuses the files, saying want (and naming the result file when in_result). */
static void expect_error(const char *truth_text, const char *result_text, bool in_result,
                         const char *want)
{
    char truth[64], res[64];
    temp_file(truth, truth_text);
    temp_file(res, result_text);
    result_t r = run("--truth", truth, res, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    if (!strstr(r.err, want) || !strstr(r.err, in_result ? res : truth))
        fail_msg("stderr \"%s\" lacks \"%s\"", r.err, want);
    result_free(&r);
    unlink(truth);
    unlink(res);
}

static void test_input_errors(void **state)
{
    (void)state;
    expect_error(ex_truth_csv, "file,record_id,cluster_id\n1,1,1\n1,2,1\n1,9,2\n", true,
                 "line 4: id \"9\" is not in the truth");
    expect_error(ex_truth_csv, "record_id,cluster_id\n1,1\n2,1\n3,1\n4,2\n5,2\n", true,
                 "1 record of the truth is not in");
    expect_error(ex_truth_csv, "record_id,cluster_id\n1,1\n1,1\n", true,
                 "line 3: id \"1\" again (ids must be unique)");
    expect_error(ex_truth_csv, "record_id,cluster\n1,1\n", true,
                 "has no column \"cluster_id\" (the cluster column)");
    expect_error("id,cluster\n1,1\n", ex_result_csv, false,
                 "has no column \"unique_id\" (the id column)");

    result_t r = run("x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "option --truth is required"));
    result_free(&r);
    r = run("--truth", "/nonexistent/truth.csv", "r.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read \"/nonexistent/truth.csv\""));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_same_clusters_other_numbers_score_one),
        cmocka_unit_test(test_no_pairs_and_all_in_one),
        cmocka_unit_test(test_command_prints_the_worked_example),
        cmocka_unit_test(test_empty_truth_cluster_is_its_own),
        cmocka_unit_test(test_input_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
