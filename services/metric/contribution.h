/* contribution.h - what one valid record adds to each key metric of its audit (pure) */
#ifndef NCAP_CONTRIBUTION_H
#define NCAP_CONTRIBUTION_H

#include <stddef.h>

#include "audit_def.h"
#include "record.h"

/* The metric id under which metric.contribution and metric.aggregate count a valid record with a
 * period once, whatever its metrics (numerator 0, denominator 1): a release's record count, kept
 * as a sum rather than recounted. No metric of a definition has an empty id. */
#define CONTRIBUTION_RECORDS ""

typedef struct {
    const char *metric_id; /* borrowed from the definition */
    int numerator;         /* 0 or 1 */
    int denominator;       /* 0 or 1 */
} contribution_t;

/* Works out rec's period (the quarter of the definition's period field, "" when it has none) and,
 * for each metric whose denominator the record is in, its contribution. out needs room for
 * def->n_metrics entries. Returns the number written, or -1 with err when an expression fails. */
int contribution_compute(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                         contribution_t *out, char *err, size_t errlen);

#endif
