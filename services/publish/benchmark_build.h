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

/* What a median's or mean's row (or run chart point) takes from its values, gathered as they
 * pass in ascending order (bench_values), never the values themselves: the order statistics at a
 * few ranks (its median, its interval's, its ledger's bounds), the sum of the values and, in a
 * second pass, their squares about the mean. Equal values passing one after the other are merged
 * first (their counts added), then added as value x count: the sums are those of the values
 * sorted with equal ones merged, term by term in that order. */
#define BENCH_RANKS 10
typedef struct {
    long long n;                 /* the values expected: the ranks are of them */
    long long seen;              /* the values passed */
    long long rank[BENCH_RANKS]; /* 1-based */
    double at[BENCH_RANKS];      /* the value at each rank, NaN until passed */
    int n_ranks;
    bool pending, squares; /* a value being merged; the pass adds squares (not sum, ranks) */
    double value;          /* the value being merged and its records */
    long long count;
    double sum, mean, ss; /* sum of value x count; squares about mean x count */
} bench_stat_t;
/* What each key met came to (bench_memo_key's strings → items of size bytes), so that a key is
 * worked out once for the many values that have it. Zeroed: empty. */
typedef struct {
    str_map_t *ids;
    void *items;
    size_t cap, size;
} bench_memo_t;

/* Where the values of one measure key go (benchmark.c's take_one): the stats of its site's rows
 * and every area's above it. */
typedef struct {
    size_t stat[BENCH_LEVELS];
    int n;
} bench_placed_t;
typedef struct {
    const benchmark_input_t *in;
    str_map_t *metric_ids, *trust_ids, *site_ids, *age_ids;
    /* the measure keys placed (take_one: a key checked and placed once, not for each value) */
    bench_memo_t placed;
    /* the measures' cell_ref placed: an open-addressed table (0: an empty slot) of placed's item
     * index per ref, ref_cap a power of 2 (0: none yet) */
    uint64_t *ref_keys;
    size_t *ref_items;
    size_t ref_cap, ref_n;
    void *arena;
    /* areas: England, then regions, trusts and sites, each level sorted by code; first[l] is the
     * first area of level l, first[BENCH_LEVELS] the count */
    bench_area_t *areas;
    size_t n_areas;
    size_t first[BENCH_LEVELS + 1];
    /* slots: the all row (0), then the categories of each breakdown in their order */
    bench_slot_t *slots;
    size_t n_slots;
    size_t *age_slot;     /* age map index → slot */
    bench_sum_t *sums;    /* [metric][area][slot] */
    bench_stat_t *stats;  /* per median or mean row (stat_of) */
    size_t *stat_of;      /* [row] → its stat, SIZE_MAX for none; NULL: no such row */
    size_t *site_area;    /* sites map index → its area */
    bench_sum_t *deciles; /* [metric][decile - 1], England's IMD deciles 1..10 */
    long long *rejected;  /* [area]: records whose validation failed (BENCHMARK_REJECTED) */
    long long *withheld;  /* [area]: records withheld under the opt-out (BENCHMARK_WITHHELD) */
    size_t *row_of;       /* [metric][area][slot] → row, SIZE_MAX when not published */
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

/* A stat (bench_stat_t) of n values expected, no rank wanted yet; the ranks of its median (one, or
 * the two middle ones) wanted; rank i wanted (ignored outside 1..n, or when BENCH_RANKS are); the
 * ranks of the distribution-free interval of a median at the two-sided level of z wanted; one
 * value of count records passed (the values of one stat in ascending order); the pass ended; the
 * value at rank i (NaN when not wanted or not passed); the median (the mean of the two middle
 * values for an even count) or mean of the values passed, NaN for none. */
void bench_stat_init(bench_stat_t *s, long long n);
void bench_stat_want_median(bench_stat_t *s);
void bench_stat_want(bench_stat_t *s, long long i);
void bench_stat_want_interval(bench_stat_t *s, double z);
void bench_stat_add(bench_stat_t *s, double value, long long count);
void bench_stat_end(bench_stat_t *s);
double bench_stat_order(const bench_stat_t *s, long long i);
double bench_stat_value(const bench_stat_t *s, benchmark_kind_t kind);
/* A median's interval at z over the values passed: NaN (none) when too few. */
void bench_stat_interval(const bench_stat_t *s, double z, double *lo, double *hi);
/* Starts a stat's second pass, that of the squares about its mean (the value passed). */
void bench_stat_squares(bench_stat_t *s);
/* What bench_values hands a measure to: its place among those passed (0-based) and the measure,
 * whose strings live for the call only. Returns 0, or -1 with why. */
typedef int (*bench_take_t)(void *ctx, size_t i, const benchmark_measure_t *x, char *why,
                            size_t whylen);
/* Hands in's measures (series: its series_measures of the months from from_month on, NULL for
 * all; this is where the earlier months are passed over, whatever a reader hands) to take(ctx,
 * ...) in ascending order of value: from in->read_measures, the order checked, or the arrays
 * sorted by value (their order among equal values kept). Returns 0, or -1 with err (take's why
 * when it failed). */
int bench_values(const benchmark_input_t *in, bool series, const char *from_month,
                 bench_take_t take, void *ctx, char *err, size_t errlen);
/* A figure as the files print it: 6 decimal places, empty when !has or not finite, never
 * "-0.000000". */
void bench_figure(char *out, size_t len, bool has, double v);

int bench_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether metric m has an SII row: a proportion with at least 2 of England's deciles with a
 * denominator. */
bool bench_sii_wanted(const bench_t *b, size_t m);

/* The bytes of a memo key of n parts (bench_memo_key). */
#define BENCH_MEMO_KEY_MAX(n) ((n)*255 + 1)
/* The n parts of a key (NULL as "") as one string for a map of the keys met (str_map.h): each its
 * length + 1 in a byte, then its bytes, so that no two keys give the same string whatever bytes
 * they hold. buf holds BENCH_MEMO_KEY_MAX(n) bytes. Returns false when a part is too long to say
 * so (longer than 254 bytes): the caller then works without its memo. */
bool bench_memo_key(const char *const *part, int n, char *buf);
/* The item kept for key in m (items of size bytes), or NULL when none is. */
const void *bench_memo_get(const bench_memo_t *m, const char *key, size_t size);
/* Keeps a copy of item as key's. Returns the copy, or NULL when out of memory. */
const void *bench_memo_put(bench_memo_t *m, const char *key, const void *item, size_t size);
void bench_memo_free(bench_memo_t *m);
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
