/* value_cache.c - the values of each audit period publish holds between its rounds */
#include "value_cache.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "str_map.h"

enum { K_TRUST, K_SITE, K_METRIC, K_MONTH, N_KEYS };
/* value_cache_add's strings: the cell's key, then the categories */
#define N_COLUMNS (N_KEYS + BREAKDOWN_COUNT)
_Static_assert(sizeof(value_row_t) == 24, "a row held takes 24 bytes");

/* A cell's key: its four strings' ids (K_TRUST ...). */
typedef struct {
    uint16_t k[N_KEYS];
} cell_key_t;

typedef struct {
    const char *audit, *period; /* the cache's strings */
    value_row_t *rows;          /* ascending (value, ids: cmp_row) */
    size_t n;
    unsigned long used, touched; /* the rounds that last used it, put rows into it */
    char xmin[24];               /* the snapshot its rows are those of ("": unknown) */
    double at_ms;                /* and when it was taken (value_cache_snapshot) */
    const char *last_month;      /* the latest month of its rows (the cache's string; NULL: none) */
} held_t;

/* How many rows a period not held had at least, when last held or crowded out. */
typedef struct {
    const char *audit, *period; /* the cache's strings */
    size_t rows;
} seen_t;

struct value_cache {
    str_map_t *strings;
    /* the cells' keys interned (by their ids in hex, key_ids): kept while periods are held,
     * every key forgotten with them (value_cache_round) once they take more than half the
     * budget (VALUE_CACHE_KEY_BYTES each), so that keys of cells no longer held do not pile up */
    cell_key_t *keys;
    size_t n_keys, cap_keys;
    str_map_t *key_ids;
    size_t budget;
    held_t *held;
    size_t n_held, cap_held;
    const char **too_big; /* pairs: audit, period */
    size_t n_too_big, cap_too_big;
    seen_t *seen; /* the rows of periods not held as last known (value_cache_fits) */
    size_t n_seen, cap_seen;
    unsigned long round;
    char xmin[24]; /* the current round's snapshot ("": none given) */
    double at_ms;
};

value_cache_t *value_cache_new(size_t budget)
{
    value_cache_t *c = calloc(1, sizeof *c);
    if (c && (!(c->strings = str_map_new(1024)) || !(c->key_ids = str_map_new(1024)))) {
        str_map_destroy(&c->strings);
        free(c);
        return NULL;
    }
    if (c)
        c->budget = budget;
    return c;
}

void value_cache_clear(value_cache_t *c)
{
    for (size_t i = 0; c && i < c->n_held; i++)
        free(c->held[i].rows);
    if (c)
        c->n_held = c->n_too_big = c->n_seen = 0;
}

void value_cache_destroy(value_cache_t **c)
{
    if (!c || !*c)
        return;
    value_cache_clear(*c);
    free((*c)->held);
    free((*c)->too_big);
    free((*c)->seen);
    free((*c)->keys);
    str_map_destroy(&(*c)->key_ids);
    str_map_destroy(&(*c)->strings);
    free(*c);
    *c = NULL;
}

size_t value_cache_key_bytes(const value_cache_t *c)
{
    return c->n_keys * VALUE_CACHE_KEY_BYTES;
}

void value_cache_round(value_cache_t *c)
{
    c->round++;
    c->xmin[0] = '\0';
    /* no batch is being gathered between rounds: the rows held are the only ones numbering keys */
    if (value_cache_key_bytes(c) > c->budget / 2) {
        value_cache_clear(c);
        str_map_t *fresh = str_map_new(1024);
        if (fresh) { /* out of memory: the keys stay, and the periods are read again */
            str_map_destroy(&c->key_ids);
            c->key_ids = fresh;
            c->n_keys = 0;
        }
    }
}

void value_cache_snapshot(value_cache_t *c, const char *xmin, double now_ms)
{
    snprintf(c->xmin, sizeof c->xmin, "%s", xmin && strlen(xmin) < sizeof c->xmin ? xmin : "");
    c->at_ms = now_ms;
}

/* Whether (a, p) is (audit, period). */
static bool is(const char *a, const char *p, const char *audit, const char *period)
{
    return strcmp(a, audit) == 0 && strcmp(p, period) == 0;
}

