/* disclosure_audit.c - the linear check of a suppressed release (disclosure_audit.h) */
#include "disclosure_audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"

#define PRIME 2147483647u /* 2^31 - 1: the product of two residues fits in 64 bits */
#define NONE SIZE_MAX

typedef struct {
    size_t col; /* a cell */
    uint64_t v; /* its coefficient, 1 .. PRIME - 1 */
} entry_t;

typedef struct {
    entry_t *e; /* sorted by cell */
    size_t n, cap;
    size_t pivot; /* the cell this equation was used to eliminate, or NONE */
} equation_t;

typedef struct {
    size_t *eq; /* equations the cell has been in (some no longer) */
    size_t n, cap;
} uses_t;

typedef struct {
    const size_t *rank;
    size_t n_cells, n_eqs;
    equation_t *eqs; /* one per group */
    uses_t *uses;    /* per cell */
    size_t *count;   /* per cell: live equations it is in */
    size_t *heap;    /* cells not eliminated yet: fewest live equations first, then index */
    size_t *at;      /* per cell: its place in the heap, NONE when out */
    size_t heap_len;
    entry_t *tmp;
    size_t tmp_cap;
    size_t *order; /* the pivot equations, in the order used */
    size_t n_order;
} audit_t;

/* a * b mod PRIME for residues a, b: 2^31 = 1 (mod PRIME), so the high bits fold onto the low */
static uint64_t mul(uint64_t a, uint64_t b)
{
    uint64_t x = a * b;
    x = (x & PRIME) + (x >> 31);
    x = (x & PRIME) + (x >> 31);
    return x == PRIME ? 0 : x;
}

static uint64_t inverse(uint64_t a)
{
    uint64_t r = 1;
    for (uint64_t e = PRIME - 2; e; e >>= 1, a = mul(a, a))
        if (e & 1)
            r = mul(r, a);
    return r;
}

/* --- the cells by live equations, a binary heap that moves a cell when its count changes --- */

static bool before(const audit_t *a, size_t x, size_t y)
{
    return a->count[x] < a->count[y] || (a->count[x] == a->count[y] && x < y);
}

static void place(audit_t *a, size_t i, size_t col)
{
    a->heap[i] = col;
    a->at[col] = i;
}

static void sift_up(audit_t *a, size_t i)
{
    size_t col = a->heap[i];
    while (i > 0 && before(a, col, a->heap[(i - 1) / 2])) {
        place(a, i, a->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(a, i, col);
}

static void sift_down(audit_t *a, size_t i)
{
    size_t col = a->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= a->heap_len)
            break;
        if (c + 1 < a->heap_len && before(a, a->heap[c + 1], a->heap[c]))
            c++;
        if (!before(a, a->heap[c], col))
            break;
        place(a, i, a->heap[c]);
        i = c;
    }
    place(a, i, col);
}

/* Cell col has come into an equation (by +1) or left one (-1): it moves in the heap. */
static void recount(audit_t *a, size_t col, int by)
{
    a->count[col] = by > 0 ? a->count[col] + 1 : a->count[col] - 1;
    if (a->at[col] == NONE)
        return;
    if (by > 0)
        sift_down(a, a->at[col]);
    else
        sift_up(a, a->at[col]);
}

static size_t heap_pop(audit_t *a)
{
    size_t top = a->heap[0];
    a->at[top] = NONE;
    if (--a->heap_len > 0) {
        place(a, 0, a->heap[a->heap_len]);
        sift_down(a, 0);
    }
    return top;
}

/* --- elimination --- */

static int use(audit_t *a, size_t col, size_t eq)
{
    uses_t *u = &a->uses[col];
    if (array_grow((void **)&u->eq, &u->cap, u->n + 1, sizeof *u->eq) != 0)
        return -1;
    u->eq[u->n++] = eq;
    return 0;
}

/* The coefficient of col in equation q, 0 when absent. */
static uint64_t coefficient(const equation_t *q, size_t col)
{
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (q->e[m].col < col)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < q->n && q->e[lo].col == col ? q->e[lo].v : 0;
}

static int cmp_entry(const void *x, const void *y)
{
    size_t a = ((const entry_t *)x)->col, b = ((const entry_t *)y)->col;
    return (a > b) - (a < b);
}

/* Each group's equation over its unknown members: the parent +1, each child -1. */
static int equations(audit_t *a, const disclosure_group_t *groups, const bool *unknown)
{
    for (size_t g = 0; g < a->n_eqs; g++) {
        const disclosure_group_t *gr = &groups[g];
        equation_t *q = &a->eqs[g];
        q->pivot = NONE;
        if (gr->n_children == 0)
            continue;
        for (size_t i = 0; i <= gr->n_children; i++) {
            size_t c = i == gr->n_children ? gr->parent : gr->children[i];
            if (!unknown[c])
                continue;
            if (array_grow((void **)&q->e, &q->cap, q->n + 1, sizeof *q->e) != 0)
                return -1;
            q->e[q->n++] = (entry_t){c, c == gr->parent ? 1 : PRIME - 1};
        }
        if (q->n > 1)
            qsort(q->e, q->n, sizeof *q->e, cmp_entry);
        for (size_t i = 0; i < q->n; i++) {
            if (use(a, q->e[i].col, g) != 0)
                return -1;
            a->count[q->e[i].col]++;
        }
    }
    return 0;
}

/* q -= f * p, over their sorted entries; the counts and uses of the cells that come and go
 * follow. */
