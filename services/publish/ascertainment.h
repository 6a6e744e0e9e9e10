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

/* One trust's row: its records in the period and the cases expected. */
typedef struct {
    const char *trust;
    long long records, expected;
} ascertainment_row_t;

/* The text of ascertainment.csv (malloc'd; NULL when out of memory) from rows given in trust code
 * order (bytes): what both the daemon and `ncap release build` write. */
char *ascertainment_text(const char *audit, const char *period, const ascertainment_row_t *rows,
                         size_t n, bool has_threshold, double threshold);
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