static seen_t *seen_of(const value_cache_t *c, const char *audit, const char *period)
{
    for (size_t i = 0; i < c->n_seen; i++)
        if (is(c->seen[i].audit, c->seen[i].period, audit, period))
            return &c->seen[i];
    return NULL;
}

/* Remembers that (audit, period; the cache's strings) has at least rows rows. Out of memory:
 * not remembered (the period is read again, and crowded out again). */
static void note_rows(value_cache_t *c, const char *audit, const char *period, size_t rows)
{
    seen_t *s = seen_of(c, audit, period);
    if (!s && array_grow((void **)&c->seen, &c->cap_seen, c->n_seen + 1, sizeof *c->seen) == 0)
        s = &c->seen[c->n_seen++];
    if (s)
        *s = (seen_t){audit, period, rows};
}

/* Forgets the period held at i, remembering its rows. */
static void forget(value_cache_t *c, size_t i)
{
    note_rows(c, c->held[i].audit, c->held[i].period, c->held[i].n);
    free(c->held[i].rows);
    c->held[i] = c->held[--c->n_held];
}

void value_cache_drop_touched(value_cache_t *c)
{
    for (size_t i = 0; i < c->n_held;)
        if (c->held[i].touched == c->round)
            forget(c, i);
        else
            i++;
}

static held_t *find(const value_cache_t *c, const char *audit, const char *period)
{
    for (size_t i = 0; i < c->n_held; i++)
        if (is(c->held[i].audit, c->held[i].period, audit, period))
            return &c->held[i];
    return NULL;
}

/* The cache's own copies of audit and period (interned) into *a and *p. Returns 0, or -1 when
 * out of memory. */
static int intern(value_cache_t *c, const char *audit, const char *period, const char **a,
                  const char **p)
{
    size_t ia, ip;
    if (str_map_put(c->strings, audit, &ia) < 0 || str_map_put(c->strings, period, &ip) < 0)
        return -1;
    *a = str_map_key(c->strings, ia);
    *p = str_map_key(c->strings, ip);
    return 0;
}

bool value_cache_has(value_cache_t *c, const char *audit, const char *period)
{
    held_t *h = find(c, audit, period);
    if (h)
        h->used = c->round;
    return h != NULL;
}

bool value_cache_too_big(const value_cache_t *c, const char *audit, const char *period)
{
    for (size_t i = 0; i < c->n_too_big; i += 2)
        if (strcmp(c->too_big[i], audit) == 0 && strcmp(c->too_big[i + 1], period) == 0)
            return true;
    return false;
}

size_t value_cache_bytes(const value_cache_t *c)
{
    size_t b = 0;
    for (size_t i = 0; i < c->n_held; i++)
        b += c->held[i].n * sizeof(value_row_t);
    return b;
}

size_t value_cache_budget(const value_cache_t *c)
{
    return c->budget;
}

/* The bytes of the rows held of periods the current round has used, other than (audit, period). */
static size_t round_bytes(const value_cache_t *c, const char *audit, const char *period)
{
    size_t b = 0;
    for (size_t i = 0; i < c->n_held; i++)
        if (c->held[i].used == c->round && !is(c->held[i].audit, c->held[i].period, audit, period))
            b += c->held[i].n * sizeof(value_row_t);
    return b;
}

void value_cache_batch(const value_cache_t *c, const char *audit, const char *period,
                       value_batch_t *b)
{
    size_t taken = round_bytes(c, audit, period);
    size_t room = c->budget > taken ? c->budget - taken : 0;
    *b = (value_batch_t){
        .limit = room ? room : 1, .crowded = room < c->budget, .audit = audit, .period = period};
}

bool value_cache_fits(const value_cache_t *c, const char *audit, const char *period)
{
    const seen_t *s = seen_of(c, audit, period);
    return !s || s->rows * sizeof(value_row_t) + round_bytes(c, audit, period) <= c->budget;
}

bool value_cache_wants(value_cache_t *c, const char *audit, const char *period)
{
    return !value_cache_has(c, audit, period) && !value_cache_too_big(c, audit, period) &&
           value_cache_fits(c, audit, period);
}

