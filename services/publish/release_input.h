/* release_input.h - what a release takes from its audit's definition (pure): each metric's
 * settings for benchmark_build and the disclosure rule. The publish daemon and `ncap release
 * build` both take them from here, so that they build the same release. */
#ifndef NCAP_RELEASE_INPUT_H
#define NCAP_RELEASE_INPUT_H

#include "audit_def.h"
#include "benchmark.h"

/* A new array of def's metrics in definition order (strings borrowed from def), or NULL when out of
 * memory. Free with free(). */
benchmark_metric_t *release_input_metrics(const audit_def_t *def);
/* The definition's disclosure: {min_count} (0: none). */
long long release_input_min_count(const audit_def_t *def);

/* The input of benchmark_build for def's release of period: metrics (release_input_metrics) and
 * its disclosure (release_input_min_count), with the cells and organisations given (all
 * borrowed). */
benchmark_input_t release_input_of(const audit_def_t *def, const char *period,
                                   const benchmark_metric_t *metrics, const benchmark_cell_t *cells,
                                   size_t n_cells, const benchmark_org_t *orgs, size_t n_orgs);

/* A trust of the reference data as a release names it: region_name that of the national grouping
 * (nhs_national_grouping_name; NULL for a code not in the list). The strings are borrowed. */
benchmark_org_t release_input_org(const char *code, const char *name, const char *region);

struct json_t; /* jansson's */
/* The provenance latest.json carries (benchmark_json): the audit's name and dataset version, the
 * release's revision (0: none, as `ncap release build` has, written null) and status (NULL: null),
 * its valid records, when it was built (YYYY-MM-DDTHH:MM:SSZ) and by what; for an audit with an
 * outlier process, outlier_process: its days and what the public files show of alarms
 * (outlier_gate.h). A new object, or NULL when out of memory. */
struct json_t *release_input_provenance(const audit_def_t *def, int revision, const char *status,
                                        long long records, const char *created_at,
                                        const char *built_by);

#endif
