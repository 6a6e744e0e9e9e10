/* results_store.h - the SQL behind a trust's `ncap results`: its figures per period, metric and
 * site, summed from what each of its records contributes (metric.contribution, migration 0021),
 * and those records one page at a time. Every query is keyed by the trust: no other trust's
 * record can be read through it.
 *
 * The figures are the sums a release adds up per trust and site (metric.aggregate holds exactly
 * the same sums, cell by cell), before disclosure control; a median's or mean's value is taken
 * over the same records' values as the release's (metric.measure counts them). Cost: one pass
 * over the trust's records in the audit (the index of ingest.record by audit, trust and local id,
 * then each contribution by its primary key). */
#ifndef NCAP_RESULTS_STORE_H
#define NCAP_RESULTS_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"

/* One figure: the trust (site "") or one of its sites, in one period and metric. */
typedef struct {
    const char *period, *metric_id, *site; /* owned by the result */
    bool trust_level;
    long long numerator, denominator, expected_e9, held, missing;
    bool has_value; /* median, mean: the value over the counted records */
    double value;
} results_figure_t;

typedef struct {
    PGresult *result;
    results_figure_t *figures;
    size_t n;
} results_figures_t;

/* One record of one metric (strings owned by the page). */
typedef struct {
    const char *metric_id, *local_id, *site, *period, *date;
    long long numerator, expected_e9;
    int denominator;
    bool has_value, held, missing;
    double value;
} results_record_t;

typedef struct {
    PGresult **results; /* one per metric read */
    size_t n_results;
    results_record_t *records;
    size_t n, cap;
    bool more; /* records follow the last of this page */
} results_page_t;

/* The trust's figures in audit (def), in period ("" every period): by period, metric id (byte
 * order), the trust before its sites, sites by code. n is 0 when the trust has no results there.
 * Returns 0, or -1 with a message in err. */
int results_store_figures(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                          results_figures_t *out, char *err, size_t errlen);
void results_figures_clear(results_figures_t *f);

/* Up to limit of the trust's records after (after_metric, after_local) (NULL: from the start), in
 * the order metric id, local id (byte order), each metric of def in turn. Returns 0, or -1 with a
 * message in err. */
int results_store_page(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                       const char *after_metric, const char *after_local, unsigned limit,
                       results_page_t *page, char *err, size_t errlen);
void results_page_clear(results_page_t *page);

#endif
