/* results_client.h - asks ingest, page by page, for a trust's own results in one audit: its
 * figures (with the first page), then its records metric by metric; each page is asked for only
 * when the previous one has been handed on, so memory stays bounded however many records the
 * trust has. */
#ifndef NCAP_RESULTS_CLIENT_H
#define NCAP_RESULTS_CLIENT_H

#include <stddef.h>

#include "ingest_reply.h"
#include "ncap/v1/results.pb-c.h"

typedef struct {
    /* Called for each figure, in order (period, metric, the trust then its sites), before any
     * record; f is valid during the call only. */
    void (*figure)(void *arg, const Ncap__V1__ResultsFigure *f);
    /* Called for each record in order (metric id, local id); valid during the call only. */
    void (*record)(void *arg, const Ncap__V1__ResultsRecord *r);
    void *arg;
} results_sink_t;

#define RESULTS_NOT_FOUND 1

/* Fetches trust's results in audit (period "": every period) from the ingest of target to (NULL:
 * where ingest_connect finds it, with the trust's keys when the environment names them). page:
 * records per reply (0: ingest's default). Returns 0; RESULTS_NOT_FOUND when the trust has no
 * results there (err holds ingest's answer); or -1 with a message in err. */
int results_fetch(const ingest_target_t *to, const char *trust, const char *audit,
                  const char *period, unsigned page, int timeout_s, const results_sink_t *sink,
                  char *err, size_t errlen);

#endif
