/* value_cache.h - the values of median and mean metrics (metric.measure's rows) of each audit
 * period publish holds between its rounds (pure: no SQL), so that a round hands benchmark_build a
 * period's values in value order from memory, re-reading from PostgreSQL only the rows of the
 * trusts whose records changed (as sums_cache.h does for the cells), and the run charts' values
 * (breakdown "all" of every month of the periods up to one) from the periods held, not read again
 * for each period rebuilt.
 *
 * A period is held compactly: per row of metric.measure (migration 0053: a value of a cell of
 * breakdown "all" under its records' categories) its cell's key (trust, site, metric and month:
 * one number for the four 16-bit ids of the cache's strings, each such key interned once), its
 * categories (four 16-bit ids), its value (the double the stream gives: strtod of PostgreSQL's
 * text) and its count, 24 bytes, in ascending order of value (then of the key's number and the
 * categories: a row is found by its value and key). Each row is handed on as the measures it
 * counts in (value_measures_each). A put holds a whole period's rows (sorted);
 * an apply (value_cache_apply) sets the counts of the keys read, adds those not held and drops
 * the keys gone: the rows kept keep their order, the new ones are sorted and merged in (O(rows of
 * the period + new rows x log)).
 *
 * Each period held remembers the snapshot its rows are those of (the xmin of the round that last
 * put or applied rows into it, value_cache_snapshot), so that a later round reads only the rows
 * of metric.measure written since (release_values_deltas).
 *
 * Memory: bounded by a budget (bytes of the rows held): past it, whole periods are forgotten,
 * least recently used first, but never one the current round has used (its builds are still to
 * come: forgetting it to hold another would read it again, whole, in the same round). A period
 * that does not fit beside the round's own is not held in that round (crowded out: its builds
 * stream its values, release_values.h), and the cache remembers how many rows it has at least, so
 * that a later round does not begin to read it only to stop at the room left (value_cache_fits).
 * A period whose rows alone would not fit is marked too big and is not held again (until
 * value_cache_clear). The holder forgets what a failed round touched (value_cache_drop_touched).
 *
 * Why: at a million NHFD records a year's four quarters took about 70 MB of rows (a row per cell
 * and value, before migration 0053), so that at most one fitted; before, each round read every
 * quarter whole into the cache, each evicting the one read before it, and then streamed them
 * again for their builds. */
#ifndef NCAP_VALUE_CACHE_H
#define NCAP_VALUE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "benchmark.h"
#include "breakdown.h"

/* The default budget of publish's cache: about a million rows of metric.measure held (a
 * quarter of a million NHFD records; each has about one), the room of the rows being read into it
 * counted (older periods are forgotten to make room as they come). With the sums (sums_cache.h),
 * the files' texts held for writing (PUBLISH_HELD_MAX_BYTES) and a period's rows being merged, it
 * keeps publish under 100 MB at a million records. */
#define VALUE_CACHE_MAX_BYTES ((size_t)24 << 20)

typedef struct value_cache value_cache_t;

/* A row held: its value and count, its cell's key (the number of its four strings' ids: trust,
 * site, metric, month) and its categories' ids (breakdown_t order). */
typedef struct {
    double value;
    uint32_t count;
    uint32_t key;
    uint16_t category[BREAKDOWN_COUNT];
} value_row_t;

/* A row of metric.measure (a value of the cell of breakdown "all" of (trust, site, metric,
 * month), counted under its records' categories, breakdown_t order, "" where the audit declares
 * none) handed to each() as the measures it counts in: breakdown "all" of its month, then, unless
 * series (the run charts take breakdown "all" only), each breakdown with a category, of the
 * period (month ""), as metric.aggregate keeps the sums; refs (NULL: none) the measures'
 * cell_ref, breakdown "all"'s then each breakdown's (benchmark.h). Returns 0, or each()'s return
 * when not 0. */
int value_measures_each(const char *trust, const char *site, const char *metric, const char *month,
                        const char *const category[BREAKDOWN_COUNT], double value, long long count,
                        const uint64_t *refs, bool series, benchmark_each_measure_t each,
                        void *ctx);

/* Rows being gathered for a put (value_cache_add), up to a limit of bytes. */
typedef struct {
    value_row_t *rows;
    size_t n, cap;
    size_t limit;               /* bytes; 0: none */
    bool crowded;               /* the limit is below the budget: the round's periods take room */
    const char *audit, *period; /* whose rows: the other periods make room as it grows */
    /* per column (the cell's key, then the categories: value_cache_add), the string interned last
     * (rows of a cell come together) and its id; the number of the key interned last (has_last:
     * one was) */
    const char *key[4 + BREAKDOWN_COUNT];
    uint16_t id[4 + BREAKDOWN_COUNT];
    uint32_t last_key;
    bool has_last;
} value_batch_t;

/* An empty cache holding at most budget bytes of rows, or NULL when out of memory. */
value_cache_t *value_cache_new(size_t budget);
/* Frees everything and sets *c to NULL; harmless on NULL. */
void value_cache_destroy(value_cache_t **c);
/* Forgets every period held and every one marked too big. */
void value_cache_clear(value_cache_t *c);
/* About what one interned cell key takes (its ids and its entry in the cache's map). */
#define VALUE_CACHE_KEY_BYTES 96
/* Starts a round: what it puts or uses is touched by it (least recently used: the others). When
 * the cells' keys interned take more than half the budget (value_cache_key_bytes: keys of cells
 * no longer held pile up over months of a deployment's rounds), every period is forgotten with
 * them (as value_cache_clear; read again as needed). */
