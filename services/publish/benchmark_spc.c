/* benchmark_spc.c - a release's run charts: spc.csv and spc_summary.csv from the monthly series
 * (benchmark_input_t's series and series_measures), every metric's XmR chart for England, each
 * region and each trust, computed by spc_compute as `ncap spc` does.
 *
 * The month's value of a unit: a proportion's numerator / denominator, a ratio's observed /
 * expected, a median's or mean's of the month's values. Improvement from the metric's polarity
 * (higher is better: increase; lower: decrease; none: neutral), the target from its `target:`;
 * the moving ranges screened, as `ncap spc` does by default. A trust's chart of a metric starts a
 * new period (its mean and limits recalculated, no rule looking across) at the first shown month
 * after each change the trust registered for the metric (`ncap action add`, benchmark_input_t's
 * actions; benchmark_action_month says which month); without actions every chart is one period,
 * and the files are byte for byte what they were before actions existed.
 *
 * Disclosure control (min_count > 1). A month of a trust is a small group: a count of 1 to
 * min_count - 1 in it identifies patients as surely as one in a quarter does, and its value gives
 * the count away (value x denominator), so a month is a cell like any row of latest.csv: its
 * numerator (a ratio's observed; a median's or mean's count of records) or its denominator less
 * the numerator (not for medians and means) between 1 and min_count - 1 hides it (primary). The
 * sums a reader can form are groups, as in latest.csv: each month of a region is the sum of its
 * trusts' months, each month of England of its regions' months, and each unit's months within
 * one of the release's periods sum to the unit's row of that period in latest.csv (known to a
 * reader as shown unless the primary rule hides it there too: a fixed cell, never hidden to
 * protect another); disclosure_apply hides as few further months as it takes for no hidden month
 * to be worked out. Each period's months are decided alone (no sum relates them to another
 * period's), so that every release whose chart shows them hides the same ones: two releases
 * hiding different complements would together give a month away. Should a period's total ever
 * end hidden all the same (which latest.csv may show), the metric's months of that period are
 * withheld instead. A hidden month shows only
 * its denominator (the records, as latest.csv always shows them): no numerator, value, limits
 * or signal. A unit's chart is drawn from its shown months only, so that its mean and limits
 * give nothing of a hidden month away; its summary counts those months (n).
 *
 * Cost: O(metrics x units x months) for the sums and charts, plus disclosure_apply over as many
 * cells (disclosure.h: tens of milliseconds at 60,000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "benchmark.h"
#include "benchmark_build.h"
#include "csv.h"
#include "disclosure.h"
#include "spc.h"
#include "str_map.h"

/* Where the values of a series measure key (metric, trust, month) go: its metric, its month's
 * rank and its units (units_of). */
typedef struct {
    size_t m, month, u[3];
} spc_placed_t;

/* One month of one unit of one metric. */
typedef struct {
    long long num, den, e9;
    bool present;
    bool has_value;
    double value;
    bool hidden; /* disclosure control */
} spc_cell_t;

typedef struct {
    const benchmark_input_t *in;
    str_map_t *metrics, *trusts, *regions, *months;
    /* units: England (0), the regions (1 + r), the trusts (1 + n_regions + t), sorted by code
     * within each level (order[]) */
    size_t n_regions, n_trusts, n_units, n_months;
    size_t *trust_region; /* trust → region index */
    size_t *region_order, *trust_order;
    const char **month_sorted; /* months in order */
    size_t *month_rank;        /* month map index → place in month_sorted */
    spc_cell_t *cells;         /* [metric][unit][month rank] */
    char last_month[8];        /* the period's last month; "" none */
    bench_stat_t *stats;       /* [metric][unit][month rank] of median and mean metrics */
    size_t *cont;              /* metric → its index among those (SIZE_MAX: another kind) */
    size_t n_cont;
    /* the series measure keys placed (take_one: each looked up once, not for every value) */
    bench_memo_t placed;
    /* the months before this rank were taken from in->series_memo: no value of theirs is read */
    size_t from;
} spc_t;

