/* feedback_store.c - the SQL behind a trust's feedback: ownership, progress, problems by page */
#include "feedback_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

int feedback_store_find(PGconn *db, int64_t submission_id, const char *trust, int with_counts,
                        feedback_summary_t *summary, char *err, size_t errlen)
{
    memset(summary, 0, sizeof *summary);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)submission_id);
    const char *p[] = {sid, trust, with_counts ? "t" : "f"};
    /* The trust is part of the key: another trust's submission is simply not found. */
    PGresult *r = db_query(
        db,
        "SELECT s.audit, s.trust, s.filename,"
        " to_char(s.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " s.rows, s.accepted, s.unchanged, s.rejected, v.validated, v.rejected_validation,"
        " c.errors, c.warnings, c.withheld"
        " FROM ingest.submission s LEFT JOIN LATERAL ("
        "  SELECT count(*) AS validated, count(*) FILTER (WHERE NOT valid) AS rejected_validation"
        "  FROM validation.record WHERE submission_id = s.submission_id) v ON $3::bool"
        " LEFT JOIN LATERAL ("
        "  SELECT coalesce(sum(n) FILTER (WHERE severity = 'error'), 0) AS errors,"
        "         coalesce(sum(n) FILTER (WHERE severity <> 'error'), 0) AS warnings,"
        "         (SELECT coalesce(sum(o.records), 0) FROM linkage.optout_count o"
        "           WHERE o.submission_id = s.submission_id) AS withheld"
        /* a problem ingest kept once per rule counts for each row it was found at */
        "  FROM (SELECT severity, occurrences AS n FROM ingest.problem"
        "          WHERE submission_id = s.submission_id"
        "        UNION ALL SELECT severity, 1 FROM linkage.problem"
        "          WHERE submission_id = s.submission_id"
        "        UNION ALL SELECT severity, 1 FROM validation.problem"
        "          WHERE submission_id = s.submission_id) pr) c ON $3::bool"
        " WHERE s.submission_id = $1::bigint AND s.trust = $2",
        3, p, err, errlen);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    snprintf(summary->audit, sizeof summary->audit, "%s", PQgetvalue(r, 0, 0));
    snprintf(summary->trust, sizeof summary->trust, "%s", PQgetvalue(r, 0, 1));
    snprintf(summary->filename, sizeof summary->filename, "%s", PQgetvalue(r, 0, 2));
    snprintf(summary->received_at, sizeof summary->received_at, "%s", PQgetvalue(r, 0, 3));
    if (with_counts) {
        summary->rows = (unsigned)strtoul(PQgetvalue(r, 0, 4), NULL, 10);
        summary->stored = (unsigned)strtoul(PQgetvalue(r, 0, 5), NULL, 10);
        summary->unchanged = (unsigned)strtoul(PQgetvalue(r, 0, 6), NULL, 10);
        summary->rejected_ingest = (unsigned)strtoul(PQgetvalue(r, 0, 7), NULL, 10);
        summary->validated = (unsigned)strtoul(PQgetvalue(r, 0, 8), NULL, 10);
        summary->rejected_validation = (unsigned)strtoul(PQgetvalue(r, 0, 9), NULL, 10);
        summary->errors = strtoull(PQgetvalue(r, 0, 10), NULL, 10);
        summary->warnings = strtoull(PQgetvalue(r, 0, 11), NULL, 10);
        summary->withheld = (unsigned)strtoul(PQgetvalue(r, 0, 12), NULL, 10);
        unsigned done = summary->validated + summary->withheld;
        summary->in_flight = summary->stored > done ? summary->stored - done : 0;
    }
    PQclear(r);
    return 1;
}

int feedback_store_page(PGconn *db, int64_t submission_id, const audit_def_t *def,
                        const feedback_cursor_t *after, unsigned limit, feedback_page_t *page,
                        char *err, size_t errlen)
{
    memset(page, 0, sizeof *page);
    char sid[32], row[16], lim[16];
    snprintf(sid, sizeof sid, "%lld", (long long)submission_id);
    snprintf(row, sizeof row, "%u", after ? after->row : 0);
    snprintf(lim, sizeof lim, "%u", limit + 1); /* one more: is there a next page? */
    const char *p[] = {sid,
                       after ? "f" : "t",
                       row,
                       after && after->field ? after->field : "",
                       after && after->rule ? after->rule : "",
                       after && after->stage ? after->stage : "",
                       after && after->message ? after->message : "",
                       lim};
    /* Byte order ("C") so that the order and the cursor agree whatever the database's locale. */
    PGresult *r = db_query(
        db,
        "WITH p AS ("
        "  SELECT row_number, field, rule, severity, '' AS value, message, 'ingest' AS stage,"
        "   occurrences, array_to_string(first_rows, ',') AS first_rows"
        "  FROM ingest.problem WHERE submission_id = $1::bigint"
        "  UNION ALL SELECT row_number, field, rule, severity, '', message, 'linkage', 1, NULL"
        "  FROM linkage.problem WHERE submission_id = $1::bigint"
        "  UNION ALL SELECT row_number, field, rule, severity, value, message, 'validation', 1,"
        "   NULL FROM validation.problem WHERE submission_id = $1::bigint)"
        " SELECT row_number, field, rule, severity, value, message, stage, occurrences,"
        "  first_rows FROM p"
        " WHERE $2::bool OR (row_number, field COLLATE \"C\", rule COLLATE \"C\","
        "   stage COLLATE \"C\", message COLLATE \"C\") > ($3::int, $4, $5, $6, $7)"
        " ORDER BY row_number, field COLLATE \"C\", rule COLLATE \"C\", stage COLLATE \"C\","
        "   message COLLATE \"C\""
        " LIMIT $8::int",
        8, p, err, errlen);
    if (!r)
        return -1;
    int n = PQntuples(r);
    page->more = (unsigned)n > limit;
    if (page->more)
        n = (int)limit;
    page->problems = calloc((size_t)n + 1, sizeof *page->problems);
    if (!page->problems) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    page->result = r;
    size_t nrows = 0;
    for (int i = 0; i < n; i++)
        if (!PQgetisnull(r, i, 8))
            nrows += strlen(PQgetvalue(r, i, 8)) / 2 + 1; /* at least "N," per row */
    uint32_t *next = page->rows = calloc(nrows + 1, sizeof *page->rows);
    if (!page->rows) {
        feedback_page_clear(page);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        feedback_problem_t *fp = &page->problems[i];
        fp->row = (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10);
        fp->field = PQgetvalue(r, i, 1);
        fp->rule = PQgetvalue(r, i, 2);
        fp->severity = PQgetvalue(r, i, 3);
        fp->value = PQgetvalue(r, i, 4);
        fp->message = PQgetvalue(r, i, 5);
        fp->stage = PQgetvalue(r, i, 6);
        fp->count = (unsigned)strtoul(PQgetvalue(r, i, 7), NULL, 10);
        fp->rows = next;
        for (const char *t = PQgetvalue(r, i, 8); *t; t += *t == ',') {
            char *end;
            unsigned long v = strtoul(t, &end, 10);
            if (end == t)
                break;
            *next++ = (uint32_t)v;
            fp->n_rows++;
            t = end;
        }
        const audit_field_t *f = def ? audit_def_field(def, fp->field) : NULL;
        if (f && f->identifier)
            fp->value = "";
    }
    page->n = (size_t)n;
    return 0;
}

void feedback_page_clear(feedback_page_t *page)
{
    PQclear(page->result);
    free(page->rows);
    free(page->problems);
    memset(page, 0, sizeof *page);
}
