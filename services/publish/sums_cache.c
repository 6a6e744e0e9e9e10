/* sums_cache.c - the sums of each audit period publish holds between its rounds */
#include "sums_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"

typedef struct {
    const char *trust;
    long long records;
} trust_records_t;

/* A period held: release_sums_t's cells (months summed) and series (per month), each in
 * release_sums_sort's order, and each trust's records; no measures (release_values.h). */
typedef struct {
    const char *audit, *period;
    release_sums_t sums;
    trust_records_t *records;
    size_t n_records;
} held_t;

struct sums_cache {
    str_map_t *strings;
    held_t *held;
    size_t n_held, cap_held;
};

sums_cache_t *sums_cache_new(void)
{
    sums_cache_t *c = calloc(1, sizeof *c);
    if (c && !(c->strings = str_map_new(1024))) {
        free(c);
        return NULL;
    }
    return c;
}

static void held_free(held_t *h)
{
    release_sums_free(&h->sums);
    free(h->records);
    *h = (held_t){0};
}

void sums_cache_clear(sums_cache_t *c)
{
    for (size_t i = 0; c && i < c->n_held; i++)
        held_free(&c->held[i]);
    if (c)
        c->n_held = 0;
}

void sums_cache_destroy(sums_cache_t **c)
{
    if (!c || !*c)
        return;
    sums_cache_clear(*c);
    free((*c)->held);
    str_map_destroy(&(*c)->strings);
    free(*c);
    *c = NULL;
}

str_map_t *sums_cache_strings(sums_cache_t *c)
{
    return c->strings;
}

static held_t *find(const sums_cache_t *c, const char *audit, const char *period)
{
    for (size_t i = 0; i < c->n_held; i++)
        if (strcmp(c->held[i].audit, audit) == 0 && strcmp(c->held[i].period, period) == 0)
            return &c->held[i];
    return NULL;
}

bool sums_cache_has(const sums_cache_t *c, const char *audit, const char *period)
{
    return find(c, audit, period) != NULL;
}

size_t sums_cache_bytes(const sums_cache_t *c)
{
    size_t b = c->cap_held * sizeof *c->held;
    for (size_t i = 0; i < c->n_held; i++) {
        const held_t *h = &c->held[i];
        b += (h->sums.n_cells + h->sums.n_series) * sizeof(benchmark_cell_t) +
             h->n_records * sizeof *h->records;
    }
    return b;
}

static const char *text(const char *s)
{
    return s ? s : "";
}

static bool named(const char *trust, const char *const *trusts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (trusts[i] == trust)
            return true;
    return false;
}

/* The fragment of the rows put, as a held period has them. Returns 0, or -1 when out of memory. */
static int fragment(const benchmark_cell_t *cells, size_t n_cells, held_t *f)
{
    release_sums_t *s = &f->sums;
    s->cells = malloc((n_cells + 1) * sizeof *s->cells);
    s->series = malloc((n_cells + 1) * sizeof *s->series);
    if (!s->cells || !s->series)
        return -1;
    size_t cap_records = 0;
    for (size_t i = 0; i < n_cells; i++) {
        const benchmark_cell_t *x = &cells[i];
        bool all = strcmp(text(x->breakdown), "all") == 0;
        if (text(x->metric)[0] == '\0') { /* the record count (metric.aggregate's metric '') */
            if (!all)
                continue;
            size_t r = 0;
            while (r < f->n_records && f->records[r].trust != x->trust)
                r++;
            if (r == f->n_records) {
                if (array_grow((void **)&f->records, &cap_records, r + 1, sizeof *f->records) != 0)
                    return -1;
                f->records[f->n_records++] = (trust_records_t){x->trust, 0};
            }
            f->records[r].records += x->denominator;
            continue;
        }
        s->cells[s->n_cells++] = *x;
        /* the run charts' months: breakdown 'all' of a month (series_sql's) */
        if (all && text(x->month)[0] != '\0')
            s->series[s->n_series++] = *x;
    }
    release_sums_t series = {.series = s->series, .n_series = s->n_series};
    return release_sums_merge_months(s) != 0 || release_sums_sort(&series) != 0 ? -1 : 0;
}

/* Merges a (the elements of trusts not named) and b (those of named trusts), each n elements of
 * size bytes sorted with the trust first, into a new array by trust (strcmp): a trust's run is
 * all in one of them. trust_of gives an element's trust. Returns the array (*n its length), or
 * NULL when out of memory. */
static void *splice(const void *a, size_t na, const void *b, size_t nb, size_t size,
                    const char *const *trusts, size_t n_trusts,
                    const char *(*trust_of)(const void *), size_t *n)
{
    char *out = malloc((na + nb + 1) * size);
    if (!out)
        return NULL;
    const char *pa = a, *pb = b;
    size_t i = 0, j = 0, k = 0;
    for (;;) {
        while (i < na && named(trust_of(pa + i * size), trusts, n_trusts))
            i++;
        if (i == na && j == nb)
            break;
        bool take_a =
            j == nb || (i < na && strcmp(trust_of(pa + i * size), trust_of(pb + j * size)) < 0);
        memcpy(out + k++ * size, take_a ? pa + i++ * size : pb + j++ * size, size);
    }
    *n = k;
    return out;
}

static const char *cell_trust(const void *x)
{
    return ((const benchmark_cell_t *)x)->trust;
}

static const char *records_trust(const void *x)
{
    return ((const trust_records_t *)x)->trust;
}

static int by_trust(const void *a, const void *b)
{
    return strcmp(((const trust_records_t *)a)->trust, ((const trust_records_t *)b)->trust);
}