static spc_cell_t *cell_at(const spc_t *s, size_t m, size_t u, size_t i)
{
    return &s->cells[(m * s->n_units + u) * s->n_months + i];
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *region_of_org(const benchmark_input_t *in, const char *trust)
{
    for (size_t i = 0; i < in->n_orgs; i++)
        if (in->orgs[i].code && strcmp(in->orgs[i].code, trust) == 0)
            return in->orgs[i].region && *in->orgs[i].region ? in->orgs[i].region : "unknown";
    return "unknown";
}

/* The last month of a release period, "YYYY-MM": 2026Q1 → 2026-03, 2026 → 2026-12; "" (no
 * bound) for another form. */
static void period_end(const char *period, char out[8])
{
    out[0] = '\0';
    if (!period || strlen(period) < 4 || strspn(period, "0123456789") < 4)
        return;
    if (period[4] == '\0')
        snprintf(out, 8, "%.4s-12", period);
    else if (period[4] == 'Q' && period[5] >= '1' && period[5] <= '4' && period[6] == '\0')
        snprintf(out, 8, "%.4s-%02d", period, 3 * (period[5] - '0'));
}

/* Whether a cell or measure is in the run charts: breakdown "all", a month, and that month not
 * after the release's period (a series given with later months charts none of them). */
/* The run charts take breakdown "all" cells of a month up to the period's end, never the ledger's
 * (BENCHMARK_REJECTED, BENCHMARK_WITHHELD: records in no metric). */
static bool in_series(const spc_t *s, const char *metric, const char *breakdown, const char *month)
{
    return !(metric && (strcmp(metric, BENCHMARK_REJECTED) == 0 ||
                        strcmp(metric, BENCHMARK_WITHHELD) == 0)) &&
           breakdown && strcmp(breakdown, "all") == 0 && month && *month &&
           (!s->last_month[0] || strcmp(month, s->last_month) <= 0);
}

static int add_key(spc_t *s, const char *metric, const char *trust, const char *month, char *err,
                   size_t errlen)
{
    if (str_map_get(s->metrics, metric ? metric : "") == STR_MAP_MISSING)
        return bench_fail(err, errlen, "series: metric \"%s\" is not one of the definition's",
                          metric ? metric : "");
    if (!trust || !*trust)
        return bench_fail(err, errlen, "series: a cell of month %s without a trust", month);
    if (strlen(month) != 7 || month[4] != '-')
        return bench_fail(err, errlen, "series: month \"%s\", expected YYYY-MM", month);
    size_t t;
    int rc = str_map_put(s->trusts, trust, &t);
    if (rc == 1 && str_map_put(s->regions, region_of_org(s->in, trust), NULL) < 0)
        return bench_fail(err, errlen, "out of memory");
    if (rc < 0 || str_map_put(s->months, month, NULL) < 0)
        return bench_fail(err, errlen, "out of memory");
    return 0;
}

static size_t *sorted_order(const str_map_t *map, size_t n)
{
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!keys || !order) {
        free(keys);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = str_map_key(map, i);
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++)
        order[str_map_get(map, keys[i])] = i; /* map index → rank */
    free(keys);
    return order;
}

static int index_series(spc_t *s, char *err, size_t errlen)
{
    const benchmark_input_t *in = s->in;
    s->metrics = str_map_new(in->n_metrics);
    s->trusts = str_map_new(0);
    s->regions = str_map_new(0);
    s->months = str_map_new(0);
    if (!s->metrics || !s->trusts || !s->regions || !s->months)
        return bench_fail(err, errlen, "out of memory");
    for (size_t m = 0; m < in->n_metrics; m++)
        if (str_map_put(s->metrics, in->metrics[m].id ? in->metrics[m].id : "", NULL) < 0)
            return bench_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < in->n_series; i++) {
        const benchmark_cell_t *c = &in->series[i];
        if (in_series(s, c->metric, c->breakdown, c->month) &&
            add_key(s, c->metric, c->trust, c->month, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < in->n_series_measures; i++) {
        const benchmark_measure_t *x = &in->series_measures[i];
        if (in_series(s, x->metric, x->breakdown, x->month) &&
            add_key(s, x->metric, x->trust, x->month, err, errlen) != 0)
            return -1;
    }
    s->n_trusts = str_map_size(s->trusts);
    s->n_regions = str_map_size(s->regions);
    s->n_months = str_map_size(s->months);
    s->n_units = 1 + s->n_regions + s->n_trusts;
    s->trust_region = malloc((s->n_trusts ? s->n_trusts : 1) * sizeof *s->trust_region);
    s->region_order = sorted_order(s->regions, s->n_regions);
    s->trust_order = sorted_order(s->trusts, s->n_trusts);
    s->month_rank = sorted_order(s->months, s->n_months);
    s->month_sorted = malloc((s->n_months ? s->n_months : 1) * sizeof *s->month_sorted);
    size_t n = in->n_metrics * s->n_units * s->n_months;
    s->cells = calloc(n ? n : 1, sizeof *s->cells);
    if (!s->trust_region || !s->region_order || !s->trust_order || !s->month_rank ||
        !s->month_sorted || !s->cells)
        return bench_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < s->n_months; i++)
        s->month_sorted[s->month_rank[i]] = str_map_key(s->months, i);
    for (size_t t = 0; t < s->n_trusts; t++)
        s->trust_region[t] = str_map_get(s->regions, region_of_org(in, str_map_key(s->trusts, t)));
    if (!(s->cont = malloc((in->n_metrics ? in->n_metrics : 1) * sizeof *s->cont)))
        return bench_fail(err, errlen, "out of memory");
    for (size_t m = 0; m < in->n_metrics; m++) {
        benchmark_kind_t kind = in->metrics[m].kind;
        s->cont[m] = kind == BENCHMARK_MEDIAN || kind == BENCHMARK_MEAN ? s->n_cont++ : SIZE_MAX;
    }
    n = s->n_cont * s->n_units * s->n_months;
    if (n > 0 && !(s->stats = calloc(n, sizeof *s->stats)))
        return bench_fail(err, errlen, "out of memory");
    return 0;
}

/* The units a trust's month adds to: the trust, its region, England. */
static void units_of(const spc_t *s, const char *trust, size_t u[3])
{
    size_t t = str_map_get(s->trusts, trust);
    u[0] = 1 + s->n_regions + s->trust_order[t];
    u[1] = 1 + s->region_order[s->trust_region[t]];
    u[2] = 0;
}

