/* quarantine.h - records a stage could not process (DESIGN.md invariant 6): kept in
 * <stage>.quarantine of the stage's own schema, left out of its backlog while held, counted in
 * `ncap status`, listed and released by `ncap quarantine`. The runtime writes them (stage.h); the
 * stages' load and backlog queries leave out what is held. */
#ifndef NCAP_QUARANTINE_H
#define NCAP_QUARANTINE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "stage.h"

/* The stages that quarantine, in flow order. */
#define QUARANTINE_STAGES 3
extern const char *const quarantine_stages[QUARANTINE_STAGES];
/* True when name is one of them. */
bool quarantine_stage_known(const char *name);

/* The records held in a stage's quarantine (the schema: a printf %s), counted up to $1 rows
 * (NULL: every one): a definition that fails every record of an audit holds them all, and a
 * count of them whole would grow with them. A scalar subquery. */
#define QUARANTINE_HELD_COUNT_SQL                                                                  \
    "(SELECT count(*) FROM (SELECT 1 FROM %s.quarantine WHERE held LIMIT $1::bigint) q)"

/* Inside the transaction of batch b of stage: a row for each failed item (a second failure counts
 * an attempt and holds it again), and the release of each stored one (not of one deferred:
 * stage.h). Returns 0, or -1 with err. */
int quarantine_write(PGconn *db, const char *stage, const stage_batch_t *b, char *err,
                     size_t errlen);

/* One quarantined record, as listed. */
typedef struct {
    char stage[16];
    long long record_id;
    int version, link_revision;
    char audit[40], trust[16];
    char error_class[16], sqlstate[6];
    const char *message; /* valid during the call it is handed to */
    char first_seen[32], last_seen[32];
    int attempts;
    bool held;
} quarantine_row_t;

/* Hands each quarantined record of stage (NULL: every stage) and audit (NULL: every audit), by
 * stage then first seen, to each(ctx, row), read through a cursor a chunk at a time in a
 * read-only transaction of its own: a million quarantined take the memory of one chunk. Returns
 * how many were handed on, or -1 with err. */
long long quarantine_list(PGconn *db, const char *stage, const char *audit,
                          void (*each)(void *ctx, const quarantine_row_t *row), void *ctx,
                          char *err, size_t errlen);

/* The quarantined records of a stage, an audit, an error class and a SQLSTATE, together. */
typedef struct {
    char stage[16], audit[40], error_class[16], sqlstate[6];
    long long records, held, trusts; /* records, still held (not released), distinct trusts */
    char first_seen[32], last_seen[32];
    long long messages; /* distinct errors */
    char *message;      /* the most common error (owned) */
} quarantine_group_t;

typedef struct {
    quarantine_group_t *groups;
    size_t n;
} quarantine_summary_t;

/* The quarantined records of stage (NULL: every stage) and audit (NULL: every audit) in groups
 * of stage, audit, error class and SQLSTATE, by stage then the most records first: what a
 * definition that fails every record of an audit makes one line, where quarantine_list makes one
 * a record. Returns 0, or -1 with err. */
int quarantine_summary(PGconn *db, const char *stage, const char *audit, quarantine_summary_t *out,
                       char *err, size_t errlen);
void quarantine_summary_free(quarantine_summary_t *s);

/* Releases the quarantined records of stage (NULL: every stage): all of them, or those whose record
 * ids are given, so that the stage takes them again. Returns how many were released, or -1 with
 * err. */
long long quarantine_retry(PGconn *db, const char *stage, const long long *record_ids, size_t n,
                           bool all, char *err, size_t errlen);

#endif
