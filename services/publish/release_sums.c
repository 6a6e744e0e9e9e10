/* release_sums.c - a release's sums, in the one order both builders give them */
#include "release_sums.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str_map.h"

/* The strings of the keys ranked once in strcmp's order, so that sorting compares integers:
 * O(distinct strings) string comparisons (trusts, sites, metrics, categories, months: hundreds),
 * not O(n log n). A string is found by its address first (the builders' strings are interned: a
 * few hundred addresses), so an element's key costs pointer probes; only a new address is hashed
 * by content. */
typedef struct {
    str_map_t *map;   /* the distinct strings, by content */
    const char **ptr; /* open addressing over the addresses seen; NULL: a free slot */
    size_t *index;    /* per slot: its string's map index, then (ranks_build) its rank */
    size_t cap, n;
} ranks_t;

#define KEY_FIELDS 6 /* trust, site, metric, breakdown, category, month */

static const char *text(const char *s)
{
    return s ? s : "";
}

static size_t ptr_home(const char *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 29;
    x *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 32) & (cap - 1);
}

/* The slot of address p (cap a power of 2, never full). */
static size_t ptr_find(const ranks_t *r, const char *p)
{
    size_t i = ptr_home(p, r->cap);
    while (r->ptr[i] && r->ptr[i] != p)
        i = (i + 1) & (r->cap - 1);
    return i;
}

static int ptr_grow(ranks_t *r)
{
    size_t cap = r->cap ? r->cap * 2 : 1024;
    const char **ptr = calloc(cap, sizeof *ptr);
    size_t *index = malloc(cap * sizeof *index);
    if (!ptr || !index) {
        free(ptr);
        free(index);
        return -1;
    }
    ranks_t grown = {.map = r->map, .ptr = ptr, .index = index, .cap = cap, .n = r->n};
    for (size_t i = 0; i < r->cap; i++)
        if (r->ptr[i]) {
            size_t j = ptr_find(&grown, r->ptr[i]);
            ptr[j] = r->ptr[i];
            index[j] = r->index[i];
        }
    free(r->ptr);
    free(r->index);
    *r = grown;
    return 0;
}

static int ranks_put(ranks_t *r, const char *const f[KEY_FIELDS])
{
    for (int k = 0; k < KEY_FIELDS; k++) {
        const char *p = text(f[k]);
        if ((r->n + 1) * 2 > r->cap && ptr_grow(r) != 0)
            return -1;
        size_t i = ptr_find(r, p);
        if (r->ptr[i])
            continue;
        if (str_map_put(r->map, p, &r->index[i]) < 0)
            return -1;
        r->ptr[i] = p;
        r->n++;
    }
    return 0;
}

