/* cmd_spc.c - `ncap spc`: XmR charts with the Making Data Count rules, from a CSV file. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "number_arg.h"
#include "usage_error.h"
#include "file_read.h"
#include "fnv1a.h"
#include "number_text.h"
#include "csv.h"
#include "spc.h"

static void usage(FILE *out)
{
    fputs("usage: ncap spc [--improvement increase|decrease|neutral] [--target T]\n"
          "                [--rebase ROW,...] [--fix-after N] [--no-screen] [--summary FILE.csv]\n"
          "                FILE.csv\n"
          "\n"
          "XmR charts with NHS England's \"Making Data Count\" rules, as the NHS-R community's\n"
          "NHSRplotthedots draws them. FILE.csv (\"-\" for standard input) has the header\n"
          "period,value (one series) or series,period,value (many: each series in the order it\n"
          "first appears, its points in file order).\n"
          "\n"
          "Centre = mean; limits = mean -+ 2.66 x mean moving range, moving ranges of 3.267 x\n"
          "their mean or more screened out first. Special causes, the first that applies:\n"
          "outside_limits (strictly beyond a limit), trend (7 points rising or falling, a tie\n"
          "breaks it), two_in_three (2 of 3 consecutive points beyond 2/3 of the way to the same\n"
          "limit, all 3 on that side; the near points are flagged), shift (7 points on one side\n"
          "of the mean; a point on the mean breaks it).\n"
          "\n"
          "  --improvement DIR  increase (default), decrease or neutral: special causes become\n"
          "                     special_cause_improvement / special_cause_concern, or\n"
          "                     special_cause_neutral_high / special_cause_neutral_low\n"
          "  --target T         assurance in the summary: consistent_pass or consistent_fail\n"
          "                     when T lies beyond the limits, inconsistent when within them\n"
          "                     (none for neutral)\n"
          "  --rebase ROW,...   new limits from these points on (1-based, counted within each\n"
          "                     series; every series must have that many points)\n"
          "  --fix-after N      limits from the first N points (2 or more) of each group, held\n"
          "                     for the rest of it\n"
          "  --no-screen        keep every moving range\n"
          "  --summary FILE     one row per series: series,mean,lpl,upl,n,variation,assurance\n"
          "                     (the last group's limits; variation = the last point's type)\n"
          "  --help             show this help\n"
          "\n"
          "Output on stdout: series,period,value,mean,lpl,upl,special_cause,point_type, numbers\n"
          "with 17 significant digits; series is empty when the input has none. A group of one\n"
          "point has no moving range: its lpl and upl are empty and it is common_cause. When all\n"
          "values of a group are equal the limits are the mean. Rows in error messages are lines\n"
          "of the file, the header being row 1. Exit status 0, or 2 for usage, input or I/O\n"
          "trouble.\n",
          out);
}

/* an input or I/O error: "ncap spc: ...", exit status 2 */
#define fail(...) command_error("spc", __VA_ARGS__)

static int parse_count(const char *s, size_t min, size_t *out)
{
    unsigned long long v;
    if (number_arg_whole(s, SIZE_MAX / 2, &v) != 0 || v < min)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* "3,10,24" -> rows; returns 0 or -1. *rows is malloc'ed. */
static int parse_rows(const char *s, size_t **rows, size_t *nrows)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    size_t *r = malloc(cap * sizeof *r);
    char *copy = strdup(s);
    size_t n = 0;
    int rc = r && copy ? 0 : -1;
    for (char *tok = copy, *next; rc == 0 && tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (parse_count(tok, 1, &r[n]) != 0)
            rc = -1;
        n++;
    }
    free(copy);
    if (rc != 0) {
        free(r);
        return -1;
    }
    *rows = r;
    *nrows = n;
    return 0;
}

/* ---------- the input: series in order of first appearance, points in file order ---------- */

typedef struct {
    char *name;
    size_t n, cap;
    double *values;
    char **periods;
} series_t;

