/* benchmark_files.c - a release's rows as published: latest.csv (one long table), fingertips.csv
 * (OHID Fingertips' layout) and latest.json (the rows, the metrics, the methods, provenance).
 *
 * fingertips.csv, column by column:
 *   Indicator ID, Indicator Name   the metric's id and label
 *   Parent Code, Parent Name       the row's parent area (empty for England)
 *   Area Code, Area Name           the row's area
 *   Area Type                      England, Region, NHS trust, Hospital site
 *   Sex                            Persons, or Male, Female, Indeterminate, Unknown in the sex
 *                                  breakdown (whose Category Type and Category are then empty)
 *   Age                            All ages, or the band in the age breakdown (likewise)
 *   Category Type, Category        the IMD quintile ("IMD 2019 quintile", "1 - most deprived" ..
 *                                  "5 - least deprived", "Unknown") or ethnic group ("Ethnic
 *                                  group", White ... Not stated, Unknown); the SII row: "Slope
 *                                  index of inequality (IMD 2019 deciles)", Category empty
 *   Time period                    the release's period, e.g. 2026Q1
 *   Value and the four limits      percentages: the proportion x 100 (the SII in percentage
 *                                  points); a ratio x 100 (O/E per 100 expected, Fingertips'
 *                                  indirectly standardised ratio: 100 is as expected); a median
 *                                  or mean as it is; 6 decimal places; the SII has no 99.8% limits
 *   Count, Denominator             numerator and denominator; a ratio's observed and expected;
 *                                  a median's or mean's records with a value, Denominator empty
 *   Value note                     why a value is missing or what it leaves out (disclosure
 *                                  control, an SII not computed, records with a missing risk
 *                                  input or value, records whose follow-up is not complete),
 *                                  joined by "; "
 *   Compared to England value or percentiles
 *                                  Better 95%, Similar, Worse 95% (metrics with a polarity),
 *                                  Higher 95%, Similar, Lower 95% (without), Not compared
 *   Compared to Region value or percentiles
 *                                  the same against the region's value, for trusts, sites and
 *                                  their breakdowns; Not compared for England and regions
 *   Time period Sortable           YYYYQQ00 for a quarter (2026Q1: 20260100), YYYY0000 for a year,
 *                                  empty otherwise
 *   Recent Trend, New data, Compared to goal
 *                                  empty: a release has no trend, novelty or goal yet */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "benchmark_build.h"
#include "csv.h"

static const char *const csv_head[] = {"audit",           "period",
                                       "level",           "area_code",
                                       "area_name",       "parent_code",
                                       "metric",          "breakdown",
                                       "category",        "numerator",
                                       "denominator",     "value",
                                       "lower95",         "upper95",
                                       "lower998",        "upper998",
                                       "england_value",   "compared_to_england",
                                       "funnel_lower95",  "funnel_upper95",
                                       "funnel_lower998", "funnel_upper998",
                                       "outlier",         "note",
                                       "expected",        "held",
                                       "missing",         "rejected",
                                       "left_out",        "bound_lower",
                                       "bound_upper",     "withheld_opt_out"};
#define N_CSV (sizeof csv_head / sizeof *csv_head)

void bench_figure(char *out, size_t len, bool has, double v)
{
    if (has && isfinite(v))
        snprintf(out, len, "%.6f", v);
    else
        out[0] = '\0';
    if (strcmp(out, "-0.000000") == 0)
        memmove(out, out + 1, strlen(out));
}

static void count(char *out, size_t len, bool has, long long v)
{
    if (has)
        snprintf(out, len, "%lld", v);
    else
        out[0] = '\0';
}

typedef struct {
    char num[24], den[24], held[24], missing[24], rejected[24], left_out[24], withheld[24];
    char fig[11][40]; /* value, 4 intervals, england value, 4 funnel limits, expected */
    char bound[2][40];
} row_text_t;

