/* benchmark.c - a release's rows from aggregates: the areas of the four levels and their sums,
 * the breakdown categories, the rows in their published order, then their figures
 * (benchmark_figures.c) and disclosure control (benchmark_suppress.c): which rows are hidden is
 * decided from the counts before the figures, so that the trusts' funnel is estimated over the
 * published trusts only, and the hidden rows are emptied after.
 *
 * The sums are dense arrays indexed [metric][area][slot], a slot being the all row or one
 * breakdown category: every site's cells are added to its slots, then sites roll up into their
 * trust, trusts into their region, regions into England, so each level is the sum of the one
 * below by construction. */
#include "benchmark.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "benchmark_build.h"
#include "ci.h"
#include "str_map.h"

const char *const bench_level_name[BENCH_LEVELS] = {"england", "region", "trust", "site"};
const char *const bench_breakdown_name[BENCH_BREAKDOWNS] = {"all", "imd_quintile", "ethnicity",
                                                            "sex", "age",          "sii"};

static const char *const quintiles[] = {"1", "2", "3", "4", "5", "unknown"};
static const char *const ethnicities[] = {"white", "mixed",      "asian",  "black",
                                          "other", "not_stated", "unknown"};
static const char *const sexes[] = {"male", "female", "indeterminate", "unknown"};
#define N_QUINTILES (sizeof quintiles / sizeof *quintiles)
#define N_ETHNICITIES (sizeof ethnicities / sizeof *ethnicities)
#define N_SEXES (sizeof sexes / sizeof *sexes)

int bench_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the arena: every string the rows point to ---- */

typedef struct {
    char **strs;
    size_t n, cap;
} arena_t;

static char *arena_dup(arena_t *a, const char *s)
{
    if (array_grow((void **)&a->strs, &a->cap, a->n + 1, sizeof *a->strs) != 0)
        return NULL;
    char *copy = strdup(s ? s : "");
    if (copy)
        a->strs[a->n++] = copy;
    return copy;
}

static void arena_free(arena_t *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->strs[i]);
    free(a->strs);
    free(a);
}

void benchmark_release_free(benchmark_release_t *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->funnel);
    arena_free(r->arena);
    memset(r, 0, sizeof *r);
}

/* ---- categories ---- */

static int index_of(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (int)i;
    return -1;
}

/* "1".."10" → 1..10, "unknown" → 0, else -1. */
static int decile_of(const char *s)
{
    if (strcmp(s, "unknown") == 0)
        return 0;
    if (s[0] < '1' || s[0] > '9')
        return -1;
    if (s[1] == '\0')
        return s[0] - '0';
    return strcmp(s, "10") == 0 ? 10 : -1;
}

/* An age band's lower bound: "<60" -inf, "60-69" and "90+" their number; NaN when the label does
 * not start with a number (ordered by name after the numbers), +inf for unknown (last). */
static double age_lower(const char *label)
{
    if (strcmp(label, "unknown") == 0)
        return INFINITY;
    if (label[0] == '<')
        return -INFINITY;
    if (label[0] < '0' || label[0] > '9')
        return NAN;
    return strtod(label, NULL);
}