void value_cache_round(value_cache_t *c);
/* The bytes the interned cell keys take (VALUE_CACHE_KEY_BYTES each). */
size_t value_cache_key_bytes(const value_cache_t *c);
/* The current round's snapshot: its xmin (pg_snapshot_xmin, as text) and when it was taken (ms
 * of a monotonic clock); each period the round puts or applies rows into is then of it. Until a
 * round gives one (value_cache_round forgets it), periods put are of no known snapshot. */
void value_cache_snapshot(value_cache_t *c, const char *xmin, double now_ms);
/* The xmin of the snapshot (audit, period)'s rows are those of, when held, of a known snapshot
 * taken at most max_age_ms before the current round's (which is given); otherwise NULL. */
const char *value_cache_since(const value_cache_t *c, const char *audit, const char *period,
                              double max_age_ms);
/* Forgets (audit, period) if held. */
void value_cache_forget(value_cache_t *c, const char *audit, const char *period);
/* Forgets the periods the current round put rows into (a round rolled back). */
void value_cache_drop_touched(value_cache_t *c);
/* Whether (audit, period) is held; marks it used by the round. */
bool value_cache_has(value_cache_t *c, const char *audit, const char *period);
/* Whether (audit, period) was found too big to hold. */
bool value_cache_too_big(const value_cache_t *c, const char *audit, const char *period);
/* The bytes the periods held take; the budget. */
size_t value_cache_bytes(const value_cache_t *c);
size_t value_cache_budget(const value_cache_t *c);

/* An empty batch for the rows of (audit, period; strings that outlive it), its limit the budget
 * less the rows held of the other periods the round has used (crowded when that is less than the
 * budget): a period whose rows alone are more is not held. As it grows, least recently used
 * periods the round has not used are forgotten to keep what is held and the batch within the
 * budget. */
void value_cache_batch(const value_cache_t *c, const char *audit, const char *period,
                       value_batch_t *b);
/* Whether (audit, period), not held, may fit beside the periods the round has used: false when
 * the rows it had when last held or last crowded out (value_cache_give_up) would not. */
bool value_cache_fits(const value_cache_t *c, const char *audit, const char *period);
/* Whether a round should read (audit, period) whole into the cache: it is not held (a held one
 * is marked used by the round, as value_cache_has does), not too big, and may fit
 * (value_cache_fits). */
bool value_cache_wants(value_cache_t *c, const char *audit, const char *period);
/* A read of b's period stopped at b's limit (value_cache_add returned 1): the period is marked
 * too big when its rows alone pass the budget; otherwise (crowded out by the round's periods) it
 * is forgotten if held and remembered as having more rows than b. b is freed. Returns 0, or -1
 * when out of memory. */
int value_cache_give_up(value_cache_t *c, value_batch_t *b);
/* Adds a row to b, its strings (key: trust, site, metric, month, then the categories in
 * breakdown_t order) and the cell key the first four make interned. Returns 0, 1 when b is past its
 * limit (the period too big or crowded out: stop, value_cache_give_up), or -1 when out of memory, a
 * count is outside 0..UINT32_MAX or the strings are more than 16-bit ids can name. */
int value_cache_add(value_cache_t *c, value_batch_t *b, const char *const key[4 + BREAKDOWN_COUNT],
                    double value, long long count);
void value_batch_free(value_batch_t *b);
/* Marks (audit, period) too big (forgotten if held). Returns 0, or -1 when out of memory. */
int value_cache_mark_too_big(value_cache_t *c, const char *audit, const char *period);

/* Puts b's rows (taken: b is emptied) as the whole of (audit, period)'s (held or not), then
 * forgets least recently used periods the round has not used while past the budget; the period is
 * marked too big when it alone is past it, or forgotten (crowded out) when still past it beside
 * the round's periods. Returns 0, or -1 when out of memory. */
int value_cache_put(value_cache_t *c, const char *audit, const char *period, value_batch_t *b);

/* Brings the held (audit, period) up to the current round from what changed since its snapshot
 * (both taken: emptied): the keys of set's rows get their counts (those not held added), then the
 * keys of gone's rows (counts ignored) not in set are dropped; a key in both is set's. Then as
 * value_cache_put: the period of the round's snapshot, least recently used periods the round has
 * not used forgotten while past the budget, the period marked too big when it alone is past it or
 * forgotten when crowded out. Returns 0, 1 when the
 * period is not held (nothing done), or -1 when out of memory (the period forgotten). */
int value_cache_apply(value_cache_t *c, const char *audit, const char *period, value_batch_t *gone,
                      value_batch_t *set);

/* Hands the values of (audit, period) to each() in ascending order of value, as
 * benchmark_measure_t (strings the cache's, value_measures_each): series false, the period's rows
 * in every cell they count in; true, the rows of every held period of the audit up to it (merged
 * in value order) in breakdown "all" of their months, from from_month on (NULL: all; a period
 * whose months are all before it is not read). Returns 0, 1 when
 * the period is not held, or -1 when each() failed (its return) or out of memory. */
int value_cache_each(value_cache_t *c, const char *audit, const char *period, bool series,
                     const char *from_month, benchmark_each_measure_t each, void *ctx);

#endif
