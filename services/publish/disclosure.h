/* disclosure.h - statistical disclosure control of a release's counts (pure).
 *
 * A release is a table of cells, each a numerator out of a denominator; some cells are the sums of
 * others (a trust of its sites, a region of its trusts, England of its regions, an area's row of
 * the categories of one breakdown): each such relation is a group, one parent and its children.
 * Denominators are always published; a suppressed cell hides its numerator (and so its value, its
 * intervals and its flag).
 *
 * Primary suppression: a published cell whose numerator, or denominator minus numerator, lies
 * between 1 and min_count - 1 (0 of any, and all of any, are shown). Secondary suppression: as few
 * further cells as needed so that no group has exactly one suppressed member (a lone hidden
 * numerator would be the parent minus the published children, or a child the parent minus its
 * published siblings).
 *
 * Secondary suppression, to a fixpoint. A group's hidden members are its suppressed ones; its
 * unpublished members count as known (an attacker may learn them elsewhere), so they never
 * protect, and are never hidden. While some group has exactly one hidden member, one more of its
 * published, shown members is hidden: a child rather than the parent (a total is worth more than
 * a part, and hiding it spreads to every group it heads); among those, the one whose hiding leaves
 * the fewest of its other groups with a lone hidden member, less those it protects besides (each
 * costs, or saves, one more cell later); then the smallest numerator; then the lowest index.
 * Hiding a cell can leave its other groups with a lone hidden member (a hidden trust in its
 * region, its sites and each of its breakdowns), which are then treated the same way. The groups
 * waiting are taken top first (by the depth of their parent below the cells that are no group's
 * child), then by parent index, then by children: an order that depends only on what the groups
 * are, so the result does not depend on the order the groups or their children are given in, and
 * a choice at the top (a trust hidden beside a small one of its region) can protect the groups it
 * heads before they choose. A group whose other members are all unpublished cannot be helped and
 * is left so (see below).
 *
 * Cost: O(memberships x log) to index and order the groups (a membership is a cell in a group);
 * then a group waits at most once (its count of hidden members only grows, so it reaches one
 * once) and its choice costs its size times the most groups a member is in (six for a trust with
 * four breakdowns); a cell is hidden at most once, so the loop ends. 62,000 cells (200 trusts,
 * 1,000 sites, 10 metrics, four breakdowns) take a few milliseconds (tests/bench/bench_disclosure).
 * If memory runs out, every published cell is hidden: never a release that gives a count away.
 *
 * Guarantee. Afterwards every group has no hidden member or at least two, save a group whose only
 * published member is its one hidden cell. So an attacker who knows every shown numerator (even
 * every unpublished one), every denominator and every group, and solves any group with one
 * unknown numerator, again and again with what it learns, has no group to start from and recovers
 * nothing (save, in a group of that exception, a hidden cell whose unpublished companions it has
 * learnt, which a release never allows: there they are categories, in no other group). When each
 * cell is the child of at most one group and no cell is its own ancestor, as in a release, the
 * groups and cells form a forest, and then no linear combination of the groups' sums determines a
 * hidden numerator either: walking the tree out from it, each group met has another hidden member
 * to absorb a change. What the rule does not stop is narrowing: two hidden cells that sum to 5 each
 * lie in 0..5. The definition asks that no count be recovered, and none is.
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
                       never suppressed, and never counted on to hide another cell */
    disclosure_state_t state; /* out */
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
