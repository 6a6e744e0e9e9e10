/* test_disclosure.c - disclosure control of a release: which cells are suppressed first (a count
 * or its complement of 1 to min_count - 1), which further cells secondary suppression hides in
 * small hand-made hierarchies (unpublished cells protecting, or derivable and not, sums that give
 * a count away only together), and, there and on simulated releases, that neither an attacker who
 * subtracts within every group over and over nor one who combines every sum (Gaussian
 * elimination) recovers a suppressed count. Neither knows an unpublished cell, save an empty one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure.h"
#include "disclosure_sim.h"

enum { S = DISCLOSURE_SHOWN, P = DISCLOSURE_PRIMARY, X = DISCLOSURE_SECONDARY };

static disclosure_cell_t pub(long long n, long long d)
{
    return (disclosure_cell_t){n, d, true, DISCLOSURE_PRIMARY, false};
}

static disclosure_cell_t unpub(long long n, long long d)
{
    return (disclosure_cell_t){n, d, false, DISCLOSURE_PRIMARY, false};
}

static void assert_states(const disclosure_cell_t *cells, const int *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((int)cells[i].state != want[i])
            print_error("cell %zu: state %d, expected %d\n", i, (int)cells[i].state, want[i]);
        assert_int_equal(cells[i].state, want[i]);
    }
}

/* --- the attackers --- */

/* An attacker who knows every shown numerator, every published denominator and every group, but
 * no unpublished cell (save one of denominator 0: its numerator can only be 0), and solves any
 * group with exactly one unknown numerator, again and again, learning unpublished and suppressed
 * cells alike. Returns the suppressed cells it recovered (report: prints each); checks each
 * recovered value against the truth (so the counts do add up). */
static size_t attack(const disclosure_cell_t *cells, size_t n_cells,
                     const disclosure_group_t *groups, size_t n_groups, bool report)
{
    bool *known = malloc((n_cells ? n_cells : 1) * sizeof *known);
    assert_non_null(known);
    for (size_t c = 0; c < n_cells; c++)
        known[c] =
            cells[c].published ? cells[c].state == DISCLOSURE_SHOWN : cells[c].denominator == 0;
    size_t recovered = 0;
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t g = 0; g < n_groups; g++) {
            const disclosure_group_t *gr = &groups[g];
            size_t unknowns = 0, which = 0;
            long long sum = 0; /* parent minus the children it knows */
            for (size_t i = 0; i <= gr->n_children; i++) {
                size_t c = i < gr->n_children ? gr->children[i] : gr->parent;
                if (!known[c]) {
                    unknowns++;
                    which = c;
                } else {
                    sum += c == gr->parent ? cells[c].numerator : -cells[c].numerator;
                }
            }
            if (unknowns != 1)
                continue;
            long long value = which == gr->parent ? -sum : sum;
            assert_int_equal(value, cells[which].numerator);
            known[which] = true;
            progress = true;
            if (cells[which].published) {
                if (report)
                    print_error("recovered suppressed cell %zu: %lld of %lld\n", which, value,
                                cells[which].denominator);
                recovered++;
            }
        }
    }
    free(known);
    return recovered;
}

/* A stronger attacker, with the same knowledge: any linear combination of the groups' sums. A
 * cell x is recovered exactly when the unit vector of x lies in the span of the groups' equations
 * over the unknowns, i.e. when the reduced row echelon form has a row that is that unit vector.
 * Exact arithmetic modulo the prime 2^31 - 1 (the coefficients are 0 and +-1), dense: an
 * independent check of disclosure_audit's sparse one. Returns the published cells determined. */
#define PRIME 2147483647u

static uint64_t mod_inverse(uint64_t a)
{
    uint64_t r = 1, e = PRIME - 2;
    for (; e; e >>= 1, a = a * a % PRIME)
        if (e & 1)
            r = r * a % PRIME;
    return r;
}

