/* validation_stage.h - what ncap-validated does with a batch of ncap.v1.PseudoRecord messages
 * (stage.h's process and backlog), apart from the daemon around it, so that tests drive it on a
 * real PostgreSQL. A record version is taken when validation holds none of it or holds an older
 * link revision (envelope.link_revision): then its row and its problems are replaced. */
#ifndef NCAP_VALIDATION_STAGE_H
#define NCAP_VALIDATION_STAGE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_cache.h"
#include "stage.h"

typedef struct {
    audit_cache_t *audits;
} validation_t;

/* stage_ops_t.process: state is a validation_t. */
int validation_process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out,
                       char *err, size_t errlen);
/* stage_ops_t.backlog: linkage's records (or link revisions) validation does not hold yet. */
int validation_backlog(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in,
                       char *err, size_t errlen);

#endif
