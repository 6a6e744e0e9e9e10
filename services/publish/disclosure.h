/* disclosure.h - statistical disclosure control of a release's counts (pure).
 *
 * A release is a table of cells, each a numerator out of a denominator; some cells are the sums of
 * others (a trust of its sites, a region of its trusts, England of its regions, each category of
 * an area of the same category of the areas below, an area's row of the categories of one
 * breakdown): each such relation is a group, one parent and its children. A published cell shows
 * its denominator always and its numerator unless suppressed; an unpublished cell (e.g. a trust's
 * category under 30) is not in the release at all.
 *
 * Primary suppression: a published cell whose numerator, or denominator minus numerator, lies
 * between 1 and min_count - 1 (0 of any, and all of any, are shown). Secondary suppression: as
 * few further cells as it takes for no suppressed numerator to be worked out from the rest.
 *
 * The attacker. It knows every shown numerator, every published denominator and every group. It
 * does not know an unpublished cell, save one of denominator 0 (its numerator can only be 0; a
 * release may let that be worked out). It solves any group with one unknown member, again and
 * again with what it learns, unpublished and suppressed cells alike, and, beyond that, combines
 * the groups' sums in any way (Gaussian elimination). An unpublished cell it cannot derive
 * protects a suppressed one as a hidden cell would: a trust's small category beside a suppressed
 * White keeps the trust's row shown.
 *
 * Secondary suppression, in passes. A pass works out what the attacker derives while it protects:
 * the groups with one unknown member are taken in a canonical order (top first: by the depth of
 * their parent below the cells that are no group's child, then by parent index, then by children,
 * an order that depends only on what the groups are, so the result does not depend on the order
 * the groups or their children are given in). A lone unpublished member is derived (known from
 * then on in this pass: conservative, as cells hidden later may take that ground away). A lone
 * suppressed member gets one more published, shown cell of the group hidden (never an empty one:
 * that hides nothing): a child rather than the parent (a total is worth more than a part, and
 * hiding it spreads to every group it heads); among those, the one whose hiding leaves the
 * fewest of its other groups with a lone unknown member, less those it protects besides (each
 * costs, or saves, one more cell later); then the smallest numerator; then the lowest index. When
 * only the parent could be hidden, or nothing, the group is given away by a derivation: it is
 * undone where it came from instead, the cheapest child of the group a derived member was derived
 * from being hidden (with nothing else to hide, any member there, or one derivation further
 * back), and the pass is followed by another that derives afresh; so is one that finds such a
 * derivation lost its ground already. Then the linear check (disclosure_audit.h) finds the
 * suppressed cells the sums still determine together (e.g. a small trust whose two unpublished
 * categories sum to its region's less another trust's row); each gets the cheapest hideable cell
 * nearest to it hidden (in its groups, else in the groups of their unknown members, and so on
 * out), and passes and check run again until the check finds nothing. Each pass or round that
 * starts another hides a cell, so this ends.
 *
 * Cost: O(memberships x log) to index and order the groups (a membership is a cell in a group);
 * a pass is O(memberships x the most groups a cell is in), heap aside; the linear check costs the
 * most: a sparse elimination whose equations fill within a region. 62,000 cells (200 trusts,
 * 1,000 sites, 10 metrics, four breakdowns) take about 15 ms (tests/bench/bench_disclosure), ten
 * times as many about 0.25 s. If memory runs out, every published cell is hidden: never a release
 * that gives a count away.
 *
 * Guarantee. Afterwards no suppressed numerator is determined by the groups' sums, by the check
 * (save a cell whose companions are all empty: its counts do not add up, nothing can be hidden;
 * and, with probability 2^-31 a cell, one the check's random draw takes as determined, which is
 * only hidden the more). What the rule does not stop is narrowing: two hidden cells that sum to 5
 * each lie in 0..5, and bounds (0 <= numerator <= denominator) can pin a cell at an extreme. The
 * definition asks that no count be recovered by subtraction, and none is, by any sum.
 *
 * A group's members are distinct cells (indexes below n_cells, asserted); a group without
 * children relates nothing and is left out. */
#ifndef NCAP_DISCLOSURE_H
#define NCAP_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { DISCLOSURE_SHOWN = 0, DISCLOSURE_PRIMARY, DISCLOSURE_SECONDARY } disclosure_state_t;

typedef struct {
    long long numerator;
    long long denominator;
    bool published; /* false: not in the release at all (e.g. a trust's category under 30), so
                       never suppressed; unknown to the attacker unless it can derive it */
    disclosure_state_t state; /* out */
    /* true: a published cell another file shows whatever is decided here (spc.csv's months of a
     * period sum to latest.csv's row of it): known to the attacker and never hidden to protect
     * another; one that breaks the primary rule is suppressed like any other */
    bool fixed;
} disclosure_cell_t;

typedef struct {
    size_t parent;          /* index into the cells */
    const size_t *children; /* indexes into the cells */
    size_t n_children;
} disclosure_group_t;

/* Sets every cell's state (an unpublished cell's to DISCLOSURE_SHOWN). min_count <= 1 suppresses
 * nothing. Deterministic: the same cells and groups give the same result whatever the order of the
 * groups and of each group's children. Returns the number of cells suppressed. */
size_t disclosure_apply(disclosure_cell_t *cells, size_t n_cells, const disclosure_group_t *groups,
                        size_t n_groups, long long min_count);

#endif
