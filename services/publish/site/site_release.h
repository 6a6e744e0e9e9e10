/* site_release.h - what the portal is drawn from: the release folder tree on disk, as publish and
 * `ncap release build` write it (services/publish/release_files.h). For each audit its periods
 * (folders holding latest.json), and its latest period read whole: the metrics and provenance of
 * latest.json, the rows of latest.csv, the run charts of spc.csv and spc_summary.csv. Nothing
 * else is read: the portal shows exactly what the files say. */
#ifndef NCAP_SITE_RELEASE_H
#define NCAP_SITE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "funnel.h"
#include "site_csv.h"

typedef enum {
    SITE_KIND_PROPORTION,
    SITE_KIND_RATIO,
    SITE_KIND_MEDIAN,
    SITE_KIND_MEAN
} site_kind_t;
typedef enum { SITE_POLARITY_NONE, SITE_POLARITY_HIGHER, SITE_POLARITY_LOWER } site_polarity_t;

typedef struct {
    char *id, *label;
    site_kind_t kind;
    site_polarity_t polarity;
    funnel_od_t overdispersion;
    bool has_funnel; /* latest.json's funnel: target, phi, tau2, adjusted */
    double target, phi, tau2;
    bool adjusted;
} site_metric_t;

/* Columns of latest.csv the portal uses, resolved by name once. */
typedef enum {
    RC_LEVEL,
    RC_AREA_CODE,
    RC_AREA_NAME,
    RC_PARENT,
    RC_METRIC,
    RC_BREAKDOWN,
    RC_CATEGORY,
    RC_NUMERATOR,
    RC_DENOMINATOR,
    RC_VALUE,
    RC_LOWER95,
    RC_UPPER95,
    RC_ENGLAND,
    RC_COMPARED,
    RC_OUTLIER,
    RC_NOTE,
    RC_EXPECTED,
    RC_N
} site_rcol_t;

/* spc.csv's and spc_summary.csv's columns. */
typedef enum {
    PC_METRIC,
    PC_LEVEL,
    PC_AREA_CODE,
    PC_MONTH,
    PC_DENOMINATOR,
    PC_VALUE,
    PC_MEAN,
    PC_LPL,
    PC_UPL,
    PC_POINT_TYPE,
    PC_N
} site_pcol_t;
typedef enum {
    SC_METRIC,
    SC_LEVEL,
    SC_AREA_CODE,
    SC_N,
    SC_VARIATION,
    SC_ASSURANCE,
    SC_COUNT
} site_scol_t;

typedef struct {
    char *audit;    /* the folder's name */
    char **periods; /* every period with a latest.json, in order (the last is the latest) */
    size_t n_periods;
    bool earlier;  /* period is not the latest: its pages sit in audit/<audit>/<period>/ */
    char **finals; /* final/<year>/<period> paths with a release.json, in order */
    size_t n_finals;
    /* the period read: the latest, or an earlier one (site_audit_load) */
    char *period, *audit_name, *speciality, *status, *created_at, *dataset_version, *built_by;
    long long revision; /* 0: none (an offline build) */
    long long records;
    int min_count; /* disclosure: suppressed counts are below it; 0 unknown */
    site_metric_t *metrics;
    size_t n_metrics;
    site_csv_t rows; /* latest.csv */
    int rcol[RC_N];
    site_csv_t spc, spc_summary; /* empty when absent */
    int pcol[PC_N], scol[SC_COUNT];
    bool has_fingertips, has_spc;
} site_audit_t;

typedef struct {
    site_audit_t *audits; /* by folder name */
    size_t n_audits;
} site_tree_t;

/* Reads every audit under releases_dir (a folder holding at least one <period>/latest.json;
 * the site's own folder and dot-folders are skipped). Returns 0 or -1 with err naming the file. */
int site_tree_load(const char *releases_dir, site_tree_t *tree, char *err, size_t errlen);
void site_tree_free(site_tree_t *tree);

/* The periods before the latest that have pages of their own (the audit's page and its metrics'
 * under audit/<audit>/<period>/): the latest eight, two years of quarters. An earlier one's files
 * are linked from the audit's page. The site is written again after each round of releases, so
 * its pages are bounded by the audits, not by the years they have run. */
#define SITE_EARLIER_PAGES 8

/* Reads audit's period (NULL: the latest) under releases_dir into a, as site_tree_load reads
 * each audit's latest. Returns 0, or -1 with err naming the file (site_audit_free frees a
 * either way). */
int site_audit_load(const char *releases_dir, const char *audit, const char *period,
                    site_audit_t *a, char *err, size_t errlen);
/* Whether a's period i has pages of its own (one of the SITE_EARLIER_PAGES before the latest). */
bool site_period_has_pages(const site_audit_t *a, size_t i);

/* Takes latest.csv's bytes as a's rows (its columns resolved by name). Returns 0 or -1 with err.
 * load uses it; so do tests, with an audit made in memory. */
int site_audit_set_rows(site_audit_t *a, const char *csv, size_t len, char *err, size_t errlen);
/* Frees what a holds. */
void site_audit_free(site_audit_t *a);
/* A row's cell of latest.csv. */
const char *site_row(const site_audit_t *a, size_t row, site_rcol_t col);
/* The metric of id, or NULL. */
const site_metric_t *site_metric_find(const site_audit_t *a, const char *id);
/* The name of an area of level (e.g. a region's "London" for "Y56") from its rows; code when it
 * has none. */
const char *site_area_name(const site_audit_t *a, const char *level, const char *code);
/* Whether a row's note says it is suppressed. */
bool site_row_suppressed(const site_audit_t *a, size_t row);
/* Whether s is safe as a file name of a page (letters, digits, '_' and '-', 1-64 bytes). */
bool site_safe_name(const char *s);

#endif