/* Replaces h's elements of the named trusts by f's. Returns 0, or -1 when out of memory (h as it
 * was). */
static int replace_trusts(held_t *h, const held_t *f, const char *const *trusts, size_t n_trusts)
{
    held_t to = {.audit = h->audit, .period = h->period};
    release_sums_t *t = &to.sums;
    const release_sums_t *o = &h->sums, *x = &f->sums;
    t->cells = splice(o->cells, o->n_cells, x->cells, x->n_cells, sizeof *t->cells, trusts,
                      n_trusts, cell_trust, &t->n_cells);
    t->series = splice(o->series, o->n_series, x->series, x->n_series, sizeof *t->series, trusts,
                       n_trusts, cell_trust, &t->n_series);
    to.records = splice(h->records, h->n_records, f->records, f->n_records, sizeof *to.records,
                        trusts, n_trusts, records_trust, &to.n_records);
    if (!t->cells || !t->series || !to.records) {
        held_free(&to);
        return -1;
    }
    held_free(h);
    *h = to;
    return 0;
}

int sums_cache_put(sums_cache_t *c, const char *audit, const char *period,
                   const char *const *trusts, size_t n_trusts, const benchmark_cell_t *cells,
                   size_t n_cells)
{
    held_t *h = find(c, audit, period);
    if (trusts && !h)
        return 1;
    for (size_t i = 0; trusts && i < n_cells; i++)
        if (!named(cells[i].trust, trusts, n_trusts))
            goto fail;
    held_t f = {0};
    if (fragment(cells, n_cells, &f) != 0) {
        held_free(&f);
        goto fail;
    }
    if (f.n_records > 1) /* records is NULL when there are none */
        qsort(f.records, f.n_records, sizeof *f.records, by_trust);
    if (trusts) {
        int rc = replace_trusts(h, &f, trusts, n_trusts);
        held_free(&f);
        if (rc != 0)
            goto fail;
        return 0;
    }
    size_t ia, ip;
    if (!h) {
        if (array_grow((void **)&c->held, &c->cap_held, c->n_held + 1, sizeof *c->held) != 0 ||
            str_map_put(c->strings, audit, &ia) < 0 || str_map_put(c->strings, period, &ip) < 0) {
            held_free(&f);
            return -1;
        }
        h = &c->held[c->n_held++];
        *h = (held_t){0};
    } else {
        ia = str_map_get(c->strings, audit);
        ip = str_map_get(c->strings, period);
        if (ia == STR_MAP_MISSING || ip == STR_MAP_MISSING) {
            held_free(&f);
            goto fail;
        }
        held_free(h);
    }
    *h = f;
    h->audit = str_map_key(c->strings, ia);
    h->period = str_map_key(c->strings, ip);
    return 0;
fail:
    if (h) {
        held_free(h);
        *h = c->held[--c->n_held];
    }
    return -1;
}

/* The order of release_sums_sort (strcmp on each key, then value). */
static int cmp_cell(const benchmark_cell_t *a, const benchmark_cell_t *b)
{
    const char *x[] = {a->trust, a->site, a->metric, a->breakdown, a->category, a->month};
    const char *y[] = {b->trust, b->site, b->metric, b->breakdown, b->category, b->month};
    for (int k = 0; k < 6; k++) {
        int d = strcmp(text(x[k]), text(y[k]));
        if (d)
            return d;
    }
    return 0;
}

int sums_cache_sums(sums_cache_t *c, const char *audit, const char *period,
                    const benchmark_cell_t *extra, size_t n_extra, release_sums_t *s)
{
    *s = (release_sums_t){0};
    const held_t *h = find(c, audit, period);
    if (!h)
        return 1;
    /* extra, months summed and sorted as the held cells are */
    release_sums_t e = {.cells = malloc((n_extra + 1) * sizeof *e.cells), .n_cells = n_extra};
    if (!e.cells)
        return -1;
    if (n_extra)
        memcpy(e.cells, extra, n_extra * sizeof *extra);
    size_t n_series = 0;
    for (size_t i = 0; i < c->n_held; i++)
        if (strcmp(c->held[i].audit, audit) == 0 && strcmp(c->held[i].period, period) <= 0)
            n_series += c->held[i].sums.n_series;
    const release_sums_t *o = &h->sums;
    s->cells = malloc((o->n_cells + n_extra + 1) * sizeof *s->cells);
    s->series = malloc((n_series + 1) * sizeof *s->series);
    if (!s->cells || !s->series || release_sums_merge_months(&e) != 0) {
        release_sums_free(&e);
        release_sums_free(s);
        return -1;
    }
    size_t i = 0, j = 0;
    while (i < o->n_cells || j < e.n_cells)
        s->cells[s->n_cells++] =
            j == e.n_cells || (i < o->n_cells && cmp_cell(&o->cells[i], &e.cells[j]) < 0)
                ? o->cells[i++]
                : e.cells[j++];
    release_sums_free(&e);
    for (size_t k = 0; k < h->n_records; k++)
        s->records += h->records[k].records;
    /* the periods of one audit are of one form (YYYY, YYYYQn), ordered alike as bytes */
    for (size_t k = 0; k < c->n_held; k++) {
        const held_t *p = &c->held[k];
        if (strcmp(p->audit, audit) != 0 || strcmp(p->period, period) > 0)
            continue;
        if (p->sums.n_series)
            memcpy(s->series + s->n_series, p->sums.series, p->sums.n_series * sizeof *s->series);
        s->n_series += p->sums.n_series;
    }
    release_sums_t series = {.series = s->series, .n_series = s->n_series};
    if (release_sums_sort(&series) != 0) {
        release_sums_free(s);
        return -1;
    }
    return 0;
}
