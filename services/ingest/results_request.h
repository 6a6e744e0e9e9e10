/* results_request.h - ingest's answer to a trust's `ncap results` (ncap.v1.ResultsRequest): the
 * trust's own figures per period, metric and site before disclosure control, with the first page
 * of its records; each later request the next page (results_store.h). The connection's trust is
 * decided by the server (caller_trust) and checked by the gate (request_gate_results) first; a
 * trust without results in the audit gets "no results for trust T in audit A", whatever other
 * trusts hold. */
#ifndef NCAP_RESULTS_REQUEST_H
#define NCAP_RESULTS_REQUEST_H

#include <libpq-fe.h>

#include "audit_cache.h"
#include "ncap/v1/results.pb-c.h"
#include "results_store.h"

/* The first frame of a results request: the message's full protobuf name. */
#define INGEST_RESULTS_REQUEST_TYPE (ncap__v1__results_request__descriptor.name)
#define INGEST_RESULTS_PAGE 1000 /* records per reply: about 100 KB */
/* Figures one first reply may carry (periods x metrics x sites, about 60 bytes each); more: the
 * trust is asked to name a period. */
#define INGEST_RESULTS_MAX_FIGURES 100000

/* The reply, and the storage its fields point into. */
typedef struct {
    Ncap__V1__ResultsReply reply;
    char msg[1024];
    results_figures_t figures;
    results_page_t page;
    Ncap__V1__ResultsFigure *fig_cells, **fig_ptrs;
    Ncap__V1__ResultsRecord *rec_cells, **rec_ptrs;
} results_answer_t;

/* Where the answer reads: db(arg) gives the connection (reconnecting when it was lost). */
typedef struct {
    PGconn *(*db)(void *arg);
    void *arg;
    audit_cache_t *audits;
} results_source_t;

/* Answers req from a connection speaking for trust (NULL: not authenticated as the trust it
 * states) into out, whose reply the caller packs and sends, then clears. A database failure is
 * logged and answered as "ask again later". */
void results_request_answer(const results_source_t *src, const Ncap__V1__ResultsRequest *req,
                            const char *trust, results_answer_t *out);
void results_answer_clear(results_answer_t *a);

#endif
