/* outlier_gate.h - what a release shows of its funnel alarms while their outlier cases go through
 * the process (pure: a release and the cases' states in, the release's rows changed; no SQL). The
 * publish daemon applies it with the published cases of the period (outlier_store.h); `ncap
 * release build` with none, as a fresh deployment would: the same function, so that both give the
 * same bytes for the same case states. */
#ifndef NCAP_OUTLIER_GATE_H
#define NCAP_OUTLIER_GATE_H

#include <stddef.h>

#include "audit_def.h"
#include "benchmark.h"

/* A unit of a case: a metric of a trust or of a site. */
typedef struct {
    const char *metric;
    const char *level; /* "trust" or "site" */
    const char *area_code;
} outlier_unit_t;

/* For an audit with an outlier process (def->outliers.enabled; else nothing changes): every trust
 * or site row flagged alarm_high or alarm_low whose unit is not among published (n of them) shows
 * the alert of the same direction (outlier_public_flag); and every trust or site all row but a
 * published alarm's leaves its 99.8% limits empty (the funnel's and the interval's: beside the
 * value they would give the alarm away, and were they emptied on held alarms only, their absence
 * would). A published alarm's row, and every other row, is left as it is. Cost: O(rows + alarms
 * x n). */
void outlier_gate_release(const audit_def_t *def, benchmark_release_t *rel,
                          const outlier_unit_t *published, size_t n);

/* Whether row is a unit's own row that opens, updates or clears its case: a trust's or site's
 * all row of a metric with a funnel. */
bool outlier_gate_unit_row(const benchmark_row_t *row);

#endif
