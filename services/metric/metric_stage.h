/* metric_stage.h - what ncap-metricd does with a batch of ncap.v1.ValidatedRecord messages
 * (stage.h's process and backlog), apart from the daemon around it, so that tests drive it on a
 * real PostgreSQL. A record's contributions follow its newest (version, link revision). */
#ifndef NCAP_METRIC_STAGE_H
#define NCAP_METRIC_STAGE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_cache.h"
#include "stage.h"

typedef struct {
    audit_cache_t *audits;
} metric_t;

/* stage_ops_t.process: state is a metric_t. */
int metric_process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out, char *err,
                   size_t errlen);
/* stage_ops_t.backlog: validation's records (or link revisions) metric has not taken in. */
int metric_backlog(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in, char *err,
                   size_t errlen);

#endif
