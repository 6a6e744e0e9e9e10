/* results_store.c - a trust's figures and records, read for `ncap results` */
#include "results_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "db.h"

static long long ll(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int results_store_figures(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                          results_figures_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p[] = {def->audit, trust, period};
    /* A median's value is the middle one, or the mean of the two middle ones (percentile_cont at
     * 0.5), as the release's (bench_bucket_value); over the records counted (denominator 1). */
    PGresult *r = db_query(
        db,
        "SELECT c.period, c.metric_id, coalesce(c.site, ''), GROUPING(c.site) = 1,"
        " sum(c.numerator), sum(c.denominator), sum(c.expected_e9),"
        " count(*) FILTER (WHERE c.held), count(*) FILTER (WHERE c.missing),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY c.value)"
        "  FILTER (WHERE c.denominator = 1 AND c.value IS NOT NULL),"
        " avg(c.value) FILTER (WHERE c.denominator = 1 AND c.value IS NOT NULL)"
        " FROM ingest.record r JOIN metric.contribution c ON c.record_id = r.record_id"
        " WHERE r.audit = $1 AND r.trust = $2 AND c.metric_id <> ''"
        " AND c.metric_id <> '!rejected'" /* metric's CONTRIBUTION_REJECTED: no metric's */
        "  AND ($3 = '' OR c.period = $3)"
        " GROUP BY GROUPING SETS ((c.period, c.metric_id), (c.period, c.metric_id, c.site))"
        " ORDER BY c.period COLLATE \"C\", c.metric_id COLLATE \"C\", GROUPING(c.site) DESC,"
        "  c.site COLLATE \"C\"",
        3, p, err, errlen);
    if (!r)
        return -1;
    int n = PQntuples(r);
    out->figures = calloc((size_t)n + 1, sizeof *out->figures);
    if (!out->figures) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->result = r;
    for (int i = 0; i < n; i++) {
        results_figure_t *f = &out->figures[i];
        f->period = PQgetvalue(r, i, 0);
        f->metric_id = PQgetvalue(r, i, 1);
        f->site = PQgetvalue(r, i, 2);
        f->trust_level = PQgetvalue(r, i, 3)[0] == 't';
        f->numerator = ll(r, i, 4);
        f->denominator = ll(r, i, 5);
        f->expected_e9 = ll(r, i, 6);
        f->held = ll(r, i, 7);
        f->missing = ll(r, i, 8);
        const audit_metric_t *m = audit_def_metric(def, f->metric_id);
        int col = m && m->kind == AUDIT_METRIC_MEDIAN ? 9
                  : m && m->kind == AUDIT_METRIC_MEAN ? 10
                                                      : -1;
        if (col >= 0 && !PQgetisnull(r, i, col)) {
            f->has_value = true;
            f->value = strtod(PQgetvalue(r, i, col), NULL);
        }
    }
    out->n = (size_t)n;
    return 0;
}

void results_figures_clear(results_figures_t *f)
{
    PQclear(f->result);
    free(f->figures);
    memset(f, 0, sizeof *f);
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(const audit_metric_t *const *)a)->id, (*(const audit_metric_t *const *)b)->id);
}

/* Appends up to limit records of metric m after local id after ("" from its first). */
static int read_metric(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                       const audit_metric_t *m, const char *after, unsigned limit,
                       results_page_t *page, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit + 1); /* one more: is there a next page? */
    const char *p[] = {
        def->audit, trust, m->id, period, after, def->period_field ? def->period_field : "", lim};
    /* The index of ingest.record (audit, trust, local_id "C") from the cursor, each record's
     * contribution by its key: the page's rows, not the trust's. */
    PGresult *r = db_query(
        db,
        "SELECT r.local_id, c.site, c.period, left(coalesce(rr.payload->>$6, ''), 64),"
        " c.numerator, c.denominator, c.expected_e9, c.value, c.held, c.missing"
        " FROM ingest.record r"
        " JOIN metric.contribution c ON c.record_id = r.record_id AND c.metric_id = $3"
        " LEFT JOIN metric.record_state s ON s.record_id = r.record_id"
        " LEFT JOIN ingest.raw_record rr ON rr.record_id = s.record_id AND rr.version = s.version"
        " WHERE r.audit = $1 AND r.trust = $2 AND ($4 = '' OR c.period = $4)"
        "  AND r.local_id COLLATE \"C\" > $5"
        " ORDER BY r.local_id COLLATE \"C\" LIMIT $7::int",
        7, p, err, errlen);
    if (!r)
        return -1;
    size_t nr = page->n_results + 1;
    PGresult **rs = realloc(page->results, nr * sizeof *rs);
    if (!rs) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    page->results = rs;
    rs[page->n_results++] = r;
    int n = PQntuples(r);
    if ((unsigned)n > limit) {
        page->more = true;
        n = (int)limit;
    }
    if (array_grow((void **)&page->records, &page->cap, page->n + (size_t)n + 1,
                   sizeof *page->records) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        results_record_t *rec = &page->records[page->n++];
        rec->metric_id = m->id; /* the definition's: outlives the result */
        rec->local_id = PQgetvalue(r, i, 0);
        rec->site = PQgetvalue(r, i, 1);
        rec->period = PQgetvalue(r, i, 2);
        rec->date = PQgetvalue(r, i, 3);
        rec->numerator = ll(r, i, 4);
        rec->denominator = (int)ll(r, i, 5);
        rec->expected_e9 = ll(r, i, 6);
        rec->has_value = !PQgetisnull(r, i, 7);
        rec->value = rec->has_value ? strtod(PQgetvalue(r, i, 7), NULL) : 0;
        rec->held = PQgetvalue(r, i, 8)[0] == 't';
        rec->missing = PQgetvalue(r, i, 9)[0] == 't';
    }
    return 0;
}

int results_store_page(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                       const char *after_metric, const char *after_local, unsigned limit,
                       results_page_t *page, char *err, size_t errlen)
{
    memset(page, 0, sizeof *page);
    const audit_metric_t **order = calloc(def->n_metrics + 1, sizeof *order);
    if (!order) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < def->n_metrics; i++)
        order[i] = &def->metrics[i];
    qsort(order, def->n_metrics, sizeof *order, by_id);
    int rc = 0;
    for (size_t i = 0; i < def->n_metrics && !page->more && page->n < limit; i++) {
        const char *after = "";
        if (after_metric) {
            int c = strcmp(order[i]->id, after_metric);
            if (c < 0)
                continue;
            if (c == 0)
                after = after_local ? after_local : "";
        }
        if ((rc = read_metric(db, def, trust, period, order[i], after, limit - (unsigned)page->n,
                              page, err, errlen)) != 0)
            break;
        /* a metric that filled the page exactly: more when any later metric has a record */
        if (!page->more && page->n == limit && i + 1 < def->n_metrics)
            page->more = true;
    }
    free(order);
    if (rc != 0)
        results_page_clear(page);
    return rc;
}

void results_page_clear(results_page_t *page)
{
    for (size_t i = 0; i < page->n_results; i++)
        PQclear(page->results[i]);
    free(page->results);
    free(page->records);
    memset(page, 0, sizeof *page);
}
