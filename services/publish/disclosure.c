/* disclosure.c - primary and secondary suppression of a release's cells (disclosure.h says the
 * algorithm and what it guarantees) */
#include "disclosure.h"
#include "disclosure_audit.h"

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
    size_t *derived_by; /* per cell: the group an unpublished cell was derived from, or NONE */
    size_t *unknown;    /* per group: its members the attacker does not know */
    size_t *lone;       /* per group: the XOR of their indexes (the member when there is one) */
    size_t *rank;       /* per group: its place in the canonical order */
    bool *queued;       /* per group: in the heap, or left to the next pass */
    size_t *heap;       /* groups with one unknown member, least rank first */
    size_t heap_len;
    size_t n_hidden; /* cells hidden by this pass */
    bool stuck;      /* this pass undid a derivation: the next one derives afresh */
    /* the linear check and its repairs */
    bool *open;       /* per cell: unknown after the last pass */
    bool *determined; /* per cell: an unknown cell the sums determine */
    size_t *seen;     /* per group: the search (stamp) that reached it */
    size_t *touched;  /* per group: the round (stamp) a cell of it was hidden in */
    size_t *reach;    /* the groups a search has reached, in order */
    size_t stamp;
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

/* --- the groups left with one unknown member, a binary heap on rank --- */

static void heap_push(work_t *w, size_t g)
{
    if (w->queued[g])
        return; /* it will be looked at as it is then */
    w->queued[g] = true;
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
    w->queued[top] = false;
    return top;
}

/* --- what the attacker knows --- */

/* Whether the attacker does not know cell c's numerator: a suppressed cell, or an unpublished one
 * not derived (this pass); a cell of denominator 0 is known, its numerator being 0. */
static bool unknown(const work_t *w, size_t c)
{
    const disclosure_cell_t *cell = &w->cells[c];
    if (cell->published)
        return cell->state != DISCLOSURE_SHOWN;
    return cell->denominator != 0 && w->derived_by[c] == NONE;
}

/* Cell c has become unknown (hidden) or known (derived): its groups' counts follow, and a group
 * left with one unknown member waits in the heap. */
static void flip(work_t *w, size_t c, bool now_unknown)
{
    for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++) {
        size_t g = w->member_group[m];
        w->unknown[g] = now_unknown ? w->unknown[g] + 1 : w->unknown[g] - 1;
        w->lone[g] ^= c;
        if (w->unknown[g] == 1)
            heap_push(w, g);
    }
}

static void hide(work_t *w, size_t c)
{
    w->cells[c].state = DISCLOSURE_SECONDARY;
    w->n_hidden++;
    flip(w, c, true);
}

static void derive(work_t *w, size_t c, size_t g)
{
    w->derived_by[c] = g;
    flip(w, c, false);
}

/* --- secondary suppression --- */

/* What hiding cell c costs, as a sort key: a child before the parent (a total is worth more than
 * its parts, and hiding it spreads to every group it heads), then the fewest groups it would leave
 * with a lone unknown member less those it saves besides g (a lone hidden member costs one more
 * cell later; a group with one unknown member is protected, or kept from giving its unpublished
 * one away), then the smaller numerator, then the lower index. */
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
            k.spread += w->unknown[h] == 0 ? 1 : w->unknown[h] == 1 ? -1 : 0;
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

/* Whether cell c can be hidden: published, shown, with patients (hiding an empty cell hides
 * nothing: its numerator can only be 0). */
static bool hideable(const disclosure_cell_t *c)
{
    return c->published && c->state == DISCLOSURE_SHOWN && c->denominator != 0 && !c->fixed;
}

/* The cheapest hideable member of group g (children only, or the parent too) into best (any:
 * whether best holds one yet). Costs O(memberships of g's members): the size of g times the most
 * groups a cell is in (six for a trust with four breakdowns). */
static void cheapest(const work_t *w, size_t g, bool parent_too, cost_t *best, bool *any)
{
    const disclosure_group_t *gr = &w->groups[g];
    for (size_t i = 0; i < gr->n_children + parent_too; i++) {
        bool is_parent = i == gr->n_children;
        size_t c = is_parent ? gr->parent : gr->children[i];
        if (!hideable(&w->cells[c]))
            continue;
        cost_t k = cost(w, c, is_parent, g);
        if (!*any || cheaper(&k, best)) {
            *best = k;
            *any = true;
        }
    }
}

