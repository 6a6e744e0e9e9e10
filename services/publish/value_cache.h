/* value_cache.h - the values of median and mean metrics (metric.measure's rows) of each audit
 * period publish holds between its rounds (pure: no SQL), so that a round hands benchmark_build a
 * period's values in value order from memory, re-reading from PostgreSQL only the rows of the
 * trusts whose records changed (as sums_cache.h does for the cells), and the run charts' values
 * (breakdown "all" of every month of the periods up to one) from the periods held, not read again
 * for each period rebuilt.
 *
 * A period is held compactly: per row of metric.measure its cell's key (trust, site, metric,
 * breakdown, category and month: one number for the six 16-bit ids of the cache's strings, each
 * such key interned once), its value (the double the stream gives: strtod of PostgreSQL's text)
 * and its count, 16 bytes, in ascending order of value (then of the key's number: a row is found
 * by its value and key). A put holds a whole period's rows (sorted);
 * an apply (value_cache_apply) sets the counts of the keys read, adds those not held and drops
 * the keys gone: the rows kept keep their order, the new ones are sorted and merged in (O(rows of
 * the period + new rows x log)).
 *
 * Each period held remembers the snapshot its rows are those of (the xmin of the round that last
 * put or applied rows into it, value_cache_snapshot), so that a later round reads only the rows
 * of metric.measure written since (release_values_delta).
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
 * Why: at a million NHFD records a year's four quarters take about 70 MB of rows, so that at most
 * one fits; before, each round read every quarter whole into the cache, each evicting the one read
 * before it, and then streamed them again for their builds. */
#ifndef NCAP_VALUE_CACHE_H
#define NCAP_VALUE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "benchmark.h"

/* The default budget of publish's cache: about 1.5 million rows of metric.measure held (a
 * quarter of 300,000 NHFD records; each has about 4.5), the room of the rows being read into it
 * counted (older periods are forgotten to make room as they come). With the sums (sums_cache.h),
 * the files' texts held for writing (PUBLISH_HELD_MAX_BYTES) and a period's rows being merged, it
 * keeps publish under 100 MB at a million records. */
#define VALUE_CACHE_MAX_BYTES ((size_t)24 << 20)

typedef struct value_cache value_cache_t;

/* A row held: its value and count, and its cell's key (the number of its six strings' ids:
 * trust, site, metric, breakdown, category, month). */
typedef struct {
    double value;
    uint32_t count;
    uint32_t key;
} value_row_t;

/* Rows being gathered for a put (value_cache_add), up to a limit of bytes. */
typedef struct {
    value_row_t *rows;
    size_t n, cap;
    size_t limit;               /* bytes; 0: none */
    bool crowded;               /* the limit is below the budget: the round's periods take room */
    const char *audit, *period; /* whose rows: the other periods make room as it grows */
    /* per key column, the string interned last (rows of a cell come together) and its id; the
     * number of the key interned last (has_last: one was) */
    const char *key[6];
    uint16_t id[6];
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
/* Adds a row to b, its strings (key: trust, site, metric, breakdown, category, month) and the key
 * they make interned. Returns 0, 1 when b is past its limit (the period too big or crowded out:
 * stop, value_cache_give_up), or -1 when out of memory, a count is outside 0..UINT32_MAX or the
 * strings are more than 16-bit ids can name. */
int value_cache_add(value_cache_t *c, value_batch_t *b, const char *const key[6], double value,
                    long long count);
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
 * benchmark_measure_t (strings the cache's): series false, the period's rows; true, the breakdown
 * "all" rows of every held period of the audit up to it (merged in value order). Returns 0, 1 when
 * the period is not held, or -1 when each() failed (its return) or out of memory. */
int value_cache_each(value_cache_t *c, const char *audit, const char *period, bool series,
                     benchmark_each_measure_t each, void *ctx);

#endif