static size_t linear_attack(const disclosure_cell_t *cells, size_t n_cells,
                            const disclosure_group_t *groups, size_t n_groups)
{
    size_t *column = malloc((n_cells ? n_cells : 1) * sizeof *column), n_cols = 0;
    size_t *cell_of = malloc((n_cells ? n_cells : 1) * sizeof *cell_of);
    assert_non_null(column);
    assert_non_null(cell_of);
    for (size_t c = 0; c < n_cells; c++) {
        bool unknown =
            cells[c].published ? cells[c].state != DISCLOSURE_SHOWN : cells[c].denominator != 0;
        column[c] = unknown ? n_cols : SIZE_MAX;
        if (unknown)
            cell_of[n_cols++] = c;
    }
    uint64_t *a = calloc((n_groups ? n_groups : 1) * (n_cols ? n_cols : 1), sizeof *a);
    assert_non_null(a);
    size_t rows = 0;
    for (size_t g = 0; g < n_groups; g++) {
        const disclosure_group_t *gr = &groups[g];
        uint64_t *row = a + rows * n_cols;
        bool any = false;
        for (size_t i = 0; i <= gr->n_children; i++) {
            size_t c = i < gr->n_children ? gr->children[i] : gr->parent;
            if (column[c] != SIZE_MAX) {
                row[column[c]] = c == gr->parent ? 1 : PRIME - 1;
                any = true;
            }
        }
        rows += any;
    }
    size_t rank = 0;
    for (size_t col = 0; col < n_cols && rank < rows; col++) {
        size_t pivot = rank;
        while (pivot < rows && a[pivot * n_cols + col] == 0)
            pivot++;
        if (pivot == rows)
            continue;
        for (size_t k = 0; k < n_cols; k++) {
            uint64_t t = a[pivot * n_cols + k];
            a[pivot * n_cols + k] = a[rank * n_cols + k];
            a[rank * n_cols + k] = t;
        }
        uint64_t *pr = a + rank * n_cols, inv = mod_inverse(pr[col]);
        for (size_t k = col; k < n_cols; k++)
            pr[k] = pr[k] * inv % PRIME;
        for (size_t r = 0; r < rows; r++) {
            uint64_t *row = a + r * n_cols, f = row[col];
            if (r == rank || f == 0)
                continue;
            for (size_t k = col; k < n_cols; k++)
                if (pr[k])
                    row[k] = (row[k] + (PRIME - f) * pr[k]) % PRIME;
        }
        rank++;
    }
    size_t determined = 0;
    for (size_t r = 0; r < rank; r++) {
        size_t nonzero = 0, which = 0;
        for (size_t k = 0; k < n_cols; k++)
            if (a[r * n_cols + k]) {
                nonzero++;
                which = k;
            }
        if (nonzero == 1 && cells[cell_of[which]].published)
            determined++;
    }
    free(column);
    free(cell_of);
    free(a);
    return determined;
}

/* Runs disclosure_apply on the groups as given, then reversed with each group's children
 * reversed, and checks both give the states wanted and the number suppressed. */
static void check_states(const disclosure_cell_t *cells, size_t n_cells,
                         const disclosure_group_t *groups, size_t n_groups, long long min_count,
                         const int *want)
{
    size_t n_want = 0;
    for (size_t i = 0; i < n_cells; i++)
        n_want += want[i] != S;
    disclosure_cell_t *c = malloc(n_cells * sizeof *c);
    disclosure_group_t *g = malloc((n_groups ? n_groups : 1) * sizeof *g);
    size_t *kids = malloc(64 * sizeof *kids);
    assert_non_null(c);
    assert_non_null(g);
    assert_non_null(kids);

    memcpy(c, cells, n_cells * sizeof *c);
    assert_int_equal(disclosure_apply(c, n_cells, groups, n_groups, min_count), n_want);
    assert_states(c, want, n_cells);

    size_t at = 0;
    for (size_t i = 0; i < n_groups; i++) {
        const disclosure_group_t *from = &groups[n_groups - 1 - i];
        assert_true(at + from->n_children <= 64);
        for (size_t k = 0; k < from->n_children; k++)
            kids[at + k] = from->children[from->n_children - 1 - k];
        g[i] = (disclosure_group_t){from->parent, kids + at, from->n_children};
        at += from->n_children;
    }
    memcpy(c, cells, n_cells * sizeof *c);
    assert_int_equal(disclosure_apply(c, n_cells, g, n_groups, min_count), n_want);
    assert_states(c, want, n_cells);
    free(c);
    free(g);
    free(kids);
}

