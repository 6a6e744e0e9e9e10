/* fuzz_stage_publish.c - ncap-publishd's decision (services/publish/benchmark.c, what its periodic
 * hook computes between reading metric.aggregate and storing the release): every level, the
 * intervals, the comparisons, the funnels, the breakdowns, the SII and disclosure control of one
 * audit quarter, and the CSV, from aggregate cells built from the fuzzer's text. The first line
 * sets the release: min_count,overdispersion of metric a (0 none, 1 multiplicative, 2 additive),
 * polarity of metric b (0 none, 1 higher, 2 lower). Then one cell a line:
 * trust,site,metric,breakdown,category,numerator,denominator[,month[,expected_e9]] (numerator and
 * denominator swapped when the line has them the other way, below 2^40), as PostgreSQL would give
 * them; metric c is a ratio (observed, expected_e9). Trust RAA is in region Y56; the others are
 * not in the reference data. The cells are also the monthly series of the run charts.
 *
 * Checked: benchmark_build refuses a cell only with a message; otherwise every row with a value
 * has it and its intervals in [0, 1] in order (but the SII, a difference), a suppressed row shows
 * no numerator, England's all row of each metric adds up its sites' denominators, and the CSV
 * reads back as the header and one row of 27 fields per release row whenever no text holds a byte
 * that CSV must quote; a ratio's value lies in its intervals (>= 0); benchmark_spc_text refuses
 * the series only with a message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "csv.h"
#include "harness.h"

#define MAX_CELLS 96
#define MAX_FIGURE (1LL << 40)

static long long figure(const char *s)
{
    return llabs(strtoll(s, NULL, 10) % MAX_FIGURE);
}

static bool plain(const char *s)
{
    return !strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' &&
           !(s[0] && (s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '\t'));
}

static void check_rows(const benchmark_cell_t *cells, size_t n, const benchmark_release_t *r)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        if (strncmp(x->note, BENCHMARK_NOTE_SUPPRESSED, strlen(BENCHMARK_NOTE_SUPPRESSED)) == 0)
            HARNESS_CHECK(!x->has_numerator && !x->has_value, "row %zu suppressed but shown", i);
        if (!x->has_value || strcmp(x->breakdown, "sii") == 0)
            continue;
        if (x->has_expected) {
            HARNESS_CHECK(x->value >= 0 && x->lower998 <= x->lower95 + 1e-12 &&
                              x->lower95 <= x->value + 1e-12 && x->value <= x->upper95 + 1e-12 &&
                              x->upper95 <= x->upper998 + 1e-12 && x->lower998 >= 0,
                          "ratio row %zu: %lld/%g gives %g [%g, %g] [%g, %g]", i, x->numerator,
                          x->expected, x->value, x->lower95, x->upper95, x->lower998, x->upper998);
            continue;
        }
        HARNESS_CHECK(!isnan(x->value) && x->lower95 >= 0 && x->lower95 <= x->value + 1e-12 &&
                          x->value <= x->upper95 + 1e-12 && x->upper95 <= 1 &&
                          x->lower998 <= x->lower95 + 1e-12 && x->upper998 >= x->upper95 - 1e-12,
                      "row %zu: %lld/%lld gives %g [%g, %g] [%g, %g]", i, x->numerator,
                      x->denominator, x->value, x->lower95, x->upper95, x->lower998, x->upper998);
    }
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        if (strcmp(x->level, "england") != 0 || strcmp(x->breakdown, "all") != 0)
            continue;
        long long den = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(cells[k].metric, x->metric) == 0 && strcmp(cells[k].breakdown, "all") == 0)
                den += cells[k].denominator;
        HARNESS_CHECK(x->has_denominator && x->denominator == den,
                      "England %s has denominator %lld, the cells add up to %lld", x->metric,
                      x->denominator, den);
    }
}

static void check_csv(const benchmark_release_t *r, bool all_plain)
{
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    if (!mem)
        abort();
    benchmark_write_csv(mem, "nhfd", "2025Q3", r);
    fclose(mem);
    if (all_plain) {
        csv_reader_t *csv = csv_reader_new(out, len, false);
        size_t lines = 0, columns = 0;
        int rc;
        /* every line as many fields as the header, which has every column README.md lists: 27
         * before the selection ledger's four, then withheld_opt_out (32), each appended last */
        while ((rc = csv_reader_next(csv)) != 0) {
            if (lines == 0)
                columns = csv_reader_nfields(csv);
            HARNESS_CHECK(rc == 1 && columns == 32 && csv_reader_nfields(csv) == columns,
                          "release CSV line %zu has %zu fields, the header %zu: %s",
                          csv_reader_line(csv), csv_reader_nfields(csv), columns,
                          csv_reader_error(csv));
            lines++;
        }
        HARNESS_CHECK(lines == r->n_rows + 1, "release CSV of %zu rows has %zu lines", r->n_rows,
                      lines);
        csv_reader_destroy(&csv);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = harness_text(data, size);
    char *lines[MAX_CELLS + 1];
    size_t nl = harness_split(text, '\n', lines, MAX_CELLS + 1);
    long long min_count = 0;
    int od = 0, pol = 0;
    if (nl > 0) {
        char *f[3];
        if (harness_split(lines[0], ',', f, 3) == 3) {
            min_count = figure(f[0]) % 20;
            od = (int)(figure(f[1]) % 3);
            pol = (int)(figure(f[2]) % 3);
        }
    }
    benchmark_cell_t cells[MAX_CELLS];
    size_t n = 0;
    bool all_plain = true;
    for (size_t i = 1; i < nl; i++) {
        char *f[10];
        size_t nf = harness_split(lines[i], ',', f, 10);
        if (nf < 7)
            continue;
        long long a = figure(f[5]), b = figure(f[6]);
        cells[n++] = (benchmark_cell_t){.trust = f[0],
                                        .site = f[1],
                                        .metric = f[2],
                                        .breakdown = f[3],
                                        .category = f[4],
                                        .numerator = a < b ? a : b,
                                        .denominator = a < b ? b : a,
                                        .month = nf > 7 ? f[7] : NULL,
                                        .expected_e9 = nf > 8 ? figure(f[8]) : 0};
        for (int k = 0; k < 5; k++)
            all_plain &= plain(f[k]);
    }
    static const funnel_od_t ods[] = {FUNNEL_OD_NONE, FUNNEL_OD_MULTIPLICATIVE, FUNNEL_OD_ADDITIVE};
    static const benchmark_polarity_t pols[] = {POLARITY_NONE, POLARITY_HIGHER_BETTER,
                                                POLARITY_LOWER_BETTER};
    benchmark_metric_t metrics[] = {
        {.id = "a", .label = "A", .polarity = POLARITY_HIGHER_BETTER, .overdispersion = ods[od]},
        {.id = "b", .label = "B", .polarity = pols[pol], .overdispersion = FUNNEL_OD_NONE},
        {.id = "c",
         .label = "C",
         .polarity = POLARITY_LOWER_BETTER,
         .overdispersion = ods[od],
         .kind = BENCHMARK_RATIO}};
    benchmark_org_t orgs[] = {{.code = "RAA", .name = "A, Trust", .region = "Y56"}};
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2025Q3",
                            .metrics = metrics,
                            .n_metrics = 3,
                            .min_count = min_count,
                            .cells = cells,
                            .n_cells = n,
                            .orgs = orgs,
                            .n_orgs = 1,
                            .series = cells,
                            .n_series = n};
    benchmark_release_t r = {0};
    char err[512] = "";
    if (benchmark_build(&in, &r, err, sizeof err) == 0) {
        check_rows(cells, n, &r);
        check_csv(&r, all_plain);
    } else {
        HARNESS_CHECK(err[0] != '\0', "benchmark_build refused %zu cells without a message", n);
    }
    char *spc = NULL, *summary = NULL;
    err[0] = '\0';
    if (benchmark_spc_text(&in, &spc, &summary, err, sizeof err) == 0)
        HARNESS_CHECK(spc && summary, "benchmark_spc_text gave no text");
    else
        HARNESS_CHECK(err[0] != '\0', "benchmark_spc_text refused the series without a message");
    free(spc);
    free(summary);
    benchmark_release_free(&r);
    free(text);
    return 0;
}
