/* pipeline_status.h - each stage's live instances, processed records, backlog and recent rate,
 * read from PostgreSQL (where the truth is). */
#ifndef NCAP_PIPELINE_STATUS_H
#define NCAP_PIPELINE_STATUS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define PIPELINE_STAGES 5

/* The stages in flow order: ingest, linkage, validation, metric, publish. */
extern const char *const pipeline_stage_names[PIPELINE_STAGES];

typedef struct {
    const char *name;
    long long instances;
    long long processed;
    long long backlog;     /* what upstream holds that the stage has not taken, but quarantined */
    bool backlog_more;     /* counted up to the bound: there is more than backlog */
    long long quarantined; /* held in the stage's quarantine (ncap quarantine list) */
    bool quarantined_more; /* counted up to the bound: there are more than quarantined */
    double rate;           /* records per second over the last minute */
} stage_status_t;

/* What `ncap status` counts of each part of a backlog (the rows after the watermark, the re-keying
 * left, each of the three queues of linkage's death sweep) and of each quarantine unless asked for
 * every row (--exact): about 0.2 s a part at most. */
#define PIPELINE_STATUS_BOUND 100000

/* Fills the five stages in flow order, each backlog after its watermark counted up to bound rows
 * in each of its parts (0: every row; a count is O(rows counted), and a stage far behind has
 * millions: `ncap wait`, which asks only whether any is left, passes 1). A part with more than
 * bound rows counts bound, and sets its stage's backlog_more; likewise the records held in a
 * quarantine, and quarantined_more. Returns 0 or -1 with err. */
int pipeline_status_read(PGconn *db, long long bound, stage_status_t out[PIPELINE_STAGES],
                         char *err, size_t errlen);

#endif