static int check_value(const benchmark_measure_t *x, size_t i, char *err, size_t errlen)
{
    if (!isfinite(x->value) || x->count < 0)
        return bench_fail(err, errlen,
                          "series measure %zu: value %g and count %lld, expected a finite "
                          "value and a count >= 0",
                          i + 1, x->value, x->count);
    return 0;
}

/* Where a series measure's values go, its key looked up. Returns 0, or -1 with why. */
static int place(const spc_t *s, size_t i, const benchmark_measure_t *x, spc_placed_t *p, char *why,
                 size_t whylen)
{
    size_t m = str_map_get(s->metrics, x->metric), month = str_map_get(s->months, x->month);
    if (m == STR_MAP_MISSING || month == STR_MAP_MISSING ||
        str_map_get(s->trusts, x->trust) == STR_MAP_MISSING) {
        snprintf(why, whylen,
                 "series measure %zu: metric \"%s\", trust \"%s\", month %s: no series cell has "
                 "its key, expected a cell for every measure",
                 i + 1, x->metric, x->trust, x->month);
        return -1;
    }
    p->m = m;
    p->month = s->month_rank[month];
    units_of(s, x->trust, p->u);
    return 0;
}

/* The place of a series measure's key: found in the memo, or placed and remembered (a period's
 * values are about one per record, their keys far fewer). Returns it, or NULL with why. */
static const spc_placed_t *placed_of(spc_t *s, size_t i, const benchmark_measure_t *x,
                                     spc_placed_t *fresh, char *why, size_t whylen)
{
    const char *part[] = {x->metric, x->trust, x->month};
    char key[BENCH_MEMO_KEY_MAX(3)];
    bool keyed = bench_memo_key(part, 3, key);
    const spc_placed_t *p = keyed ? bench_memo_get(&s->placed, key, sizeof *p) : NULL;
    if (p)
        return p;
    if (place(s, i, x, fresh, why, whylen) != 0)
        return NULL;
    if (keyed && !(p = bench_memo_put(&s->placed, key, fresh, sizeof *p)))
        snprintf(why, whylen, "out of memory");
    return keyed ? p : fresh;
}

/* A series measure (in ascending order of value) into the stats of its trust, region and England
 * of its month. */
static int take_one(void *ctx, size_t i, const benchmark_measure_t *x, char *why, size_t whylen)
{
    spc_t *s = ctx;
    if (!in_series(s, x->metric, x->breakdown, x->month) || x->count == 0)
        return 0;
    if (s->in->read_measures && check_value(x, i, why, whylen) != 0)
        return -1;
    spc_placed_t fresh;
    const spc_placed_t *p = placed_of(s, i, x, &fresh, why, whylen);
    if (!p)
        return -1;
    for (int k = 0; k < 3; k++) {
        cell_at(s, p->m, p->u[k], p->month)->present = true;
        if (s->cont[p->m] != SIZE_MAX)
            bench_stat_add(
                &s->stats[(s->cont[p->m] * s->n_units + p->u[k]) * s->n_months + p->month],
                x->value, x->count);
    }
    return 0;
}

/* ---- the months other builds took (benchmark_series_memo_t) ---- */

/* What a unit's month of a median or mean metric came to: its stat, and whether a value of it
 * was met (take_one's present). */
typedef struct {
    bench_stat_t stat;
    bool present;
} memo_entry_t;

/* Past this, a memo takes no more months (the builds after read theirs). A national audit's
 * months of three years, three median metrics and 200 units: 21,600 entries, about 5 MB. */
#define SERIES_MEMO_MAX_BYTES ((size_t)32 << 20)

struct benchmark_series_memo {
    str_map_t *months;     /* "audit|month": the months taken whole */
    str_map_t *keys;       /* "audit|metric|unit|month" -> entries[index] */
    memo_entry_t *entries; /* by the keys' index */
    size_t cap, key_bytes; /* entries' room; the bytes of the keys */
};

benchmark_series_memo_t *benchmark_series_memo_new(void)
{
    return calloc(1, sizeof(benchmark_series_memo_t));
}

void benchmark_series_memo_clear(benchmark_series_memo_t *m)
{
    if (!m)
        return;
    str_map_destroy(&m->months);
    str_map_destroy(&m->keys);
    free(m->entries);
    memset(m, 0, sizeof *m);
}

void benchmark_series_memo_destroy(benchmark_series_memo_t **m)
{
    if (!m || !*m)
        return;
    benchmark_series_memo_clear(*m);
    free(*m);
    *m = NULL;
}

size_t benchmark_series_memo_bytes(const benchmark_series_memo_t *m)
{
    return m ? m->cap * sizeof *m->entries + m->key_bytes : 0;
}

/* A unit as a memo key names it: kind 'E' England, 'R' a region, 'T' a trust, and its name (the
 * spc_t's maps' own strings, whole). */
typedef struct {
    char kind;
    const char *name;
} memo_unit_t;

/* The units' names, by unit: a new array of n_units (the caller frees it), or NULL when out of
 * memory. */
