/* problem_stream.c - COPY ingest.problem FROM STDIN, fed by the parse */
#include "problem_stream.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

int problem_stream_begin(problem_stream_t *ps, PGconn *db, int64_t submission_id, char *err,
                         size_t errlen)
{
    memset(ps, 0, sizeof *ps);
    ps->db = db;
    snprintf(ps->sid, sizeof ps->sid, "%lld", (long long)submission_id);
    strbuf_init(&ps->buf);
    return db_copy_begin(db,
                         "COPY ingest.problem (submission_id, row_number, field, rule, severity, "
                         "message, occurrences, first_rows) FROM STDIN",
                         err, errlen);
}

static int flush(problem_stream_t *ps)
{
    if (ps->buf.oom || (ps->buf.len && db_copy_put(ps->db, ps->buf.s, ps->buf.len) != 0))
        ps->failed = 1;
    strbuf_reset(&ps->buf);
    return ps->failed ? -1 : 0;
}

int problem_stream_put(void *ctx, const submission_problem_t *p)
{
    problem_stream_t *ps = ctx;
    if (ps->failed)
        return -1;
    strbuf_t *b = &ps->buf;
    strbuf_appendf(b, "%s\t%d\t", ps->sid, p->row);
    strbuf_copy_field(b, p->field);
    strbuf_append(b, "\t");
    strbuf_copy_field(b, p->rule);
    strbuf_append(b, "\t");
    strbuf_copy_field(b, p->severity);
    strbuf_append(b, "\t");
    strbuf_copy_field(b, p->message);
    strbuf_appendf(b, "\t%u\t", p->count ? p->count : 1);
    if (p->n_rows) {
        strbuf_append(b, "{");
        for (size_t i = 0; i < p->n_rows; i++)
            strbuf_appendf(b, i ? ",%d" : "%d", p->rows[i]);
        strbuf_append(b, "}\n");
    } else {
        strbuf_append(b, "\\N\n");
    }
    return b->oom || b->len >= PROBLEM_STREAM_FLUSH_BYTES ? flush(ps) : 0;
}

int problem_stream_end(problem_stream_t *ps, int ok, char *err, size_t errlen)
{
    if (ok && !ps->failed)
        flush(ps);
    int failed = ps->failed;
    strbuf_free(&ps->buf);
    int rc = db_copy_end(ps->db, ok && !failed, err, errlen);
    if (failed && ok)
        snprintf(err, errlen, "could not send the problems: %s", PQerrorMessage(ps->db));
    return ok && !failed ? rc : -1;
}
