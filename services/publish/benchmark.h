/* benchmark.h - what a release holds, from aggregates (pure: no SQL, no files).
 *
 * In: the sums the metric stage keeps per trust, site, metric and breakdown category (never a
 * record), the organisations (trust → name, region) and each metric's settings from the audit's
 * definition. Out: the release's rows at four levels (england, region, trust, site), each with its
 * intervals, the comparison with England, funnel limits and outlier flag, the inequality
 * breakdowns, the slope index of inequality and disclosure control. The publish daemon and `ncap
 * release build` both call benchmark_build, so a deployment and an analyst get the same bytes. */
#ifndef NCAP_BENCHMARK_H
#define NCAP_BENCHMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "funnel.h"

/* England's area code in every release. */
#define BENCHMARK_ENGLAND_CODE "E92000001"
/* A trust's breakdown category is published only from this denominator up. */
#define BENCHMARK_TRUST_BREAKDOWN_MIN 30
/* The slope index of inequality's interval: simulations, and the seed they are drawn from (fixed,
 * so that a release is reproducible: the ASCII bytes of "ncap sii"). */
#define BENCHMARK_SII_REPS 100000u
#define BENCHMARK_SII_SEED 0x6e63617020736969ull

/* A cell's expected_e9 is the expected sum x this (services/metric's CONTRIBUTION_EXPECTED_SCALE:
 * fixed point, so that sums do not depend on the order they are added in). */
#define BENCHMARK_EXPECTED_SCALE 1000000000.0

/* The notes of a row; a row with more than one has them joined by ";" in this order:
 * suppressed (or the SII's), missing_risk_inputs, follow_up_incomplete. */
#define BENCHMARK_NOTE_SUPPRESSED "suppressed"
/* records of the row's denominator left out: a risk model's input or the value was null */
#define BENCHMARK_NOTE_MISSING "missing_risk_inputs"
/* records of the row's denominator held back: their follow-up is not complete yet */
#define BENCHMARK_NOTE_HELD "follow_up_incomplete"
/* an SII row without a value: a decile at 0% or 100% has no interval to simulate from */
#define BENCHMARK_NOTE_SII_UNDEFINED "not computed: an IMD decile at 0% or 100%"

/* The metric id of a cell that counts records left out before any metric: their validation failed
 * (metric's CONTRIBUTION_REJECTED: metric.aggregate keeps them per trust, site and month, breakdown
 * "all", the records in denominator, numerator 0). They count in every metric's ledger (the row's
 * rejected) and in no figure. No metric of a definition has this id: ids are identifiers. */
#define BENCHMARK_REJECTED "!rejected"

/* The metric id of a cell that counts records withheld under the national data opt-out (linkage's
 * counts, publish.linkage_quality's withheld_opt_out, migration 0027; `ncap release build` counts
 * them in memory), per trust and site, breakdown "all", the records in denominator, numerator 0.
 * Like BENCHMARK_REJECTED they count in every metric's ledger (the row's withheld_opt_out) and in
 * no figure. */
#define BENCHMARK_WITHHELD "!withheld_opt_out"

/* One aggregate cell, as metric.aggregate keeps it. breakdown: "all" (category ""),
 * "imd_decile" ("1".."10", "unknown"), "ethnicity" ("white", "mixed", "asian", "black", "other",
 * "not_stated", "unknown"), "sex" ("male", "female", "indeterminate", "unknown"), "age" (the
 * definition's band labels, "unknown"). */
typedef struct {
    const char *trust; /* ODS trust code */
    const char *site;  /* the record's site code */
    const char *metric;
    const char *breakdown;
    const char *category;
    /* the cell's month, "YYYY-MM" (metric.aggregate keeps cells per month; a period's figures are
     * the sums of its months); NULL or "": the cell stands for the whole period */
    const char *month;
    /* proportion: the records in the numerator; ratio: the observed count */
    long long numerator;
    /* the records in the figures */
    long long denominator;
    /* ratio: the sum of the records' expected values x CONTRIBUTION_EXPECTED_SCALE (1e9) */
    long long expected_e9;
    /* records of the denominator left out of the figures: their follow-up not complete yet
     * (note follow_up_incomplete), a risk input or the value null (note missing_risk_inputs) */
    long long held;
    long long missing;
} benchmark_cell_t;

/* For median and mean metrics: how many records of a cell have one value (metric.measure keeps a
 * cell's values so, never a record's). The cell's key is benchmark_cell_t's. */