static memo_unit_t *memo_units(const spc_t *s)
{
    memo_unit_t *names = calloc(s->n_units ? s->n_units : 1, sizeof *names);
    if (!names)
        return NULL;
    names[0] = (memo_unit_t){'E', ""};
    for (size_t r = 0; r < s->n_regions; r++)
        names[1 + s->region_order[r]] = (memo_unit_t){'R', str_map_key(s->regions, r)};
    for (size_t t = 0; t < s->n_trusts; t++)
        names[1 + s->n_regions + s->trust_order[t]] = (memo_unit_t){'T', str_map_key(s->trusts, t)};
    return names;
}

/* A memo key: the parts joined by a unit separator (no code or month holds one); a month's
 * (metric NULL): audit and month. Returns false when they do not fit: memo_keep then leaves the
 * month out (none of its keys is read back), and memo_take reads a unit's key only in a month
 * memo_keep put whole. */
static bool memo_key(char *out, size_t len, const char *audit, const char *metric,
                     const memo_unit_t *unit, const char *month)
{
    audit = audit ? audit : "";
    int n = metric ? snprintf(out, len, "%s\x1f%s\x1f%c%s\x1f%s", audit, metric, unit->kind,
                              unit->name, month)
                   : snprintf(out, len, "%s\x1f%s", audit, month);
    return n > 0 && (size_t)n < len;
}

/* Takes from in->series_memo the stats of the months, from the first on, that it holds whole:
 * s->from their count. A unit the memo has no entry for in such a month had no cell and no value
 * in it (it was not a unit of the build that took it): its stat is what a pass over no values
 * gives. */
static void memo_take(spc_t *s, const memo_unit_t *units)
{
    const benchmark_series_memo_t *memo = s->in->series_memo;
    s->from = 0;
    if (!memo || !memo->months || !s->stats)
        return;
    char key[512];
    while (s->from < s->n_months &&
           memo_key(key, sizeof key, s->in->audit, NULL, NULL, s->month_sorted[s->from]) &&
           str_map_get(memo->months, key) != STR_MAP_MISSING)
        s->from++;
    size_t per = s->n_units * s->n_months;
    for (size_t m = 0; m < s->in->n_metrics; m++)
        for (size_t u = 0; s->cont[m] != SIZE_MAX && u < s->n_units; u++)
            for (size_t r = 0; r < s->from; r++) {
                size_t i = u * s->n_months + r;
                bench_stat_t *k = &s->stats[s->cont[m] * per + i];
                size_t e = memo_key(key, sizeof key, s->in->audit, s->in->metrics[m].id, &units[u],
                                    s->month_sorted[r])
                               ? str_map_get(memo->keys, key)
                               : STR_MAP_MISSING;
                if (e != STR_MAP_MISSING) {
                    *k = memo->entries[e].stat;
                    s->cells[m * per + i].present |= memo->entries[e].present;
                    continue;
                }
                bench_stat_init(k, s->cells[m * per + i].den);
                bench_stat_want_median(k);
                bench_stat_end(k);
            }
}

/* Puts into in->series_memo the stats of this build's months from s->from on (each month whole:
 * the build met every value of each month up to its period's end). A memo past
 * SERIES_MEMO_MAX_BYTES, or out of memory, keeps what it held: the later builds read the months
 * it lacks. */
static void memo_keep(spc_t *s, const memo_unit_t *units)
{
    benchmark_series_memo_t *memo = s->in->series_memo;
    if (!memo || !s->stats || s->from >= s->n_months)
        return;
    size_t per = s->n_units * s->n_months, more = s->n_cont * s->n_units * (s->n_months - s->from);
    if (benchmark_series_memo_bytes(memo) + more * (sizeof *memo->entries + 96) >
        SERIES_MEMO_MAX_BYTES)
        return;
    if ((!memo->months && !(memo->months = str_map_new(0))) ||
        (!memo->keys && !(memo->keys = str_map_new(more))))
        return;
    char key[512];
    for (size_t r = s->from; r < s->n_months; r++) {
        for (size_t m = 0; m < s->in->n_metrics; m++)
            for (size_t u = 0; s->cont[m] != SIZE_MAX && u < s->n_units; u++) {
                size_t i = u * s->n_months + r, e;
                if (!memo_key(key, sizeof key, s->in->audit, s->in->metrics[m].id, &units[u],
                              s->month_sorted[r]))
                    return;
                int put = str_map_put(memo->keys, key, &e);
                if (put < 0)
                    return;
                if (array_grow((void **)&memo->entries, &memo->cap, e + 1, sizeof *memo->entries) !=
                    0)
                    return;
                if (put == 1)
                    memo->key_bytes += strlen(key) + 1 + 24;
                memo->entries[e] =
                    (memo_entry_t){s->stats[s->cont[m] * per + i], s->cells[m * per + i].present};
            }
        /* the month last, once every entry of it is in */
        if (!memo_key(key, sizeof key, s->in->audit, NULL, NULL, s->month_sorted[r]) ||
            str_map_put(memo->months, key, NULL) < 0)
            return;
    }
}

