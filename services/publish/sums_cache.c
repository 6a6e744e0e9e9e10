/* sums_cache.c - the sums of each audit period publish holds between its rounds */
#include "sums_cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"

/* A period held: its rows as metric.aggregate has them (cmp_row's order), and made from them
 * release_sums_t's cells (months summed) and series (per month), each in release_sums_sort's
 * order, and its records; no measures (release_values.h). */
typedef struct {
    const char *audit, *period;
    benchmark_cell_t *rows;
    size_t n_rows;
    release_sums_t sums; /* its records in sums.records */
    char xmin[24];       /* the snapshot its rows are those of ("": unknown) */
    double at_ms;        /* and when it was taken */
} held_t;

struct sums_cache {
    str_map_t *strings;
    held_t *held;
    size_t n_held, cap_held;
    char xmin[24]; /* the current round's snapshot ("": none given) */
    double at_ms;
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
    free(h->rows);
    release_sums_free(&h->sums);
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
        b += (h->n_rows + h->sums.n_cells + h->sums.n_series) * sizeof(benchmark_cell_t);
    }
    return b;
}

static const char *text(const char *s)
{
    return s ? s : "";
}

/* A period's sums (s) made from its rows, as a held period has them. Returns 0, or -1 when out
 * of memory. */
static int fragment(const benchmark_cell_t *cells, size_t n_cells, release_sums_t *s)
{
    s->cells = malloc((n_cells + 1) * sizeof *s->cells);
    s->series = malloc((n_cells + 1) * sizeof *s->series);
    if (!s->cells || !s->series)
        return -1;
    for (size_t i = 0; i < n_cells; i++) {
        const benchmark_cell_t *x = &cells[i];
        bool all = strcmp(text(x->breakdown), "all") == 0;
        if (text(x->metric)[0] == '\0') { /* the record count (metric.aggregate's metric '') */
            if (all)
                s->records += x->denominator;
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

void sums_cache_snapshot(sums_cache_t *c, const char *xmin, double now_ms)
{
    snprintf(c->xmin, sizeof c->xmin, "%s", xmin && strlen(xmin) < sizeof c->xmin ? xmin : "");
    c->at_ms = now_ms;
}

const char *sums_cache_since(const sums_cache_t *c, const char *audit, const char *period,
                             double max_age_ms)
{
    const held_t *h = find(c, audit, period);
    if (!h || !h->xmin[0] || !c->xmin[0] || c->at_ms - h->at_ms > max_age_ms)
        return NULL;
    return h->xmin;
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

/* The order of a period's rows: by their strings' addresses, each string interned once in the
 * cache's map (a total order on keys, several times cheaper than strcmp's; the sums made from the
 * rows are sorted as release_sums_sort has them). */
static int cmp_row(const benchmark_cell_t *a, const benchmark_cell_t *b)
{
    const char *x[] = {a->trust, a->site, a->metric, a->breakdown, a->category, a->month};
    const char *y[] = {b->trust, b->site, b->metric, b->breakdown, b->category, b->month};
    for (int k = 0; k < 6; k++)
        if (x[k] != y[k])
            return (uintptr_t)x[k] < (uintptr_t)y[k] ? -1 : 1;
    return 0;
}

static int by_row(const void *a, const void *b)
{
    return cmp_row(a, b);
}

/* Forgets the period h. */
static void forget(sums_cache_t *c, held_t *h)
{
    held_free(h);
    *h = c->held[--c->n_held];
}

/* Makes h's sums again from its rows, then marks it of the round's snapshot. Returns 0, or -1
 * when out of memory (h's sums as they were). */
static int remake(const sums_cache_t *c, held_t *h)
{
    release_sums_t s = {0};
    if (fragment(h->rows, h->n_rows, &s) != 0) {
        release_sums_free(&s);
        return -1;
    }
    release_sums_free(&h->sums);
    h->sums = s;
    memcpy(h->xmin, c->xmin, sizeof h->xmin);
    h->at_ms = c->at_ms;
    return 0;
}

/* A sorted copy of n cells. Returns it, or NULL when out of memory. */
static benchmark_cell_t *sorted(const benchmark_cell_t *cells, size_t n)
{
    benchmark_cell_t *s = malloc((n + 1) * sizeof *s);
    if (s && n > 0) {
        memcpy(s, cells, n * sizeof *s);
        qsort(s, n, sizeof *s, by_row);
    }
    return s;
}

int sums_cache_put(sums_cache_t *c, const char *audit, const char *period,
                   const benchmark_cell_t *cells, size_t n_cells)
{
    held_t *h = find(c, audit, period);
    benchmark_cell_t *rows = sorted(cells, n_cells);
    if (!rows)
        goto fail;
    if (!h) {
        size_t ia, ip;
        if (array_grow((void **)&c->held, &c->cap_held, c->n_held + 1, sizeof *c->held) != 0 ||
            str_map_put(c->strings, audit, &ia) < 0 || str_map_put(c->strings, period, &ip) < 0) {
            free(rows);
            return -1;
        }
        h = &c->held[c->n_held++];
        *h = (held_t){.audit = str_map_key(c->strings, ia), .period = str_map_key(c->strings, ip)};
    }
    free(h->rows);
    h->rows = rows;
    h->n_rows = n_cells;
    if (remake(c, h) == 0)
        return 0;
fail:
    if (h)
        forget(c, h);
    return -1;
}

int sums_cache_apply(sums_cache_t *c, const char *audit, const char *period,
                     const benchmark_cell_t *gone, size_t n_gone, const benchmark_cell_t *set,
                     size_t n_set)
{
    held_t *h = find(c, audit, period);
    if (!h)
        return 1;
    benchmark_cell_t *s = sorted(set, n_set), *g = sorted(gone, n_gone);
    benchmark_cell_t *out = malloc((h->n_rows + n_set + 1) * sizeof *out);
    if (!s || !g || !out) {
        free(s);
        free(g);
        free(out);
        forget(c, h);
        return -1;
    }
    /* in order: a held cell read takes its sums, one gone and not read is dropped; the cells read
     * that were not held come in between */
    size_t n = 0, j = 0, k = 0;
    for (size_t i = 0; i < h->n_rows || j < n_set;) {
        int d = i == h->n_rows ? 1 : j == n_set ? -1 : cmp_row(&h->rows[i], &s[j]);
        if (d >= 0) {
            out[n++] = s[j++];
            i += d == 0;
            while (j < n_set && cmp_row(&s[j], &s[j - 1]) == 0) /* read twice: alike */
                j++;
            continue;
        }
        while (k < n_gone && cmp_row(&g[k], &h->rows[i]) < 0)
            k++;
        if (!(k < n_gone && cmp_row(&g[k], &h->rows[i]) == 0))
            out[n++] = h->rows[i];
        i++;
    }
    free(s);
    free(g);
    free(h->rows);
    h->rows = out;
    h->n_rows = n;
    if (remake(c, h) != 0) {
        forget(c, h);
        return -1;
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
    s->records = o->records;
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
