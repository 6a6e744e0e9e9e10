/* test_link_febrl.c - the linkage engine on the FEBRL data sets (1,000 and 5,000 synthetic people
 * with typo-laden duplicates), deduplicated without labels at the default threshold; the entity
 * in rec_id is read only here, to count pairwise precision, recall and F1 over all record
 * pairs. Skipped when the shared data folder is absent. */
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

#define FEBRL_DIR NCAP_SHARED_DATA "/linkage/"

static const struct {
    const char *column;
    fs_kind_t kind;
} febrl_map[] = {
    {"given_name", FS_KIND_FORENAME},  {"surname", FS_KIND_SURNAME},
    {"street_number", FS_KIND_NUMBER}, {"address_1", FS_KIND_TEXT},
    {"address_2", FS_KIND_TEXT},       {"suburb", FS_KIND_TEXT},
    {"postcode", FS_KIND_NUMBER},      {"state", FS_KIND_EXACT},
    {"date_of_birth", FS_KIND_DOB},    {"soc_sec_id", FS_KIND_NUMBER},
};
#define NMAP (sizeof febrl_map / sizeof febrl_map[0])

typedef struct {
    fs_data_t data;
    char **values;
    long *entity;
} febrl_t;

/* Loads a FEBRL file; returns 0, or -1 when it is absent. */
static int febrl_load(const char *path, febrl_t *fb)
{
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len) != 0)
        return -1;
    csv_reader_t *csv = csv_reader_new(text, len, true);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1);
    long col[NMAP], id_col = -1;
    for (size_t m = 0; m < NMAP; m++) {
        col[m] = -1;
        for (size_t c = 0; c < csv_reader_nfields(csv); c++)
            if (strcmp(csv_reader_field(csv, c), febrl_map[m].column) == 0)
                col[m] = (long)c;
        assert_true(col[m] >= 0);
    }
    for (size_t c = 0; c < csv_reader_nfields(csv); c++)
        if (strcmp(csv_reader_field(csv, c), "rec_id") == 0)
            id_col = (long)c;
    assert_true(id_col >= 0);
    memset(fb, 0, sizeof *fb);
    fb->data.nfields = NMAP;
    for (size_t m = 0; m < NMAP; m++)
        fb->data.kinds[m] = febrl_map[m].kind;
    size_t cap = 0, n = 0;
    while (csv_reader_next(csv) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            fb->values = realloc(fb->values, cap * NMAP * sizeof *fb->values);
            fb->entity = realloc(fb->entity, cap * sizeof *fb->entity);
            assert_non_null(fb->values);
            assert_non_null(fb->entity);
        }
        for (size_t m = 0; m < NMAP; m++) {
            char buf[256];
            int rc = fs_value_normalise(febrl_map[m].kind, csv_reader_field(csv, (size_t)col[m]),
                                        buf, sizeof buf);
            fb->values[n * NMAP + m] = rc == 1 ? strdup(buf) : NULL;
        }
        const char *id = csv_reader_field(csv, (size_t)id_col);
        assert_true(strncmp(id, "rec-", 4) == 0);
        fb->entity[n] = strtol(id + 4, NULL, 10);
        n++;
    }
    csv_reader_destroy(&csv);
    free(text);
    fb->data.nrecords = n;
    fb->data.values = (const char *const *)fb->values;
    return 0;
}

static void febrl_free(febrl_t *fb)
{
    for (size_t i = 0; i < fb->data.nrecords * NMAP; i++)
        free(fb->values[i]);
    free(fb->values);
    free(fb->entity);
}

typedef struct {
    double precision, recall, f1;
    size_t true_pairs, predicted_pairs, correct_pairs;
} accuracy_t;

static accuracy_t pairwise(const febrl_t *fb, const size_t *cluster)
{
    accuracy_t a = {0};
    size_t n = fb->data.nrecords;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int same_entity = fb->entity[i] == fb->entity[j];
            int same_cluster = cluster[i] == cluster[j];
            a.true_pairs += same_entity;
            a.predicted_pairs += same_cluster;
            a.correct_pairs += same_entity && same_cluster;
        }
    a.precision = a.predicted_pairs ? (double)a.correct_pairs / (double)a.predicted_pairs : 1;
    a.recall = a.true_pairs ? (double)a.correct_pairs / (double)a.true_pairs : 1;
    a.f1 = a.precision + a.recall > 0 ? 2 * a.precision * a.recall / (a.precision + a.recall) : 0;
    return a;
}

static void dedupe(const char *name, double min_precision, double min_recall)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", FEBRL_DIR, name);
    febrl_t fb;
    if (febrl_load(path, &fb) != 0) {
        print_message("%s not found: skipped\n", path);
        skip();
    }
    fs_result_t res;
    assert_int_equal(fs_link(&fb.data, 1, 0.5, &res), 0);
    accuracy_t a = pairwise(&fb, res.cluster);
    printf("%s: %zu records, %zu candidate pairs from %zu rules, prior %.3g; "
           "true pairs %zu, predicted %zu, correct %zu; precision %.4f recall %.4f F1 %.4f\n",
           name, fb.data.nrecords, res.npairs, res.nrules, res.prior, a.true_pairs,
           a.predicted_pairs, a.correct_pairs, a.precision, a.recall, a.f1);
    /* the same input and seed give the same clusters */
    fs_result_t again;
    assert_int_equal(fs_link(&fb.data, 1, 0.5, &again), 0);
    assert_memory_equal(res.cluster, again.cluster, fb.data.nrecords * sizeof *res.cluster);
    fs_result_free(&again);
    fs_result_free(&res);
    febrl_free(&fb);
    assert_true(a.precision >= min_precision);
    assert_true(a.recall >= min_recall);
}

static void febrl1_dedupe(void **state)
{
    (void)state;
    dedupe("febrl1.csv", 0.999, 0.99);
}

static void febrl2_dedupe(void **state)
{
    (void)state;
    dedupe("febrl2.csv", 0.999, 0.99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(febrl1_dedupe),
        cmocka_unit_test(febrl2_dedupe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