/* check_states, and neither attacker recovers a suppressed count from the result. */
static void check(const disclosure_cell_t *cells, size_t n_cells, const disclosure_group_t *groups,
                  size_t n_groups, long long min_count, const int *want)
{
    check_states(cells, n_cells, groups, n_groups, min_count, want);
    disclosure_cell_t *c = malloc(n_cells * sizeof *c);
    assert_non_null(c);
    memcpy(c, cells, n_cells * sizeof *c);
    disclosure_apply(c, n_cells, groups, n_groups, min_count);
    assert_int_equal(attack(c, n_cells, groups, n_groups, true), 0);
    assert_int_equal(linear_attack(c, n_cells, groups, n_groups), 0);
    free(c);
}

/* A trust of three sites, one with 3 patients meeting the standard: the site with the smaller
 * numerator of the other two is hidden too, not the trust. */
static void test_small_site_hides_a_sibling(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(60, 100), pub(3, 10), pub(37, 50), pub(20, 40)};
    size_t sites[] = {1, 2, 3};
    disclosure_group_t groups[] = {{0, sites, 3}};
    int want[] = {S, P, S, X};
    check(cells, 4, groups, 1, 8, want);
}

/* The complement counts as much as the count: 36 of 40 leaves 4 not meeting it. */
static void test_small_complement_is_suppressed(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(96, 120), pub(36, 40), pub(30, 40), pub(30, 40)};
    size_t sites[] = {1, 2, 3};
    disclosure_group_t groups[] = {{0, sites, 3}};
    int want[] = {S, P, X, S}; /* a tie on 30: the lower index */
    check(cells, 4, groups, 1, 8, want);
}

/* A region of three trusts, the first with 3 patients (its one site too): a sibling trust is
 * hidden (the smaller), and then, since that trust would be its sites' total minus nothing
 * hidden, one of its sites. */
static void test_small_trust_hides_a_sibling_trust_and_one_of_its_sites(void **state)
{
    (void)state;
    /*                            0 R        1 T1      2 T2       3 T3       4 S11    5 S21 6 S22 7
     * S31 */
    disclosure_cell_t cells[] = {pub(63, 250), pub(3, 50),  pub(20, 100), pub(40, 100),
                                 pub(3, 50),   pub(12, 50), pub(8, 50),   pub(40, 100)};
    size_t trusts[] = {1, 2, 3}, s1[] = {4}, s2[] = {5, 6}, s3[] = {7};
    disclosure_group_t groups[] = {{0, trusts, 3}, {1, s1, 1}, {2, s2, 2}, {3, s3, 1}};
    int want[] = {S, P, X, S, P, S, X, S};
    check(cells, 8, groups, 4, 8, want);
}

/* A region with one trust: both hidden together protect each other there, but England's regions
 * then need a second hidden region, whose only trust must go too, and then one of its sites. */
static void test_parent_and_one_child(void **state)
{
    (void)state;
    /*                            0 E        1 R1      2 R2       3 T1      4 T2       5 S21 6 S22
     */
    disclosure_cell_t cells[] = {pub(63, 150), pub(3, 50),  pub(60, 100), pub(3, 50),
                                 pub(60, 100), pub(50, 60), pub(10, 40)};
    size_t regions[] = {1, 2}, t1[] = {3}, t2[] = {4}, sites2[] = {5, 6};
    disclosure_group_t groups[] = {{0, regions, 2}, {1, t1, 1}, {2, t2, 1}, {4, sites2, 2}};
    int want[] = {S, P, X, P, X, S, X};
    check(cells, 7, groups, 4, 8, want);
}

