/* pass_on.h - the record versions a committed submission stored, sent on to linkage: one
 * ncap.v1.RawRecord each (the envelope and the fields as sent). The fast path only: a message the
 * pusher cannot take at once is dropped, and linkage finds that version in PostgreSQL anyway. */
#ifndef NCAP_PASS_ON_H
#define NCAP_PASS_ON_H

#include <stddef.h>

#include "ingest_store.h"
#include "pusher.h"
#include "submission.h"

/* Sends versions res->stored[from .. from + max) (fewer at the end) of the submission sub of
 * audit and trust, stamped ingested_at_us. Call it only after the commit. Returns the index after
 * the last one sent: res->n_stored when every version has been passed on. Runs on the thread
 * that owns pusher. */
size_t pass_on(pusher_t *pusher, const char *audit, const char *trust, const submission_t *sub,
               const ingest_result_t *res, long long ingested_at_us, size_t from, size_t max);

#endif