/* The SII row has no counts at all: empty held and missing. */
static void row_text(const benchmark_row_t *r, double scale, row_text_t *t)
{
    count(t->num, sizeof t->num, r->has_numerator, r->numerator);
    count(t->den, sizeof t->den, r->has_denominator, r->denominator);
    count(t->held, sizeof t->held, r->has_denominator, r->held);
    count(t->missing, sizeof t->missing, r->has_denominator, r->missing);
    count(t->rejected, sizeof t->rejected, r->has_ledger, r->rejected);
    count(t->left_out, sizeof t->left_out, r->has_ledger, r->left_out);
    count(t->withheld, sizeof t->withheld, r->has_ledger, r->withheld_opt_out);
    bench_figure(t->bound[0], sizeof t->bound[0], r->has_bounds, r->bound_lower * scale);
    bench_figure(t->bound[1], sizeof t->bound[1], r->has_bounds, r->bound_upper * scale);
    /* the expected sum exactly: it is a whole number of 1e-9 (fixed point), so that a reader
     * recomputes O/E and its limits from the same expected count */
    bench_figure(t->fig[10], sizeof t->fig[10], r->has_expected, r->expected);
    if (t->fig[10][0])
        snprintf(t->fig[10], sizeof t->fig[10], "%.9f", r->expected);
    const double v[10] = {r->value,          r->lower95,        r->upper95,
                          r->lower998,       r->upper998,       r->england_value,
                          r->funnel_lower95, r->funnel_upper95, r->funnel_lower998,
                          r->funnel_upper998};
    for (int i = 0; i < 10; i++) {
        bool has = i < 5 ? r->has_value : i == 5 ? r->has_england : r->has_funnel;
        bench_figure(t->fig[i], sizeof t->fig[i], has, v[i] * scale);
    }
}

void benchmark_write_csv(FILE *f, const char *audit, const char *period,
                         const benchmark_release_t *r)
{
    csv_write_row(f, csv_head, N_CSV);
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        row_text_t t;
        row_text(x, 1, &t);
        const char *cols[N_CSV] = {
            audit,      period,       x->level,    x->area_code, x->area_name, x->parent_code,
            x->metric,  x->breakdown, x->category, t.num,        t.den,        t.fig[0],
            t.fig[1],   t.fig[2],     t.fig[3],    t.fig[4],     t.fig[5],     x->compared,
            t.fig[6],   t.fig[7],     t.fig[8],    t.fig[9],     x->outlier,   x->note,
            t.fig[10],  t.held,       t.missing,   t.rejected,   t.left_out,   t.bound[0],
            t.bound[1], t.withheld};
        csv_write_row(f, cols, N_CSV);
    }
}

/* ---- fingertips.csv ---- */

static const char *const fingertips_head[] = {"Indicator ID",
                                              "Indicator Name",
                                              "Parent Code",
                                              "Parent Name",
                                              "Area Code",
                                              "Area Name",
                                              "Area Type",
                                              "Sex",
                                              "Age",
                                              "Category Type",
                                              "Category",
                                              "Time period",
                                              "Value",
                                              "Lower CI 95.0 limit",
                                              "Upper CI 95.0 limit",
                                              "Lower CI 99.8 limit",
                                              "Upper CI 99.8 limit",
                                              "Count",
                                              "Denominator",
                                              "Value note",
                                              "Recent Trend",
                                              "Compared to England value or percentiles",
                                              "Compared to Region value or percentiles",
                                              "Time period Sortable",
                                              "New data",
                                              "Compared to goal"};
#define N_FINGERTIPS (sizeof fingertips_head / sizeof *fingertips_head)

static const char *lookup(const char *const (*table)[2], const char *key, const char *dflt)
{
    for (size_t i = 0; table[i][0]; i++)
        if (strcmp(table[i][0], key) == 0)
            return table[i][1];
    return dflt;
}

static const char *const area_types[][2] = {{"england", "England"},
                                            {"region", "Region"},
                                            {"trust", "NHS trust"},
                                            {"site", "Hospital site"},
                                            {NULL, NULL}};
static const char *const compared_words[][2] = {{"better", "Better 95%"}, {"similar", "Similar"},
                                                {"worse", "Worse 95%"},   {"higher", "Higher 95%"},
                                                {"lower", "Lower 95%"},   {NULL, NULL}};
static const char *const categories[][2] = {{"1", "1 - most deprived"},
                                            {"5", "5 - least deprived"},
                                            {"white", "White"},
                                            {"mixed", "Mixed"},
                                            {"asian", "Asian"},
                                            {"black", "Black"},
                                            {"other", "Other"},
                                            {"not_stated", "Not stated"},
                                            {"unknown", "Unknown"},
                                            {"male", "Male"},
                                            {"female", "Female"},
                                            {"indeterminate", "Indeterminate"},
                                            {NULL, NULL}};

