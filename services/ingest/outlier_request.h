/* outlier_request.h - a trust's outlier request answered from PostgreSQL (after
 * request_gate_outlier let it through): its cases from the time it was notified, one case with the
 * local ids of its records in the case's denominator, or its response taken (the case moves to
 * trust_responded; every response is kept). A trust never learns of another trust's case: a case id
 * that is not its own is answered as one that does not exist. */
#ifndef NCAP_OUTLIER_REQUEST_H
#define NCAP_OUTLIER_REQUEST_H

#include <libpq-fe.h>
#include <stddef.h>

#include "ncap/v1/outlier.pb-c.h"

/* What a reply points into, freed by outlier_answer_clear once the reply is sent. */
typedef struct {
    PGresult *cases, *ids;
    Ncap__V1__OutlierCase *cells;
    Ncap__V1__OutlierCase **ptrs;
    char **local_ids;
    char msg[160]; /* an ERROR's message */
} outlier_answer_t;

/* Answers req for trust (authenticated) into rep (initialised by the caller; its strings point
 * into a): kind OK with the cases (and ids), or NOT_FOUND with not_found as its error, or ERROR
 * with a message for the trust when the case takes no response in its state. Returns 0, or -1
 * with err on a database error (for the log, not the trust). */
int outlier_request_answer(PGconn *db, const Ncap__V1__OutlierRequest *req, const char *trust,
                           const char *not_found, Ncap__V1__OutlierReply *rep, outlier_answer_t *a,
                           char *err, size_t errlen);
void outlier_answer_clear(outlier_answer_t *a);

#endif
