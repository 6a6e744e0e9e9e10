/* metric_stage.h - ncap-metricd's side of the stage contract (stage.h): validation's outcomes in,
 * each key metric's contribution of the record computed and stored, apart from the daemon around
 * it so that tests drive it on a real PostgreSQL (stage_run_keys). A record's contributions follow
 * its newest (version, link revision). A valid record whose metric cannot be evaluated is
 * quarantined, never counted as contributing nothing. */
#ifndef NCAP_METRIC_STAGE_H
#define NCAP_METRIC_STAGE_H

#include "audit_cache.h"
#include "stage.h"

typedef struct {
    audit_cache_t *audits;
} metric_t;

/* The hooks, with state a metric_t the caller keeps alive; downstream is "publish". */
stage_ops_t metric_stage_ops(metric_t *ms);

#endif