/* The series measures of median and mean metrics, passed in ascending order of value
 * (bench_values): each unit's month takes its count, sum and the ranks of its median, of the
 * records its cells count with a value; should the measures count others, a second pass takes
 * the ranks of those. The months another build of the same values took (in->series_memo) are
 * taken from it, and only the later months' values read; this build's months are kept there.
 * Memory: a stat per metric, unit and month, never the values. */
static int take_series(spc_t *s, char *err, size_t errlen)
{
    size_t per = s->n_units * s->n_months;
    memo_unit_t *units = NULL;
    if (s->in->series_memo && s->stats && !(units = memo_units(s)))
        return bench_fail(err, errlen, "out of memory");
    if (units)
        memo_take(s, units);
    bool again = false;
    for (int pass = 0; s->stats && s->from < s->n_months && pass < 2; pass++) {
        for (size_t m = 0; m < s->in->n_metrics; m++)
            for (size_t i = 0; s->cont[m] != SIZE_MAX && i < per; i++) {
                if (i % s->n_months < s->from)
                    continue;
                bench_stat_t *k = &s->stats[s->cont[m] * per + i];
                bench_stat_init(k, pass == 0 ? s->cells[m * per + i].den : k->seen);
                bench_stat_want_median(k);
            }
        const char *from_month = s->from > 0 ? s->month_sorted[s->from] : NULL;
        if (bench_values(s->in, true, from_month, take_one, s, err, errlen) != 0) {
            free(units);
            return -1;
        }
        again = false;
        for (size_t i = 0; i < s->n_cont * per; i++) {
            if (i % s->n_months < s->from)
                continue;
            bench_stat_end(&s->stats[i]);
            again |= s->stats[i].seen != s->stats[i].n;
        }
        if (!again)
            break;
    }
    if (units)
        memo_keep(s, units);
    free(units);
    return 0;
}

static int add_series(spc_t *s, char *err, size_t errlen)
{
    const benchmark_input_t *in = s->in;
    for (size_t i = 0; i < in->n_series; i++) {
        const benchmark_cell_t *c = &in->series[i];
        if (!in_series(s, c->metric, c->breakdown, c->month))
            continue;
        if (c->numerator < 0 || c->denominator < 0 || c->expected_e9 < 0)
            return bench_fail(err, errlen,
                              "series cell %zu: numerator %lld, denominator %lld and expected_e9 "
                              "%lld, expected counts >= 0",
                              i + 1, c->numerator, c->denominator, c->expected_e9);
        size_t m = str_map_get(s->metrics, c->metric), u[3];
        size_t month = s->month_rank[str_map_get(s->months, c->month)];
        units_of(s, c->trust, u);
        for (int k = 0; k < 3; k++) {
            spc_cell_t *x = cell_at(s, m, u[k], month);
            x->num += c->numerator;
            x->den += c->denominator;
            x->e9 += c->expected_e9;
            x->present = true;
        }
    }
    for (size_t i = 0; i < in->n_series_measures; i++) { /* the arrays' checked in order */
        const benchmark_measure_t *x = &in->series_measures[i];
        if (in_series(s, x->metric, x->breakdown, x->month) && x->count != 0 &&
            check_value(x, i, err, errlen) != 0)
            return -1;
    }
    if (take_series(s, err, errlen) != 0)
        return -1;
    /* the month's values */
    for (size_t m = 0; m < in->n_metrics; m++) {
        benchmark_kind_t kind = in->metrics[m].kind;
        for (size_t i = 0; i < s->n_units * s->n_months; i++) {
            size_t at = m * s->n_units * s->n_months + i;
            spc_cell_t *x = &s->cells[at];
            if (kind == BENCHMARK_MEDIAN || kind == BENCHMARK_MEAN) {
                const bench_stat_t *k = &s->stats[s->cont[m] * s->n_units * s->n_months + i];
                x->num = x->den = k->seen; /* the records with a value */
                x->has_value = x->den > 0;
                x->value = bench_stat_value(k, kind);
            } else if (kind == BENCHMARK_RATIO) {
                x->has_value = x->e9 > 0;
                x->value = x->has_value
                               ? (double)x->num / ((double)x->e9 / BENCHMARK_EXPECTED_SCALE)
                               : NAN;
            } else {
                x->has_value = x->den > 0;
                x->value = x->has_value ? (double)x->num / (double)x->den : NAN;
            }
        }
    }
    return 0;
}

/* ---- disclosure control ---- */

/* The release period a month belongs to, for the groups of a unit's months under its row in
 * latest.csv: the month's year when the release's period is a year, else its quarter. */
static void period_of(const char *release_period, const char *month, char out[8])
{
    int mm = atoi(month + 5);
    if (strlen(release_period) == 4)
        snprintf(out, 8, "%.4s", month);
    else
        snprintf(out, 8, "%.4sQ%c", month, mm >= 1 && mm <= 12 ? (char)('1' + (mm - 1) / 3) : '0');
}

typedef struct {
    disclosure_cell_t *cells;
    size_t n, cap;
    disclosure_group_t *groups;
    size_t n_groups, cap_groups;
    size_t *kids; /* the groups' children, back to back */
    size_t n_kids, cap_kids;
    size_t *kid_start; /* per group */
} spc_dc_t;

