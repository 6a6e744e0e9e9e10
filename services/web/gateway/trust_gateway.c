/* trust_gateway.c - the trusts' API's requests to ingest (implementation follows) */
#include "trust_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trust_gateway {
    int timeout_s;
};

trust_gateway *trust_gateway_open(const trust_gateway_config *cfg, char *err, size_t errlen)
{
    trust_gateway *gw = calloc(1, sizeof *gw);
    if (!gw)
        snprintf(err, errlen, "out of memory");
    else
        gw->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    return gw;
}

void trust_gateway_close(trust_gateway *gw)
{
    free(gw);
}

static void unavailable(gateway_reply *out)
{
    static const char body[] =
        "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
        "\"status\":503,\"detail\":\"the trusts' gateway is not built yet\"}";
    out->http_status = 503;
    out->body = strdup(body);
    out->body_len = out->body ? strlen(body) : 0;
    out->content_type = "application/problem+json";
}

void trust_gateway_submit(trust_gateway *gw, const char *token, const char *audit,
                          const char *trust, const char *csv, size_t csv_len, gateway_reply *out)
{
    unavailable(out);
}

void trust_gateway_feedback(trust_gateway *gw, const char *token, const char *submission_id,
                            gateway_reply *out)
{
    unavailable(out);
}

void trust_gateway_results(trust_gateway *gw, const char *token, const char *audit,
                           const char *period, gateway_reply *out)
{
    unavailable(out);
}

void trust_gateway_outliers(trust_gateway *gw, const char *token, const char *audit,
                            gateway_reply *out)
{
    unavailable(out);
}

void gateway_reply_free(gateway_reply *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
