/* refdata_expected.h - `ncap refdata load expected --audit A FILE`: each trust's expected cases
 * per period, from another source (e.g. hospital episode statistics), for case ascertainment
 * (publish.expected_cases, migration 0026; services/publish/ascertainment.h). */
#ifndef NCAP_REFDATA_EXPECTED_H
#define NCAP_REFDATA_EXPECTED_H

#include <stddef.h>

/* The rows of FILE's text (CSV with the header trust,period,expected): each checked (a trust's
 * 3-character ODS code, a period YYYYQn or YYYY, a whole number of cases >= 0), a bad row
 * reported on standard error with its line and reason and skipped, a (trust, period) given twice
 * kept once (its first row). Returns the good rows in three parallel arrays (malloc'd: trusts and
 * periods point into *strings), their count in *n, the rows skipped in *skipped; -1 with err for a
 * wrong header or out of memory. */
int refdata_expected_parse(const char *data, size_t len, char ***trusts, char ***periods,
                           char ***expected, char **strings, size_t *n, size_t *skipped, char *err,
                           size_t errlen);
/* Loads FILE as the audit's expected cases, replacing the audit's whole set in one transaction.
 * Returns 0 loaded, 1 nothing loaded, 2 a file that cannot be read. */
int refdata_load_expected(const char *audit, const char *path);

#endif
