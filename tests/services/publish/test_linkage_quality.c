/* test_linkage_quality.c - the linkage quality report from linkage's counts (linkage_quality.h):
 * sites summed into trusts and England, categories published at England and for a trust from 30
 * records, shares out of the records, and disclosure control: every count from 1 to min_count - 1
 * (or whose records less it is) hidden, and no hidden count left alone in any sum the report shows
 * (a trust's sites, England's trusts, an area's categories, a row's three methods). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "linkage_quality.h"

/* trust, site, breakdown, category, records, nhs_number, probabilistic, singleton, death */
#define C(t, s, b, c, r, n, p, g, d)                                                               \
    {                                                                                              \
        t, s, b, c,                                                                                \
        {                                                                                          \
            r, n, p, g, d, 0                                                                       \
        }                                                                                          \
    }

static const lq_cell_t cells[] = {
    C("RAA", "RAA01", "all", "", 50, 40, 7, 3, 10),
    C("RAA", "RAA01", "sex", "male", 20, 16, 3, 1, 4),
    C("RAA", "RAA01", "sex", "female", 30, 24, 4, 2, 6),
    C("RAA", "RAA02", "all", "", 40, 30, 5, 5, 0),
    C("RAA", "RAA02", "sex", "male", 10, 8, 1, 1, 0),
    C("RAA", "RAA02", "sex", "female", 30, 22, 4, 4, 0),
    C("RBB", "RBB01", "all", "", 100, 60, 20, 20, 30),
    C("RBB", "RBB01", "sex", "male", 50, 30, 10, 10, 15),
    C("RBB", "RBB01", "sex", "female", 50, 30, 10, 10, 15),
};
#define N_CELLS (sizeof cells / sizeof *cells)

static const lq_row_t *row(const lq_report_t *r, const char *code, const char *breakdown,
                           const char *category)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].area_code, code) == 0 &&
            strcmp(r->rows[i].breakdown, breakdown) == 0 &&
            strcmp(r->rows[i].category, category) == 0)
            return &r->rows[i];
    return NULL;
}

static void test_sums_and_order(void **state)
{
    (void)state;
    lq_report_t r;
    assert_int_equal(linkage_quality_build(cells, N_CELLS, 0, &r), 0);
    /* England (all, female, male), the trusts (RAA: all, female, male; RBB: all, female, male),
     * the sites (all only) */
    assert_int_equal(r.n_rows, 3 + 3 + 3 + 3);
    assert_string_equal(r.rows[0].level, "england");
    assert_string_equal(r.rows[1].category, "female");
    assert_string_equal(r.rows[3].area_code, "RAA");
    assert_string_equal(r.rows[9].level, "site");
    assert_string_equal(r.rows[9].parent_code, "RAA");
    const lq_row_t *e = row(&r, BENCHMARK_ENGLAND_CODE, "all", "");
    assert_non_null(e);
    assert_int_equal(e->records, 190);
    assert_int_equal(e->n[0], 130);
    assert_int_equal(e->n[1], 32);
    assert_int_equal(e->n[2], 28);
    assert_int_equal(e->n[3], 40);
    const lq_row_t *t = row(&r, "RAA", "sex", "male");
    assert_non_null(t); /* 30 records: published */
    assert_int_equal(t->records, 30);
    assert_null(row(&r, "RAA01", "sex", "male")); /* a site has its all row only */
    for (size_t i = 0; i < r.n_rows; i++)
        for (int k = 0; k < LQ_SHARES; k++)
            assert_true(r.rows[i].shown[k]);
    char *csv = linkage_quality_csv("nhfd", "2025Q3", &r, "RBB");
    assert_non_null(csv);
    assert_memory_equal(csv, LINKAGE_QUALITY_HEADER "\n", strlen(LINKAGE_QUALITY_HEADER) + 1);
    assert_non_null(strstr(csv, "\nnhfd,2025Q3,england,E92000001,,all,,190,130,32,28,40,0.684211,"
                                "0.168421,0.147368,0.210526,\n"));
    assert_non_null(strstr(csv, "\nnhfd,2025Q3,site,RBB01,RBB,all,,100,"));
    assert_null(strstr(csv, ",RAA,")); /* another trust's rows are left out */
    free(csv);
    linkage_quality_free(&r);
}

