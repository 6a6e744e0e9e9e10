/* contribution.h - what one valid record adds to each key metric of its audit (pure) */
#ifndef NCAP_CONTRIBUTION_H
#define NCAP_CONTRIBUTION_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"
#include "record.h"

/* The metric id under which metric.contribution and metric.aggregate count a valid record with a
 * period once, whatever its metrics (numerator 0, denominator 1): a release's record count, kept
 * as a sum rather than recounted. No metric of a definition has an empty id. */
#define CONTRIBUTION_RECORDS ""

/* The metric id under which metric counts a record whose validation failed, once, when it has a
 * period (numerator 0, denominator 1, breakdown "all" only): the selection ledger's rejected
 * count of a release (services/publish's BENCHMARK_REJECTED, the same id). */
#define CONTRIBUTION_REJECTED "!rejected"

/* Fixed point for expected values: a record's expected value is kept as llround(e x 1e9), so that
 * sums are exact and the same whatever the order they are added in (a release is byte-identical
 * however its records arrived). */
#define CONTRIBUTION_EXPECTED_SCALE 1000000000.0

typedef struct {
    const char *metric_id; /* borrowed from the definition */
    /* proportion: 0 or 1; ratio: the observed count (>= 0); median and mean: 0 */
    long long numerator;
    /* 0 or 1: the record counts in the metric's figures (proportion: in the denominator; ratio: in
     * the denominator with an expected value; median and mean: in the denominator with a value),
     * 0 when it is held or missing */
    int denominator;
    long long expected_e9; /* ratio: the expected value x CONTRIBUTION_EXPECTED_SCALE */
    bool has_value;        /* median and mean: value holds the record's value */
    double value;
    /* in the denominator but left out of the figures: held, its follow-up not complete yet
     * (follow_up_days past the coverage of the register of deaths); missing, a risk model's input
     * (ratio) or the value (median, mean) is null */
    bool held;
    bool missing;
} contribution_t;

/* Works out rec's period (the quarter of the definition's period field, "" when it has none), its
 * month ("YYYY-MM", "" likewise) and, for each metric whose denominator the record is in, its
 * contribution. out needs room for def->n_metrics entries. Returns the number written, or -1 with
 * err when an expression fails. */
int contribution_compute(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                         char month[8], contribution_t *out, char *err, size_t errlen);

#endif
