/* release.h - a quarterly release's figures from summed contributions (pure): value and 95%
 * Wilson interval per trust and metric, and the national row for each metric. */
#ifndef NCAP_RELEASE_H
#define NCAP_RELEASE_H

#include <stdio.h>

typedef struct {
    char unit_level[12]; /* "trust" or "national" */
    char unit[16];       /* ODS code, or "ENGLAND" */
    char metric[64];
    long long numerator;
    long long denominator;
    int has_value; /* denominator > 0 */
    double value, lower95, upper95;
} release_row_t;

/* Builds the release rows from per-trust sums (in: unit_level ignored, figures unset), adding a
 * national row per metric; sorted trust rows (unit, metric) then national rows (metric).
 * Returns the number of rows written to *out (caller frees), or -1 when out of memory. */
int release_build(const release_row_t *trust_sums, int n, release_row_t **out);
/* CSV with header audit,period,unit_level,unit,metric,numerator,denominator,value,lower95,upper95
 * (RFC 4180, csv.h: a field holding a comma, a quote, CR or LF, or with a space at either end, is
 * quoted, its quotes doubled; the others are written as they are). */
void release_write_csv(FILE *f, const char *audit, const char *period, const release_row_t *rows,
                       int n);
/* Formats a figure as printed in releases (6 decimal places; empty when absent). */
void release_format(char *out, size_t outlen, int has, double v);

#endif
