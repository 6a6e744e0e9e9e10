/* disclosure.c - primary and secondary suppression of a release's cells (disclosure.h says the
 * algorithm and what it guarantees) */
#include "disclosure.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#define NONE SIZE_MAX

/* Everything secondary suppression works on; one allocation per array, freed together. */
typedef struct {
    disclosure_cell_t *cells;
    const disclosure_group_t *groups;
    size_t n_cells, n_groups;
    /* the groups cell c is in: member_group[member_start[c] .. member_start[c + 1]) */
    size_t *member_start;
    size_t *member_group;
    size_t *hidden; /* per group: its members suppressed (published ones; others never are) */
    size_t *rank;   /* per group: its place in the canonical order */
    size_t *heap;   /* groups with one hidden member, least rank first */
    size_t heap_len;
} work_t;

static bool primary(const disclosure_cell_t *c, long long min_count)
{
    long long n = c->numerator, d = c->denominator;
    if (n >= 1 && n < min_count)
        return true;
    /* n >= 0 and d > n: d - n neither overflows nor is negative */
    return n >= 0 && d > n && d - n < min_count;
}

static bool suppressed(const disclosure_cell_t *c)
{
    return c->published && c->state != DISCLOSURE_SHOWN;
}

/* --- the groups in an order that depends on their content, not on how they were given --- */

typedef struct {
    size_t depth; /* of the parent: 0 a cell that is no group's child, NONE on a cycle */
    size_t parent;
    size_t n_children;
    const size_t *children; /* sorted */
    size_t group;
} group_key_t;

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int cmp_key(const void *a, const void *b)
{
    const group_key_t *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->n_children != y->n_children)
        return x->n_children < y->n_children ? -1 : 1;
    for (size_t i = 0; i < x->n_children; i++)
        if (x->children[i] != y->children[i])
            return x->children[i] < y->children[i] ? -1 : 1;
    return 0; /* the same group given twice: either order gives the same result */
}

/* Each cell's distance from the top (a cell that is no group's child), breadth first over the
 * groups it is the parent of. O(cells + memberships). */
static int depths(const work_t *w, size_t *depth)
{
    size_t *queue = malloc((w->n_cells ? w->n_cells : 1) * sizeof *queue);
    if (!queue)
        return -1;
    size_t head = 0, tail = 0;
    for (size_t c = 0; c < w->n_cells; c++)
        depth[c] = 0;
    for (size_t g = 0; g < w->n_groups; g++)
        for (size_t i = 0; i < w->groups[g].n_children; i++)
            depth[w->groups[g].children[i]] = NONE;
    for (size_t c = 0; c < w->n_cells; c++)
        if (depth[c] == 0)
            queue[tail++] = c;
    while (head < tail) {
        size_t c = queue[head++];
        for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++) {
            const disclosure_group_t *g = &w->groups[w->member_group[m]];
            if (g->parent != c)
                continue;
            for (size_t i = 0; i < g->n_children; i++)
                if (depth[g->children[i]] == NONE) {
                    depth[g->children[i]] = depth[c] + 1;
                    queue[tail++] = g->children[i];
                }
        }
    }
    free(queue);
    return 0;
}

/* rank[g]: top groups first (a choice made there may already protect a group below), then by
 * parent and children. O(memberships log memberships). */