static uint32_t rank_of(const ranks_t *r, const char *s)
{
    return (uint32_t)r->index[ptr_find(r, text(s))];
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define CELL_FIELDS(c)                                                                             \
    {                                                                                              \
        (c)->trust, (c)->site, (c)->metric, (c)->breakdown, (c)->category, (c)->month              \
    }

static int ranks_build(ranks_t *r, const release_sums_t *s)
{
    *r = (ranks_t){.map = str_map_new(256)};
    if (!r->map)
        return -1;
    for (size_t i = 0; i < s->n_cells; i++)
        if (ranks_put(r, (const char *[])CELL_FIELDS(&s->cells[i])) != 0)
            return -1;
    for (size_t i = 0; i < s->n_measures; i++)
        if (ranks_put(r, (const char *[])CELL_FIELDS(&s->measures[i])) != 0)
            return -1;
    for (size_t i = 0; i < s->n_series; i++)
        if (ranks_put(r, (const char *[])CELL_FIELDS(&s->series[i])) != 0)
            return -1;
    for (size_t i = 0; i < s->n_series_measures; i++)
        if (ranks_put(r, (const char *[])CELL_FIELDS(&s->series_measures[i])) != 0)
            return -1;
    size_t n = str_map_size(r->map);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *rank = malloc((n ? n : 1) * sizeof *rank);
    if (!keys || !rank) {
        free(keys);
        free(rank);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = str_map_key(r->map, i);
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++)
        rank[str_map_get(r->map, keys[i])] = i;
    for (size_t i = 0; i < r->cap; i++)
        if (r->ptr[i])
            r->index[i] = rank[r->index[i]];
    free(keys);
    free(rank);
    return 0;
}

static void ranks_free(ranks_t *r)
{
    str_map_destroy(&r->map);
    free(r->ptr);
    free(r->index);
    *r = (ranks_t){0};
}

/* An element's key as ranks (month last), its value (0 for a cell) and where it was. */
typedef struct {
    uint32_t k[KEY_FIELDS];
    double value;
    size_t at;
} entry_t;

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

static int cmp_value(double a, double b)
{
    return (a > b) - (a < b);
}

/* By trust, site, metric, breakdown, category, month, then value. */
static int cmp_entry(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    for (int k = 0; k < KEY_FIELDS; k++) {
        int c = cmp_u32(a->k[k], b->k[k]);
        if (c)
            return c;
    }
    int c = cmp_value(a->value, b->value);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* Months aside: by key, value, then month, so that measures to merge sit side by side. */
static int cmp_entry_merge(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    for (int k = 0; k < KEY_FIELDS - 1; k++) {
        int c = cmp_u32(a->k[k], b->k[k]);
        if (c)
            return c;
    }
    int c = cmp_value(a->value, b->value);
    if (!c)
        c = cmp_u32(a->k[KEY_FIELDS - 1], b->k[KEY_FIELDS - 1]);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

static void entry_key(const ranks_t *r, entry_t *e, const char *const f[KEY_FIELDS])
{
    for (int k = 0; k < KEY_FIELDS; k++)
        e->k[k] = rank_of(r, f[k]);
}

/* The largest element sort_by moves (a cell or a measure). */
#define ELEMENT_MAX                                                                                \
    (sizeof(benchmark_cell_t) > sizeof(benchmark_measure_t) ? sizeof(benchmark_cell_t)             \
                                                            : sizeof(benchmark_measure_t))

/* Sorts n elements of size bytes at items, whose keys and values fill entries e, by cmp: the
 * entries sorted, then the elements moved into place cycle by cycle (no second array). */
static int sort_by(void *items, size_t n, size_t size, entry_t *e,
                   int (*cmp)(const void *, const void *))
{
    if (n < 2)
        return 0;
    qsort(e, n, sizeof *e, cmp);
    char *at = items, hold[ELEMENT_MAX];
    for (size_t i = 0; i < n; i++) {
        if (e[i].at == i)
            continue;
        /* the cycle through i: position j takes the element from e[j].at */
        memcpy(hold, at + i * size, size);
        size_t j = i;
        while (e[j].at != i) {
            size_t from = e[j].at;
            memcpy(at + j * size, at + from * size, size);
            e[j].at = j; /* in place */
            j = from;
        }
        memcpy(at + j * size, hold, size);
        e[j].at = j;
    }
    return 0;
}

static int sort_cells(const ranks_t *r, benchmark_cell_t *c, size_t n)
{
    entry_t *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < n; i++) {
        entry_key(r, &e[i], (const char *[])CELL_FIELDS(&c[i]));
        e[i].value = 0;
        e[i].at = i;
    }
    int rc = sort_by(c, n, sizeof *c, e, cmp_entry);
    free(e);
    return rc;
}

static int sort_measures(const ranks_t *r, benchmark_measure_t *m, size_t n,
                         int (*cmp)(const void *, const void *))
{
    entry_t *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return -1;
    for (size_t i = 0; i < n; i++) {
        entry_key(r, &e[i], (const char *[])CELL_FIELDS(&m[i]));
        e[i].value = m[i].value;
        e[i].at = i;
    }
    int rc = sort_by(m, n, sizeof *m, e, cmp);
    free(e);
    return rc;
}

static bool same_key(const char *const x[KEY_FIELDS], const char *const y[KEY_FIELDS])
{
    for (int k = 0; k < KEY_FIELDS - 1; k++)
        if (strcmp(text(x[k]), text(y[k])) != 0)
            return false;
    return true;
}

int release_sums_sort(release_sums_t *s)
{
    ranks_t r;
    int rc = ranks_build(&r, s);
    if (rc == 0)
        rc = sort_cells(&r, s->cells, s->n_cells) |
             sort_measures(&r, s->measures, s->n_measures, cmp_entry) |
             sort_cells(&r, s->series, s->n_series) |
             sort_measures(&r, s->series_measures, s->n_series_measures, cmp_entry);
    ranks_free(&r);
    return rc == 0 ? 0 : -1;
}

int release_sums_merge_months(release_sums_t *s)
{
    ranks_t r;
    int rc = ranks_build(&r, s);
    if (rc == 0)
        rc = sort_cells(&r, s->cells, s->n_cells) |
             sort_measures(&r, s->measures, s->n_measures, cmp_entry_merge);
    ranks_free(&r);
    if (rc != 0)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < s->n_cells; i++) {
        benchmark_cell_t *c = &s->cells[i];
        if (m > 0 && same_key((const char *[])CELL_FIELDS(&s->cells[m - 1]),
                              (const char *[])CELL_FIELDS(c))) {
            benchmark_cell_t *to = &s->cells[m - 1];
            to->numerator += c->numerator;
            to->denominator += c->denominator;
            to->expected_e9 += c->expected_e9;
            to->held += c->held;
            to->missing += c->missing;
            continue;
        }
        s->cells[m] = *c;
        s->cells[m++].month = "";
    }
    s->n_cells = m;
    m = 0;
    for (size_t i = 0; i < s->n_measures; i++) {
        benchmark_measure_t *x = &s->measures[i];
        if (m > 0 &&
            same_key((const char *[])CELL_FIELDS(&s->measures[m - 1]),
                     (const char *[])CELL_FIELDS(x)) &&
            s->measures[m - 1].value == x->value) {
            s->measures[m - 1].count += x->count;
            continue;
        }
        s->measures[m] = *x;
        s->measures[m++].month = "";
    }
    s->n_measures = m;
    return 0;
}

void release_sums_input(const release_sums_t *s, benchmark_input_t *in)
{
    in->cells = s->cells;
    in->n_cells = s->n_cells;
    in->measures = s->measures;
    in->n_measures = s->n_measures;
    in->series = s->series;
    in->n_series = s->n_series;
    in->series_measures = s->series_measures;
    in->n_series_measures = s->n_series_measures;
}

void release_sums_free(release_sums_t *s)
{
    free(s->cells);
    free(s->measures);
    free(s->series);
    free(s->series_measures);
    *s = (release_sums_t){0};
}
