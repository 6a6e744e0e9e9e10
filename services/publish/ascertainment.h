/* ascertainment.h - case ascertainment (README.md, "ascertainment.csv"): per trust and period, the
 * records a release counts (valid, with a period: metric.aggregate's metric '') against the cases
 * another source expected (publish.expected_cases, `ncap refdata load expected`), rated against
 * the definition's ascertainment_threshold. Sums only, never a record. */
#ifndef NCAP_ASCERTAINMENT_H
#define NCAP_ASCERTAINMENT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit_cache.h"

#define ASCERTAINMENT_HEADER "audit,period,trust,records,expected,ascertainment,threshold,rating"

/* audit period's ascertainment.csv (malloc'd, into *out): a row per trust with expected cases, by
 * code; ascertainment records / expected (6 decimal places, empty for 0 expected); rating `meets`
 * (at or above threshold), `below`, or empty without a threshold (has_threshold false) or an
 * ascertainment. Returns the rows, or -1 with err. */
int ascertainment_csv(PGconn *db, const char *audit, const char *period, bool has_threshold,
                      double threshold, char **out, char *err, size_t errlen);
/* Writes ascertainment.csv into out_dir/<audit>/<period>/ for each period published with expected
 * cases whose content changed (period_export.h). Returns the files written, or -1 with err. */
int ascertainment_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                         size_t errlen);

#endif