static int canonical_ranks(work_t *w)
{
    size_t total = w->member_start[w->n_cells];
    size_t *depth = malloc((w->n_cells ? w->n_cells : 1) * sizeof *depth);
    size_t *sorted = malloc((total ? total : 1) * sizeof *sorted);
    group_key_t *keys = malloc((w->n_groups ? w->n_groups : 1) * sizeof *keys);
    int rc = -1;
    if (!depth || !sorted || !keys || depths(w, depth) != 0)
        goto out;
    size_t at = 0;
    for (size_t g = 0; g < w->n_groups; g++) {
        const disclosure_group_t *gr = &w->groups[g];
        for (size_t i = 0; i < gr->n_children; i++)
            sorted[at + i] = gr->children[i];
        qsort(sorted + at, gr->n_children, sizeof *sorted, cmp_size);
        size_t d = gr->n_children ? depth[gr->parent] : NONE; /* left out: never queued */
        keys[g] = (group_key_t){d, gr->parent, gr->n_children, sorted + at, g};
        at += gr->n_children;
    }
    qsort(keys, w->n_groups, sizeof *keys, cmp_key);
    for (size_t r = 0; r < w->n_groups; r++)
        w->rank[keys[r].group] = r;
    rc = 0;
out:
    free(depth);
    free(sorted);
    free(keys);
    return rc;
}

/* --- the groups left with one hidden member, a binary heap on rank --- */

static void heap_push(work_t *w, size_t g)
{
    size_t i = w->heap_len++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (w->rank[w->heap[up]] <= w->rank[g])
            break;
        w->heap[i] = w->heap[up];
        i = up;
    }
    w->heap[i] = g;
}

static size_t heap_pop(work_t *w)
{
    size_t top = w->heap[0], last = w->heap[--w->heap_len], i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= w->heap_len)
            break;
        if (child + 1 < w->heap_len && w->rank[w->heap[child + 1]] < w->rank[w->heap[child]])
            child++;
        if (w->rank[last] <= w->rank[w->heap[child]])
            break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    if (w->heap_len > 0)
        w->heap[i] = last;
    return top;
}

/* --- secondary suppression --- */

/* Hides cell c and notes it in each of its groups; a group that now has one hidden member waits
 * in the heap. A group reaches one hidden member at most once (the counts only grow), so each
 * group enters the heap at most once. */
static void hide(work_t *w, size_t c)
{
    w->cells[c].state = DISCLOSURE_SECONDARY;
    for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++) {
        size_t g = w->member_group[m];
        if (++w->hidden[g] == 1)
            heap_push(w, g);
    }
}

/* What hiding cell c costs, as a sort key: a child before the parent (a total is worth more than
 * its parts, and hiding it spreads to every group it heads), then the fewest groups it would leave
 * with a lone hidden member less those it protects besides g (each such group costs one more cell
 * later, each protected one saves one), then the smaller numerator, then the lower index. */
typedef struct {
    bool parent;
    long spread;
    long long numerator;
    size_t cell;
} cost_t;

static cost_t cost(const work_t *w, size_t c, bool is_parent, size_t g)
{
    cost_t k = {is_parent, 0, w->cells[c].numerator, c};
    for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++) {
        size_t h = w->member_group[m];
        if (h != g)
            k.spread += w->hidden[h] == 0 ? 1 : w->hidden[h] == 1 ? -1 : 0;
    }
    return k;
}

static bool cheaper(const cost_t *a, const cost_t *b)
{
    if (a->parent != b->parent)
        return !a->parent;
    if (a->spread != b->spread)
        return a->spread < b->spread;
    if (a->numerator != b->numerator)
        return a->numerator < b->numerator;
    return a->cell < b->cell;
}

/* The published, shown member of group g to hide beside its lone hidden one; NONE when every
 * other member is unpublished. O(memberships of g's members): the size of g times the most
 * groups a cell is in (six for a trust with four breakdowns). */
static size_t choose(const work_t *w, size_t g)
{
    const disclosure_group_t *gr = &w->groups[g];
    cost_t best = {0};
    bool any = false;
    for (size_t i = 0; i <= gr->n_children; i++) {
        bool is_parent = i == gr->n_children;
        size_t c = is_parent ? gr->parent : gr->children[i];
        if (!w->cells[c].published || w->cells[c].state != DISCLOSURE_SHOWN)
            continue;
        cost_t k = cost(w, c, is_parent, g);
        if (!any || cheaper(&k, &best)) {
            best = k;
            any = true;
        }
    }
    return any ? best.cell : NONE;
}