static int subtract(audit_t *a, size_t qi, const equation_t *p, uint64_t f)
{
    equation_t *q = &a->eqs[qi];
    if (array_grow((void **)&a->tmp, &a->tmp_cap, q->n + p->n, sizeof *a->tmp) != 0)
        return -1;
    size_t i = 0, j = 0, k = 0;
    while (i < q->n || j < p->n) {
        if (j == p->n || (i < q->n && q->e[i].col < p->e[j].col)) {
            a->tmp[k++] = q->e[i++];
            continue;
        }
        size_t col = p->e[j].col;
        uint64_t minus = mul(PRIME - f, p->e[j].v);
        if (i == q->n || col < q->e[i].col) { /* a cell new to q */
            a->tmp[k++] = (entry_t){col, minus};
            recount(a, col, +1);
            if (use(a, col, qi) != 0)
                return -1;
        } else {
            uint64_t v = q->e[i].v + minus;
            v = v >= PRIME ? v - PRIME : v;
            if (v) {
                a->tmp[k++] = (entry_t){col, v};
            } else { /* cancelled */
                recount(a, col, -1);
            }
            i++;
        }
        j++;
    }
    if (array_grow((void **)&q->e, &q->cap, k, sizeof *q->e) != 0)
        return -1;
    if (k > 0)
        memcpy(q->e, a->tmp, k * sizeof *q->e);
    q->n = k;
    return 0;
}

/* Eliminates cell col with its shortest live equation (which then defines it and leaves the live
 * ones) from the others it is in. */
static int eliminate(audit_t *a, size_t col)
{
    uses_t *u = &a->uses[col];
    size_t best = NONE, kept = 0;
    for (size_t i = 0; i < u->n; i++) {
        size_t e = u->eq[i];
        const equation_t *q = &a->eqs[e];
        if (q->pivot != NONE || coefficient(q, col) == 0)
            continue; /* used already, or col has left it */
        u->eq[kept++] = e;
        if (best == NONE || q->n < a->eqs[best].n ||
            (q->n == a->eqs[best].n && a->rank[e] < a->rank[best]))
            best = e;
    }
    u->n = kept;
    if (best == NONE)
        return 0;
    equation_t *p = &a->eqs[best];
    p->pivot = col;
    a->order[a->n_order++] = best;
    for (size_t i = 0; i < p->n; i++)
        recount(a, p->e[i].col, -1);
    uint64_t inv = inverse(coefficient(p, col));
    for (size_t i = 0; i < u->n; i++) {
        size_t e = u->eq[i];
        if (e == best)
            continue;
        uint64_t f = mul(coefficient(&a->eqs[e], col), inv);
        if (f && subtract(a, e, p, f) != 0)
            return -1;
    }
    u->n = 0;
    return 0;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int run(audit_t *a, const disclosure_group_t *groups, const bool *unknown, bool *determined)
{
    if (equations(a, groups, unknown) != 0)
        return -1;
    for (size_t c = 0; c < a->n_cells; c++) {
        a->at[c] = NONE;
        if (a->count[c] > 0)
            place(a, a->heap_len++, c);
    }
    for (size_t i = a->heap_len / 2; i-- > 0;)
        sift_down(a, i);
    bool *pivot = determined; /* which cells were eliminated, until the answer replaces it */
    memset(pivot, 0, a->n_cells * sizeof *pivot);
    while (a->heap_len > 0) {
        size_t col = heap_pop(a);
        if (a->count[col] == 0)
            continue; /* in no live equation: free */
        size_t n = a->n_order;
        if (eliminate(a, col) != 0)
            return -1;
        pivot[col] = a->n_order > n;
    }
    uint64_t *z = malloc((a->n_cells ? a->n_cells : 1) * sizeof *z), seed = 0x9E3779B97F4A7C15u;
    if (!z)
        return -1;
    for (size_t c = 0; c < a->n_cells; c++)
        z[c] = unknown[c] && !pivot[c] ? 1 + next_random(&seed) % (PRIME - 1) : 0;
    for (size_t i = a->n_order; i-- > 0;) {
        const equation_t *p = &a->eqs[a->order[i]];
        uint64_t sum = 0, own = 0;
        for (size_t k = 0; k < p->n; k++)
            if (p->e[k].col == p->pivot)
                own = p->e[k].v;
            else
                sum = (sum + mul(p->e[k].v, z[p->e[k].col])) % PRIME;
        z[p->pivot] = mul((PRIME - sum) % PRIME, inverse(own));
    }
    for (size_t c = 0; c < a->n_cells; c++)
        determined[c] = unknown[c] && z[c] == 0;
    free(z);
    return 0;
}

int disclosure_audit(const disclosure_group_t *groups, size_t n_groups, const size_t *rank,
                     size_t n_cells, const bool *unknown, bool *determined)
{
    audit_t a = {.rank = rank, .n_cells = n_cells, .n_eqs = n_groups};
    size_t nc = n_cells ? n_cells : 1, ng = n_groups ? n_groups : 1;
    a.eqs = calloc(ng, sizeof *a.eqs);
    a.uses = calloc(nc, sizeof *a.uses);
    a.count = calloc(nc, sizeof *a.count);
    a.order = malloc(ng * sizeof *a.order);
    a.heap = malloc(nc * sizeof *a.heap);
    a.at = malloc(nc * sizeof *a.at);
    int rc = -1;
    if (a.eqs && a.uses && a.count && a.order && a.heap && a.at)
        rc = run(&a, groups, unknown, determined);
    for (size_t g = 0; a.eqs && g < n_groups; g++)
        free(a.eqs[g].e);
    for (size_t c = 0; a.uses && c < n_cells; c++)
        free(a.uses[c].eq);
    free(a.eqs);
    free(a.uses);
    free(a.count);
    free(a.order);
    free(a.heap);
    free(a.at);
    free(a.tmp);
    return rc;
}