static int dc_cell(spc_dc_t *d, long long num, long long den, size_t *index)
{
    if (array_grow((void **)&d->cells, &d->cap, d->n + 1, sizeof *d->cells) != 0)
        return -1;
    d->cells[d->n] = (disclosure_cell_t){num, den, true, DISCLOSURE_SHOWN, false};
    *index = d->n++;
    return 0;
}

static int dc_group(spc_dc_t *d, size_t parent, const size_t *kids, size_t n)
{
    if (n == 0)
        return 0;
    size_t cap = d->cap_groups;
    if (array_grow((void **)&d->groups, &d->cap_groups, d->n_groups + 1, sizeof *d->groups) != 0)
        return -1;
    if (cap != d->cap_groups) {
        size_t *ks = realloc(d->kid_start, d->cap_groups * sizeof *ks);
        if (!ks)
            return -1;
        d->kid_start = ks;
    }
    if (array_grow((void **)&d->kids, &d->cap_kids, d->n_kids + n, sizeof *d->kids) != 0)
        return -1;
    memcpy(d->kids + d->n_kids, kids, n * sizeof *kids);
    d->kid_start[d->n_groups] = d->n_kids;
    d->groups[d->n_groups++] = (disclosure_group_t){parent, NULL, n};
    d->n_kids += n;
    return 0;
}

/* Metric m's months [i0, i1) (one period of the release) as cells and groups; hides them
 * (spc_cell_t.hidden). The months of one period relate to no other period's, so each period is
 * decided alone: the same months give the same decision in this period's release and in every
 * later one whose chart shows them (a hidden month shown by another release would give it away). */
static int disclose_period(spc_t *s, size_t m, size_t i0, size_t i1, char *err, size_t errlen)
{
    spc_dc_t d = {0};
    size_t nm = i1 - i0, nc = s->n_units * nm, *index = malloc((nc ? nc : 1) * sizeof *index);
    size_t *kids = malloc((s->n_units + nm + 1) * sizeof *kids);
    size_t first_period = 0;
    int rc = -1;
    if (!index || !kids)
        goto out;
    /* the months: every one with records; index[u * nm + (i - i0)] */
    for (size_t u = 0; u < s->n_units; u++)
        for (size_t i = i0; i < i1; i++) {
            spc_cell_t *x = cell_at(s, m, u, i);
            size_t *at = &index[u * nm + (i - i0)];
            *at = SIZE_MAX;
            if (x->present && x->den > 0 && dc_cell(&d, x->num, x->den, at) != 0)
                goto out;
        }
    /* each month: England over its regions, a region over its trusts */
    for (size_t i = 0; i < nm; i++)
        for (size_t up = 0; up <= s->n_regions; up++) {
            size_t parent = index[up * nm + i], n = 0; /* unit up: England, then the regions */
            if (parent == SIZE_MAX)
                continue;
            if (up == 0) {
                for (size_t r = 0; r < s->n_regions; r++)
                    if (index[(1 + r) * nm + i] != SIZE_MAX)
                        kids[n++] = index[(1 + r) * nm + i];
            } else {
                for (size_t t = 0; t < s->n_trusts; t++) {
                    size_t ut = 1 + s->n_regions + s->trust_order[t];
                    if (1 + s->region_order[s->trust_region[t]] == up &&
                        index[ut * nm + i] != SIZE_MAX)
                        kids[n++] = index[ut * nm + i];
                }
            }
            if (dc_group(&d, parent, kids, n) != 0)
                goto out;
        }
    /* each unit's period (its row of latest.csv) over its months: shown there unless the primary
     * rule hides it there too, so fixed */
    first_period = d.n;
    for (size_t u = 0; u < s->n_units; u++) {
        long long num = 0, den = 0;
        size_t n = 0, total;
        for (size_t i = 0; i < nm; i++) {
            size_t c = index[u * nm + i];
            if (c == SIZE_MAX)
                continue;
            num += d.cells[c].numerator;
            den += d.cells[c].denominator;
            kids[n++] = c;
        }
        if (n == 0)
            continue;
        if (dc_cell(&d, num, den, &total) != 0 || dc_group(&d, total, kids, n) != 0)
            goto out;
        d.cells[total].fixed =
            !((num >= 1 && num < s->in->min_count) || (den > num && den - num < s->in->min_count));
    }
    for (size_t g = 0; g < d.n_groups; g++)
        d.groups[g].children = d.kids + d.kid_start[g];
    disclosure_apply(d.cells, d.n, d.groups, d.n_groups, s->in->min_count);
    /* a period's total hidden beyond what latest.csv hides by the same rule (never: it is fixed;
     * kept as a guard): withhold the period's months */
    bool withhold = false;
    for (size_t c = first_period; c < d.n; c++)
        withhold |= d.cells[c].state == DISCLOSURE_SECONDARY;
    for (size_t u = 0; u < s->n_units; u++)
        for (size_t i = 0; i < nm; i++) {
            size_t c = index[u * nm + i];
            if (c != SIZE_MAX)
                cell_at(s, m, u, i0 + i)->hidden = withhold || d.cells[c].state != DISCLOSURE_SHOWN;
        }
    rc = 0;
out:
    if (rc != 0)
        bench_fail(err, errlen, "out of memory");
    free(index);
    free(kids);
    free(d.cells);
    free(d.groups);
    free(d.kids);
    free(d.kid_start);
    return rc;
}

