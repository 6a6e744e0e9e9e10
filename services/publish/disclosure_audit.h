/* disclosure_audit.h - which unknown cells the groups' sums still determine (pure; disclosure.c's
 * check after secondary suppression).
 *
 * Each group is an equation: its parent's numerator equals the sum of its children's. With the
 * known cells moved to the right, a cell is determined when every solution of the homogeneous
 * system over the unknown cells is 0 there (its unit vector lies in the span of the equations:
 * some combination of sums and differences gives it, as Gaussian elimination would find). One
 * solution drawn at random, modulo the prime 2^31 - 1, tells the cells apart: a cell not
 * determined is 0 in it only with probability 2^-31, and is then reported as determined, which
 * can only hide more. The draw is fixed (a constant seed), so the result is too.
 *
 * Method: sparse elimination, the cell in the fewest live equations first (ties: the lowest index),
 * pivoting on its shortest equation (ties: the lowest rank), then back substitution from random
 * values of the cells left free. A trust's categories, each in two equations, go before the
 * region's rows; the fill stays within a region's equations. Cost: about the memberships times
 * the length the region's equations grow to; 62,000 cells (bench_disclosure) in tens of
 * milliseconds. Memory: the equations as they fill. */
#ifndef NCAP_DISCLOSURE_AUDIT_H
#define NCAP_DISCLOSURE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "disclosure.h"

/* determined[c] for each cell: whether unknown cell c is determined (false for a known one).
 * rank[g]: each group's place in an order that does not depend on how the groups were given
 * (ties between equations are broken by it). Groups without children are left out. Returns 0, or
 * -1 when memory runs out. */
int disclosure_audit(const disclosure_group_t *groups, size_t n_groups, const size_t *rank,
                     size_t n_cells, const bool *unknown, bool *determined);

#endif
