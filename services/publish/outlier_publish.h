/* outlier_publish.h - the outlier process in ncap-publishd: the two calls publish_stage.c makes.
 * Audits without `outliers:` in their definition are left alone (no cases, flags as they are). */
#ifndef NCAP_OUTLIER_PUBLISH_H
#define NCAP_OUTLIER_PUBLISH_H

#include <libpq-fe.h>

#include "audit_cache.h"
#include "audit_def.h"
#include "benchmark.h"

/* On a release just built (before its files are made): opens, updates or clears the cases of its
 * flagged units (outlier_store_release), then holds back the alarms of the units whose case is
 * not published yet (outlier_gate_release). Returns 0 or -1 with err. */
int outlier_publish_release(PGconn *db, const audit_def_t *def, const char *audit,
                            const char *period, benchmark_release_t *rel, char *err, size_t errlen);

/* On each periodic round: moves the cases past their deadline on and writes the audit team's
 * outliers.csv that changed (outlier_store_export, under outlier_team_dir(out_dir)). Returns the
 * (audit, period) pairs whose release must be rebuilt because a case there was published, or NULL
 * with err. */
PGresult *outlier_publish_tick(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                               size_t errlen);

#endif