/* 2026Q1 → 20260100, 2026 → 20260000, else "". */
static void sortable(char *out, size_t len, const char *period)
{
    out[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)period[i]))
            return;
    if (period[4] == '\0')
        snprintf(out, len, "%.4s0000", period);
    else if (period[4] == 'Q' && period[5] >= '1' && period[5] <= '4' && period[6] == '\0')
        snprintf(out, len, "%.4s0%c00", period, period[5]);
}

static const benchmark_metric_t *metric_of(const benchmark_input_t *in, const char *id)
{
    for (size_t m = 0; m < in->n_metrics; m++)
        if (strcmp(in->metrics[m].id, id) == 0)
            return &in->metrics[m];
    return NULL;
}

static const char *const note_words[][2] = {
    {BENCHMARK_NOTE_SUPPRESSED, "Value suppressed for disclosure control due to small numbers"},
    {BENCHMARK_NOTE_MISSING, "Records with a missing risk model input or value left out"},
    {BENCHMARK_NOTE_HELD, "Records whose follow-up is not complete yet left out"},
    {NULL, NULL}};

/* A row's note (notes joined by ";") in words, joined by "; ". */
static void note_text(char *out, size_t len, const char *note)
{
    out[0] = '\0';
    for (const char *p = note; *p;) {
        size_t n = strcspn(p, ";");
        char one[128];
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? "; " : "", lookup(note_words, one, one));
        p += n + (p[n] == ';');
    }
}

void benchmark_write_fingertips(FILE *f, const benchmark_input_t *in, const benchmark_release_t *r)
{
    csv_write_row(f, fingertips_head, N_FINGERTIPS);
    char sort[16];
    sortable(sort, sizeof sort, in->period ? in->period : "");
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        const benchmark_metric_t *metric = metric_of(in, x->metric);
        benchmark_kind_t kind = metric ? metric->kind : BENCHMARK_PROPORTION;
        row_text_t t;
        /* percentages, ratios per 100 (an SMR of 100 is as expected), medians and means as they
         * are */
        row_text(x, kind == BENCHMARK_MEDIAN || kind == BENCHMARK_MEAN ? 1 : 100, &t);
        const char *count_text = t.num, *den_text = t.den;
        if (kind == BENCHMARK_RATIO) /* Count the observed, Denominator the expected */
            den_text = t.fig[10];
        else if (kind != BENCHMARK_PROPORTION) /* Count the records with a value */
            count_text = t.den, den_text = "";
        const char *sex = "Persons", *age = "All ages", *ctype = "", *cat = "";
        if (strcmp(x->breakdown, "sex") == 0)
            sex = lookup(categories, x->category, x->category);
        else if (strcmp(x->breakdown, "age") == 0)
            age = strcmp(x->category, "unknown") == 0 ? "Unknown" : x->category;
        else if (strcmp(x->breakdown, "imd_quintile") == 0) {
            ctype = "IMD 2019 quintile";
            cat = lookup(categories, x->category, x->category);
        } else if (strcmp(x->breakdown, "ethnicity") == 0) {
            ctype = "Ethnic group";
            cat = lookup(categories, x->category, x->category);
        } else if (strcmp(x->breakdown, "sii") == 0)
            ctype = "Slope index of inequality (IMD 2019 deciles)";
        char note[400];
        note_text(note, sizeof note, x->note);
        const char *cols[N_FINGERTIPS] = {
            x->metric,
            metric && metric->label ? metric->label : x->metric,
            x->parent_code,
            x->parent_name,
            x->area_code,
            x->area_name,
            lookup(area_types, x->level, x->level),
            sex,
            age,
            ctype,
            cat,
            in->period ? in->period : "",
            t.fig[0],
            t.fig[1],
            t.fig[2],
            t.fig[3],
            t.fig[4],
            count_text,
            den_text,
            note,
            "",
            lookup(compared_words, x->compared, "Not compared"),
            lookup(compared_words, x->compared_region, "Not compared"),
            sort,
            "",
            ""};
        csv_write_row(f, cols, N_FINGERTIPS);
    }
}