/* Metric m's months, a period of the release at a time. */
static int disclose_metric(spc_t *s, size_t m, char *err, size_t errlen)
{
    const char *release_period = s->in->period ? s->in->period : "";
    for (size_t i0 = 0, i1; i0 < s->n_months; i0 = i1) {
        char p[8], q[8];
        period_of(release_period, s->month_sorted[i0], p);
        for (i1 = i0 + 1; i1 < s->n_months; i1++) {
            period_of(release_period, s->month_sorted[i1], q);
            if (strcmp(p, q) != 0)
                break;
        }
        if (disclose_period(s, m, i0, i1, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- actions: where a trust's chart starts a new period ---- */

void benchmark_action_month(const char *date, char out[8])
{
    out[0] = '\0';
    int y, m, d;
    char extra;
    if (!date || strlen(date) != 10 || strspn(date, "0123456789-") != 10 || date[4] != '-' ||
        date[7] != '-' || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 ||
        m > 12 || d < 1 || d > 31)
        return;
    if (d > 1 && ++m > 12) {
        m = 1;
        y++;
    }
    snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
}

/* The points (indices into the shown series) where unit code's chart of metric starts a new
 * period: for each of its actions, the first shown month at or after the action's month; 0 (the
 * chart's start) and none are no rebase. months[k] is the k-th shown point's month. Returns how
 * many, in rebase (room for in->n_actions). O(actions x points). */
static size_t rebase_points(const benchmark_input_t *in, const char *metric, const char *code,
                            const char *const *months, size_t n, size_t *rebase)
{
    size_t k = 0;
    for (size_t a = 0; a < in->n_actions; a++) {
        const benchmark_action_t *act = &in->actions[a];
        char start[8];
        if (!act->trust || !act->metric || strcmp(act->trust, code) != 0 ||
            strcmp(act->metric, metric) != 0)
            continue;
        benchmark_action_month(act->date, start);
        if (!start[0])
            continue;
        size_t i = 0;
        while (i < n && strcmp(months[i], start) < 0)
            i++;
        if (i > 0 && i < n)
            rebase[k++] = i;
    }
    return k;
}

/* ---- the files ---- */

static const char *const spc_head[] = {
    "audit", "metric", "level", "area_code", "month",         "numerator", "denominator",
    "value", "mean",   "lpl",   "upl",       "special_cause", "point_type"};
static const char *const summary_head[] = {"audit", "metric", "level", "area_code", "mean",
                                           "lpl",   "upl",    "n",     "variation", "assurance"};
#define N_SPC (sizeof spc_head / sizeof *spc_head)
#define N_SUMMARY (sizeof summary_head / sizeof *summary_head)

static spc_improvement_t improvement_of(benchmark_polarity_t p)
{
    return p == POLARITY_HIGHER_BETTER  ? SPC_IMPROVEMENT_INCREASE
           : p == POLARITY_LOWER_BETTER ? SPC_IMPROVEMENT_DECREASE
                                        : SPC_IMPROVEMENT_NEUTRAL;
}

/* The unit of index u in output order k (England, regions by code, trusts by code). */
typedef struct {
    const char *level, *code;
} unit_name_t;

static int unit_names(const spc_t *s, unit_name_t *names)
{
    names[0] = (unit_name_t){"england", BENCHMARK_ENGLAND_CODE};
    for (size_t r = 0; r < s->n_regions; r++)
        names[1 + s->region_order[r]] = (unit_name_t){"region", str_map_key(s->regions, r)};
    for (size_t t = 0; t < s->n_trusts; t++)
        names[1 + s->n_regions + s->trust_order[t]] =
            (unit_name_t){"trust", str_map_key(s->trusts, t)};
    return 0;
}

static int write_files(const spc_t *s, FILE *spc, FILE *summary, char *err, size_t errlen)
{
    const benchmark_input_t *in = s->in;
    const char *audit = in->audit ? in->audit : "";
    unit_name_t *names = malloc(s->n_units * sizeof *names);
    double *values = malloc((s->n_months ? s->n_months : 1) * sizeof *values);
    size_t *at = malloc((s->n_months ? s->n_months : 1) * sizeof *at);
    spc_point_t *points = malloc((s->n_months ? s->n_months : 1) * sizeof *points);
    const char **shown = malloc((s->n_months ? s->n_months : 1) * sizeof *shown);
    size_t *rebase = malloc((in->n_actions ? in->n_actions : 1) * sizeof *rebase);
    int rc = -1;
    if (!names || !values || !at || !points || !shown || !rebase) {
        bench_fail(err, errlen, "out of memory");
        goto out;
    }
    unit_names(s, names);
    csv_write_row(spc, spc_head, N_SPC);
    csv_write_row(summary, summary_head, N_SUMMARY);
    for (size_t m = 0; m < in->n_metrics; m++) {
        const benchmark_metric_t *metric = &in->metrics[m];
        bool continuous = metric->kind == BENCHMARK_MEDIAN || metric->kind == BENCHMARK_MEAN;
        spc_options_t opts;
        spc_options_init(&opts);
        opts.improvement = improvement_of(metric->polarity);
        opts.has_target = metric->has_target;
        opts.target = metric->target;
        for (size_t u = 0; u < s->n_units; u++) {
            size_t n = 0, rows = 0;
            for (size_t i = 0; i < s->n_months; i++) {
                const spc_cell_t *x = cell_at(s, m, u, i);
                rows += x->present;
                if (x->present && x->has_value && !x->hidden) {
                    shown[n] = s->month_sorted[i];
                    values[n] = x->value;
                    at[i] = n++;
                } else {
                    at[i] = SIZE_MAX;
                }
            }
            if (rows == 0)
                continue;
            opts.rebase = rebase;
            opts.nrebase = in->n_actions && u > s->n_regions
                               ? rebase_points(in, metric->id, names[u].code, shown, n, rebase)
                               : 0;
            spc_summary_t sum = {0};
            char why[256];
            if (n > 0 && spc_compute(values, n, &opts, points, &sum, why, sizeof why) != 0) {
                bench_fail(err, errlen, "metric %s, %s %s: run chart: %s", metric->id,
                           names[u].level, names[u].code, why);
                goto out;
            }
            for (size_t i = 0; i < s->n_months; i++) {
                const spc_cell_t *x = cell_at(s, m, u, i);
                if (!x->present)
                    continue;
                const spc_point_t *p = at[i] != SIZE_MAX ? &points[at[i]] : NULL;
                char num[24] = "", den[24], f[4][40];
                if (!continuous && !x->hidden)
                    snprintf(num, sizeof num, "%lld", x->num);
                snprintf(den, sizeof den, "%lld", x->den);
                bench_figure(f[0], sizeof f[0], p != NULL, x->value);
                bench_figure(f[1], sizeof f[1], p != NULL, p ? p->mean : 0);
                bench_figure(f[2], sizeof f[2], p && p->has_limits, p ? p->lpl : 0);
                bench_figure(f[3], sizeof f[3], p && p->has_limits, p ? p->upl : 0);
                const char *cols[N_SPC] = {audit,
                                           metric->id,
                                           names[u].level,
                                           names[u].code,
                                           s->month_sorted[i],
                                           num,
                                           den,
                                           f[0],
                                           f[1],
                                           f[2],
                                           f[3],
                                           p ? spc_cause_name(p->cause) : "",
                                           p ? spc_point_type_name(p->type) : ""};
                csv_write_row(spc, cols, N_SPC);
            }
            char f[3][40], count[24];
            bench_figure(f[0], sizeof f[0], n > 0, sum.mean);
            bench_figure(f[1], sizeof f[1], n > 0 && sum.has_limits, sum.lpl);
            bench_figure(f[2], sizeof f[2], n > 0 && sum.has_limits, sum.upl);
            snprintf(count, sizeof count, "%zu", n);
            const char *cols[N_SUMMARY] = {audit,
                                           metric->id,
                                           names[u].level,
                                           names[u].code,
                                           f[0],
                                           f[1],
                                           f[2],
                                           count,
                                           n > 0 ? spc_point_type_name(sum.variation) : "",
                                           n > 0 ? spc_assurance_name(sum.assurance) : ""};
            csv_write_row(summary, cols, N_SUMMARY);
        }
    }
    rc = 0;
out:
    free(names);
    free(values);
    free(at);
    free(points);
    free(shown);
    free(rebase);
    return rc;
}

static void spc_free(spc_t *s)
{
    str_map_destroy(&s->metrics);
    str_map_destroy(&s->trusts);
    str_map_destroy(&s->regions);
    str_map_destroy(&s->months);
    bench_memo_free(&s->placed);
    free(s->trust_region);
    free(s->region_order);
    free(s->trust_order);
    free(s->month_sorted);
    free(s->month_rank);
    free(s->stats);
    free(s->cont);
    free(s->cells);
}

int benchmark_spc_text(const benchmark_input_t *in, char **spc_csv, char **summary_csv, char *err,
                       size_t errlen)
{
    spc_t s = {.in = in};
    period_end(in->period, s.last_month);
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = NULL, *fb = NULL;
    int rc = -1;
    *spc_csv = *summary_csv = NULL;
    if (index_series(&s, err, errlen) != 0 || add_series(&s, err, errlen) != 0)
        goto out;
    for (size_t m = 0; in->min_count > 1 && m < in->n_metrics; m++)
        if (disclose_metric(&s, m, err, errlen) != 0)
            goto out;
    fa = open_memstream(&a, &la);
    fb = open_memstream(&b, &lb);
    if (!fa || !fb) {
        bench_fail(err, errlen, "out of memory");
        goto out;
    }
    rc = write_files(&s, fa, fb, err, errlen);
out:
    if (fa && fclose(fa) != 0)
        rc = rc ? rc : bench_fail(err, errlen, "out of memory");
    if (fb && fclose(fb) != 0)
        rc = rc ? rc : bench_fail(err, errlen, "out of memory");
    if (rc == 0) {
        *spc_csv = a;
        *summary_csv = b;
    } else {
        free(a);
        free(b);
    }
    spc_free(&s);
    return rc;
}