/* The member of group g to hide beside its lone unknown one; NONE when none can be. */
static size_t choose(const work_t *w, size_t g)
{
    cost_t best = {0};
    bool any = false;
    cheapest(w, g, true, &best, &any);
    return any ? best.cell : NONE;
}

static bool any_suppressed(const work_t *w, size_t g)
{
    const disclosure_group_t *gr = &w->groups[g];
    for (size_t i = 0; i <= gr->n_children; i++)
        if (suppressed(&w->cells[i == gr->n_children ? gr->parent : gr->children[i]]))
            return true;
    return false;
}

/* Group g's lone unknown member is suppressed, and g has only its parent to hide, or nothing
 * (deep): every other member is known without being a shown cell, unpublished and derived, or
 * empty. What gives the count away is then a derivation, so it is undone where it came from: the
 * group a derived member of g was derived from gets its cheapest child hidden (a part rather than
 * g's parent, a total), or, when deep, its cheapest member; when none has one, the same one step
 * further back, from g's derived member of the lowest index (each step goes to a cell derived
 * earlier, so this ends). The group hidden in is left to the next pass: it now has two unknown
 * members, though the derived one still counts as known in this one. Returns whether it did, or
 * whether a derivation to undo has lost its ground already (a cell of its group hidden since);
 * either way the next pass derives afresh. */
static bool undo(work_t *w, size_t g, bool deep)
{
    for (size_t skip = NONE;;) {
        const disclosure_group_t *gr = &w->groups[g];
        cost_t best = {0};
        bool any = false;
        size_t at = NONE, back = NONE;
        for (size_t i = 0; i <= gr->n_children; i++) {
            size_t d = i == gr->n_children ? gr->parent : gr->children[i];
            if (d == skip || w->derived_by[d] == NONE)
                continue;
            size_t from = w->derived_by[d];
            if (any_suppressed(w, from)) {
                w->stuck = true;
                return true;
            }
            cost_t k = {0};
            bool found = false;
            cheapest(w, from, deep, &k, &found);
            /* the same cell through two groups: the group first in rank, whatever g's order */
            if (found &&
                (!any || cheaper(&k, &best) ||
                 (k.cell == best.cell && !cheaper(&best, &k) && w->rank[from] < w->rank[at]))) {
                best = k;
                at = from;
                any = true;
            }
            back = d < back ? d : back;
        }
        if (any) {
            w->queued[at] = true;
            hide(w, best.cell);
            w->stuck = true;
            return true;
        }
        if (!deep || back == NONE)
            return false; /* nothing derived: the counts do not add up */
        skip = back;
        g = w->derived_by[back];
    }
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

/* One pass: what the attacker knows from the shown cells and the cells hidden so far, derived
 * while the groups with one unknown member are taken in rank order: an unpublished one is
 * derived, a suppressed one gets a further cell hidden beside it. */
static void pass(work_t *w)
{
    w->heap_len = 0;
    w->n_hidden = 0;
    w->stuck = false;
    for (size_t c = 0; c < w->n_cells; c++)
        w->derived_by[c] = NONE;
    for (size_t g = 0; g < w->n_groups; g++) {
        w->unknown[g] = w->lone[g] = 0;
        w->queued[g] = false;
    }
    for (size_t c = 0; c < w->n_cells; c++)
        if (unknown(w, c))
            for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++) {
                w->unknown[w->member_group[m]]++;
                w->lone[w->member_group[m]] ^= c;
            }
    for (size_t g = 0; g < w->n_groups; g++)
        if (w->unknown[g] == 1)
            heap_push(w, g);
    while (w->heap_len > 0) {
        size_t g = heap_pop(w);
        if (w->unknown[g] != 1)
            continue; /* settled since it was queued */
        size_t c = w->lone[g];
        if (!w->cells[c].published) {
            derive(w, c, g);
            continue;
        }
        size_t h = choose(w, g);
        if ((h == NONE || h == w->groups[g].parent) && undo(w, g, h == NONE))
            continue;
        if (h != NONE)
            hide(w, h);
    }
}

