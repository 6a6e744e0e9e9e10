/* linkage_quality.h - who fails to link (README.md, "linkage_quality.csv"): per audit period, for
 * England, each trust and each site, and by IMD quintile, ethnic group, sex and age band (England
 * and trusts), the records linkage passed on and the shares linked by NHS number, by probabilistic
 * match, left as a singleton and matched to the register of deaths; from linkage's counts
 * (publish.linkage_quality, migration 0027), never a record, with the audit's small-number
 * suppression (disclosure.h). The publish daemon writes it beside each period's releases and
 * `ncap report linkage` prints it, both through linkage_quality_build. */
#ifndef NCAP_LINKAGE_QUALITY_H
#define NCAP_LINKAGE_QUALITY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit_cache.h"

/* The counts of a cell, in the view's order. */
enum {
    LQ_RECORDS,
    LQ_NHS_NUMBER,
    LQ_PROBABILISTIC,
    LQ_SINGLETON,
    LQ_DEATH_MATCHED,
    LQ_WITHHELD,
    LQ_N
};
/* The counts a row shares out of its records: nhs_number .. death_matched. */
#define LQ_SHARES 4

#define LINKAGE_QUALITY_HEADER                                                                     \
    "audit,period,level,area_code,parent_code,breakdown,category,records,nhs_number,"              \
    "probabilistic,singleton,death_matched,share_nhs_number,share_probabilistic,share_singleton,"  \
    "share_death_matched,note"

/* One cell of linkage's counts: breakdown "all" (category ""), "imd_quintile", "ethnicity", "sex",
 * "age". */
typedef struct {
    const char *trust, *site, *breakdown, *category;
    long long n[LQ_N];
} lq_cell_t;

/* A row of the report. A count suppressed (shown[i] false) is printed empty with its share. */
typedef struct {
    const char *level; /* england, trust, site */
    const char *area_code, *parent_code;
    const char *breakdown, *category;
    long long records;
    long long n[LQ_SHARES];
    bool shown[LQ_SHARES];
} lq_row_t;

typedef struct {
    lq_row_t *rows;
    size_t n_rows; /* the rows' strings are the cells' (or literals) */
} lq_report_t;

/* Builds the report of cells[0..n) (their strings borrowed, to outlive the report) with
 * disclosure control at min_count (<= 1: none): every count (each share's numerator over the
 * row's records) is a cell; the groups are a trust's over its sites, England's over the trusts
 * (each category too), an area's all row over each breakdown's categories, and a row's records
 * over its three methods (which sum to it). A trust's category is published from
 * BENCHMARK_TRUST_BREAKDOWN_MIN records up (an unpublished cell protects as benchmark's do); a
 * site has its all row only. Rows: England, the trusts by code, the sites by trust and code; in
 * each, all then the categories (imd_quintile, ethnicity, sex, age; each by name, "unknown"
 * last). Returns 0, or -1 when out of memory. */
int linkage_quality_build(const lq_cell_t *cells, size_t n, long long min_count, lq_report_t *out);
void linkage_quality_free(lq_report_t *r);

/* Reads the cells of audit period from publish.linkage_quality into *cells (malloc'd; strings in
 * *res, PQclear it after the report), their count into *n. Returns 0, or -1 with err. */
int linkage_quality_read(PGconn *db, const char *audit, const char *period, PGresult **res,
                         lq_cell_t **cells, size_t *n, char *err, size_t errlen);

/* Whether row r is England's, trust's or one of trust's sites' (trust NULL: every row is). */
bool linkage_quality_row_wanted(const lq_row_t *r, const char *trust);

/* linkage_quality.csv (LINKAGE_QUALITY_HEADER and a line per row, shares with 6 decimals) and
 * linkage_quality.json ({audit, period, min_count, columns, rows: arrays in the columns' order,
 * null where the CSV is empty}); malloc'd, NULL when out of memory. trust: only England's rows and
 * those of that trust and its sites (NULL: every row). */
char *linkage_quality_csv(const char *audit, const char *period, const lq_report_t *r,
                          const char *trust);
char *linkage_quality_json(const char *audit, const char *period, long long min_count,
                           const lq_report_t *r);

/* Writes linkage_quality.csv and linkage_quality.json into out_dir/<audit>/<period>/ for each
 * period with a release and linkage counts, where the file changed (period_export.h). Returns the
 * files written, or -1 with err. */
int linkage_quality_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                           size_t errlen);

#endif
