/* disclosure.h - statistical disclosure control of a release's counts (pure).
 *
 * A release is a table of cells, each a numerator out of a denominator; some cells are the sums of
 * others (a trust of its sites, a region of its trusts, England of its regions, an area's row of
 * the categories of one breakdown): each such relation is a group, one parent and its children.
 * Denominators are always published; a suppressed cell hides its numerator (and so its value, its
 * intervals and its flag).
 *
 * Primary suppression: a cell whose numerator, or denominator minus numerator, lies between 1 and
 * min_count - 1. Secondary suppression: as few further cells as needed so that no group has
 * exactly one suppressed member (a lone hidden numerator would be the parent minus the published
 * children, or a child the parent minus its published siblings). */
#ifndef NCAP_DISCLOSURE_H
#define NCAP_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { DISCLOSURE_SHOWN = 0, DISCLOSURE_PRIMARY, DISCLOSURE_SECONDARY } disclosure_state_t;

typedef struct {
    long long numerator;
    long long denominator;
    bool published; /* false: not in the release at all (e.g. a trust's category under 30), so
                       never a help to subtraction and never suppressed */
    disclosure_state_t state; /* out */
} disclosure_cell_t;

typedef struct {
    size_t parent;          /* index into the cells */
    const size_t *children; /* indexes into the cells */
    size_t n_children;
} disclosure_group_t;

/* Sets every cell's state. min_count <= 1 suppresses nothing. Deterministic: the same cells and
 * groups give the same result whatever the order of the groups. Returns the number of cells
 * suppressed. */
size_t disclosure_apply(disclosure_cell_t *cells, size_t n_cells, const disclosure_group_t *groups,
                        size_t n_groups, long long min_count);

#endif