/* A hideable cell for suppressed cell x, which the sums still determine: the cheapest (as
 * choose) in x's groups, else in the groups of their unknown members, and so on outward, as far
 * as the equations that determine x can reach. NONE when there is none. */
static size_t repair(work_t *w, size_t x)
{
    size_t stamp = ++w->stamp, head = 0, tail = 0;
    for (size_t m = w->member_start[x]; m < w->member_start[x + 1]; m++) {
        w->seen[w->member_group[m]] = stamp;
        w->reach[tail++] = w->member_group[m];
    }
    while (head < tail) {
        size_t end = tail;
        cost_t best = {0};
        bool any = false;
        for (size_t i = head; i < end; i++)
            cheapest(w, w->reach[i], true, &best, &any);
        if (any)
            return best.cell;
        for (size_t i = head; i < end; i++) {
            const disclosure_group_t *gr = &w->groups[w->reach[i]];
            for (size_t k = 0; k <= gr->n_children; k++) {
                size_t c = k == gr->n_children ? gr->parent : gr->children[k];
                if (!unknown(w, c))
                    continue;
                for (size_t m = w->member_start[c]; m < w->member_start[c + 1]; m++)
                    if (w->seen[w->member_group[m]] != stamp) {
                        w->seen[w->member_group[m]] = stamp;
                        w->reach[tail++] = w->member_group[m];
                    }
            }
        }
        head = end;
    }
    return NONE;
}

/* One round of the linear check: each suppressed cell the sums determine gets a cell hidden for
 * it (repair), unless a cell of its groups was hidden this round already (the next round sees
 * whether that was enough). Returns the cells hidden, or -1 when memory runs out. */
static long check(work_t *w)
{
    for (size_t c = 0; c < w->n_cells; c++)
        w->open[c] = unknown(w, c);
    if (disclosure_audit(w->groups, w->n_groups, w->rank, w->n_cells, w->open, w->determined) != 0)
        return -1;
    size_t round = ++w->stamp;
    long hidden = 0;
    for (size_t x = 0; x < w->n_cells; x++) {
        if (!w->determined[x] || !suppressed(&w->cells[x]))
            continue;
        bool near = false;
        for (size_t m = w->member_start[x]; m < w->member_start[x + 1]; m++)
            near |= w->touched[w->member_group[m]] == round;
        size_t h = near ? NONE : repair(w, x);
        if (h == NONE)
            continue;
        hide(w, h);
        hidden++;
        for (size_t m = w->member_start[h]; m < w->member_start[h + 1]; m++)
            w->touched[w->member_group[m]] = round;
    }
    return hidden;
}

static int secondary(work_t *w)
{
    size_t nc = w->n_cells ? w->n_cells : 1, ng = w->n_groups ? w->n_groups : 1;
    w->derived_by = malloc(nc * sizeof *w->derived_by);
    w->unknown = malloc(ng * sizeof *w->unknown);
    w->lone = malloc(ng * sizeof *w->lone);
    w->rank = malloc(ng * sizeof *w->rank);
    w->queued = malloc(ng * sizeof *w->queued);
    w->heap = malloc(ng * sizeof *w->heap);
    w->open = malloc(nc * sizeof *w->open);
    w->determined = malloc(nc * sizeof *w->determined);
    w->seen = calloc(ng, sizeof *w->seen);
    w->touched = calloc(ng, sizeof *w->touched);
    w->reach = malloc(ng * sizeof *w->reach);
    if (!w->derived_by || !w->unknown || !w->lone || !w->rank || !w->queued || !w->heap ||
        !w->open || !w->determined || !w->seen || !w->touched || !w->reach ||
        index_members(w) != 0 || canonical_ranks(w) != 0)
        return -1;
    /* a pass that met a derivation to undo and hid something starts again from what is hidden
     * now; so does one after the linear check hid something. Each hides a cell, so at most
     * n_cells of them. */
    for (;;) {
        do
            pass(w);
        while (w->stuck && w->n_hidden > 0);
        long hidden = check(w);
        if (hidden < 0)
            return -1;
        if (hidden == 0)
            return 0;
    }
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
    free(w.derived_by);
    free(w.unknown);
    free(w.lone);
    free(w.rank);
    free(w.queued);
    free(w.heap);
    free(w.open);
    free(w.determined);
    free(w.seen);
    free(w.touched);
    free(w.reach);
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
