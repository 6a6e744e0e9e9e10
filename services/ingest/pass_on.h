/* pass_on.h - the record versions a committed submission stored, nudged on to linkage: keys only
 * (nudge.h), linkage reads each record from ingest.raw_record. The fast path only: a nudge the
 * pusher cannot take at once is dropped, and linkage finds that version in PostgreSQL anyway. */
#ifndef NCAP_PASS_ON_H
#define NCAP_PASS_ON_H

#include <stddef.h>

#include "ingest_store.h"
#include "pusher.h"

/* Nudges linkage with versions res->stored[from .. from + max) (fewer at the end). Call it only
 * after the commit. Returns the index after the last one sent: res->n_stored when every version
 * has been passed on. Runs on the thread that owns pusher. */
size_t pass_on(pusher_t *pusher, const ingest_result_t *res, size_t from, size_t max);

#endif
