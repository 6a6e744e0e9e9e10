/* test_link_fake1000.c - the linkage engine on splink's fake_1000 demo (1,000 records of 181
 * people seen 1 to 20 times, many blanks, typos, names swapped, dates of birth moved): deduplicated
 * without labels at the default threshold, as README's command does it (`ncap link --map
 * first_name=forename --map surname=surname --map dob=dob --map city=text --map email=text`),
 * pairwise F1 at least 0.97 with groups that hold together (clustering_cohesive), and the same
 * clusters every run. Connected components are counted beside it for comparison. The truth, the
 * `cluster` column, is read only to score. The shared data folder is required (a skip, failed in
 * CI, when absent). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "file_read.h"
#include "fs_model.h"
#include "link_accuracy.h"
#include "test_skip.h"

#define FAKE_1000 NCAP_SHARED_DATA "/linkage/fake_1000_demos.csv"

static const struct {
    const char *column;
    fs_kind_t kind;
} map[] = {
    {"first_name", FS_KIND_FORENAME}, {"surname", FS_KIND_SURNAME}, {"dob", FS_KIND_DOB},
    {"city", FS_KIND_TEXT},           {"email", FS_KIND_TEXT},
};
#define NMAP (sizeof map / sizeof map[0])

typedef struct {
    fs_data_t data;
    char **values;
    long *truth;
} fake_t;

static long column_of(csv_reader_t *csv, const char *name)
{
    for (size_t c = 0; c < csv_reader_nfields(csv); c++)
        if (strcmp(csv_reader_field(csv, c), name) == 0)
            return (long)c;
    fail_msg("fake_1000 has no column \"%s\"", name);
    return -1;
}

static void fake_load(fake_t *fk)
{
    ncap_require_shared_file(FAKE_1000);
    char *text;
    size_t len;
    if (file_read_all(FAKE_1000, &text, &len) != 0)
        fail_msg("could not read \"%s\"", FAKE_1000);
    csv_reader_t *csv = csv_reader_new(text, len, true);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1);
    long col[NMAP], truth_col = column_of(csv, "cluster");
    for (size_t m = 0; m < NMAP; m++)
        col[m] = column_of(csv, map[m].column);
    memset(fk, 0, sizeof *fk);
    fk->data.nfields = NMAP;
    for (size_t m = 0; m < NMAP; m++)
        fk->data.kinds[m] = map[m].kind;
    size_t cap = 0, n = 0;
    while (csv_reader_next(csv) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            fk->values = realloc(fk->values, cap * NMAP * sizeof *fk->values);
            fk->truth = realloc(fk->truth, cap * sizeof *fk->truth);
            assert_non_null(fk->values);
            assert_non_null(fk->truth);
        }
        for (size_t m = 0; m < NMAP; m++) {
            char buf[256];
            int rc = fs_value_normalise(map[m].kind, csv_reader_field(csv, (size_t)col[m]), buf,
                                        sizeof buf);
            fk->values[n * NMAP + m] = rc == 1 ? strdup(buf) : NULL;
        }
        fk->truth[n] = strtol(csv_reader_field(csv, (size_t)truth_col), NULL, 10);
        n++;
    }
    csv_reader_destroy(&csv);
    free(text);
    assert_int_equal(n, 1000);
    fk->data.nrecords = n;
    fk->data.values = (const char *const *)fk->values;
}

static void fake_free(fake_t *fk)
{
    for (size_t i = 0; i < fk->data.nrecords * NMAP; i++)
        free(fk->values[i]);
    free(fk->values);
    free(fk->truth);
}

static link_accuracy_t link_and_score(const fake_t *fk, fs_clustering_t clustering,
                                      const char *what)
{
    fs_result_t res;
    assert_int_equal(fs_link_clustered(&fk->data, 1, 0.5, clustering, &res), 0);
    link_accuracy_t a = link_accuracy_pairwise(fk->truth, res.cluster, fk->data.nrecords);
    printf("fake_1000 %s: %zu candidate pairs, prior %.3g; true pairs %zu, predicted %zu, correct "
           "%zu; precision %.4f recall %.4f F1 %.4f\n",
           what, res.npairs, res.prior, a.true_pairs, a.predicted_pairs, a.correct_pairs,
           a.precision, a.recall, a.f1);
    fs_result_t again;
    assert_int_equal(fs_link_clustered(&fk->data, 1, 0.5, clustering, &again), 0);
    assert_memory_equal(res.cluster, again.cluster, fk->data.nrecords * sizeof *res.cluster);
    fs_result_free(&again);
    fs_result_free(&res);
    return a;
}

static void dedupe_without_labels(void **state)
{
    (void)state;
    fake_t fk;
    fake_load(&fk);
    link_accuracy_t a = link_and_score(&fk, FS_CLUSTER_COHESIVE, "groups that hold together");
    link_and_score(&fk, FS_CLUSTER_COMPONENTS, "connected components");
    fake_free(&fk);
    assert_true(a.f1 >= 0.97);
    assert_true(a.precision >= 0.99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedupe_without_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