/* ---- latest.json ---- */

/* A figure as the CSV prints it (6 decimal places), or null. */
static json_t *json_figure(bool has, double v)
{
    char buf[40];
    bench_figure(buf, sizeof buf, has, v);
    return buf[0] ? json_real(strtod(buf, NULL)) : json_null();
}

static json_t *json_text(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static const char *polarity_name(benchmark_polarity_t p)
{
    return p == POLARITY_HIGHER_BETTER  ? "higher_is_better"
           : p == POLARITY_LOWER_BETTER ? "lower_is_better"
                                        : "none";
}

static const char *od_name(funnel_od_t od)
{
    return od == FUNNEL_OD_MULTIPLICATIVE ? "multiplicative"
           : od == FUNNEL_OD_ADDITIVE     ? "additive"
                                          : "none";
}

static json_t *methods(const benchmark_input_t *in)
{
    json_t *o = json_object();
    json_object_set_new(
        o, "interval",
        json_string("Wilson score interval of the proportion at 95% (z = 1.959964) and 99.8% "
                    "(z = 3.090232)"));
    json_object_set_new(
        o, "ratio",
        json_string("kind ratio: value observed / expected (the sum of the records' expected "
                    "values from the metric's risk model), exact Poisson limits of the observed "
                    "count (chi-square) below 10, Byar's approximation from 10, divided by the "
                    "expected; funnel limits around 1 from Poisson quantiles (`ncap funnel --type "
                    "ratio`), overdispersion on the log scale (shmi), 10% truncated each end; "
                    "numerator the observed count, denominator the records with an expected value, "
                    "expected the expected count"));
    json_object_set_new(
        o, "median",
        json_string("kind median: the median of the records' values (the mean of the two middle "
                    "values for an even count), distribution-free interval from the order "
                    "statistics x(l), x(n - l + 1), l the 2.5% (0.1%) quantile of Binomial(n, "
                    "1/2), empty below 6 (10) values; denominator the records with a value; no "
                    "funnel, no SII"));
    json_object_set_new(
        o, "mean",
        json_string("kind mean: the mean of the records' values, t interval mean -+ t(n - 1) s / "
                    "sqrt(n), empty for one value; denominator the records with a value; no "
                    "funnel, no SII"));
    json_object_set_new(
        o, "notes",
        json_string("joined by ';': suppressed (disclosure control) or the SII's; "
                    "missing_risk_inputs: the missing column's records of the denominator left "
                    "out (a risk model's input or the value null); follow_up_incomplete: the held "
                    "column's records left out until their follow-up is complete"));
    json_object_set_new(
        o, "ledger",
        json_string("what each row's figures leave out: rejected, the records of the area and "
                    "period whose validation failed (breakdown all rows; 0 on a category's); "
                    "withheld_opt_out, those withheld under the national data opt-out (likewise); "
                    "left_out, rejected + held + missing + withheld_opt_out; bound_lower and "
                    "bound_upper, the value had "
                    "every record left out been counted at worst and at best: a proportion's "
                    "numerator / (denominator + left_out) and (numerator + left_out) / "
                    "(denominator + left_out); a ratio's numerator / E' and (numerator + "
                    "left_out) / E', E' = expected x (denominator + left_out) / denominator (each "
                    "record left out with the mean expected value of those counted); a median's "
                    "with every record left out below, or above, every value counted (empty when "
                    "they are at least half of all); empty for means (unbounded values), on the "
                    "SII row and on a suppressed row"));
    json_object_set_new(
        o, "comparison",
        json_string("compared_to_england: the row's 95% interval above, spanning (or touching) or "
                    "below England's value: better, similar, worse for a metric with a polarity "
                    "(reversed when lower is better), higher, similar, lower without"));
    json_object_set_new(
        o, "funnel",
        json_string("trust and site rows: control limits at 95% and 99.8% around England's value "
                    "for the row's denominator, exact binomial quantiles interpolated as in "
                    "Spiegelhalter (2005), Statistics in Medicine 24:1185, appendix A.1; outlier "
                    "alert beyond 95%, alarm beyond 99.8% (as `ncap funnel`)"));
    json_object_set_new(
        o, "overdispersion",
        json_string("per metric (its funnel setting), estimated over the trusts of the period "
                    "whose figures are published (a suppressed trust left out) as Spiegelhalter "
                    "et al. (2012), JRSS A 175:1: z-scores on the arcsine square root scale, "
                    "Winsorised at 10% each end; phi their mean square; "
                    "multiplicative: limits widened by sqrt(phi); additive: random effects with "
                    "tau2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w); no widening unless "
                    "phi > 1; sites use the trusts' phi and tau2"));
    json_object_set_new(o, "trim", json_real(funnel_opts_default(FUNNEL_PROPORTION).trim));
    char text[400];
    snprintf(text, sizeof text,
             "min_count %lld: a count whose numerator, or denominator minus numerator, is 1 to "
             "min_count - 1 is suppressed (numerator, value, intervals, comparison, limits and "
             "flag left empty, note suppressed); then as few further counts as needed so that "
             "none can be recovered by subtraction within a parent and its children; "
             "denominators are always shown",
             in->min_count);
    json_object_set_new(o, "disclosure",
                        json_string(in->min_count > 1 ? text : "none (no min_count)"));
    json_object_set_new(o, "min_count", json_integer(in->min_count > 1 ? in->min_count : 0));
    json_object_set_new(
        o, "breakdowns",
        json_string("IMD 2019 quintile (deciles 1-2 as 1, most deprived, ... 9-10 as 5), ethnic "
                    "group, sex, age band: at England and region level every category with "
                    "records, at trust level a category with a denominator of at least 30, never "
                    "at site level"));
    json_object_set_new(o, "breakdown_min_denominator",
                        json_integer(BENCHMARK_TRUST_BREAKDOWN_MIN));
    snprintf(text, sizeof text,
             "slope index of inequality across England's IMD 2019 deciles (1 most deprived "
             "first) as PHEindicatormethods' phe_sii: weighted regression on the cumulative rank, "
             "95%% interval from %u simulations on the logit scale, seed %llu",
             BENCHMARK_SII_REPS, (unsigned long long)BENCHMARK_SII_SEED);
    json_object_set_new(o, "sii", json_string(text));
    return o;
}

/* The England all row of a metric: its funnel's target is published only beside it. */
static const benchmark_row_t *england_row(const benchmark_release_t *r, const char *metric)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].metric, metric) == 0 && strcmp(r->rows[i].level, "england") == 0 &&
            strcmp(r->rows[i].breakdown, "all") == 0)
            return &r->rows[i];
    return NULL;
}

