/* publish_stage.h - ncap-publishd's periodic work under the stage contract (stage.h): rebuild the
 * quarterly release of every audit period whose metrics changed (values and 95% confidence
 * intervals per trust and nationally), a new immutable revision only when the content changed, and
 * write the files after commit. Apart from the daemon around it, so that tests drive it on a real
 * PostgreSQL (stage_run_periodic). */
#ifndef NCAP_PUBLISH_STAGE_H
#define NCAP_PUBLISH_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_cache.h"
#include "stage.h"

/* A provisional revision pruned in this batch, whose folder goes after commit. */
typedef struct {
    char *audit, *period;
    int revision;
} publish_pruned_t;

/* The ledgers of a revision committed in this batch as stored with it (NULL: none), written beside
 * latest.* after commit without building them again; and, while the batch's held files stay
 * under PUBLISH_HELD_MAX_BYTES, its other files as stored (files: latest.csv, latest.json,
 * fingertips.csv, spc.csv, spc_summary.csv; NULL: not held, read back after commit), written
 * without reading them back. */
typedef struct {
    char *audit, *period, *delays, *ascertained;
    int revision;
    char *files[5];
} publish_ledger_t;

typedef struct {
    const char *out_dir;
    audit_cache_t *audits;
    /* The cadence (0 for either: a round on every change, every revision kept): an audit gets at
     * most one round of new revisions every interval_s seconds, sooner on a row of
     * publish.release_request (`ncap release now`); each period keeps its newest `keep`
     * provisional revisions. */
    int interval_s, keep;
    long long *pending; /* releases committed in this batch, to write out after commit */
    size_t n_pending, cap_pending;
    /* some period was rebuilt in this batch, a new revision or not: linkage_quality.csv may have
     * changed (a death linked whose record's figures did not) */
    bool rebuilt;
    publish_pruned_t *pruned; /* revisions pruned in this batch, their folders removed after it */
    size_t n_pruned, cap_pruned;
    publish_ledger_t *ledgers; /* of the revisions made in this batch (pending's order) */
    size_t n_ledgers, cap_ledgers, held_bytes;
    /* The period ledgers of every period (delays.csv, ascertainment.csv: O(every released
     * period) in SQL) are written at most every PUBLISH_LEDGERS_EVERY_MS after rounds that rebuilt
     * a period (ledgers_due), at the first such round after start, and after one that failed; a
     * round's new revisions have theirs written at once. ledgers_at: when (monotonic ms; 0:
     * never). */
    bool ledgers_due;
    double ledgers_at;
    /* The same for the portal (site_build.h): written after a round that wrote releases at most
     * every PUBLISH_SITE_EVERY_MS, the last one's at the latest on the next call after that
     * time, or at exit (publish_stage_finish). */
    bool site_due;
    double site_at;
    /* whether the server compresses stored values with lz4 (publish_stage.c, toast_lz4): 0 not
     * asked yet, 1 yes, -1 no */
    int toast_lz4;
    /* What the last round committed knew, so that a round with nothing due costs one small query
     * (publish_stage.c, round_due): the audits that may have changed records waiting (an array
     * literal) and its snapshot's xmin; known false (at start, after publish_stage_clear): a full
     * round. next_*: the round in progress's, taken on after its commit. */
    bool known;
    char xmin[32], next_xmin[32];
    char *waiting, *next_waiting;
    /* When the next round of an audit whose changed records wait comes due (CLOCK_MONOTONIC, ms;
     * 0: none waits), as the last round_due saw it: the stage loop runs a round then
     * (stage_ops_t.due_in_ms), not up to a second later at its next idle sweep. */
    double due_at;
    /* The sums of the periods rebuilt, held between rounds (sums_cache.h; NULL: none yet), and
     * brought up to each round by the trusts whose records changed; dirty while a round that
     * changed them has not committed (forgotten then); off past their budget. round_xid: the
     * transaction of this daemon's last round that could mark records seen (publish_stage.c,
     * cache_check). */
    struct sums_cache *cache;
    bool cache_dirty, cache_off;
    /* The values of the periods rebuilt (metric.measure's rows), held between rounds alongside
     * the sums, within a budget (value_cache.h; NULL: none yet; values_max: the budget in bytes, 0:
     * VALUE_CACHE_MAX_BYTES): a failed round forgets the periods it touched. */
    struct value_cache *values;
    size_t values_max;
    /* The run charts' months the round's builds took so far (benchmark_series_memo_t): each
     * period rebuilt after another of its audit reads only its own months' values. Cleared at
     * each round's start (its values are of the round's snapshot); NULL: none yet. */
    struct benchmark_series_memo *series_memo;
    char round_xid[32], next_round_xid[32];
    /* Where the last round's time went (publish_stage.c, PUBLISH_PHASES), in milliseconds of the
     * wall clock, logged with the round's releases: a round at a steady load must take well
     * under the interval. clock: when the phase in progress began; cpu0: the process's CPU time
     * at the round's start. */
    double phase_ms[12];
    double clock, cpu0;
    /* The wall time of the last round that published (ms): when it took longer than the
     * interval, an audit's next round waits twice as long (publish_round_spacing_s). */
    double last_round_ms;
} publish_t;

/* The seconds an audit's rounds are apart at least: interval_s; when the last round took longer
 * than that (reading and building a million records' periods while a backlog is worked off),
 * twice its wall time (rounded up), so that such rounds leave publish idle half the time and the
 * processor to the stages upstream, instead of running back to back. A round within the interval
 * changes nothing; 0 (a round on every change) stays 0. */
int publish_round_spacing_s(int interval_s, double last_round_ms);

/* The hooks (periodic and after_commit only: publish takes no records of its own), with state a
 * publish_t the caller keeps alive (NULL: the SQL alone, for `ncap status`). */
stage_ops_t publish_stage_ops(publish_t *ps);
/* At exit: writes the portal if a release written since was not in it yet. */
void publish_stage_finish(publish_t *ps);
/* Frees what the stage holds; not audits. */
void publish_stage_clear(publish_t *ps);

#endif
