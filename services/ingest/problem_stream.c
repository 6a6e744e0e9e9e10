/* problem_stream.c - COPY ingest.problem FROM STDIN, fed by the parse */
#include "problem_stream.h"

#include <stdio.h>

int problem_stream_begin(problem_stream_t *ps, PGconn *db, int64_t submission_id, char *err,
                         size_t errlen)
{
    snprintf(ps->sid, sizeof ps->sid, "%lld", (long long)submission_id);
    return store_copy_begin(&ps->copy, db,
                            "COPY ingest.problem (submission_id, row_number, field, rule, "
                            "severity, message, occurrences, first_rows) FROM STDIN",
                            err, errlen);
}

int problem_stream_put(void *ctx, const submission_problem_t *p)
{
    problem_stream_t *ps = ctx;
    if (ps->copy.failed)
        return -1;
    strbuf_t *b = &ps->copy.buf;
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
    return store_copy_sent(&ps->copy);
}

int problem_stream_end(problem_stream_t *ps, int ok, char *err, size_t errlen)
{
    return store_copy_end(&ps->copy, ok, "problems", err, errlen);
}