typedef struct {
    const char *trust;
    const char *site;
    const char *metric;
    const char *breakdown;
    const char *category;
    const char *month;
    double value;
    long long count;
    /* 0, or a number that names this measure's cell (trust, site, metric, breakdown, category:
     * the month aside) and no other cell, the same for the whole build; a cell may have several
     * (publish's value cache numbers breakdown "all" by month). The builder then finds where the
     * measure goes by it (an integer) rather than by its strings. Publish's value cache gives
     * one (value_cache.c); a stream does not. */
    uint64_t cell_ref;
} benchmark_measure_t;

/* Hands one measure to the builder (benchmark_measure_reader_t); its strings need live only for
 * the call. Returns 0, or -1 to stop. */
typedef int (*benchmark_each_measure_t)(void *ctx, const benchmark_measure_t *x);
/* Reads a release's values (series false: the period's measures; true: its series_measures) and
 * hands each to each(ctx, x) in ascending order of value (SQL's ORDER BY value), so that nobody
 * holds them all: benchmark_build takes the few order statistics and sums each row needs as they
 * pass (one pass; a second one for a mean's squares). from_month (series only; NULL: none): the
 * builder needs the months from it on only and passes over any earlier one handed, so a reader
 * may leave those out (publish's SQL does). Returns 0, or -1 with err (each() failing included:
 * the builder then says why). */
typedef int (*benchmark_measure_reader_t)(void *reader, bool series, const char *from_month,
                                          benchmark_each_measure_t each, void *ctx, char *err,
                                          size_t errlen);

/* What the run charts took from the values of each month (per metric, unit and month: the
 * statistics of its median or mean), kept by the caller across the builds of one snapshot of the
 * values (publish: one round) so that each build reads only the months no earlier build took.
 * A round rebuilding an audit's periods in order builds the first one's months, then the
 * second's, ... each once, where every build read every month up to its period's end (1 + 2 + 3
 * + 4 quarters for four, streamed and sorted by PostgreSQL each time). A month's statistics are
 * the same for every period whose run charts show it: they depend on that month's values alone.
 * Clear it whenever the values may have changed. */
typedef struct benchmark_series_memo benchmark_series_memo_t;
/* An empty memo, or NULL when out of memory. */
benchmark_series_memo_t *benchmark_series_memo_new(void);
/* Forgets every month taken. */
void benchmark_series_memo_clear(benchmark_series_memo_t *m);
/* Frees it and sets *m to NULL; harmless on NULL. */
void benchmark_series_memo_destroy(benchmark_series_memo_t **m);
/* The bytes it holds. */
size_t benchmark_series_memo_bytes(const benchmark_series_memo_t *m);

/* A trust of the reference data. A trust of the cells not given here keeps its code as its name
 * and the region "unknown". */
typedef struct {
    const char *code;
    const char *name;
    const char *region;      /* national grouping code, e.g. Y56 */
    const char *region_name; /* e.g. London; NULL: the code */
} benchmark_org_t;

typedef enum {
    POLARITY_NONE = 0,
    POLARITY_HIGHER_BETTER,
    POLARITY_LOWER_BETTER
} benchmark_polarity_t;

/* A metric's settings, from its definition. */
/* What a metric measures; the order is that of audit_metric_kind_t (common/audit/audit_def.h). */
typedef enum {
    BENCHMARK_PROPORTION = 0,
    BENCHMARK_RATIO,
    BENCHMARK_MEDIAN,
    BENCHMARK_MEAN
} benchmark_kind_t;

typedef struct {
    const char *id;
    const char *label;
    benchmark_polarity_t polarity;
    funnel_od_t overdispersion;
    /* the definition's expressions, for latest.json; NULL: left out */
    const char *numerator_expr;
    const char *denominator_expr;
    benchmark_kind_t kind;
    /* ratio: the observed expression and the model's id; median, mean: the value expression */
    const char *observed_expr;
    const char *expected_model;
    const char *value_expr;
    int follow_up_days; /* 0: none */
    bool has_target;    /* the run chart's target */
    double target;
} benchmark_metric_t;

/* A change a trust made to one metric on a day (publish.action). */
typedef struct {
    const char *trust;
    const char *metric;
    const char *date; /* YYYY-MM-DD */
} benchmark_action_t;

/* The month whose point is the first after an action on date ("YYYY-MM-DD"): the action's own
 * month when it falls on the 1st (every day of the month after it), else the next month (a month
 * mixing days before and after the change stays with the old period). "" for a malformed date. */