/* An unpublished cell is not in the release: it protects a suppressed sibling as a hidden cell
 * would. It is never suppressed itself, however small. */
static void test_unpublished_cells_protect(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(60, 200), pub(3, 50), unpub(1, 10), pub(40, 80), pub(16, 60)};
    size_t cats[] = {1, 2, 3, 4};
    disclosure_group_t groups[] = {{0, cats, 4}};
    int want[] = {S, P, S, S, S};
    check(cells, 5, groups, 1, 8, want);
}

/* A cell of denominator 0 protects nothing, published or not (its numerator can only be 0), and
 * is never hidden (that would hide nothing). */
static void test_empty_cells_protect_nothing(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(45, 100), pub(3, 50), pub(42, 50), pub(0, 0), unpub(0, 0)};
    size_t cats[] = {1, 2, 3, 4};
    disclosure_group_t groups[] = {{0, cats, 4}};
    int want[] = {S, P, X, S, S};
    check(cells, 5, groups, 1, 8, want);
}

/* A trust's ethnic groups: White published (51 patients, 3 of them not meeting the standard) and
 * the others under the publication threshold. The unpublished ones protect White, so the trust's
 * row, the figure its clinical lead most needs, stays. The region's Asian row gives the trust's
 * Asian count away (the other trust's is published), but its Mixed row does not (the other
 * trust's Mixed is unpublished too): one unknown cell is enough beside White. */
static void test_unpublished_categories_keep_the_trust_row(void **state)
{
    (void)state;
    /* 0 T, 1 T white, 2 T mixed, 3 T asian; 4 R mixed, 5 T2 mixed; 6 R asian, 7 T2 asian */
    disclosure_cell_t cells[] = {pub(60, 100), pub(48, 51),  unpub(5, 20), unpub(7, 29),
                                 pub(11, 45),  unpub(6, 25), pub(37, 69),  pub(30, 40)};
    size_t ethnicity[] = {1, 2, 3}, mixed[] = {2, 5}, asian[] = {3, 7};
    disclosure_group_t groups[] = {{0, ethnicity, 3}, {4, mixed, 2}, {6, asian, 2}};
    int want[] = {S, P, S, S, S, S, S, S};
    check(cells, 8, groups, 3, 8, want);
}

/* The same, but the other trust publishes its Mixed row: the region's then gives the trust's Mixed
 * away too, and White would be the trust's row less what the attacker knows. Rather than the
 * trust's row, the other trust's Mixed is hidden (a part rather than a total), so that the
 * trust's Mixed is no longer derivable. */
static void test_a_derivable_category_is_undone(void **state)
{
    (void)state;
    /* 0 T, 1 T white, 2 T mixed, 3 T asian; 4 R mixed, 5 T2 mixed; 6 R asian, 7 T2 asian */
    disclosure_cell_t cells[] = {pub(60, 100), pub(48, 51), unpub(5, 20), unpub(7, 29),
                                 pub(17, 50),  pub(12, 30), pub(37, 69),  pub(30, 40)};
    size_t ethnicity[] = {1, 2, 3}, mixed[] = {2, 5}, asian[] = {3, 7};
    disclosure_group_t groups[] = {{0, ethnicity, 3}, {4, mixed, 2}, {6, asian, 2}};
    int want[] = {S, P, S, S, S, X, S, S};
    check(cells, 8, groups, 3, 8, want);
}

/* A small trust (5 of 20) whose categories are all unpublished, and all derivable from its
 * region's (the other trust publishes both): the trust would be the sum of what the attacker
 * derives, and nothing in its own group can be hidden. The derivation is undone where it comes
 * from: the other trust's cheaper category is hidden. */