static json_t *metric_json(const benchmark_metric_t *m, const benchmark_release_t *r, size_t i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "label", json_text(m->label));
    json_object_set_new(o, "polarity", json_string(polarity_name(m->polarity)));
    json_object_set_new(o, "overdispersion", json_string(od_name(m->overdispersion)));
    static const char *const kinds[] = {"proportion", "ratio", "median", "mean"};
    json_object_set_new(o, "kind", json_string(kinds[m->kind <= BENCHMARK_MEAN ? m->kind : 0]));
    json_object_set_new(o, "numerator", json_text(m->numerator_expr));
    json_object_set_new(o, "denominator", json_text(m->denominator_expr));
    if (m->kind == BENCHMARK_RATIO) {
        json_object_set_new(o, "observed", json_text(m->observed_expr));
        json_object_set_new(o, "expected", json_text(m->expected_model));
    }
    if (m->kind == BENCHMARK_MEDIAN || m->kind == BENCHMARK_MEAN)
        json_object_set_new(o, "value", json_text(m->value_expr));
    if (m->follow_up_days > 0)
        json_object_set_new(o, "follow_up_days", json_integer(m->follow_up_days));
    if (m->has_target)
        json_object_set_new(o, "target", json_real(m->target));
    const benchmark_row_t *e = england_row(r, m->id);
    if (i < r->n_metrics && e && e->has_numerator && e->has_value) {
        const funnel_summary_t *s = &r->funnel[i];
        json_t *f = json_object();
        json_object_set_new(f, "target", json_real(s->target));
        json_object_set_new(f, "trusts", json_integer((json_int_t)s->units));
        json_object_set_new(f, "phi", isfinite(s->phi) ? json_real(s->phi) : json_null());
        json_object_set_new(f, "tau2", json_real(s->tau2));
        json_object_set_new(f, "adjusted", json_boolean(s->adjusted));
        json_object_set_new(o, "funnel", f);
    } else {
        json_object_set_new(o, "funnel", json_null());
    }
    return o;
}