/* Forgets least recently used periods the round has not used, other than (audit, period), while
 * they, what is held of (audit, period) and extra bytes are past the budget. */
static void make_room(value_cache_t *c, const char *audit, const char *period, size_t extra)
{
    while (c->n_held > 0 && value_cache_bytes(c) + extra > c->budget) {
        size_t lru = SIZE_MAX;
        for (size_t i = 0; i < c->n_held; i++)
            if (c->held[i].used != c->round &&
                !is(c->held[i].audit, c->held[i].period, audit, period) &&
                (lru == SIZE_MAX || c->held[i].used < c->held[lru].used))
                lru = i;
        if (lru == SIZE_MAX)
            break;
        forget(c, lru);
    }
}

/* A string's id (interned). Returns 0, or -1 when out of memory or past 16 bits. */
static int id_of(value_cache_t *c, const char *s, uint16_t *id)
{
    size_t i;
    if (str_map_put(c->strings, s ? s : "", &i) < 0 || i > UINT16_MAX)
        return -1;
    *id = (uint16_t)i;
    return 0;
}

/* The number of the cell key made of ids (interned). Returns 0, or -1 when out of memory. */
static int key_of(value_cache_t *c, const uint16_t ids[N_KEYS], uint32_t *key)
{
    char hex[N_KEYS * 4 + 1];
    for (int k = 0; k < N_KEYS; k++)
        snprintf(hex + 4 * k, 5, "%04x", ids[k]);
    size_t i;
    /* room first: a key in key_ids always has its ids in keys */
    if (c->n_keys >= UINT32_MAX ||
        array_grow((void **)&c->keys, &c->cap_keys, c->n_keys + 1, sizeof *c->keys) != 0)
        return -1;
    int added = str_map_put(c->key_ids, hex, &i);
    if (added < 0)
        return -1;
    if (added) /* new: its number is the next */
        memcpy(c->keys[c->n_keys++].k, ids, sizeof c->keys[0].k);
    *key = (uint32_t)i;
    return 0;
}

int value_cache_add(value_cache_t *c, value_batch_t *b, const char *const key[N_COLUMNS],
                    double value, long long count)
{
    if (b->limit && (b->n + 1) * sizeof *b->rows > b->limit)
        return 1;
    if (count < 0 || (unsigned long long)count > UINT32_MAX)
        return -1;
    if (b->n == b->cap) {
        /* the batch's room doubled, never past its limit, and made first in the cache (older
         * periods forgotten), so that what is held and what is read stay within the budget */
        size_t max = b->limit ? b->limit / sizeof *b->rows : SIZE_MAX / sizeof *b->rows;
        make_room(c, b->audit, b->period, array_grow_cap(b->cap, b->n + 1, max) * sizeof *b->rows);
        if (array_grow_max((void **)&b->rows, &b->cap, b->n + 1, max, sizeof *b->rows) != 0)
            return -1;
    }
    value_row_t *r = &b->rows[b->n];
    r->value = value;
    r->count = (uint32_t)count;
    for (int k = 0; k < N_COLUMNS; k++) {
        const char *s = key[k] ? key[k] : "";
        if (b->key[k] && strcmp(b->key[k], s) == 0)
            continue;
        if (id_of(c, s, &b->id[k]) != 0)
            return -1;
        b->key[k] = str_map_key(c->strings, b->id[k]);
    }
    if (!b->has_last || memcmp(c->keys[b->last_key].k, b->id, sizeof c->keys[0].k) != 0) {
        if (key_of(c, b->id, &b->last_key) != 0)
            return -1;
        b->has_last = true;
    }
    r->key = b->last_key;
    memcpy(r->category, b->id + N_KEYS, sizeof r->category);
    b->n++;
    return 0;
}

void value_batch_free(value_batch_t *b)
{
    free(b->rows);
    *b = (value_batch_t){0};
}

