/* benchmark_build.h - the state benchmark_build works in, shared by its files (benchmark.c: areas,
 * sums, rows; benchmark_figures.c: intervals, comparisons, funnel, SII; benchmark_suppress.c:
 * disclosure control). Not for use outside benchmark_build. */
#ifndef NCAP_BENCHMARK_BUILD_H
#define NCAP_BENCHMARK_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "benchmark.h"
#include "str_map.h"

/* A trust or site code's longest length in a cell. */
#define BENCH_CODE_MAX 200

typedef enum { BENCH_ENGLAND, BENCH_REGION, BENCH_TRUST, BENCH_SITE, BENCH_LEVELS } bench_level_t;
/* The published breakdowns, in their order; the cells' imd_decile is published as imd_quintile. */
typedef enum {
    BENCH_ALL,
    BENCH_IMD,
    BENCH_ETHNICITY,
    BENCH_SEX,
    BENCH_AGE,
    BENCH_SII,
    BENCH_BREAKDOWNS
} bench_breakdown_t;

extern const char *const bench_level_name[BENCH_LEVELS];
extern const char *const bench_breakdown_name[BENCH_BREAKDOWNS];

typedef struct {
    bench_level_t level;
    char *code, *name, *parent_code; /* in the release's arena */
    size_t parent;                   /* index of the parent area; SIZE_MAX for England */
    size_t n_children;
    size_t source; /* a site: its index in the sites map */
    bool unnamed;  /* a site: the cells without a site code */
    bool emit;     /* has rows (false: a trust's only site, unnamed) */
} bench_area_t;

typedef struct {
    bench_breakdown_t breakdown;
    char *category; /* in the release's arena */
} bench_slot_t;

typedef struct {
    long long num, den;
    long long e9;            /* ratio: the expected sum x 1e9 */
    long long held, missing; /* left out of the figures (benchmark_cell_t) */
    bool present;            /* some cell was added */
} bench_sum_t;

/* One value of a median or mean metric and how many records have it. */
typedef struct {
    double value;
    long long count;
} bench_value_t;

/* The values of an area's slot (median and mean metrics): every measure of the sites below it. */
typedef struct {
    bench_value_t *v;
    size_t n, cap;
} bench_bucket_t;

typedef struct {
    const benchmark_input_t *in;
    str_map_t *metric_ids, *trust_ids, *site_ids, *age_ids;
    void *arena;
    /* areas: England, then regions, trusts and sites, each level sorted by code; first[l] is the
     * first area of level l, first[BENCH_LEVELS] the count */
    bench_area_t *areas;
    size_t n_areas;
    size_t first[BENCH_LEVELS + 1];
    /* slots: the all row (0), then the categories of each breakdown in their order */
    bench_slot_t *slots;
    size_t n_slots;
    size_t *age_slot;        /* age map index → slot */
    bench_sum_t *sums;       /* [metric][area][slot] */
    bench_bucket_t *buckets; /* [metric][area][slot]; NULL without median or mean metrics */
    bench_sum_t *deciles;    /* [metric][decile - 1], England's IMD deciles 1..10 */
    long long *rejected;     /* [area]: records whose validation failed (BENCHMARK_REJECTED) */
    long long *withheld;     /* [area]: records withheld under the opt-out (BENCHMARK_WITHHELD) */
    size_t *row_of;          /* [metric][area][slot] → row, SIZE_MAX when not published */
    size_t *metric_of, *area_of, *slot_of; /* per row; slot SIZE_MAX for the SII row */
    size_t *sii_row;                       /* per metric; SIZE_MAX when none */
    bool *suppressed; /* per row: disclosure control hides its numerator; NULL: none hidden */
} bench_t;

static inline bench_sum_t *bench_sum(const bench_t *b, size_t m, size_t a, size_t k)
{
    return &b->sums[(m * b->n_areas + a) * b->n_slots + k];
}

static inline benchmark_kind_t bench_kind(const bench_t *b, size_t m)
{
    return b->in->metrics[m].kind;
}

/* Whether metric m's rows are a median's or a mean's (no numerator, no funnel). */
static inline bool bench_continuous(const bench_t *b, size_t m)
{
    return bench_kind(b, m) == BENCHMARK_MEDIAN || bench_kind(b, m) == BENCHMARK_MEAN;
}

static inline size_t bench_row(const bench_t *b, size_t m, size_t a, size_t k)
{
    return b->row_of[(m * b->n_areas + a) * b->n_slots + k];
}

/* A bucket's values: one more (merged with the last when equal); sorted by value, equal values
 * merged; how many records; the i-th smallest (1-based, 1 <= i <= the count); the median (the
 * mean of the two middle values for an even count) or mean, NaN for none. */
int bench_bucket_add(bench_bucket_t *k, double value, long long count);
void bench_bucket_sort(bench_bucket_t *k);
long long bench_bucket_count(const bench_bucket_t *k);
double bench_order_stat(const bench_bucket_t *k, long long i);
double bench_bucket_value(const bench_bucket_t *k, benchmark_kind_t kind);
/* A figure as the files print it: 6 decimal places, empty when !has or not finite, never
 * "-0.000000". */
void bench_figure(char *out, size_t len, bool has, double v);

int bench_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether metric m has an SII row: a proportion with at least 2 of England's deciles with a
 * denominator. */
bool bench_sii_wanted(const bench_t *b, size_t m);
/* Disclosure control, decided from the rows' counts alone (before their figures): sets
 * b->suppressed. */
int bench_suppress(bench_t *b, const benchmark_release_t *out, char *err, size_t errlen);
/* Values, intervals, England and region values and comparisons, funnel limits and flags, SII; the
 * trusts' funnel (phi, tau2) over the trusts not suppressed only, so that phi gives away nothing
 * of a hidden numerator. */
int bench_figures(bench_t *b, benchmark_release_t *out, char *err, size_t errlen);
/* The suppressed rows emptied; then what a hidden England or region value would give away. */
void bench_hide(const bench_t *b, benchmark_release_t *out);

#endif