static int cmp_age(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    double lx = age_lower(x), ly = age_lower(y);
    /* numbers (and <) first, then names, then unknown */
    int rx = isnan(lx) ? 1 : lx == INFINITY ? 2 : 0, ry = isnan(ly) ? 1 : ly == INFINITY ? 2 : 0;
    if (rx != ry)
        return rx - ry;
    if (rx == 0 && lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

static int parse_breakdown(const char *s)
{
    if (strcmp(s, "all") == 0)
        return BENCH_ALL;
    if (strcmp(s, "imd_decile") == 0)
        return BENCH_IMD;
    if (strcmp(s, "ethnicity") == 0)
        return BENCH_ETHNICITY;
    if (strcmp(s, "sex") == 0)
        return BENCH_SEX;
    if (strcmp(s, "age") == 0)
        return BENCH_AGE;
    return -1;
}

/* ---- reading the input ---- */

static const char *cell_site(const benchmark_cell_t *c)
{
    return c->site ? c->site : "";
}

/* The key of a site in the sites map: trust, unit separator, site. */
static char *site_key(const benchmark_cell_t *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s\x1f%s", c->trust, cell_site(c));
    return buf;
}

static int check_cell(bench_t *b, size_t i, const benchmark_cell_t *c, char *err, size_t errlen)
{
    if (!c->trust || !*c->trust)
        return bench_fail(err, errlen, "cell %zu: the trust is empty, expected an ODS code", i + 1);
    if (strlen(c->trust) > BENCH_CODE_MAX || strlen(cell_site(c)) > BENCH_CODE_MAX ||
        strchr(c->trust, '\x1f') || strchr(cell_site(c), '\x1f'))
        return bench_fail(err, errlen,
                          "cell %zu: trust \"%.40s\" or site \"%.40s\", expected codes of at most "
                          "%d characters without a unit separator",
                          i + 1, c->trust, cell_site(c), BENCH_CODE_MAX);
    if (c->metric && (strcmp(c->metric, BENCHMARK_REJECTED) == 0 ||
                      strcmp(c->metric, BENCHMARK_WITHHELD) == 0)) {
        if (!c->breakdown || strcmp(c->breakdown, "all") != 0 || (c->category && *c->category) ||
            c->numerator != 0 || c->denominator < 0 || c->expected_e9 != 0 || c->held != 0 ||
            c->missing != 0)
            return bench_fail(err, errlen,
                              "cell %zu: metric \"%s\" (records left out) with breakdown \"%s\", "
                              "numerator %lld and denominator %lld, expected breakdown all and "
                              "only a denominator >= 0",
                              i + 1, c->metric, c->breakdown ? c->breakdown : "", c->numerator,
                              c->denominator);
        return 0;
    }
    if (!c->metric || str_map_get(b->metric_ids, c->metric) == STR_MAP_MISSING)
        return bench_fail(err, errlen, "cell %zu: metric \"%s\" is not one of the definition's",
                          i + 1, c->metric ? c->metric : "");
    const char *bd = c->breakdown ? c->breakdown : "", *cat = c->category ? c->category : "";
    int k = parse_breakdown(bd);
    if (k < 0)
        return bench_fail(err, errlen,
                          "cell %zu: breakdown \"%s\", expected all, imd_decile, ethnicity, sex "
                          "or age",
                          i + 1, bd);
    int ok = k == BENCH_ALL         ? *cat == '\0'
             : k == BENCH_IMD       ? decile_of(cat) >= 0
             : k == BENCH_ETHNICITY ? index_of(ethnicities, N_ETHNICITIES, cat) >= 0
             : k == BENCH_SEX       ? index_of(sexes, N_SEXES, cat) >= 0
                                    : *cat != '\0';
    if (!ok) {
        static const char *const want[] = {
            [BENCH_ALL] = "an empty category",
            [BENCH_IMD] = "1 to 10 or unknown",
            [BENCH_ETHNICITY] = "white, mixed, asian, black, other, not_stated or unknown",
            [BENCH_SEX] = "male, female, indeterminate or unknown",
            [BENCH_AGE] = "a band label",
        };
        return bench_fail(err, errlen, "cell %zu: %s category \"%s\", expected %s", i + 1, bd, cat,
                          want[k]);
    }
    if (c->numerator < 0 || c->denominator < 0)
        return bench_fail(err, errlen,
                          "cell %zu: numerator %lld and denominator %lld, expected counts >= 0",
                          i + 1, c->numerator, c->denominator);
    if (c->expected_e9 < 0 || c->held < 0 || c->missing < 0)
        return bench_fail(err, errlen,
                          "cell %zu: expected_e9 %lld, held %lld and missing %lld, expected "
                          "counts >= 0",
                          i + 1, c->expected_e9, c->held, c->missing);
    /* a ratio's observed may be a count of events, more than its records */
    size_t m = str_map_get(b->metric_ids, c->metric);
    if (c->numerator > c->denominator && bench_kind(b, m) == BENCHMARK_PROPORTION)
        return bench_fail(err, errlen, "cell %zu: numerator %lld is more than denominator %lld",
                          i + 1, c->numerator, c->denominator);
    return 0;
}

/* A measure's key as a cell's, so that it is checked and placed as one. */
static benchmark_cell_t measure_key(const benchmark_measure_t *x)
{
    return (benchmark_cell_t){.trust = x->trust,
                              .site = x->site,
                              .metric = x->metric,
                              .breakdown = x->breakdown,
                              .category = x->category,
                              .month = x->month};
}

/* A measure's value and count (its key checked apart: check_measure). */
static int check_value(size_t i, const benchmark_measure_t *x, char *err, size_t errlen)
{
    if (!isfinite(x->value) || x->count < 0)
        return bench_fail(err, errlen,
                          "measure %zu: value %g and count %lld, expected a finite value and a "
                          "count >= 0",
                          i + 1, x->value, x->count);
    return 0;
}

static int check_measure(bench_t *b, size_t i, const benchmark_measure_t *x, char *err,
                         size_t errlen)
{
    benchmark_cell_t c = measure_key(x);
    char why[400];
    if (check_cell(b, i, &c, why, sizeof why) != 0)
        return bench_fail(err, errlen, "measure %s", why + strlen("cell "));
    size_t m = str_map_get(b->metric_ids, x->metric);
    if (!bench_continuous(b, m))
        return bench_fail(err, errlen,
                          "measure %zu: metric \"%s\" is not a median or mean, expected no "
                          "values",
                          i + 1, x->metric);
    return check_value(i, x, err, errlen);
}

/* A checked cell's trust, site and age label into the maps. */
static int index_key(bench_t *b, const benchmark_cell_t *c, char *err, size_t errlen)
{
    char key[2 * BENCH_CODE_MAX + 2];
    if (str_map_put(b->trust_ids, c->trust, NULL) < 0 ||
        str_map_put(b->site_ids, site_key(c, key, sizeof key), NULL) < 0 ||
        (strcmp(c->breakdown, "age") == 0 && str_map_put(b->age_ids, c->category, NULL) < 0))
        return bench_fail(err, errlen, "out of memory");
    return 0;
}

/* Maps of the metrics, trusts, sites and age labels, every cell and measure checked. */
static int index_input(bench_t *b, char *err, size_t errlen)
{
    const benchmark_input_t *in = b->in;
    b->metric_ids = str_map_new(in->n_metrics);
    b->trust_ids = str_map_new(0);
    b->site_ids = str_map_new(0);
    b->age_ids = str_map_new(0);
    if (!b->metric_ids || !b->trust_ids || !b->site_ids || !b->age_ids)
        return bench_fail(err, errlen, "out of memory");
    for (size_t m = 0; m < in->n_metrics; m++) {
        const char *id = in->metrics[m].id;
        int rc = str_map_put(b->metric_ids, id ? id : "", NULL);
        if (rc < 0)
            return bench_fail(err, errlen, "out of memory");
        if (rc == 0 || !id || !*id)
            return bench_fail(err, errlen, "metric %zu: id \"%s\" is empty or given twice", m + 1,
                              id ? id : "");
    }
    for (size_t i = 0; i < in->n_cells; i++)
        if (check_cell(b, i, &in->cells[i], err, errlen) != 0 ||
            index_key(b, &in->cells[i], err, errlen) != 0)
            return -1;
    for (size_t i = 0; i < in->n_measures; i++) {
        benchmark_cell_t c = measure_key(&in->measures[i]);
        if (check_measure(b, i, &in->measures[i], err, errlen) != 0 ||
            index_key(b, &c, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- the areas ---- */

static int cmp_area(const void *a, const void *b)
{
    const bench_area_t *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    return c ? c : strcmp(x->parent_code, y->parent_code);
}

static int add_area(bench_t *b, bench_level_t level, const char *code, const char *name,
                    const char *parent_code)
{
    bench_area_t *a = &b->areas[b->n_areas];
    a->level = level;
    a->code = arena_dup(b->arena, code);
    a->name = arena_dup(b->arena, name);
    a->parent_code = arena_dup(b->arena, parent_code);
    a->parent = SIZE_MAX;
    a->emit = true;
    if (!a->code || !a->name || !a->parent_code)
        return -1;
    b->n_areas++;
    return 0;
}

/* The area of a code in areas[from, to), sorted by code; SIZE_MAX when none. */
static size_t find_area(const bench_t *b, size_t from, size_t to, const char *code)
{
    size_t lo = from, hi = to;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->areas[mid].code, code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static int build_areas(bench_t *b, char *err, size_t errlen)
{
    const benchmark_input_t *in = b->in;
    size_t n_trusts = str_map_size(b->trust_ids), n_sites = str_map_size(b->site_ids);
    str_map_t *orgs = str_map_new(in->n_orgs), *regions = str_map_new(0);
    const benchmark_org_t **trust_org = calloc(n_trusts ? n_trusts : 1, sizeof *trust_org);
    const char **region_name = calloc(n_trusts + 1, sizeof *region_name);
    const benchmark_org_t **org_of = calloc(in->n_orgs + 1, sizeof *org_of);
    b->areas = calloc(1 + 2 * n_trusts + n_sites + 1, sizeof *b->areas);
    int rc = -1;
    if (!orgs || !regions || !trust_org || !region_name || !org_of || !b->areas)
        goto out;
    for (size_t i = 0; i < in->n_orgs; i++) {
        size_t o;
        int put = in->orgs[i].code ? str_map_put(orgs, in->orgs[i].code, &o) : 0;
        if (put < 0)
            goto out;
        if (put == 1) /* the first of a code */
            org_of[o] = &in->orgs[i];
    }
    /* each trust's org, and the regions in use */
    for (size_t t = 0; t < n_trusts; t++) {
        size_t o = str_map_get(orgs, str_map_key(b->trust_ids, t));
        trust_org[t] = o == STR_MAP_MISSING ? NULL : org_of[o];
        const benchmark_org_t *org = trust_org[t];
        const char *region = org && org->region && *org->region ? org->region : "unknown";
        size_t r;
        int put = str_map_put(regions, region, &r);
        if (put < 0)
            goto out;
        if (put == 1)
            region_name[r] =
                org && org->region && *org->region
                    ? (org->region_name && *org->region_name ? org->region_name : org->region)
                    : "unknown";
    }
    if (add_area(b, BENCH_ENGLAND, BENCHMARK_ENGLAND_CODE, "England", "") != 0)
        goto out;
    b->first[BENCH_REGION] = b->n_areas;
    for (size_t r = 0; r < str_map_size(regions); r++)
        if (add_area(b, BENCH_REGION, str_map_key(regions, r), region_name[r],
                     BENCHMARK_ENGLAND_CODE) != 0)
            goto out;
    b->first[BENCH_TRUST] = b->n_areas;
    for (size_t t = 0; t < n_trusts; t++) {
        const benchmark_org_t *org = trust_org[t];
        const char *code = str_map_key(b->trust_ids, t);
        if (add_area(b, BENCH_TRUST, code, org && org->name && *org->name ? org->name : code,
                     org && org->region && *org->region ? org->region : "unknown") != 0)
            goto out;
    }
    b->first[BENCH_SITE] = b->n_areas;
    for (size_t s = 0; s < n_sites; s++) {
        const char *key = str_map_key(b->site_ids, s), *sep = strchr(key, '\x1f');
        char trust[BENCH_CODE_MAX + 1];
        snprintf(trust, sizeof trust, "%.*s", (int)(sep - key), key);
        const char *site = *(sep + 1) ? sep + 1 : "unknown";
        if (add_area(b, BENCH_SITE, site, site, trust) != 0)
            goto out;
        b->areas[b->n_areas - 1].source = s;
        b->areas[b->n_areas - 1].unnamed = !*(sep + 1);
    }
    b->first[BENCH_LEVELS] = b->n_areas;
    for (int l = BENCH_REGION; l < BENCH_LEVELS; l++)
        qsort(b->areas + b->first[l], b->first[l + 1] - b->first[l], sizeof *b->areas, cmp_area);
    /* parents, names of parents */
    for (size_t a = 1; a < b->n_areas; a++) {
        bench_area_t *area = &b->areas[a];
        bench_level_t up = area->level - 1;
        area->parent = up == BENCH_ENGLAND
                           ? 0
                           : find_area(b, b->first[up], b->first[up + 1], area->parent_code);
        assert(area->parent != SIZE_MAX);
    }
    /* a site "unknown" (cells without a site) is a row only beside named sites of its trust */
    for (size_t s = b->first[BENCH_SITE]; s < b->n_areas; s++)
        b->areas[b->areas[s].parent].n_children++;
    for (size_t s = b->first[BENCH_SITE]; s < b->n_areas; s++)
        if (b->areas[s].unnamed && b->areas[b->areas[s].parent].n_children == 1)
            b->areas[s].emit = false;
    rc = 0;
out:
    if (rc != 0)
        bench_fail(err, errlen, "out of memory");
    str_map_destroy(&orgs);
    str_map_destroy(&regions);
    free(trust_org);
    free(region_name);
    free(org_of);
    return rc;
}

/* ---- the slots: the all row, then each breakdown's categories in their order ---- */

static int add_slot(bench_t *b, size_t *k, bench_breakdown_t breakdown, const char *category)
{
    bench_slot_t *slot = &b->slots[(*k)++];
    slot->breakdown = breakdown;
    slot->category = arena_dup(b->arena, category);
    return slot->category ? 0 : -1;
}

static int build_slots(bench_t *b, char *err, size_t errlen)
{
    size_t n_ages = str_map_size(b->age_ids);
    const char **ages = calloc(n_ages + 1, sizeof *ages);
    b->n_slots = 1 + N_QUINTILES + N_ETHNICITIES + N_SEXES + n_ages;
    b->slots = calloc(b->n_slots, sizeof *b->slots);
    if (!ages || !b->slots) {
        free(ages);
        return bench_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n_ages; i++)
        ages[i] = str_map_key(b->age_ids, i);
    qsort(ages, n_ages, sizeof *ages, cmp_age);
    /* the age slots, by the map's index */
    b->age_slot = calloc(n_ages + 1, sizeof *b->age_slot);
    if (!b->age_slot) {
        free(ages);
        return bench_fail(err, errlen, "out of memory");
    }
    size_t k = 0;
    int rc = add_slot(b, &k, BENCH_ALL, "");
    for (size_t i = 0; i < N_QUINTILES; i++)
        rc |= add_slot(b, &k, BENCH_IMD, quintiles[i]);
    for (size_t i = 0; i < N_ETHNICITIES; i++)
        rc |= add_slot(b, &k, BENCH_ETHNICITY, ethnicities[i]);
    for (size_t i = 0; i < N_SEXES; i++)
        rc |= add_slot(b, &k, BENCH_SEX, sexes[i]);
    for (size_t i = 0; i < n_ages; i++) {
        b->age_slot[str_map_get(b->age_ids, ages[i])] = k;
        rc |= add_slot(b, &k, BENCH_AGE, ages[i]);
    }
    free(ages);
    return rc ? bench_fail(err, errlen, "out of memory") : 0;
}

/* The slot of a checked cell; sets *decile (1..10, 0 for none) for an IMD decile. */
static size_t slot_of(const bench_t *b, const benchmark_cell_t *c, int *decile)
{
    *decile = 0;
    switch (parse_breakdown(c->breakdown)) {
    case BENCH_IMD: {
        int d = decile_of(c->category);
        *decile = d;
        return 1 + (d == 0 ? N_QUINTILES - 1 : (size_t)(d - 1) / 2);
    }
    case BENCH_ETHNICITY:
        return 1 + N_QUINTILES + (size_t)index_of(ethnicities, N_ETHNICITIES, c->category);
    case BENCH_SEX:
        return 1 + N_QUINTILES + N_ETHNICITIES + (size_t)index_of(sexes, N_SEXES, c->category);
    case BENCH_AGE:
        return b->age_slot[str_map_get(b->age_ids, c->category)];
    default:
        return 0;
    }
}

/* ---- the sums ---- */

static int add_sums(bench_t *b, char *err, size_t errlen)
{
    const benchmark_input_t *in = b->in;
    size_t n = b->in->n_metrics * b->n_areas * b->n_slots;
    b->sums = calloc(n ? n : 1, sizeof *b->sums);
    b->deciles = calloc(in->n_metrics * 10 + 1, sizeof *b->deciles);
    b->rejected = calloc(b->n_areas + 1, sizeof *b->rejected);
    b->withheld = calloc(b->n_areas + 1, sizeof *b->withheld);
    size_t n_sites = str_map_size(b->site_ids);
    size_t *site_area = b->site_area = calloc(n_sites + 1, sizeof *site_area);
    if (!b->sums || !b->deciles || !b->rejected || !b->withheld || !site_area)
        return bench_fail(err, errlen, "out of memory");
    for (size_t a = b->first[BENCH_SITE]; a < b->n_areas; a++)
        site_area[b->areas[a].source] = a;
    char key[2 * BENCH_CODE_MAX + 2];
    for (size_t i = 0; i < in->n_cells; i++) {
        const benchmark_cell_t *c = &in->cells[i];
        size_t a = site_area[str_map_get(b->site_ids, site_key(c, key, sizeof key))];
        if (strcmp(c->metric, BENCHMARK_REJECTED) == 0) {
            b->rejected[a] += c->denominator;
            continue;
        }
        if (strcmp(c->metric, BENCHMARK_WITHHELD) == 0) {
            b->withheld[a] += c->denominator;
            continue;
        }
        size_t m = str_map_get(b->metric_ids, c->metric);
        int decile;
        size_t k = slot_of(b, c, &decile);
        bench_sum_t *s = bench_sum(b, m, a, k);
        s->num += c->numerator;
        s->den += c->denominator;
        s->e9 += c->expected_e9;
        s->held += c->held;
        s->missing += c->missing;
        s->present = true;
        if (decile > 0) {
            b->deciles[m * 10 + (size_t)(decile - 1)].num += c->numerator;
            b->deciles[m * 10 + (size_t)(decile - 1)].den += c->denominator;
        }
    }
    /* sites into trusts, trusts into regions, regions into England: children sit after their
     * parents' level, so one pass from the last area back adds every level up */
    for (size_t a = b->n_areas; a-- > 1;) {
        b->rejected[b->areas[a].parent] += b->rejected[a];
        b->withheld[b->areas[a].parent] += b->withheld[a];
    }
    for (size_t m = 0; m < in->n_metrics; m++)
        for (size_t a = b->n_areas; a-- > 1;)
            for (size_t k = 0; k < b->n_slots; k++) {
                const bench_sum_t *from = bench_sum(b, m, a, k);
                bench_sum_t *to = bench_sum(b, m, b->areas[a].parent, k);
                to->num += from->num;
                to->den += from->den;
                to->e9 += from->e9;
                to->held += from->held;
                to->missing += from->missing;
                to->present |= from->present;
            }
    return 0;
}

/* ---- the rows ---- */

/* Whether area a publishes slot k (the all row always; a category at England and region level
 * when it has cells, at trust level from BENCHMARK_TRUST_BREAKDOWN_MIN, never at site level). */
static bool publishes(const bench_t *b, size_t m, size_t a, size_t k)
{
    const bench_area_t *area = &b->areas[a];
    if (!area->emit)
        return false;
    if (k == 0)
        return true;
    const bench_sum_t *s = bench_sum(b, m, a, k);
    switch (area->level) {
    case BENCH_ENGLAND:
    case BENCH_REGION:
        return s->present;
    case BENCH_TRUST:
        return s->present && s->den >= BENCHMARK_TRUST_BREAKDOWN_MIN;
    default:
        return false;
    }
}

static int build_rows(bench_t *b, benchmark_release_t *out, char *err, size_t errlen)
{
    const benchmark_input_t *in = b->in;
    size_t n = 0;
    for (size_t m = 0; m < in->n_metrics; m++) {
        for (size_t a = 0; a < b->n_areas; a++)
            for (size_t k = 0; k < b->n_slots; k++)
                n += publishes(b, m, a, k);
        n++; /* room for the SII */
    }
    size_t n_index = in->n_metrics * b->n_areas * b->n_slots;
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    b->row_of = malloc((n_index ? n_index : 1) * sizeof *b->row_of);
    b->metric_of = calloc(n ? n : 1, sizeof *b->metric_of);
    b->area_of = calloc(n ? n : 1, sizeof *b->area_of);
    b->slot_of = calloc(n ? n : 1, sizeof *b->slot_of);
    b->sii_row = malloc((in->n_metrics ? in->n_metrics : 1) * sizeof *b->sii_row);
    if (!out->rows || !b->row_of || !b->metric_of || !b->area_of || !b->slot_of || !b->sii_row)
        return bench_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < n_index; i++)
        b->row_of[i] = SIZE_MAX;
    size_t r = 0;
    for (size_t m = 0; m < in->n_metrics; m++) {
        const char *metric = arena_dup(b->arena, in->metrics[m].id);
        if (!metric)
            return bench_fail(err, errlen, "out of memory");
        b->sii_row[m] = SIZE_MAX;
        for (size_t a = 0; a < b->n_areas; a++) {
            const bench_area_t *area = &b->areas[a];
            for (size_t k = 0; k < b->n_slots; k++) {
                if (!publishes(b, m, a, k))
                    continue;
                benchmark_row_t *row = &out->rows[r];
                const bench_sum_t *s = bench_sum(b, m, a, k);
                row->level = bench_level_name[area->level];
                row->area_code = area->code;
                row->area_name = area->name;
                row->parent_code = area->parent_code;
                row->parent_name = a == 0 ? area->parent_code : b->areas[area->parent].name;
                row->metric = metric;
                row->breakdown = bench_breakdown_name[b->slots[k].breakdown];
                row->category = b->slots[k].category;
                row->has_numerator = !bench_continuous(b, m);
                row->has_denominator = true;
                row->numerator = s->num;
                row->denominator = s->den;
                row->has_expected = bench_kind(b, m) == BENCHMARK_RATIO;
                row->expected = (double)s->e9 / BENCHMARK_EXPECTED_SCALE;
                row->held = s->held;
                row->missing = s->missing;
                row->rejected = k == 0 ? b->rejected[a] : 0;
                row->withheld_opt_out = k == 0 ? b->withheld[a] : 0;
                row->compared = row->compared_region = row->outlier = row->note = "";
                b->row_of[(m * b->n_areas + a) * b->n_slots + k] = r;
                b->metric_of[r] = m;
                b->area_of[r] = a;
                b->slot_of[r] = k;
                r++;
            }
            if (a == 0 && bench_sii_wanted(b, m)) { /* England's rows end with the SII */
                benchmark_row_t *row = &out->rows[r];
                row->level = bench_level_name[BENCH_ENGLAND];
                row->area_code = area->code;
                row->area_name = area->name;
                row->parent_code = row->parent_name = area->parent_code;
                row->metric = metric;
                row->breakdown = bench_breakdown_name[BENCH_SII];
                row->category = b->slots[0].category; /* "" */
                row->compared = row->compared_region = row->outlier = row->note = "";
                b->metric_of[r] = m;
                b->area_of[r] = 0;
                b->slot_of[r] = SIZE_MAX;
                b->sii_row[m] = r;
                r++;
            }
        }
    }
    out->n_rows = r;
    return 0;
}

bool bench_sii_wanted(const bench_t *b, size_t m)
{
    if (bench_kind(b, m) != BENCHMARK_PROPORTION)
        return false;
    size_t n = 0;
    for (size_t d = 0; d < 10; d++)
        n += b->deciles[m * 10 + d].den > 0;
    return n >= 2;
}

/* Each row's note with missing_risk_inputs and follow_up_incomplete added where records were
 * left out of its figures. */
static int set_notes(bench_t *b, benchmark_release_t *out)
{
    for (size_t r = 0; r < out->n_rows; r++) {
        benchmark_row_t *row = &out->rows[r];
        if (b->slot_of[r] == SIZE_MAX || (row->missing == 0 && row->held == 0))
            continue;
        char note[256];
        snprintf(note, sizeof note, "%s%s%s%s%s", row->note, *row->note && row->missing ? ";" : "",
                 row->missing ? BENCHMARK_NOTE_MISSING : "",
                 (*row->note || row->missing) && row->held ? ";" : "",
                 row->held ? BENCHMARK_NOTE_HELD : "");
        if (!(row->note = arena_dup(b->arena, note)))
            return -1;
    }
    return 0;
}

/* ---- the values of median and mean metrics ---- */

bool bench_memo_key(const char *const *part, int n, char *buf)
{
    size_t at = 0;
    for (int p = 0; p < n; p++) {
        const char *s = part[p] ? part[p] : "";
        size_t len = strlen(s);
        if (len > 254)
            return false;
        buf[at++] = (char)(len + 1);
        memcpy(buf + at, s, len);
        at += len;
    }
    buf[at] = '\0';
    return true;
}

const void *bench_memo_get(const bench_memo_t *m, const char *key, size_t size)
{
    size_t at = m->ids ? str_map_get(m->ids, key) : STR_MAP_MISSING;
    return at == STR_MAP_MISSING ? NULL : (const char *)m->items + at * size;
}

const void *bench_memo_put(bench_memo_t *m, const char *key, const void *item, size_t size)
{
    size_t at;
    if ((!m->ids && !(m->ids = str_map_new(0))) || str_map_put(m->ids, key, &at) < 0 ||
        array_grow(&m->items, &m->cap, at + 1, size) != 0)
        return NULL;
    return memcpy((char *)m->items + at * size, item, size);
}

void bench_memo_free(bench_memo_t *m)
{
    str_map_destroy(&m->ids);
    free(m->items);
    *m = (bench_memo_t){0};
}

/* Where a measure's values go: its key checked (when the input is read: the arrays' measures
 * were at index_input) and placed, the stats of the rows of its site and every area above it.
 * Returns 0, or -1 with why. */
static int place(bench_t *b, size_t i, const benchmark_measure_t *x, bench_placed_t *p, char *why,
                 size_t whylen)
{
    if (b->in->read_measures && check_measure(b, i, x, why, whylen) != 0)
        return -1;
    benchmark_cell_t c = measure_key(x);
    char key[2 * BENCH_CODE_MAX + 2];
    size_t site = str_map_get(b->site_ids, site_key(&c, key, sizeof key));
    if (site == STR_MAP_MISSING || (strcmp(c.breakdown, "age") == 0 &&
                                    str_map_get(b->age_ids, c.category) == STR_MAP_MISSING)) {
        snprintf(why, whylen,
                 "measure %zu: trust \"%s\", site \"%s\", %s \"%s\": no cell has its key, "
                 "expected a cell for every measure",
                 i + 1, c.trust, c.site ? c.site : "", c.breakdown, c.category ? c.category : "");
        return -1;
    }
    size_t m = str_map_get(b->metric_ids, x->metric);
    int decile;
    size_t k = slot_of(b, &c, &decile);
    p->n = 0;
    for (size_t a = b->site_area[site]; a != SIZE_MAX && p->n < BENCH_LEVELS;
         a = b->areas[a].parent) {
        size_t r = bench_row(b, m, a, k);
        if (r != SIZE_MAX && b->stat_of[r] != SIZE_MAX)
            p->stat[p->n++] = b->stat_of[r];
    }
    return 0;
}

static size_t ref_slot(uint64_t ref, size_t cap)
{
    ref ^= ref >> 33; /* murmur3's finaliser */
    ref *= 0xff51afd7ed558ccdULL;
    ref ^= ref >> 33;
    return (size_t)ref & (cap - 1);
}

/* The index in b->placed of the measure key of cell_ref, or SIZE_MAX when not met yet. */
static size_t ref_get(const bench_t *b, uint64_t ref)
{
    for (size_t i = b->ref_cap ? ref_slot(ref, b->ref_cap) : 0; b->ref_cap;
         i = (i + 1) & (b->ref_cap - 1)) {
        if (b->ref_keys[i] == ref)
            return b->ref_items[i];
        if (b->ref_keys[i] == 0)
            break;
    }
    return SIZE_MAX;
}

/* Remembers item (an index in b->placed) as ref's; out of memory, forgets nothing and keeps
 * nothing (the strings then find it). */
static void ref_put(bench_t *b, uint64_t ref, size_t item)
{
    if (2 * (b->ref_n + 1) > b->ref_cap) {
        size_t cap = b->ref_cap ? 2 * b->ref_cap : 1024;
        uint64_t *keys = calloc(cap, sizeof *keys);
        size_t *items = malloc(cap * sizeof *items);
        if (!keys || !items) {
            free(keys);
            free(items);
            return;
        }
        for (size_t i = 0; i < b->ref_cap; i++)
            if (b->ref_keys[i]) {
                size_t j = ref_slot(b->ref_keys[i], cap);
                while (keys[j])
                    j = (j + 1) & (cap - 1);
                keys[j] = b->ref_keys[i];
                items[j] = b->ref_items[i];
            }
        free(b->ref_keys);
        free(b->ref_items);
        b->ref_keys = keys;
        b->ref_items = items;
        b->ref_cap = cap;
    }
    size_t j = ref_slot(ref, b->ref_cap);
    while (b->ref_keys[j] && b->ref_keys[j] != ref)
        j = (j + 1) & (b->ref_cap - 1);
    b->ref_n += b->ref_keys[j] == 0;
    b->ref_keys[j] = ref;
    b->ref_items[j] = item;
}

/* The place of a measure's key: found by its cell_ref, or in the memo, or placed and remembered
 * (a period's values are about one per record and breakdown, their keys far fewer). Returns it,
 * or NULL with why. */
static const bench_placed_t *placed_of(bench_t *b, size_t i, const benchmark_measure_t *x,
                                       bench_placed_t *fresh, char *why, size_t whylen)
{
    /* what places its values; a NULL part is "" (only keys that passed check_cell are kept,
     * where the two are alike) */
    size_t at = x->cell_ref ? ref_get(b, x->cell_ref) : SIZE_MAX;
    const bench_placed_t *p = at != SIZE_MAX ? (const bench_placed_t *)b->placed.items + at : NULL;
    if (p) /* placed before, its key checked then: the value alone is this measure's */
        return b->in->read_measures && check_value(i, x, why, whylen) != 0 ? NULL : p;
    const char *part[] = {x->trust, x->site, x->metric, x->breakdown, x->category};
    char key[BENCH_MEMO_KEY_MAX(5)];
    bool keyed = bench_memo_key(part, 5, key);
    p = keyed ? bench_memo_get(&b->placed, key, sizeof *p) : NULL;
    if (p) { /* as above; its ref remembered */
        if (x->cell_ref)
            ref_put(b, x->cell_ref, (size_t)(p - (const bench_placed_t *)b->placed.items));
        return b->in->read_measures && check_value(i, x, why, whylen) != 0 ? NULL : p;
    }
    if (place(b, i, x, fresh, why, whylen) != 0)
        return NULL;
    if (keyed && !(p = bench_memo_put(&b->placed, key, fresh, sizeof *p)))
        snprintf(why, whylen, "out of memory");
    else if (keyed && x->cell_ref)
        ref_put(b, x->cell_ref, (size_t)(p - (const bench_placed_t *)b->placed.items));
    return keyed ? p : fresh;
}

/* A measure (in ascending order of value) into the stats of the rows of its site and every area
 * above it. */
static int take_one(void *ctx, size_t i, const benchmark_measure_t *x, char *why, size_t whylen)
{
    bench_t *b = ctx;
    if (x->count == 0)
        return 0;
    bench_placed_t fresh;
    const bench_placed_t *p = placed_of(b, i, x, &fresh, why, whylen);
    if (!p)
        return -1;
    for (int j = 0; j < p->n; j++)
        bench_stat_add(&b->stats[p->stat[j]], x->value, x->count);
    return 0;
}

/* Each median and mean row's order statistics and sums (bench_stat_t), from the measures passed
 * in ascending order of value (bench_values): the ranks its figures want (median, intervals, the
 * ledger's bounds: row_bounds) of its denominator, the records with a value; a second pass for
 * a mean's squares. Memory: a stat per row, never the values. */
static int take_values(bench_t *b, const benchmark_release_t *out, char *err, size_t errlen)
{
    size_t n = 0, means = 0;
    for (size_t r = 0; r < out->n_rows; r++)
        n += b->slot_of[r] != SIZE_MAX && bench_continuous(b, b->metric_of[r]);
    if (n == 0)
        return 0;
    b->stats = calloc(n, sizeof *b->stats);
    b->stat_of = malloc(out->n_rows * sizeof *b->stat_of);
    if (!b->stats || !b->stat_of)
        return bench_fail(err, errlen, "out of memory");
    n = 0;
    for (size_t r = 0; r < out->n_rows; r++) {
        b->stat_of[r] = SIZE_MAX;
        if (b->slot_of[r] == SIZE_MAX || !bench_continuous(b, b->metric_of[r]))
            continue;
        const benchmark_row_t *row = &out->rows[r];
        bench_stat_t *s = &b->stats[b->stat_of[r] = n++];
        bench_stat_init(s, row->denominator);
        bench_stat_want_median(s);
        if (bench_kind(b, b->metric_of[r]) == BENCHMARK_MEAN) {
            means++;
            continue;
        }
        bench_stat_want_interval(s, NCAP_Z95);
        bench_stat_want_interval(s, NCAP_Z998);
        /* row_bounds' ranks: the left out all below, or all above, the values counted */
        long long l = row->rejected + row->held + row->missing + row->withheld_opt_out;
        long long total = s->n + l, at[2] = {(total + 1) / 2, total / 2 + 1};
        for (int j = 0; j < 2; j++) {
            bench_stat_want(s, at[j] - l);
            bench_stat_want(s, at[j]);
        }
    }
    if (bench_values(b->in, false, NULL, take_one, b, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        bench_stat_end(&b->stats[i]);
    if (means == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        bench_stat_squares(&b->stats[i]);
    if (bench_values(b->in, false, NULL, take_one, b, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        bench_stat_end(&b->stats[i]);
    return 0;
}

/* A median's value had `extra` records been added below every value of stat k (low) or above
 * every one (!low): its order statistics over n + extra records. NaN when the median would be one
 * of the added records (extra at least half of them): no bound then, whatever values they had. */
static double median_with(const bench_stat_t *k, long long n, long long extra, bool low)
{
    long long total = n + extra, at[2] = {(total + 1) / 2, total / 2 + 1};
    double v[2];
    for (int j = 0; j < 2; j++) {
        long long i = low ? at[j] - extra : at[j]; /* the rank among the counted */
        v[j] = i >= 1 && i <= n ? bench_stat_order(k, i) : NAN;
    }
    return total % 2 ? v[0] : (v[0] + v[1]) / 2;
}

/* The bounds of row r's value had its left_out records been counted (README.md, "The selection
 * ledger"): a proportion's none or all of them meeting the standard; a ratio's none or all of them
 * observed, each with the mean expected value of the records counted; a median's all of them
 * below or above every value counted (exact, whatever their values). A mean has none: its values
 * are unbounded, and the counted records' extremes would each be one patient's value. Returns
 * whether the row has them. */
static bool row_bounds(const bench_t *b, size_t r, benchmark_row_t *row)
{
    size_t m = b->metric_of[r];
    long long n = row->denominator, l = row->left_out;
    switch (bench_kind(b, m)) {
    case BENCHMARK_PROPORTION:
        if (!row->has_numerator || n + l == 0)
            return false;
        row->bound_lower = (double)row->numerator / (double)(n + l);
        row->bound_upper = (double)(row->numerator + l) / (double)(n + l);
        return true;
    case BENCHMARK_RATIO: {
        if (!row->has_numerator || !row->has_expected || n == 0 || !(row->expected > 0))
            return false;
        double e = row->expected * (double)(n + l) / (double)n; /* each one the mean expected */
        row->bound_lower = (double)row->numerator / e;
        row->bound_upper = (double)(row->numerator + l) / e;
        return true;
    }
    case BENCHMARK_MEDIAN: {
        if (!row->has_value || !b->stat_of || b->stat_of[r] == SIZE_MAX)
            return false;
        const bench_stat_t *k = &b->stats[b->stat_of[r]];
        row->bound_lower = median_with(k, n, l, true);
        row->bound_upper = median_with(k, n, l, false);
        return !isnan(row->bound_lower) && !isnan(row->bound_upper);
    }
    default:
        return false;
    }
}

/* The selection ledger of each row but the SII's, left empty on a suppressed row: what its
 * figures leave out and the bounds its value could take had they been included (row_bounds). */
static void set_ledger(const bench_t *b, benchmark_release_t *out)
{
    for (size_t r = 0; r < out->n_rows; r++) {
        benchmark_row_t *row = &out->rows[r];
        if (b->slot_of[r] == SIZE_MAX || (b->suppressed && b->suppressed[r]))
            continue;
        row->has_ledger = true;
        row->left_out = row->rejected + row->held + row->missing + row->withheld_opt_out;
        row->has_bounds = row_bounds(b, r, row);
    }
}

static void bench_free(bench_t *b)
{
    free(b->ref_keys);
    free(b->ref_items);
    str_map_destroy(&b->metric_ids);
    str_map_destroy(&b->trust_ids);
    str_map_destroy(&b->site_ids);
    str_map_destroy(&b->age_ids);
    bench_memo_free(&b->placed);
    free(b->areas);
    free(b->slots);
    free(b->age_slot);
    free(b->stats);
    free(b->stat_of);
    free(b->site_area);
    free(b->sums);
    free(b->deciles);
    free(b->rejected);
    free(b->withheld);
    free(b->row_of);
    free(b->metric_of);
    free(b->area_of);
    free(b->slot_of);
    free(b->sii_row);
    free(b->suppressed);
}

int benchmark_build(const benchmark_input_t *in, benchmark_release_t *out, char *err, size_t errlen)
{
    assert(in);
    assert(out);
    memset(out, 0, sizeof *out);
    bench_t b;
    memset(&b, 0, sizeof b);
    b.in = in;
    b.arena = calloc(1, sizeof(arena_t));
    out->arena = b.arena;
    int rc = -1;
    if (!b.arena) {
        bench_fail(err, errlen, "out of memory");
        goto out;
    }
    if (index_input(&b, err, errlen) != 0 || build_areas(&b, err, errlen) != 0 ||
        build_slots(&b, err, errlen) != 0 || add_sums(&b, err, errlen) != 0 ||
        build_rows(&b, out, err, errlen) != 0 || take_values(&b, out, err, errlen) != 0 ||
        bench_suppress(&b, out, err, errlen) != 0 || bench_figures(&b, out, err, errlen) != 0)
        goto out;
    bench_hide(&b, out);
    set_ledger(&b, out);
    if (set_notes(&b, out) != 0) {
        bench_fail(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    bench_free(&b);
    if (rc != 0)
        benchmark_release_free(out);
    return rc;
}