/* PostgreSQL's order of double precision: NaN above every other value, -0 equal to 0. */
static int cmp_value(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

/* The order of a period's rows: by value, then by their cell key's number, then by their
 * categories' ids (a total order: a period's rows differ in one of them, metric.measure's primary
 * key), so that a row is found by its value and key (value_cache_apply). Equal values come in no
 * order metric.measure's ORDER BY value promises either: the builders add up a value's counts. */
static int cmp_row(const value_row_t *a, const value_row_t *b)
{
    int c = cmp_value(a->value, b->value);
    if (c != 0)
        return c;
    if (a->key != b->key)
        return a->key > b->key ? 1 : -1;
    for (int k = 0; k < BREAKDOWN_COUNT; k++)
        if (a->category[k] != b->category[k])
            return a->category[k] > b->category[k] ? 1 : -1;
    return 0;
}

static int by_row(const void *pa, const void *pb)
{
    return cmp_row(pa, pb);
}

int value_cache_mark_too_big(value_cache_t *c, const char *audit, const char *period)
{
    held_t *h = find(c, audit, period);
    if (h)
        forget(c, (size_t)(h - c->held));
    if (value_cache_too_big(c, audit, period))
        return 0;
    if (array_grow((void **)&c->too_big, &c->cap_too_big, c->n_too_big + 2, sizeof *c->too_big) !=
            0 ||
        intern(c, audit, period, &c->too_big[c->n_too_big], &c->too_big[c->n_too_big + 1]) != 0)
        return -1;
    c->n_too_big += 2;
    return 0;
}

/* The latest month of h's rows (the run charts pass over a period whose months are all before
 * the ones they want: value_cache_each). */
static void note_last_month(const value_cache_t *c, held_t *h)
{
    uint32_t seen = UINT32_MAX; /* the month id compared last */
    h->last_month = NULL;
    for (size_t i = 0; i < h->n; i++) {
        uint16_t id = c->keys[h->rows[i].key].k[K_MONTH];
        if (id == seen)
            continue;
        seen = id;
        const char *m = str_map_key(c->strings, id);
        if (!h->last_month || strcmp(m, h->last_month) > 0)
            h->last_month = m;
    }
}

/* A period just brought up to the round: used and touched by it, of its snapshot; then least
 * recently used periods the round has not used forgotten while past the budget; the period marked
 * too big when it alone is past it, or forgotten when the round's other periods leave it no room.
 * Returns 0, or -1 when out of memory. */
static int put_done(value_cache_t *c, held_t *h)
{
    note_last_month(c, h);
    h->used = h->touched = c->round;
    memcpy(h->xmin, c->xmin, sizeof h->xmin);
    h->at_ms = c->at_ms;
    const char *audit = h->audit, *period = h->period;
    make_room(c, audit, period, 0);
    if (value_cache_bytes(c) <= c->budget)
        return 0;
    if (h->n * sizeof(value_row_t) > c->budget)
        return value_cache_mark_too_big(c, audit, period);
    forget(c, (size_t)(h - c->held));
    return 0;
}

int value_cache_give_up(value_cache_t *c, value_batch_t *b)
{
    int rc = 0;
    held_t *h;
    if (!b->crowded || (b->n + 1) * sizeof(value_row_t) > c->budget) {
        rc = value_cache_mark_too_big(c, b->audit, b->period);
    } else if ((h = find(c, b->audit, b->period))) {
        forget(c, (size_t)(h - c->held)); /* a delta: the rows held are what it has at least */
    } else {
        const char *audit, *period;
        if (intern(c, b->audit, b->period, &audit, &period) != 0)
            rc = -1;
        else
            note_rows(c, audit, period, b->n + 1);
    }
    value_batch_free(b);
    return rc;
}

/* The period's first kept rows (in order), then add's n sorted rows merged in from the end.
 * Returns 0, or -1 when out of memory. */
static int splice(held_t *h, size_t kept, const value_row_t *add, size_t n)
{
    size_t total = kept + n;
    if (total > 0) {
        value_row_t *rows = realloc(h->rows, total * sizeof *rows);
        if (!rows)
            return -1;
        h->rows = rows;
    }
    size_t i = kept, j = n, k = total;
    while (j > 0) {
        if (i > 0 && cmp_row(&h->rows[i - 1], &add[j - 1]) > 0)
            h->rows[--k] = h->rows[--i];
        else
            h->rows[--k] = add[--j];
    }
    h->n = total;
    return 0;
}

int value_cache_put(value_cache_t *c, const char *audit, const char *period, value_batch_t *b)
{
    held_t *h = find(c, audit, period);
    if (b->n > 1)
        qsort(b->rows, b->n, sizeof *b->rows, by_row);
    if (!h) {
        const char *a, *p;
        if (array_grow((void **)&c->held, &c->cap_held, c->n_held + 1, sizeof *c->held) != 0 ||
            intern(c, audit, period, &a, &p) != 0) {
            value_batch_free(b);
            return -1;
        }
        h = &c->held[c->n_held++];
        *h = (held_t){.audit = a, .period = p};
    }
    free(h->rows);
    if (b->n > 0 && b->n < b->cap) { /* held at its size, not the batch's room */
        value_row_t *rows = realloc(b->rows, b->n * sizeof *rows);
        if (rows)
            b->rows = rows;
    }
    h->rows = b->rows;
    h->n = b->n;
    b->rows = NULL;
    value_batch_free(b);
    return put_done(c, h);
}

int value_measures_each(const char *trust, const char *site, const char *metric, const char *month,
                        const char *const category[BREAKDOWN_COUNT], double value, long long count,
                        const uint64_t *refs, bool series, benchmark_each_measure_t each, void *ctx)
{
    benchmark_measure_t x = {.trust = trust,
                             .site = site,
                             .metric = metric,
                             .breakdown = "all",
                             .category = "",
                             .month = month,
                             .value = value,
                             .count = count,
                             .cell_ref = refs ? refs[0] : 0};
    int rc = each(ctx, &x);
    x.month = "";
    for (int b = 0; !series && rc == 0 && b < BREAKDOWN_COUNT; b++) {
        if (!category[b] || !category[b][0])
            continue;
        x.breakdown = breakdown_name((breakdown_t)b);
        x.category = category[b];
        x.cell_ref = refs ? refs[1 + b] : 0;
        rc = each(ctx, &x);
    }
    return rc;
}

/* Hands row r on (value_measures_each), each measure with a cell_ref of its cell key's number,
 * the breakdown and its category's id: one number for one cell (the month's 'all' cells of a
 * unit and metric several), stable while the keys are (a round: value_cache_round). Returns
 * each()'s return. */
static int measures_of(const value_cache_t *c, const value_row_t *r, bool series,
                       benchmark_each_measure_t each, void *ctx)
{
    const char *k[N_KEYS], *category[BREAKDOWN_COUNT] = {0};
    uint64_t refs[1 + BREAKDOWN_COUNT] = {0};
    for (int i = 0; i < N_KEYS; i++)
        k[i] = str_map_key(c->strings, c->keys[r->key].k[i]);
    refs[0] = ((uint64_t)r->key << 19) + 1;
    for (int b = 0; !series && b < BREAKDOWN_COUNT; b++) { /* the run charts: "all" alone */
        category[b] = str_map_key(c->strings, r->category[b]);
        refs[1 + b] = ((uint64_t)r->key << 19 | (uint64_t)(b + 1) << 16 | r->category[b]) + 1;
    }
    return value_measures_each(k[K_TRUST], k[K_SITE], k[K_METRIC], k[K_MONTH], category, r->value,
                               r->count, refs, series, each, ctx);
}

/* Whether h is read for the run charts of (audit, period) from from_month (NULL: all) on: of the
 * audit, up to the period, with a month from from_month on. */
static bool series_source(const held_t *h, const char *audit, const char *period,
                          const char *from_month)
{
    return strcmp(h->audit, audit) == 0 && strcmp(h->period, period) <= 0 && h->last_month &&
           (!from_month || strcmp(h->last_month, from_month) >= 0);
}

int value_cache_each(value_cache_t *c, const char *audit, const char *period, bool series,
                     const char *from_month, benchmark_each_measure_t each, void *ctx)
{
    held_t *h = find(c, audit, period);
    if (!h)
        return 1;
    h->used = c->round;
    if (!series) {
        for (size_t i = 0; i < h->n; i++)
            if (measures_of(c, &h->rows[i], false, each, ctx) != 0)
                return -1;
        return 0;
    }
    /* the audit's periods up to this one (periods of one audit are of one form, YYYY or YYYYQn,
     * ordered alike as bytes), each a cursor over its rows: merged by value; a period whose
     * months are all before from_month is passed over, as are such months' rows (the builds of
     * one round read the run charts' months from where the one before stopped: without this each
     * read every held period up to its own, the periods' count squared) */
    size_t n = 0;
    for (size_t i = 0; i < c->n_held; i++)
        n += series_source(&c->held[i], audit, period, from_month);
    const held_t **src = calloc(n + 1, sizeof *src);
    size_t *at = calloc(n + 1, sizeof *at);
    if (!src || !at) {
        free(src);
        free(at);
        return -1;
    }
    n = 0;
    for (size_t i = 0; i < c->n_held; i++)
        if (series_source(&c->held[i], audit, period, from_month)) {
            c->held[i].used = c->round;
            src[n++] = &c->held[i];
        }
    int rc = 0;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t s = 0; s < n; s++) {
            if (at[s] < src[s]->n &&
                (best == SIZE_MAX ||
                 cmp_value(src[s]->rows[at[s]].value, src[best]->rows[at[best]].value) < 0))
                best = s;
        }
        if (best == SIZE_MAX)
            break;
        const value_row_t *r = &src[best]->rows[at[best]++];
        if (from_month &&
            strcmp(str_map_key(c->strings, c->keys[r->key].k[K_MONTH]), from_month) < 0)
            continue;
        if (measures_of(c, r, true, each, ctx) != 0) {
            rc = -1;
            break;
        }
    }
    free(src);
    free(at);
    return rc;
}