static void test_a_trust_made_of_derivable_categories(void **state)
{
    (void)state;
    /* 0 T, 1 T a, 2 T b, 3 T2 a, 4 T2 b, 5 R a, 6 R b */
    disclosure_cell_t cells[] = {pub(5, 20),  unpub(3, 12), unpub(2, 8), pub(40, 60),
                                 pub(30, 50), pub(43, 72),  pub(32, 58)};
    size_t cats[] = {1, 2}, a[] = {1, 3}, b[] = {2, 4};
    disclosure_group_t groups[] = {{0, cats, 2}, {5, a, 2}, {6, b, 2}};
    int want[] = {P, S, S, S, X, S, S};
    check(cells, 7, groups, 3, 8, want);
}

/* The same trust's category derivable from a region where no other trust has it: only the
 * trust's row can be hidden beside its small category. It is then alone in its region and in its
 * sites, so a sibling trust and a site follow, and the sibling trust then needs its one site and
 * a category of its breakdown. */
static void test_only_the_parent_can_be_hidden(void **state)
{
    (void)state;
    /* 0 R, 1 T1, 2 T2, 3 C1 (published, small), 4 C2 (unpublished), 5 S11, 6 S12, 7 S2,
     * 8 D1, 9 D2 (T2's categories), 10 R's C2 (T1's only) */
    disclosure_cell_t cells[] = {pub(80, 300),  pub(20, 100), pub(60, 200), pub(4, 76),
                                 unpub(16, 24), pub(12, 50),  pub(8, 50),   pub(60, 200),
                                 pub(20, 90),   pub(40, 110), pub(16, 24)};
    size_t trusts[] = {1, 2}, cats1[] = {3, 4}, sites1[] = {5, 6}, sites2[] = {7}, cats2[] = {8, 9},
           region_c2[] = {4};
    disclosure_group_t groups[] = {{0, trusts, 2}, {1, cats1, 2}, {1, sites1, 2},
                                   {2, sites2, 1}, {2, cats2, 2}, {10, region_c2, 1}};
    int want[] = {S, X, X, P, S, S, X, X, X, S, S};
    check(cells, 11, groups, 6, 8, want);
}

/* A region of four trusts, one breakdown of four categories: A publishes its a (5 of 50 not
 * meeting the standard) and not its b; B (5 of 20) and C (4 of 20) publish no category; D
 * publishes none either. No sum has a single unknown, but B is the region's a and b less A
 * (Ra + Rb - A), and C is Rc + Rd - D: sums together give them away. The linear check finds both
 * and hides D, then A, beside them. */
static void test_sums_together_are_checked(void **state)
{
    (void)state;
    /* 0 R, 1 Ra, 2 Rb, 3 Rc, 4 Rd, 5 A, 6 Aa, 7 Ab, 8 B, 9 Ba, 10 Bb, 11 C, 12 Cc, 13 Cd, 14 D,
     * 15 Dc, 16 Dd */
    disclosure_cell_t cells[] = {
        pub(100, 165), pub(47, 60),   pub(23, 35), pub(13, 33),   pub(17, 37),  pub(65, 75),
        pub(45, 50),   unpub(20, 25), pub(5, 20),  unpub(2, 10),  unpub(3, 10), pub(4, 20),
        unpub(1, 8),   unpub(3, 12),  pub(26, 50), unpub(12, 25), unpub(14, 25)};
    size_t trusts[] = {5, 8, 11, 14}, rcats[] = {1, 2, 3, 4}, acats[] = {6, 7}, bcats[] = {9, 10},
           ccats[] = {12, 13}, dcats[] = {15, 16}, ra[] = {6, 9}, rb[] = {7, 10}, rc[] = {12, 15},
           rd[] = {13, 16};
    disclosure_group_t groups[] = {{0, trusts, 4}, {0, rcats, 4},  {5, acats, 2}, {8, bcats, 2},
                                   {11, ccats, 2}, {14, dcats, 2}, {1, ra, 2},    {2, rb, 2},
                                   {3, rc, 2},     {4, rd, 2}};
    int want[] = {S, S, S, S, S, X, P, S, P, S, S, P, S, S, X, S, S};
    check(cells, 17, groups, 10, 8, want);
}

