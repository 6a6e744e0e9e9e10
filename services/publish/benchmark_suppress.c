/* benchmark_suppress.c - disclosure control of a release's rows (disclosure.h): every row with a
 * count is a cell (a proportion's numerator; a ratio's observed count as its numerator, its
 * records as the denominator; a median's or mean's count of records as both, so that a count of
 * 1 to min_count - 1 is suppressed and, a mean's sum of values being additive like a numerator,
 * no hidden mean can be worked out from its parent's and siblings'), and every sum the release
 * shows is a group, one parent and its children:
 *   - an area's all row and each slot's category row over the same slot of the areas below it
 *     (the sites of a trust, the trusts of a region, the regions of England; a category at region
 *     level over the trusts' rows of that category that are published, and so on up);
 *   - an area's all row over the categories of each breakdown it publishes.
 * A trust's category with patients that the release leaves out (its denominator under
 * BENCHMARK_TRUST_BREAKDOWN_MIN) is a cell too, unpublished, in the trust's breakdown and its
 * region's category: an attacker does not know it, so it protects like a hidden cell, unless the
 * attacker can derive it (disclosure.h). A site's categories, never published, are left out: they
 * add one unknown per site and category and no relation between the other cells.
 * Which rows are hidden depends on the counts alone, so it is decided before the figures (the
 * trusts' funnel is estimated over the trusts not hidden); after them, a suppressed row loses its
 * numerator, value, intervals, comparisons, funnel limits and flag;
 * its denominator (and a ratio's expected) stays. When England's all row of a metric is suppressed,
 * no row of the metric shows England's value or anything drawn from it (comparisons with England,
 * funnel limits, flags); when a region's is, no row compares itself with that region. */
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "benchmark_build.h"
#include "disclosure.h"

typedef struct {
    disclosure_group_t *groups;
    size_t n, cap;
    size_t *children;
    size_t n_children, cap_children;
    size_t *first; /* each group's first child, as an offset into children until the end */
} groups_t;

static int push_child(groups_t *g, size_t row)
{
    if (array_grow((void **)&g->children, &g->cap_children, g->n_children + 1,
                   sizeof *g->children) != 0)
        return -1;
    g->children[g->n_children++] = row;
    return 0;
}

/* Opens a group of parent; its children are those pushed until the next open. */
static int open_group(groups_t *g, size_t parent)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        disclosure_group_t *gs = realloc(g->groups, cap * sizeof *gs);
        size_t *first = realloc(g->first, cap * sizeof *first);
        if (gs)
            g->groups = gs;
        if (first)
            g->first = first;
        if (!gs || !first)
            return -1;
        g->cap = cap;
    }
    g->groups[g->n] = (disclosure_group_t){parent, NULL, 0};
    g->first[g->n] = g->n_children;
    g->n++;
    return 0;
}

/* Closes the last group: dropped when it has no child. */
static void close_group(groups_t *g)
{
    size_t n = g->n_children - g->first[g->n - 1];
    if (n == 0)
        g->n--;
    else
        g->groups[g->n - 1].n_children = n;
}

/* The children of each area: kids[kid_start[a] .. kid_start[a + 1]). */
static int area_children(const bench_t *b, size_t **kid_start, size_t **kids)
{
    size_t *start = calloc(b->n_areas + 2, sizeof *start);
    size_t *list = malloc((b->n_areas ? b->n_areas : 1) * sizeof *list);
    if (!start || !list) {
        free(start);
        free(list);
        return -1;
    }
    for (size_t a = 1; a < b->n_areas; a++)
        if (b->areas[a].emit)
            start[b->areas[a].parent + 2]++;
    for (size_t a = 0; a < b->n_areas; a++)
        start[a + 2] += start[a + 1];
    for (size_t a = 1; a < b->n_areas; a++)
        if (b->areas[a].emit)
            list[start[b->areas[a].parent + 1]++] = a;
    *kid_start = start;
    *kids = list;
    return 0;
}

/* cell[(m * n_areas + a) * n_slots + k]: metric m, area a, slot k's cell (its row, or after the
 * rows one unpublished trust category), SIZE_MAX when there is none. */
static size_t cell_at(const bench_t *b, const size_t *cell, size_t m, size_t a, size_t k)
{
    return cell[(m * b->n_areas + a) * b->n_slots + k];
}

static int metric_groups(const bench_t *b, const size_t *cell, size_t m, const size_t *kid_start,
                         const size_t *kids, groups_t *g)
{
    for (size_t a = 0; a < b->first[BENCH_SITE]; a++) {
        for (size_t k = 0; k < b->n_slots; k++) {
            size_t parent = cell_at(b, cell, m, a, k);
            if (parent == SIZE_MAX)
                continue;
            if (open_group(g, parent) != 0)
                return -1;
            for (size_t i = kid_start[a]; i < kid_start[a + 1]; i++) {
                size_t child = cell_at(b, cell, m, kids[i], k);
                if (child != SIZE_MAX && push_child(g, child) != 0)
                    return -1;
            }
            close_group(g);
        }
        size_t all = cell_at(b, cell, m, a, 0);
        for (bench_breakdown_t bd = BENCH_IMD; bd < BENCH_SII; bd++) {
            if (open_group(g, all) != 0)
                return -1;
            for (size_t k = 1; k < b->n_slots; k++) {
                size_t child = cell_at(b, cell, m, a, k);
                if (b->slots[k].breakdown == bd && child != SIZE_MAX && push_child(g, child) != 0)
                    return -1;
            }
            close_group(g);
        }
    }
    return 0;
}