typedef struct {
    series_t *series;
    size_t nseries, cap;
    size_t *slots; /* open addressing: index + 1 into series, 0 empty */
    size_t nslots;
} input_t;

static void input_free(input_t *in)
{
    for (size_t s = 0; s < in->nseries; s++) {
        series_t *se = &in->series[s];
        for (size_t i = 0; i < se->n; i++)
            free(se->periods[i]);
        free(se->periods);
        free(se->values);
        free(se->name);
    }
    free(in->series);
    free(in->slots);
}

static int rehash(input_t *in, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t s = 0; s < in->nseries; s++) {
        size_t h = (size_t)(fnv1a64(in->series[s].name) & (nslots - 1));
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = s + 1;
    }
    free(in->slots);
    in->slots = slots;
    in->nslots = nslots;
    return 0;
}

/* The series named name, added if new; NULL when out of memory. */
static series_t *input_series(input_t *in, const char *name)
{
    if (in->nseries > 0 && strcmp(in->series[in->nseries - 1].name, name) == 0)
        return &in->series[in->nseries - 1];
    if ((in->nseries + 1) * 2 > in->nslots && rehash(in, in->nslots ? in->nslots * 2 : 64) != 0)
        return NULL;
    size_t h = (size_t)(fnv1a64(name) & (in->nslots - 1));
    while (in->slots[h]) {
        if (strcmp(in->series[in->slots[h] - 1].name, name) == 0)
            return &in->series[in->slots[h] - 1];
        h = (h + 1) & (in->nslots - 1);
    }
    if (in->nseries == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 8;
        series_t *s = realloc(in->series, cap * sizeof *s);
        if (!s)
            return NULL;
        in->series = s;
        in->cap = cap;
    }
    series_t *se = &in->series[in->nseries];
    memset(se, 0, sizeof *se);
    se->name = strdup(name);
    if (!se->name)
        return NULL;
    in->slots[h] = ++in->nseries;
    return se;
}

static int series_add(series_t *se, const char *period, double value)
{
    if (se->n == se->cap) {
        size_t cap = se->cap ? se->cap * 2 : 16;
        double *v = realloc(se->values, cap * sizeof *v);
        if (!v)
            return -1;
        se->values = v;
        char **p = realloc(se->periods, cap * sizeof *p);
        if (!p)
            return -1;
        se->periods = p;
        se->cap = cap;
    }
    se->periods[se->n] = strdup(period);
    if (!se->periods[se->n])
        return -1;
    se->values[se->n++] = value;
    return 0;
}

/* Reads the CSV text into in. Returns 0, or 2 after printing what is wrong. *has_series tells
 * whether the header had a series column. */
static int read_input(const char *path, const char *data, size_t len, input_t *in, bool *has_series)
{
    csv_reader_t *r = csv_reader_new(data, len, true);
    if (!r)
        return fail("out of memory");
    int rc = 0;
    int got = csv_reader_next(r);
    long col_series = -1, col_period = -1, col_value = -1;
    size_t ncols = 0;
    if (got == 0)
        rc = fail("file \"%s\" is empty, expected a header period,value or series,period,value",
                  path);
    else if (got < 0)
        rc = fail("could not read file \"%s\": %s", path, csv_reader_error(r));
    else {
        ncols = csv_reader_nfields(r);
        for (size_t c = 0; c < ncols && rc == 0; c++) {
            const char *name = csv_reader_field(r, c);
            long *col = strcmp(name, "series") == 0   ? &col_series
                        : strcmp(name, "period") == 0 ? &col_period
                        : strcmp(name, "value") == 0  ? &col_value
                                                      : NULL;
            if (!col)
                rc = fail("row 1: unexpected column \"%s\", expected period,value or "
                          "series,period,value",
                          name);
            else if (*col >= 0)
                rc = fail("row 1: column \"%s\" appears twice", name);
            else
                *col = (long)c;
        }
        if (rc == 0 && (col_period < 0 || col_value < 0))
            rc = fail("row 1: missing column \"%s\", expected period,value or "
                      "series,period,value",
                      col_period < 0 ? "period" : "value");
    }
    *has_series = col_series >= 0;
    while (rc == 0 && (got = csv_reader_next(r)) != 0) {
        size_t row = csv_reader_line(r);
        if (got < 0) {
            rc = fail("could not read file \"%s\": %s", path, csv_reader_error(r));
            break;
        }
        if (csv_reader_nfields(r) != ncols) {
            rc = fail("row %zu: expected %zu fields, found %zu", row, ncols, csv_reader_nfields(r));
            break;
        }
        const char *text = csv_reader_field(r, (size_t)col_value);
        double value;
        if (number_arg(text, &value) != 0) {
            rc = fail("row %zu: \"value\" is \"%s\", expected a number", row, text);
            break;
        }
        series_t *se =
            input_series(in, col_series >= 0 ? csv_reader_field(r, (size_t)col_series) : "");
        if (!se || series_add(se, csv_reader_field(r, (size_t)col_period), value) != 0)
            rc = fail("out of memory");
    }
    if (rc == 0 && in->nseries == 0)
        rc = fail("file \"%s\" has a header but no rows", path);
    csv_reader_destroy(&r);
    return rc;
}