/* Memberships: cell -> its groups, counting sort by cell. O(cells + memberships). A group without
 * children relates nothing and is left out. */
static int index_members(work_t *w)
{
    size_t *start = calloc(w->n_cells + 1, sizeof *start);
    if (!start)
        return -1;
    w->member_start = start;
    for (size_t g = 0; g < w->n_groups; g++) {
        const disclosure_group_t *gr = &w->groups[g];
        if (gr->n_children == 0)
            continue;
        assert(gr->parent < w->n_cells);
        start[gr->parent + 1]++;
        for (size_t i = 0; i < gr->n_children; i++) {
            assert(gr->children[i] < w->n_cells);
            start[gr->children[i] + 1]++;
        }
    }
    for (size_t c = 0; c < w->n_cells; c++)
        start[c + 1] += start[c];
    size_t total = start[w->n_cells];
    size_t *fill = malloc((w->n_cells ? w->n_cells : 1) * sizeof *fill);
    w->member_group = malloc((total ? total : 1) * sizeof *w->member_group);
    if (!fill || !w->member_group) {
        free(fill);
        return -1;
    }
    for (size_t c = 0; c < w->n_cells; c++)
        fill[c] = start[c];
    for (size_t g = 0; g < w->n_groups; g++) {
        const disclosure_group_t *gr = &w->groups[g];
        if (gr->n_children == 0)
            continue;
        w->member_group[fill[gr->parent]++] = g;
        for (size_t i = 0; i < gr->n_children; i++)
            w->member_group[fill[gr->children[i]]++] = g;
    }
    free(fill);
    return 0;
}

static int secondary(work_t *w)
{
    size_t ng = w->n_groups ? w->n_groups : 1;
    w->hidden = calloc(ng, sizeof *w->hidden);
    w->rank = malloc(ng * sizeof *w->rank);
    w->heap = malloc(ng * sizeof *w->heap);
    if (!w->hidden || !w->rank || !w->heap || index_members(w) != 0 || canonical_ranks(w) != 0)
        return -1;
    for (size_t c = 0; c < w->n_cells; c++)
        if (suppressed(&w->cells[c]))
            for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++)
                w->hidden[w->member_group[m]]++;
    for (size_t g = 0; g < w->n_groups; g++)
        if (w->hidden[g] == 1)
            heap_push(w, g);
    while (w->heap_len > 0) {
        size_t g = heap_pop(w);
        if (w->hidden[g] != 1)
            continue; /* protected since it was queued */
        size_t c = choose(w, g);
        if (c != NONE)
            hide(w, c);
    }
    return 0;
}

size_t disclosure_apply(disclosure_cell_t *cells, size_t n_cells, const disclosure_group_t *groups,
                        size_t n_groups, long long min_count)
{
    assert(cells || n_cells == 0);
    assert(groups || n_groups == 0);
    size_t n_primary = 0;
    for (size_t c = 0; c < n_cells; c++) {
        bool hide_it = min_count > 1 && cells[c].published && primary(&cells[c], min_count);
        cells[c].state = hide_it ? DISCLOSURE_PRIMARY : DISCLOSURE_SHOWN;
        n_primary += hide_it;
    }
    if (n_primary == 0)
        return 0;
    work_t w = {.cells = cells, .groups = groups, .n_cells = n_cells, .n_groups = n_groups};
    int rc = secondary(&w);
    free(w.member_start);
    free(w.member_group);
    free(w.hidden);
    free(w.rank);
    free(w.heap);
    size_t n = 0;
    for (size_t c = 0; c < n_cells; c++) {
        /* out of memory: hide every published cell rather than publish one that could be
         * recovered */
        if (rc != 0 && cells[c].published && cells[c].state == DISCLOSURE_SHOWN)
            cells[c].state = DISCLOSURE_SECONDARY;
        n += suppressed(&cells[c]);
    }
    return n;
}