void benchmark_action_month(const char *date, char out[8]);

typedef struct {
    const char *audit;
    const char *period; /* e.g. 2026Q1 */
    const benchmark_metric_t *metrics;
    size_t n_metrics;
    long long min_count; /* disclosure: {min_count: N}; <= 1 none */
    /* The period's cells and values. The publish daemon and `ncap release build` give them with
     * the months summed (month "", release_sums.h), in one order; cells of the same key in
     * several months would be summed here as well. */
    const benchmark_cell_t *cells;
    size_t n_cells;
    const benchmark_org_t *orgs;
    size_t n_orgs;
    const benchmark_measure_t *measures; /* median and mean metrics' values */
    size_t n_measures;
    /* the run charts (spc.csv): breakdown "all" cells and measures of every month held up to the
     * end of the period, month set (earlier periods' months too) */
    const benchmark_cell_t *series;
    size_t n_series;
    const benchmark_measure_t *series_measures;
    size_t n_series_measures;
    /* Instead of measures and series_measures (both empty then): their reader and its state (the
     * publish daemon reads them from PostgreSQL in value order, never holding them); NULL: the
     * arrays, taken in value order likewise */
    benchmark_measure_reader_t read_measures;
    void *reader;
    /* the run charts' months other builds of the same values took (benchmark_series_memo_t),
     * which this one takes from it and adds its own to; NULL: every month read */
    benchmark_series_memo_t *series_memo;
    /* changes trusts made (`ncap action add`): each starts a new period of its trust's run chart
     * of its metric (benchmark_spc.c); none: the charts are as they were */
    const benchmark_action_t *actions;
    size_t n_actions;
} benchmark_input_t;

/* One row of latest.csv. Text fields are owned by the release. has_* false: the field is empty;
 * so is a figure that is NaN (the SII row's 99.8% limits). */
typedef struct {
    const char *level; /* england, region, trust, site */
    char *area_code, *area_name, *parent_code;
    char *parent_name; /* for fingertips.csv; "" for England */
    const char *metric;
    const char *breakdown; /* all, imd_quintile, ethnicity, sex, age, sii */
    char *category;
    /* proportion: numerator out of denominator; ratio: observed (numerator) and expected, the
     * records with an expected value in denominator; median and mean: no numerator, the records
     * with a value in denominator */
    bool has_numerator, has_denominator, has_value;
    long long numerator, denominator;
    bool has_expected; /* ratio rows (the SII's aside) */
    double expected;
    /* the records of the denominator left out of the figures (benchmark_cell_t) */
    long long held, missing;
    /* the selection ledger (empty, has_ledger false, on the SII row and on a suppressed row):
     * rejected, the records of the area and period whose validation failed (breakdown "all"
     * rows; 0 on a category's, which a rejected record has none of); withheld_opt_out, those
     * withheld under the national data opt-out (likewise); left_out, rejected + held + missing +
     * withheld_opt_out; the bounds of the value had they been included (has_bounds; a
     * proportion's, a ratio's and a median's: benchmark.c row_bounds, README.md "The selection
     * ledger") */
    bool has_ledger, has_bounds;
    long long rejected, left_out, withheld_opt_out;
    double bound_lower, bound_upper;
    /* the intervals are NaN (printed empty) where the value has none: a median of too few
     * records for an order-statistic interval, a mean of one */
    double value, lower95, upper95, lower998, upper998;
    bool has_england;
    double england_value;
    const char *compared; /* better, similar, worse, higher, lower, or "" */
    bool has_funnel;
    double funnel_lower95, funnel_upper95, funnel_lower998, funnel_upper998;
    const char *outlier; /* in_control, alert_high, ... or "" */
    const char *note;    /* suppressed, ... or "" (BENCHMARK_NOTE_*, joined by ";") */
    /* the same comparison against the value of the row's region (its all row), for trust and
     * site rows and their breakdowns (fingertips.csv): has_region false when the region's value
     * is not published */
    bool has_region;
    double region_value;
    const char *compared_region;
} benchmark_row_t;

typedef struct {
    benchmark_row_t *rows;
    size_t n_rows;
    /* per metric of the input, in its order: the trusts' funnel (target the England value; phi
     * and tau2 over the trusts with a denominator whose all row is not suppressed, so that they
     * give nothing of a hidden numerator away) that trust and site rows are flagged against */
    funnel_summary_t *funnel;
    size_t n_metrics;
    /* strings the rows point into */
    void *arena;
} benchmark_release_t;