/* The cells: every row, then each trust category with patients that has no row. */
static disclosure_cell_t *make_cells(const bench_t *b, const benchmark_release_t *out,
                                     size_t **cell_out, size_t *n_cells)
{
    size_t n_index = b->in->n_metrics * b->n_areas * b->n_slots, n = out->n_rows;
    size_t *cell = malloc((n_index ? n_index : 1) * sizeof *cell);
    if (!cell)
        return NULL;
    for (size_t m = 0; m < b->in->n_metrics; m++)
        for (size_t a = 0; a < b->n_areas; a++)
            for (size_t k = 0; k < b->n_slots; k++) {
                size_t i = (m * b->n_areas + a) * b->n_slots + k;
                cell[i] = b->row_of[i];
                if (cell[i] == SIZE_MAX && k > 0 && b->areas[a].level == BENCH_TRUST &&
                    b->areas[a].emit && bench_sum(b, m, a, k)->den > 0)
                    cell[i] = n++;
            }
    disclosure_cell_t *cells = calloc(n ? n : 1, sizeof *cells);
    if (!cells) {
        free(cell);
        return NULL;
    }
    for (size_t r = 0; r < out->n_rows; r++) {
        size_t m = b->metric_of[r];
        cells[r].numerator =
            bench_continuous(b, m) ? out->rows[r].denominator : out->rows[r].numerator;
        cells[r].denominator = out->rows[r].denominator;
        cells[r].published = b->slot_of[r] != SIZE_MAX; /* the SII row has no count */
    }
    for (size_t i = 0; i < n_index; i++)
        if (cell[i] != SIZE_MAX && cell[i] >= out->n_rows) {
            const bench_sum_t *sum = &b->sums[i];
            size_t m = i / (b->n_areas * b->n_slots);
            cells[cell[i]] = (disclosure_cell_t){bench_continuous(b, m) ? sum->den : sum->num,
                                                 sum->den, false, DISCLOSURE_SHOWN, false};
        }
    *cell_out = cell;
    *n_cells = n;
    return cells;
}

static void hide(benchmark_row_t *row)
{
    row->has_numerator = row->has_value = row->has_funnel = false;
    row->compared = row->compared_region = row->outlier = "";
    row->note = BENCHMARK_NOTE_SUPPRESSED;
}

/* What a suppressed England or region all row would give away through the other rows (b has
 * suppressed). */
static void hide_references(const bench_t *b, benchmark_release_t *out)
{
    for (size_t r = 0; r < out->n_rows; r++) {
        benchmark_row_t *row = &out->rows[r];
        size_t m = b->metric_of[r], a = b->area_of[r];
        if (b->suppressed[bench_row(b, m, 0, 0)]) {
            row->has_england = row->has_funnel = false;
            row->compared = row->outlier = "";
        }
        const bench_area_t *area = &b->areas[a];
        size_t region = area->level == BENCH_TRUST  ? area->parent
                        : area->level == BENCH_SITE ? b->areas[area->parent].parent
                                                    : SIZE_MAX;
        if (region != SIZE_MAX && b->suppressed[bench_row(b, m, region, 0)]) {
            row->has_region = false;
            row->compared_region = "";
        }
    }
}

int bench_suppress(bench_t *b, const benchmark_release_t *out, char *err, size_t errlen)
{
    if (b->in->min_count <= 1)
        return 0;
    disclosure_cell_t *cells = NULL;
    size_t *cell = NULL, n_cells = 0, *kid_start = NULL, *kids = NULL;
    groups_t g;
    memset(&g, 0, sizeof g);
    int rc = -1;
    b->suppressed = calloc(out->n_rows ? out->n_rows : 1, sizeof *b->suppressed);
    cells = make_cells(b, out, &cell, &n_cells);
    if (!b->suppressed || !cells || area_children(b, &kid_start, &kids) != 0)
        goto out;
    for (size_t m = 0; m < b->in->n_metrics; m++)
        if (metric_groups(b, cell, m, kid_start, kids, &g) != 0)
            goto out;
    for (size_t i = 0; i < g.n; i++)
        g.groups[i].children = g.children + g.first[i];
    disclosure_apply(cells, n_cells, g.groups, g.n, b->in->min_count);
    for (size_t r = 0; r < out->n_rows; r++)
        b->suppressed[r] = cells[r].published && cells[r].state != DISCLOSURE_SHOWN;
    rc = 0;
out:
    if (rc != 0)
        bench_fail(err, errlen, "out of memory");
    free(cells);
    free(cell);
    free(kid_start);
    free(kids);
    free(g.groups);
    free(g.children);
    free(g.first);
    return rc;
}

void bench_hide(const bench_t *b, benchmark_release_t *out)
{
    if (!b->suppressed)
        return;
    for (size_t r = 0; r < out->n_rows; r++)
        if (b->suppressed[r])
            hide(&out->rows[r]);
    hide_references(b, out);
}