/* Nothing can be hidden beside a suppressed cell whose only companions are empty (its counts do
 * not add up): nothing more is hidden, and the loop ends. */
static void test_no_candidate_left(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(5, 40), unpub(0, 0), pub(0, 0)};
    size_t cats[] = {1, 2};
    disclosure_group_t groups[] = {{0, cats, 2}};
    int want[] = {P, S, S};
    check_states(cells, 3, groups, 1, 8, want);

    /* a group without children relates nothing */
    disclosure_group_t empty[] = {{0, NULL, 0}};
    check_states(cells, 3, empty, 1, 8, want);
}

/* Zero counts and zero complements are shown; 0 of 3 is suppressed (3 did not meet it). */
static void test_zeros_are_not_suppressed(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(0, 0), pub(0, 50), pub(50, 50),
                                 pub(0, 3), pub(3, 3),  pub(8, 16)};
    int want[] = {S, S, S, P, P, S};
    check(cells, 6, NULL, 0, 8, want);
}

/* min_count 1 (or less) suppresses nothing, and 2 only counts of 1. */
static void test_min_count_one_suppresses_nothing(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(3, 4), pub(1, 2), pub(2, 2)};
    size_t kids[] = {1, 2};
    disclosure_group_t groups[] = {{0, kids, 2}};
    int none[] = {S, S, S};
    check(cells, 3, groups, 1, 1, none);
    check(cells, 3, groups, 1, 0, none);
    check(cells, 3, groups, 1, -5, none);
    int two[] = {P, P, S}; /* 3 of 4 leaves 1; 1 of 2 is 1: two hidden, nothing more */
    check(cells, 3, groups, 1, 2, two);
}

/* Two hidden cells already protect each other: nothing more. */
static void test_two_small_siblings_need_nothing_more(void **state)
{
    (void)state;
    disclosure_cell_t cells[] = {pub(50, 200), pub(3, 50), pub(5, 50), pub(42, 100)};
    size_t sites[] = {1, 2, 3};
    disclosure_group_t groups[] = {{0, sites, 3}};
    int want[] = {S, P, P, S};
    check(cells, 4, groups, 1, 8, want);
}

