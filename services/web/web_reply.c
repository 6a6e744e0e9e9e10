/* web_reply.c - a request's answer as plain values */
#include "web_reply.h"

#include <string.h>
#include <unistd.h>

#include "web_problem.h"

void web_reply_init(web_reply_t *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->status = 200;
}

void web_reply_free(web_reply_t *r)
{
    strbuf_free(&r->body);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void web_reply_problem(web_reply_t *r, int status, const char *slug, const char *detail,
                       const char *instance)
{
    char allow[sizeof r->allow];
    memcpy(allow, r->allow, sizeof allow);
    const char *own = r->instance;
    web_reply_free(r);
    web_reply_init(r);
    r->instance = own;
    if (status == 405) /* 405 keeps its Allow */
        memcpy(r->allow, allow, sizeof allow);
    r->status = status;
    r->content_type = WEB_PROBLEM_TYPE;
    r->cache_control = "no-store";
    web_problem_json(&r->body, status, slug, detail, instance ? instance : own);
}
