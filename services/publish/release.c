/* release.c - figures, national rows and CSV of a release */
#include "release.h"

#include <stdlib.h>
#include <string.h>

#include "ci.h"
#include "csv.h"

static void figures(release_row_t *r)
{
    r->has_value = r->denominator > 0;
    if (!r->has_value)
        return;
    r->value = (double)r->numerator / (double)r->denominator;
    ci_wilson((double)r->numerator, (double)r->denominator, NCAP_Z95, &r->lower95, &r->upper95);
}

static int by_unit_metric(const void *a, const void *b)
{
    const release_row_t *x = a, *y = b;
    int c = strcmp(x->unit, y->unit);
    return c ? c : strcmp(x->metric, y->metric);
}

int release_build(const release_row_t *trust_sums, int n, release_row_t **out)
{
    release_row_t *rows = calloc((size_t)(2 * n + 1), sizeof *rows);
    if (!rows)
        return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        rows[m] = trust_sums[i];
        snprintf(rows[m].unit_level, sizeof rows[m].unit_level, "trust");
        figures(&rows[m]);
        m++;
    }
    qsort(rows, (size_t)m, sizeof *rows, by_unit_metric);
    int first_national = m;
    for (int i = 0; i < first_national; i++) {
        int j = first_national;
        while (j < m && strcmp(rows[j].metric, rows[i].metric) != 0)
            j++;
        if (j == m) {
            memset(&rows[m], 0, sizeof rows[m]);
            snprintf(rows[m].unit_level, sizeof rows[m].unit_level, "national");
            snprintf(rows[m].unit, sizeof rows[m].unit, "ENGLAND");
            memcpy(rows[m].metric, rows[i].metric, sizeof rows[m].metric);
            m++;
        }
        rows[j].numerator += rows[i].numerator;
        rows[j].denominator += rows[i].denominator;
    }
    qsort(rows + first_national, (size_t)(m - first_national), sizeof *rows, by_unit_metric);
    for (int i = first_national; i < m; i++)
        figures(&rows[i]);
    *out = rows;
    return m;
}

void release_format(char *out, size_t outlen, int has, double v)
{
    if (has)
        snprintf(out, outlen, "%.6f", v);
    else
        out[0] = '\0';
}

void release_write_csv(FILE *f, const char *audit, const char *period, const release_row_t *rows,
                       int n)
{
    static const char *const head[] = {"audit",   "period",    "unit_level",  "unit",
                                       "metric",  "numerator", "denominator", "value",
                                       "lower95", "upper95"};
    csv_write_row(f, head, sizeof head / sizeof *head);
    for (int i = 0; i < n; i++) {
        const release_row_t *r = &rows[i];
        char num[24], den[24], v[32], lo[32], hi[32];
        snprintf(num, sizeof num, "%lld", r->numerator);
        snprintf(den, sizeof den, "%lld", r->denominator);
        release_format(v, sizeof v, r->has_value, r->value);
        release_format(lo, sizeof lo, r->has_value, r->lower95);
        release_format(hi, sizeof hi, r->has_value, r->upper95);
        const char *cols[] = {audit, period, r->unit_level, r->unit, r->metric, num, den, v,
                              lo,    hi};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
    }
}