/* ---------- the output ---------- */

static void write_points(FILE *out, const series_t *se, bool has_series, const spc_point_t *p)
{
    for (size_t i = 0; i < se->n; i++) {
        char value[32], mean[32], lpl[32] = "", upl[32] = "";
        number_text(value, sizeof value, se->values[i]);
        number_text(mean, sizeof mean, p[i].mean);
        if (p[i].has_limits) {
            number_text(lpl, sizeof lpl, p[i].lpl);
            number_text(upl, sizeof upl, p[i].upl);
        }
        const char *fields[] = {has_series ? se->name : "",
                                se->periods[i],
                                value,
                                mean,
                                lpl,
                                upl,
                                spc_cause_name(p[i].cause),
                                spc_point_type_name(p[i].type)};
        csv_write_row(out, fields, sizeof fields / sizeof *fields);
    }
}

static void write_summary(FILE *out, const series_t *se, bool has_series, const spc_summary_t *s)
{
    char mean[32], lpl[32] = "", upl[32] = "", n[32];
    number_text(mean, sizeof mean, s->mean);
    if (s->has_limits) {
        number_text(lpl, sizeof lpl, s->lpl);
        number_text(upl, sizeof upl, s->upl);
    }
    snprintf(n, sizeof n, "%zu", s->n);
    const char *fields[] = {
        has_series ? se->name : "",      mean, lpl, upl, n, spc_point_type_name(s->variation),
        spc_assurance_name(s->assurance)};
    csv_write_row(out, fields, sizeof fields / sizeof *fields);
}

