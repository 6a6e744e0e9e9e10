/* outlier_client.h - a trust's outlier requests to ingest (ncap.v1.OutlierRequest, over the same
 * authenticated channel as `ncap feedback`): its cases, one case with its records' local ids, its
 * response to a case. */
#ifndef NCAP_OUTLIER_CLIENT_H
#define NCAP_OUTLIER_CLIENT_H

#include <stddef.h>

#include "ingest_reply.h"
#include "ncap/v1/outlier.pb-c.h"

/* Sends req (its trust speaking) to the ingest of target to (NULL: where ingest_connect finds it,
 * with the trust's keys when the environment names them), with the target's bearer token, and waits
 * up to timeout_s for the reply, in *rep (free with ncap__v1__outlier_reply__free_unpacked).
 * Returns 0, or -1 with err. */
int outlier_client_call(const ingest_target_t *to, const Ncap__V1__OutlierRequest *req,
                        int timeout_s, Ncap__V1__OutlierReply **rep, char *err, size_t errlen);

#endif
