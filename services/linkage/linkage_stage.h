/* linkage_stage.h - ncap-linkd's side of the stage contract (stage.h): ingest's raw records in,
 * each linked to its patient (patient index, deaths, deprivation), the opt-out applied, and the
 * pseudonymised record stored for validation; the death sweep and the re-keying sweep
 * (rekey_sweep.h) as its periodic work. Apart from
 * the daemon around it, so that tests drive it on a real PostgreSQL (stage_run_keys). */
#ifndef NCAP_LINKAGE_STAGE_H
#define NCAP_LINKAGE_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "audit_cache.h"
#include "link_incremental.h"
#include "pseudonym.h"
#include "recount.h"
#include "stage.h"
#include "term_freq.h"

/* Batches in a row a record may be deferred because another linkage instance's batch holds one
 * of its blocking keys: the batch that takes it a fourth time waits for those locks, as every
 * batch did before (patient_index_assign), so that no record waits behind a busy key for ever. */
#define LINKAGE_DEFER_MAX 3
/* The quality counts' changes are folded after a batch's or the sweep's commit at most this often
 * (ms): what publish's view adds to the counts stays a few batches' worth. */
#define LINKAGE_FOLD_MS 1000
/* Past a fold, an idle sweep folds again only after this long (ms) unless this process has
 * written since: the changes another instance committed and did not fold (it stopped first) wait
 * at most this long, and publish's view adds them meanwhile. Folding at every idle sweep cost
 * the fold's delete reading every page of linkage.quality_delta emptied since its last vacuum
 * (0.6-1.5 ms a sweep). */
#define LINKAGE_FOLD_IDLE_MS 60000
/* How often, at most, the re-keying sweep counts the record versions it has left for its log
 * (ms): the count is O(versions left), and a batch of the sweep takes a few hundred of them. */
#define LINKAGE_REKEY_COUNT_MS 60000

/* A record version a batch of this process deferred, and in how many batches in a row. */
typedef struct {
    int64_t record_id;
    int32_t version;
    int times;
} linkage_deferral_t;

typedef struct {
    audit_cache_t *audits;
    unsigned char key[PSEUDONYM_KEY_BYTES];
    link_params_t params;
    term_freq_t *tf; /* params.tf */
    bool params_loaded;
    double params_version; /* the setting params_version when params were loaded */
    /* The key's id (pseudonym_key_id), stamped on every pseudonymised record, and this process
     * as linkage.key_in_use knows it (host:pid:random); both set at the first batch or sweep. */
    char key_id[PSEUDONYM_KEY_ID_LEN + 1];
    char holder[160];
    long long key_heard_ms;    /* when this process last registered its key id (daemon_now_ms) */
    long long conflict_log_ms; /* when it last logged a second key in use */
    /* The re-keying left, for its log: counted whole (O(rows left)) at most every
     * LINKAGE_REKEY_COUNT_MS, the last count less the versions taken since between (recount.h),
     * and the versions this process has taken. */
    recount_t rekey_left;
    long long rekey_taken;
    /* The records the last batch deferred (a blocking key's lock held by another instance's
     * batch: patient_index_try_keys), each taken again in the next batch (stage.h, deferred). */
    linkage_deferral_t *deferred;
    size_t ndeferred;
    long long folded_ms; /* when a batch's commit last folded the quality counts (daemon_now_ms) */
    bool unfolded;       /* a batch or a sweep with work ran since the last fold that succeeded */
} linkage_t;

/* The hooks, with state a linkage_t the caller keeps alive (audits and key set); downstream is
 * "validation". */
stage_ops_t linkage_stage_ops(linkage_t *lk);
/* Whether the quality counts' changes are folded after a commit at now_ms (daemon_now_ms): at
 * most every LINKAGE_FOLD_MS; when lk wrote since its last fold (lk->unfolded), or
 * LINKAGE_FOLD_IDLE_MS after it, or at the first commit. */
bool linkage_fold_due(const linkage_t *lk, long long now_ms);
/* Frees what the stage loaded (the term frequencies) and what it keeps of its batches; not
 * audits. */
void linkage_stage_clear(linkage_t *lk);

#endif