const char *value_cache_since(const value_cache_t *c, const char *audit, const char *period,
                              double max_age_ms)
{
    const held_t *h = find(c, audit, period);
    if (!h || !h->xmin[0] || !c->xmin[0] || c->at_ms - h->at_ms > max_age_ms)
        return NULL;
    return h->xmin;
}

void value_cache_forget(value_cache_t *c, const char *audit, const char *period)
{
    held_t *h = find(c, audit, period);
    if (h)
        forget(c, (size_t)(h - c->held));
}

int value_cache_apply(value_cache_t *c, const char *audit, const char *period, value_batch_t *gone,
                      value_batch_t *set)
{
    held_t *h = find(c, audit, period);
    bool *matched = NULL;
    if (!h) {
        value_batch_free(gone);
        value_batch_free(set);
        return 1;
    }
    if (gone->n > 1)
        qsort(gone->rows, gone->n, sizeof *gone->rows, by_row);
    if (set->n > 1)
        qsort(set->rows, set->n, sizeof *set->rows, by_row);
    /* a key read twice (a gone key written again, and its row since): one, its counts alike */
    size_t ns = 0;
    for (size_t j = 0; j < set->n; j++)
        if (ns == 0 || cmp_row(&set->rows[ns - 1], &set->rows[j]) != 0)
            set->rows[ns++] = set->rows[j];
    set->n = ns;
    if (!(matched = calloc(ns + 1, sizeof *matched)))
        goto fail;
    /* in place, in order: a held key read takes its count; a gone one not read again is dropped */
    size_t kept = 0, j = 0, g = 0;
    for (size_t i = 0; i < h->n; i++) {
        value_row_t *r = &h->rows[i];
        while (j < ns && cmp_row(&set->rows[j], r) < 0)
            j++;
        if (j < ns && cmp_row(&set->rows[j], r) == 0) {
            r->count = set->rows[j].count;
            matched[j] = true;
        } else {
            while (g < gone->n && cmp_row(&gone->rows[g], r) < 0)
                g++;
            if (g < gone->n && cmp_row(&gone->rows[g], r) == 0)
                continue;
        }
        h->rows[kept++] = *r;
    }
    /* the keys not held, merged in from the end */
    size_t n_new = 0;
    for (size_t k = 0; k < ns; k++)
        if (!matched[k])
            set->rows[n_new++] = set->rows[k];
    if (splice(h, kept, set->rows, n_new) != 0)
        goto fail;
    free(matched);
    value_batch_free(gone);
    value_batch_free(set);
    return put_done(c, h);
fail:
    free(matched);
    value_batch_free(gone);
    value_batch_free(set);
    value_cache_forget(c, audit, period);
    return -1;
}
