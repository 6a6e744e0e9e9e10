/* stage_record.h - the part of a record stage's input every stage reads alike: a stored record
 * row's audit, trust, site and payload, with the audit's definition. A stage's load_sql and
 * backlog_sql put them in columns 3-6, after the key: record_id, version, link_revision, audit,
 * trust, site, payload (as text), then the stage's own columns. */
#ifndef NCAP_STAGE_RECORD_H
#define NCAP_STAGE_RECORD_H

#include <libpq-fe.h>

#include "audit_cache.h"
#include "record.h"
#include "stage.h"

/* The first stage-specific column of a row. */
#define STAGE_RECORD_COLUMNS 7

typedef struct {
    char *audit, *trust, *site;
    ncap_record_t *rec;     /* the payload */
    const audit_def_t *def; /* from the cache: owned by it */
} stage_record_t;

/* Reads columns 3-6 of row of r into out (zeroed first). Returns 0, or -1 with err and the class
 * to quarantine the record under in *class_out: STAGE_ERR_INPUT for a payload that is not a
 * record of its audit (audit_def_check_record: no field the definition does not have),
 * STAGE_ERR_DEFINITION when the audit's definition does not load. out is cleared on failure. */
int stage_record_read(stage_record_t *out, audit_cache_t *audits, const PGresult *r, int row,
                      stage_error_t *class_out, char *err, size_t errlen);
void stage_record_clear(stage_record_t *rec);

#endif
