/* feedback_client.h - asks ingest, page by page, for every problem of one of the trust's
 * submissions; each page is asked for only when the previous one has been handed on, so memory
 * stays bounded however many problems there are. */
#ifndef NCAP_FEEDBACK_CLIENT_H
#define NCAP_FEEDBACK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "feedback.h"
#include "ingest_reply.h"

typedef struct {
    /* Called once, before any problem. */
    void (*summary)(void *arg, const feedback_summary_t *s);
    /* Called for each problem in order (row, field, rule); p is valid during the call only. */
    void (*problem)(void *arg, const feedback_problem_t *p);
    void *arg;
} feedback_sink_t;

#define FEEDBACK_NOT_FOUND 1

/* Fetches the feedback on submission_id as trust from the ingest of target to (NULL: where
 * ingest_connect finds it, with the trust's keys when the environment names them). page: problems
 * per reply (0: ingest's default). timeout_s: give up after this long without a reply. Returns 0;
 * FEEDBACK_NOT_FOUND when ingest holds no such submission for trust (err holds its answer); or -1
 * with a message in err. */
int feedback_fetch(const ingest_target_t *to, const char *trust, int64_t submission_id,
                   unsigned page, int timeout_s, const feedback_sink_t *sink, char *err,
                   size_t errlen);

#endif