/* Builds the release (rows in a fixed order: metric as defined, then level (england, region,
 * trust, site), area code (then parent code), breakdown (all, imd_quintile, ethnicity, sex, age,
 * sii), category (imd_quintile 1..5, unknown; ethnicity white, mixed, asian, black, other,
 * not_stated, unknown; sex male, female, indeterminate, unknown; age by the band's lower bound,
 * "<60" first, other labels by name after them, unknown last)). Every trust and site of the cells
 * has an all row in every metric. A cell with an empty site counts in its trust; it makes a site
 * row "unknown" only when its trust has cells of named sites too. Returns 0, or -1 with err (out
 * of memory, a cell of an unknown metric, breakdown or category, a negative count or a numerator
 * above its denominator). Disclosure control (min_count > 1) treats every sum the release shows as
 * a group, benchmark_suppress.c lists them; when England's or a region's all row is suppressed,
 * the rows drawn from its value (comparisons, funnel limits, flags) leave them empty too. Cost:
 * O(cells + rows), plus the funnel's exact limits (about the square
 * root of a denominator each) and the SII's simulations (BENCHMARK_SII_REPS per metric), never a
 * record. */
int benchmark_build(const benchmark_input_t *in, benchmark_release_t *out, char *err,
                    size_t errlen);
void benchmark_release_free(benchmark_release_t *r);

/* latest.csv: the header audit,period,level,area_code,area_name,parent_code,metric,breakdown,
 * category,numerator,denominator,value,lower95,upper95,lower998,upper998,england_value,
 * compared_to_england,funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,
 * expected,held,missing,rejected,left_out,bound_lower,bound_upper,withheld_opt_out and one line per
 * row (RFC 4180, csv.h). The last eight came later (after note, so that a reader by position finds
 * the others where they were): expected a ratio row's expected count, held and missing the records
 * left out of the figures, then the selection ledger (benchmark_row_t), withheld_opt_out last. */
void benchmark_write_csv(FILE *f, const char *audit, const char *period,
                         const benchmark_release_t *r);
/* fingertips.csv: the same figures in OHID Fingertips' column layout, values and limits as
 * percentages (x 100); benchmark_files.c says how each column is filled. */
void benchmark_write_fingertips(FILE *f, const benchmark_input_t *in, const benchmark_release_t *r);
/* The same two files as malloc'd strings (what a release keeps and writes out), or NULL when out
 * of memory. */
char *benchmark_csv_text(const benchmark_input_t *in, const benchmark_release_t *r);
char *benchmark_fingertips_text(const benchmark_input_t *in, const benchmark_release_t *r);

/* spc.csv and spc_summary.csv (benchmark_spc.c says how they are computed and what disclosure
 * control hides), from in's series and series_measures (months "YYYY-MM" of breakdown "all" up to
 * the end of in->period, a quarter YYYYQn or a year YYYY; other cells are ignored), metrics and
 * orgs (a trust's region), as malloc'd strings:
 *   spc.csv: audit,metric,level,area_code,month,numerator,denominator,value,mean,lpl,upl,
 *            special_cause,point_type - one line per metric (definition order), unit (england,
 *            the regions, the trusts, each by code) and month with records, in month order
 *   spc_summary.csv: audit,metric,level,area_code,mean,lpl,upl,n,variation,assurance - one line
 *            per metric and unit of spc.csv, n the months charted
 * Figures with 6 decimal places; the names of spc.h (spc_cause_name, ...). Returns 0, or -1 with
 * err (a series cell of an unknown metric, a month not YYYY-MM, a negative count, out of
 * memory). */
int benchmark_spc_text(const benchmark_input_t *in, char **spc_csv, char **summary_csv, char *err,
                       size_t errlen);

struct json_t; /* jansson's */
/* latest.json: {audit, period, provenance, methods, metrics (id, label, polarity, overdispersion,
 * the expressions, the trusts' funnel: target, phi, tau2), columns (the CSV's), rows (one array
 * per row in the columns' order, figures as the CSV rounds them, null where the CSV is empty)}.
 * provenance (borrowed; NULL: null) is what the caller knows of where the release comes from.
 * Returns a malloc'd string, or NULL when out of memory. */
char *benchmark_json(const benchmark_input_t *in, const benchmark_release_t *r,
                     struct json_t *provenance);

#endif