/* Fails when exactly one of the parts of a shown total is hidden: the sum gives it away. */
static void no_lone_hidden(const lq_row_t *parent, const lq_row_t *const *kids, size_t n, int k)
{
    size_t hidden = 0;
    for (size_t i = 0; i < n; i++)
        hidden += !kids[i]->shown[k];
    if (parent && parent->shown[k] && hidden == 1)
        fail_msg("%s %s %s: one hidden count among its parts, shown total (share %d)",
                 parent->area_code, parent->breakdown, parent->category, k);
}

static void test_disclosure(void **state)
{
    (void)state;
    lq_report_t r;
    assert_int_equal(linkage_quality_build(cells, N_CELLS, 8, &r), 0);
    size_t hidden = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        const lq_row_t *x = &r.rows[i];
        for (int k = 0; k < LQ_SHARES; k++) {
            long long n = x->n[k], rest = x->records - x->n[k];
            if ((n >= 1 && n < 8) || (rest >= 1 && rest < 8))
                assert_false(x->shown[k]);
            hidden += !x->shown[k];
        }
        /* a row's three methods sum to its records, which are always shown */
        int methods = !x->shown[0] + !x->shown[1] + !x->shown[2];
        assert_int_not_equal(methods, 1);
    }
    assert_true(hidden > 0);
    for (int k = 0; k < LQ_SHARES; k++) {
        /* a trust over its sites */
        const lq_row_t *sites[] = {row(&r, "RAA01", "all", ""), row(&r, "RAA02", "all", "")};
        no_lone_hidden(row(&r, "RAA", "all", ""), sites, 2, k);
        /* England over its trusts, every slot */
        const char *slots[][2] = {{"all", ""}, {"sex", "male"}, {"sex", "female"}};
        for (size_t s = 0; s < 3; s++) {
            const lq_row_t *trusts[] = {row(&r, "RAA", slots[s][0], slots[s][1]),
                                        row(&r, "RBB", slots[s][0], slots[s][1])};
            no_lone_hidden(row(&r, BENCHMARK_ENGLAND_CODE, slots[s][0], slots[s][1]), trusts, 2, k);
        }
        /* an area over its categories */
        const char *areas[] = {BENCHMARK_ENGLAND_CODE, "RAA", "RBB"};
        for (size_t a = 0; a < 3; a++) {
            const lq_row_t *cats[] = {row(&r, areas[a], "sex", "male"),
                                      row(&r, areas[a], "sex", "female")};
            no_lone_hidden(row(&r, areas[a], "all", ""), cats, 2, k);
        }
    }
    /* a hidden count is empty in the CSV, with its share, and the row noted */
    char *csv = linkage_quality_csv("nhfd", "2025Q3", &r, NULL);
    assert_non_null(strstr(csv, "nhfd,2025Q3,site,RAA01,RAA,all,,50,40,,,10,0.800000,,,0.200000,"
                                "suppressed\n"));
    free(csv);
    char *json = linkage_quality_json("nhfd", "2025Q3", 8, &r);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"min_count\": 8"));
    free(json);
    linkage_quality_free(&r);
}

static void test_empty(void **state)
{
    (void)state;
    lq_report_t r;
    assert_int_equal(linkage_quality_build(NULL, 0, 8, &r), 0);
    assert_int_equal(r.n_rows, 0);
    char *csv = linkage_quality_csv("nhfd", "2025Q3", &r, NULL);
    assert_string_equal(csv, LINKAGE_QUALITY_HEADER "\n");
    free(csv);
    linkage_quality_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_order),
        cmocka_unit_test(test_disclosure),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
