/* validation_stage.h - ncap-validated's side of the stage contract (stage.h): linkage's
 * pseudonymised records in, the audit's dataset rules applied, outcomes and problems stored, apart
 * from the daemon around it so that tests drive it on a real PostgreSQL (stage_run_keys).
 * A record version is taken when validation holds none of it or an older link revision: then its
 * row and its problems are replaced. */
#ifndef NCAP_VALIDATION_STAGE_H
#define NCAP_VALIDATION_STAGE_H

#include "audit_cache.h"
#include "stage.h"

typedef struct {
    audit_cache_t *audits;
} validation_t;

/* The hooks, with state a validation_t the caller keeps alive; downstream is "metric". */
stage_ops_t validation_stage_ops(validation_t *vs);

#endif
