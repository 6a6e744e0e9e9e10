/* optout.h - the national data opt-out: a record of an audit the opt-out applies to goes no
 * further when its patient is opted out: its own valid NHS number, or one given in any record
 * linked to the same patient (linkage.block), is in linkage.optout. So a record that came without
 * its NHS number is withheld once it links to an opted-out patient. Only counts are kept
 * (linkage.optout_count, per audit, trust and submission) and the record version is marked
 * processed (linkage.optout_withheld, so that it is not taken again); nothing says which patient,
 * and none of it leaves linkage. */
#ifndef NCAP_OPTOUT_H
#define NCAP_OPTOUT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "optout_rule.h"

/* Sets withheld[i] for each record optout_withholds withholds, looking the numbers up in
 * linkage.optout and linkage.block, and records them (counts once per record version,
 * however often it is seen), inside the caller's transaction. Returns 0, or -1 with err. */
int optout_withhold(PGconn *db, const optout_record_t *recs, size_t n, bool *withheld, char *err,
                    size_t errlen);

#endif
