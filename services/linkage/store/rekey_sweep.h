/* rekey_sweep.h - step 4 of linkage's sweep (after the death sweep's three, death_sweep.h):
 * rotating the pseudonymisation key. A pseudonym is HMAC-SHA-256 of the patient id under the key
 * of the ncap-linkd that wrote it (pseudonym.h), and every row of linkage.pseudo_record says which
 * key that was (key_id, migration 0024). After the key file is replaced, the records linked from
 * then on get pseudonyms under the new key; this step brings those pseudonymised before after
 * them, so that a patient is one pseudonym again, for validation's history rules too:
 *
 *   4. rekey_sweep_run takes up to limit record versions whose key_id is not the running key's
 *      (NULL: written before 0024), computes each one's pseudonym under the running key from its
 *      link, and stores it with the running key id. The latest version of a record whose
 *      pseudonym changed has its revision counted up and is passed on as a link revision
 *      (validation, metric and publish take it again); a superseded version, or one whose
 *      pseudonym is already the running key's (a row from before 0024), is only stamped.
 *
 * The choice is by state, not by event: a kill at any point leaves the rows not yet stamped for
 * the next sweep, and a batch that is done is never done again (idempotent). Run by the one
 * instance holding linkage's sweep lock, in a transaction of the caller's, only when the death
 * sweep has nothing left. Nothing in a release changes: releases hold no pseudonyms.
 *
 * Two processes with different keys at once would turn records back and forth. Each registers its
 * key id in linkage.key_in_use (rekey_sweep_register); the sweep does not re-key while another key
 * id has been heard, from a process since this one started, within the last minute
 * (rekey_sweep_conflict). */
#ifndef NCAP_REKEY_SWEEP_H
#define NCAP_REKEY_SWEEP_H

#include <libpq-fe.h>
#include <stddef.h>

#include "pseudonym.h"
#include "stage.h"

typedef struct {
    size_t taken;   /* record versions under another key id */
    size_t revised; /* of those, latest versions given a new pseudonym: passed on */
} rekey_sweep_counts_t;

/* Says in linkage.key_in_use that holder (host:pid:random of this process) runs key_id now.
 * Returns 0, or -1 with err. */
int rekey_sweep_register(PGconn *db, const char *holder, const char *key_id, char *err,
                         size_t errlen);

/* Looks for another key id than key_id heard in the last minute from a process since holder
 * (registered before) started; none when holder is not registered. Returns 1 with that key id in
 * other (17 bytes) and its holder in other_holder, 0 when there is none, -1 with err. Removes rows
 * a day old. */
int rekey_sweep_conflict(PGconn *db, const char *holder, const char *key_id,
                         char other[PSEUDONYM_KEY_ID_LEN + 1], char *other_holder, size_t holderlen,
                         char *err, size_t errlen);

/* Step 4 for up to limit record versions under another key id than key's (key_id its id): appends
 * the key (with the new link revision) of each record revised to out; sets c. Returns 0, or -1
 * with err. */
int rekey_sweep_run(PGconn *db, const unsigned char key[PSEUDONYM_KEY_BYTES], const char *key_id,
                    int limit, stage_keys_t *out, rekey_sweep_counts_t *c, char *err,
                    size_t errlen);

/* How many record versions are under another key id than key_id (NULL ones included), counted up
 * to bound (0: all): two index ranges (0024), O(rows counted: 106 ms for 2,000,000 index entries
 * all visible, more while a rotation rewrites them). Returns the count, or -1 with err. */
long long rekey_sweep_remaining(PGconn *db, const char *key_id, long long bound, char *err,
                                size_t errlen);

#endif