static json_t *row_json(const benchmark_row_t *x, const char *audit, const char *period)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(audit));
    json_array_append_new(a, json_string(period));
    json_array_append_new(a, json_string(x->level));
    json_array_append_new(a, json_string(x->area_code));
    json_array_append_new(a, json_string(x->area_name));
    json_array_append_new(a, json_text(x->parent_code));
    json_array_append_new(a, json_string(x->metric));
    json_array_append_new(a, json_string(x->breakdown));
    json_array_append_new(a, json_text(x->category));
    json_array_append_new(a, x->has_numerator ? json_integer(x->numerator) : json_null());
    json_array_append_new(a, x->has_denominator ? json_integer(x->denominator) : json_null());
    json_array_append_new(a, json_figure(x->has_value, x->value));
    json_array_append_new(a, json_figure(x->has_value, x->lower95));
    json_array_append_new(a, json_figure(x->has_value, x->upper95));
    json_array_append_new(a, json_figure(x->has_value, x->lower998));
    json_array_append_new(a, json_figure(x->has_value, x->upper998));
    json_array_append_new(a, json_figure(x->has_england, x->england_value));
    json_array_append_new(a, json_text(x->compared));
    json_array_append_new(a, json_figure(x->has_funnel, x->funnel_lower95));
    json_array_append_new(a, json_figure(x->has_funnel, x->funnel_upper95));
    json_array_append_new(a, json_figure(x->has_funnel, x->funnel_lower998));
    json_array_append_new(a, json_figure(x->has_funnel, x->funnel_upper998));
    json_array_append_new(a, json_text(x->outlier));
    json_array_append_new(a, json_text(x->note));
    json_array_append_new(a, x->has_expected && isfinite(x->expected) ? json_real(x->expected)
                                                                      : json_null());
    json_array_append_new(a, x->has_denominator ? json_integer(x->held) : json_null());
    json_array_append_new(a, x->has_denominator ? json_integer(x->missing) : json_null());
    json_array_append_new(a, x->has_ledger ? json_integer(x->rejected) : json_null());
    json_array_append_new(a, x->has_ledger ? json_integer(x->left_out) : json_null());
    json_array_append_new(a, json_figure(x->has_bounds, x->bound_lower));
    json_array_append_new(a, json_figure(x->has_bounds, x->bound_upper));
    json_array_append_new(a, x->has_ledger ? json_integer(x->withheld_opt_out) : json_null());
    return a;
}

/* What f received, as a string: the text of a file written by one of the writers above. */
static char *closed_text(FILE *f, char **buf)
{
    if (!f)
        return NULL;
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

char *benchmark_csv_text(const benchmark_input_t *in, const benchmark_release_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f)
        benchmark_write_csv(f, in->audit, in->period, r);
    return closed_text(f, &buf);
}

char *benchmark_fingertips_text(const benchmark_input_t *in, const benchmark_release_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f)
        benchmark_write_fingertips(f, in, r);
    return closed_text(f, &buf);
}

char *benchmark_json(const benchmark_input_t *in, const benchmark_release_t *r,
                     struct json_t *provenance)
{
    const char *audit = in->audit ? in->audit : "", *period = in->period ? in->period : "";
    json_t *o = json_object();
    json_object_set_new(o, "audit", json_string(audit));
    json_object_set_new(o, "period", json_string(period));
    json_object_set(o, "provenance", provenance ? provenance : json_null());
    json_object_set_new(o, "methods", methods(in));
    json_t *metrics = json_array();
    for (size_t m = 0; m < in->n_metrics; m++)
        json_array_append_new(metrics, metric_json(&in->metrics[m], r, m));
    json_object_set_new(o, "metrics", metrics);
    json_t *cols = json_array();
    for (size_t c = 0; c < N_CSV; c++)
        json_array_append_new(cols, json_string(csv_head[c]));
    json_object_set_new(o, "columns", cols);
    json_t *rows = json_array();
    for (size_t i = 0; i < r->n_rows; i++)
        json_array_append_new(rows, row_json(&r->rows[i], audit, period));
    json_object_set_new(o, "rows", rows);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    return s;
}
