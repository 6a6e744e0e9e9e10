/* fuzz_stage_publish.c - ncap-publishd's decision (services/publish/release.c, what its periodic
 * hook computes between reading metric's sums and storing the release): figures, the national
 * rows and the CSV of one audit quarter, from per-trust sums built from the fuzzer's text, one
 * line each: trust,metric,numerator,denominator. As in metric.contribution, a sum is of 0/1
 * contributions: 0 <= numerator <= denominator (the two are swapped when the line has them the
 * other way), below 2^40; trust and metric as PostgreSQL gives them, cut to the release's sizes.
 *
 * Checked: one national row per metric whose sums are those of the trusts; every value and 95%
 * interval in [0, 1] with lower <= value <= upper (absent exactly when the denominator is 0);
 * trust rows sorted by (unit, metric), then national rows by metric; and the CSV reads back as
 * the header and one row of 10 fields per release row, whenever no trust or metric holds a byte
 * that CSV must quote. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "harness.h"
#include "release.h"

#define MAX_SUMS 64
#define MAX_FIGURE (1LL << 40)

static long long figure(const char *s)
{
    long long v = llabs(strtoll(s, NULL, 10) % MAX_FIGURE);
    return v;
}

static bool plain(const char *s)
{
    return !strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' &&
           !(s[0] && (s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '\t'));
}

static void check_rows(const release_row_t *in, int n, const release_row_t *rows, int m)
{
    int first_national = 0;
    while (first_national < m && strcmp(rows[first_national].unit_level, "trust") == 0)
        first_national++;
    HARNESS_CHECK(first_national == n, "%d trust rows of %d sums", first_national, n);
    for (int i = 0; i < m; i++) {
        const release_row_t *r = &rows[i];
        bool national = i >= first_national;
        HARNESS_CHECK(strcmp(r->unit_level, national ? "national" : "trust") == 0,
                      "row %d of level \"%s\"", i, r->unit_level);
        HARNESS_CHECK(r->has_value == (r->denominator > 0), "row %d: value %s, denominator %lld", i,
                      r->has_value ? "present" : "absent", r->denominator);
        if (r->has_value)
            HARNESS_CHECK(r->lower95 >= 0 && r->lower95 <= r->value + 1e-12 &&
                              r->value <= r->upper95 + 1e-12 && r->upper95 <= 1 && !isnan(r->value),
                          "row %d: %lld/%lld gives %g [%g, %g]", i, r->numerator, r->denominator,
                          r->value, r->lower95, r->upper95);
        if (i > 0 && i != first_national) {
            const release_row_t *p = &rows[i - 1];
            int c = national ? 0 : strcmp(p->unit, r->unit);
            HARNESS_CHECK(c < 0 || (c == 0 && strcmp(p->metric, r->metric) <= 0),
                          "rows %d and %d out of order", i - 1, i);
        }
        if (!national)
            continue;
        long long num = 0, den = 0;
        for (int k = 0; k < n; k++)
            if (strcmp(rows[k].metric, r->metric) == 0) {
                num += rows[k].numerator;
                den += rows[k].denominator;
            }
        HARNESS_CHECK(num == r->numerator && den == r->denominator,
                      "national %s is %lld/%lld, the trusts add up to %lld/%lld", r->metric,
                      r->numerator, r->denominator, num, den);
        for (int k = first_national; k < i; k++)
            HARNESS_CHECK(strcmp(rows[k].metric, r->metric) != 0, "two national rows for %s",
                          r->metric);
    }
    for (int k = 0; k < n; k++) {
        bool found = false;
        for (int i = first_national; i < m && !found; i++)
            found = strcmp(rows[i].metric, in[k].metric) == 0;
        HARNESS_CHECK(found, "no national row for metric %s", in[k].metric);
    }
}

static void check_csv(const release_row_t *rows, int m, bool all_plain)
{
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    if (!mem)
        abort();
    release_write_csv(mem, "nhfd", "2025Q3", rows, m);
    fclose(mem);
    if (all_plain) {
        csv_reader_t *csv = csv_reader_new(out, len, false);
        int lines = 0, rc;
        while ((rc = csv_reader_next(csv)) != 0) {
            HARNESS_CHECK(rc == 1 && csv_reader_nfields(csv) == 10,
                          "release CSV line %zu has %zu fields: %s", csv_reader_line(csv),
                          csv_reader_nfields(csv), csv_reader_error(csv));
            lines++;
        }
        HARNESS_CHECK(lines == m + 1, "release CSV of %d rows has %d lines", m, lines);
        csv_reader_destroy(&csv);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = harness_text(data, size);
    char *lines[MAX_SUMS];
    size_t nl = harness_split(text, '\n', lines, MAX_SUMS);
    release_row_t in[MAX_SUMS];
    int n = 0;
    bool all_plain = true;
    for (size_t i = 0; i < nl; i++) {
        char *f[5];
        if (harness_split(lines[i], ',', f, 5) < 4)
            continue;
        release_row_t *r = &in[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->unit, sizeof r->unit, "%s", f[0]);
        snprintf(r->metric, sizeof r->metric, "%s", f[1]);
        long long a = figure(f[2]), b = figure(f[3]);
        r->numerator = a < b ? a : b;
        r->denominator = a < b ? b : a;
        all_plain &= plain(r->unit) && plain(r->metric);
    }
    release_row_t *rows = NULL;
    int m = release_build(in, n, &rows);
    HARNESS_CHECK(m >= n, "release_build gave %d rows of %d sums", m, n);
    check_rows(in, n, rows, m);
    check_csv(rows, m, all_plain);
    free(rows);
    free(text);
    return 0;
}