static void test_attacker_recovers_nothing_on_simulated_releases(void **state)
{
    (void)state;
    const long long min_count = 8;
    size_t all_cells = 0, all_primary = 0, all_secondary = 0, all_exposed = 0, all_trusts = 0,
           all_trusts_hidden = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        dsim_t s;
        dsim_t rng = {.rng = seed * 7919 + 13};
        dsim_opts_t o = {.seed = seed, .metrics = 2, .max_site_denominator = 120};
        o.regions = 2 + dsim_below(&rng, 8);
        o.trusts = o.regions + dsim_below(&rng, 30);
        o.sites = o.trusts + dsim_below(&rng, 60);
        dsim_build(&o, &s);

        size_t n = disclosure_apply(s.cells, s.n_cells, s.groups, s.n_groups, min_count);
        size_t n_primary = 0, n_secondary = 0, n_published = 0;
        for (size_t c = 0; c < s.n_cells; c++) {
            const disclosure_cell_t *cell = &s.cells[c];
            long long rest = cell->denominator - cell->numerator;
            bool small = (cell->numerator >= 1 && cell->numerator < min_count) ||
                         (rest >= 1 && rest < min_count);
            if (!cell->published) {
                assert_int_equal(cell->state, DISCLOSURE_SHOWN);
                continue;
            }
            n_published++;
            assert_int_equal(cell->state == DISCLOSURE_PRIMARY, small);
            n_primary += cell->state == DISCLOSURE_PRIMARY;
            n_secondary += cell->state == DISCLOSURE_SECONDARY;
        }
        assert_int_equal(n, n_primary + n_secondary);
        assert_true(n_primary > 0);
        assert_int_equal(attack(s.cells, s.n_cells, s.groups, s.n_groups, true), 0);
        assert_int_equal(linear_attack(s.cells, s.n_cells, s.groups, s.n_groups), 0);

        /* the attack is real: with primary suppression only, it recovers counts */
        disclosure_state_t *first = malloc(s.n_cells * sizeof *first);
        assert_non_null(first);
        for (size_t c = 0; c < s.n_cells; c++) {
            first[c] = s.cells[c].state;
            if (s.cells[c].state == DISCLOSURE_SECONDARY)
                s.cells[c].state = DISCLOSURE_SHOWN;
        }
        size_t exposed = attack(s.cells, s.n_cells, s.groups, s.n_groups, false);
        assert_true(linear_attack(s.cells, s.n_cells, s.groups, s.n_groups) >= exposed);
        all_exposed += exposed;
        for (size_t c = 0; c < s.n_cells; c++)
            s.cells[c].state = first[c];

        /* the same release with its groups and children shuffled: the same cells hidden */
        for (size_t g = s.n_groups; g > 1; g--) {
            size_t j = dsim_below(&rng, g);
            disclosure_group_t t = s.groups[g - 1];
            s.groups[g - 1] = s.groups[j];
            s.groups[j] = t;
        }
        for (size_t g = 0; g < s.n_groups; g++) {
            size_t *kids = (size_t *)s.groups[g].children;
            for (size_t i = s.groups[g].n_children; i > 1; i--) {
                size_t j = dsim_below(&rng, i), t = kids[i - 1];
                kids[i - 1] = kids[j];
                kids[j] = t;
            }
        }
        assert_int_equal(disclosure_apply(s.cells, s.n_cells, s.groups, s.n_groups, min_count), n);
        for (size_t c = 0; c < s.n_cells; c++)
            assert_int_equal(s.cells[c].state, first[c]);
        free(first);

        size_t trusts_hidden = 0;
        for (size_t i = 0; i < s.n_trust_rows; i++)
            trusts_hidden += s.cells[s.trust_rows[i]].state == DISCLOSURE_SECONDARY;
        printf("seed %2llu: %zu regions, %zu trusts, %zu sites, %zu metrics: %zu cells (%zu "
               "published), %zu primary, %zu secondary (%zu trust rows; without: %zu "
               "recovered)\n",
               (unsigned long long)seed, o.regions, o.trusts, o.sites, o.metrics, s.n_cells,
               n_published, n_primary, n_secondary, trusts_hidden, exposed);
        all_trusts += s.n_trust_rows;
        all_trusts_hidden += trusts_hidden;
        all_cells += n_published;
        all_primary += n_primary;
        all_secondary += n_secondary;
        dsim_free(&s);
    }
    printf("in all: %zu published cells, %zu suppressed first, %zu hidden by secondary "
           "suppression (%.1f%% of published); of %zu trust rows, %zu hidden by it; without "
           "secondary suppression an attacker would recover %zu\n",
           all_cells, all_primary, all_secondary, 100.0 * (double)all_secondary / (double)all_cells,
           all_trusts, all_trusts_hidden, all_exposed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_site_hides_a_sibling),
        cmocka_unit_test(test_small_complement_is_suppressed),
        cmocka_unit_test(test_small_trust_hides_a_sibling_trust_and_one_of_its_sites),
        cmocka_unit_test(test_parent_and_one_child),
        cmocka_unit_test(test_unpublished_cells_protect),
        cmocka_unit_test(test_empty_cells_protect_nothing),
        cmocka_unit_test(test_unpublished_categories_keep_the_trust_row),
        cmocka_unit_test(test_a_derivable_category_is_undone),
        cmocka_unit_test(test_a_trust_made_of_derivable_categories),
        cmocka_unit_test(test_only_the_parent_can_be_hidden),
        cmocka_unit_test(test_sums_together_are_checked),
        cmocka_unit_test(test_no_candidate_left),
        cmocka_unit_test(test_zeros_are_not_suppressed),
        cmocka_unit_test(test_min_count_one_suppresses_nothing),
        cmocka_unit_test(test_two_small_siblings_need_nothing_more),
        cmocka_unit_test(test_attacker_recovers_nothing_on_simulated_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
