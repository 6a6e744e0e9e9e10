/* web_problem.c - RFC 9457 problem details */
#include "web_problem.h"

#include <jansson.h>
#include <stdlib.h>

static const struct {
    int status;
    const char *title, *slug;
} statuses[] = {
    {400, "Bad Request", "bad-request"},
    {401, "Unauthorized", "unauthorized"},
    {403, "Forbidden", "forbidden"},
    {404, "Not Found", "not-found"},
    {405, "Method Not Allowed", "method-not-allowed"},
    {406, "Not Acceptable", "not-acceptable"},
    {408, "Request Timeout", "request-timeout"},
    {409, "Conflict", "conflict"},
    {411, "Length Required", "length-required"},
    {413, "Content Too Large", "body-too-large"},
    {414, "URI Too Long", "uri-too-long"},
    {415, "Unsupported Media Type", "unsupported-media-type"},
    {422, "Unprocessable Content", "unprocessable-content"},
    {429, "Too Many Requests", "too-many-requests"},
    {431, "Request Header Fields Too Large", "headers-too-large"},
    {500, "Internal Server Error", "internal-error"},
    {501, "Not Implemented", "not-implemented"},
    {502, "Bad Gateway", "bad-gateway"},
    {503, "Service Unavailable", "unavailable"},
    {504, "Gateway Timeout", "gateway-timeout"},
};
#define N_STATUSES (sizeof statuses / sizeof *statuses)

const char *web_status_title(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (statuses[i].status == status)
            return statuses[i].title;
    return "Error";
}

const char *web_problem_slug(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (statuses[i].status == status)
            return statuses[i].slug;
    return "error";
}

static json_t *text_or(const char *s, const char *fallback)
{
    json_t *j = json_string(s);
    return j ? j : json_string(fallback);
}

int web_problem_json(strbuf_t *out, int status, const char *slug, const char *detail,
                     const char *instance)
{
    char type[128];
    snprintf(type, sizeof type, "urn:ncap:problem:%s", slug ? slug : web_problem_slug(status));
    json_t *o = json_object();
    if (!o)
        return -1;
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "title", json_string(web_status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    /* detail and instance may hold bytes a client sent: json_string refuses invalid UTF-8 */
    if (detail)
        json_object_set_new(o, "detail", text_or(detail, "(detail not valid UTF-8)"));
    if (instance)
        json_object_set_new(o, "instance", text_or(instance, "(path not valid UTF-8)"));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return -1;
    strbuf_append(out, s);
    strbuf_append(out, "\n");
    free(s);
    return out->oom ? -1 : 0;
}
