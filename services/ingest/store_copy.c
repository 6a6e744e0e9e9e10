/* store_copy.c - a strbuf sent through PQputCopyData when it is full */
#include "store_copy.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

int store_copy_begin(store_copy_t *c, PGconn *db, const char *sql, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    strbuf_init(&c->buf);
    return db_copy_begin(db, sql, err, errlen);
}

static int flush(store_copy_t *c)
{
    if (c->buf.oom || (c->buf.len && db_copy_put(c->db, c->buf.s, c->buf.len) != 0))
        c->failed = 1;
    strbuf_reset(&c->buf);
    return c->failed ? -1 : 0;
}

int store_copy_sent(store_copy_t *c)
{
    if (c->failed)
        return -1;
    return c->buf.oom || c->buf.len >= STORE_COPY_FLUSH_BYTES ? flush(c) : 0;
}

int store_copy_end(store_copy_t *c, int ok, const char *what, char *err, size_t errlen)
{
    if (ok && !c->failed)
        flush(c);
    int failed = c->failed, oom = c->buf.oom;
    strbuf_free(&c->buf);
    int rc = db_copy_end(c->db, ok && !failed, err, errlen);
    if (failed && ok)
        snprintf(err, errlen, "could not send the %s: %s", what,
                 oom ? "out of memory" : PQerrorMessage(c->db));
    return ok && !failed ? rc : -1;
}