static int run(const char *path, spc_options_t *opts, const size_t *rows, size_t nrows,
               const char *summary_path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0)
        return fail("could not read file \"%s\": %s", path, strerror(errno ? errno : EIO));
    input_t in;
    memset(&in, 0, sizeof in);
    bool has_series = false;
    int rc = read_input(path, data, len, &in, &has_series);
    free(data);

    size_t longest = 0;
    for (size_t s = 0; rc == 0 && s < in.nseries; s++) {
        const series_t *se = &in.series[s];
        longest = se->n > longest ? se->n : longest;
        for (size_t k = 0; k < nrows && rc == 0; k++)
            if (rows[k] > se->n) {
                if (has_series)
                    rc = fail("rebase row %zu is beyond series \"%s\" (%zu point%s)", rows[k],
                              se->name, se->n, se->n == 1 ? "" : "s");
                else
                    rc = fail("rebase row %zu is beyond the series (%zu point%s)", rows[k], se->n,
                              se->n == 1 ? "" : "s");
            }
    }
    size_t *rebase = NULL;
    spc_point_t *points = NULL;
    spc_summary_t *summaries = NULL;
    if (rc == 0) {
        rebase = malloc((nrows ? nrows : 1) * sizeof *rebase);
        points = malloc(longest * sizeof *points);
        summaries = malloc(in.nseries * sizeof *summaries);
        if (!rebase || !points || !summaries)
            rc = fail("out of memory");
    }
    if (rc == 0) {
        for (size_t k = 0; k < nrows; k++)
            rebase[k] = rows[k] - 1;
        opts->rebase = rebase;
        opts->nrebase = nrows;
        static const char *const header[] = {"series", "period", "value",         "mean",
                                             "lpl",    "upl",    "special_cause", "point_type"};
        csv_write_row(stdout, header, sizeof header / sizeof *header);
        for (size_t s = 0; s < in.nseries && rc == 0; s++) {
            const series_t *se = &in.series[s];
            char err[256];
            if (spc_compute(se->values, se->n, opts, points, &summaries[s], err, sizeof err) != 0) {
                rc = has_series ? fail("series \"%s\": %s", se->name, err) : fail("%s", err);
                break;
            }
            write_points(stdout, se, has_series, points);
        }
        opts->rebase = NULL;
        opts->nrebase = 0;
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = rc ? rc : fail("could not write to standard output");
    }
    if (rc == 0 && summary_path) {
        FILE *f = fopen(summary_path, "w");
        if (!f)
            rc = fail("could not open file \"%s\": %s", summary_path, strerror(errno));
        else {
            static const char *const header[] = {"series", "mean",      "lpl",      "upl",
                                                 "n",      "variation", "assurance"};
            csv_write_row(f, header, sizeof header / sizeof *header);
            for (size_t s = 0; s < in.nseries; s++)
                write_summary(f, &in.series[s], has_series, &summaries[s]);
            if (ferror(f) | fclose(f))
                rc = fail("could not write file \"%s\"", summary_path);
        }
    }
    free(rebase);
    free(points);
    free(summaries);
    input_free(&in);
    return rc;
}

int cmd_spc(int argc, char **argv)
{
    static const struct option longopts[] = {{"improvement", required_argument, 0, 'i'},
                                             {"target", required_argument, 0, 't'},
                                             {"rebase", required_argument, 0, 'r'},
                                             {"fix-after", required_argument, 0, 'f'},
                                             {"no-screen", no_argument, 0, 'n'},
                                             {"summary", required_argument, 0, 's'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    spc_options_t opts;
    spc_options_init(&opts);
    const char *summary_path = NULL;
    size_t *rows = NULL, nrows = 0;
    int rc = -1;
    optind = 1;
    opterr = 0;
    int c;
    while (rc < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (spc_improvement_parse(optarg, &opts.improvement) != 0)
                rc = usage_error("spc",
                                 "--improvement is \"%s\", expected increase, decrease or neutral",
                                 optarg);
            break;
        case 't':
            if (number_arg(optarg, &opts.target) != 0)
                rc = usage_error("spc", "--target is \"%s\", expected a number", optarg);
            opts.has_target = true;
            break;
        case 'r':
            free(rows);
            rows = NULL;
            if (parse_rows(optarg, &rows, &nrows) != 0)
                rc = usage_error(
                    "spc", "--rebase is \"%s\", expected rows counted from 1, e.g. 13,25", optarg);
            break;
        case 'f':
            if (parse_count(optarg, 2, &opts.fix_after) != 0)
                rc = usage_error("spc", "--fix-after is \"%s\", expected a whole number, 2 or more",
                                 optarg);
            break;
        case 'n':
            opts.screen = false;
            break;
        case 's':
            summary_path = optarg;
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            break;
        default: /* ':' or '?' */
            rc = usage_error_option("spc", c, argv);
            break;
        }
    }
    if (rc < 0) {
        if (optind == argc)
            rc = usage_error("spc", "no input file");
        else if (optind != argc - 1)
            rc = usage_error("spc", "expected one input file, got %d", argc - optind);
        else
            rc = run(argv[optind], &opts, rows, nrows, summary_path);
    }
    free(rows);
    return rc;
}
