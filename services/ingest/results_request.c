/* results_request.c - a trust's results, one reply at a time */
#include "results_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "request_gate.h"

static const char *kind_name(audit_metric_kind_t k)
{
    switch (k) {
    case AUDIT_METRIC_RATIO:
        return "ratio";
    case AUDIT_METRIC_MEDIAN:
        return "median";
    case AUDIT_METRIC_MEAN:
        return "mean";
    case AUDIT_METRIC_PROPORTION:
        break;
    }
    return "proportion";
}

static const char *metric_kind(const audit_def_t *def, const char *id)
{
    const audit_metric_t *m = audit_def_metric(def, id);
    return m ? kind_name(m->kind)
             : "proportion"; /* a metric the definition no longer has: its sums, as counts */
}

static void answer_error(results_answer_t *a, Ncap__V1__ResultsReply__Kind kind)
{
    a->reply.kind = kind;
    a->reply.error = a->msg;
}

/* The database failed: the trust is told to ask again, the operators' log says why. */
static void answer_failed(results_answer_t *a, const char *err)
{
    ncap_log(LOG_ERROR, "could not read results", "error", err, NULL);
    snprintf(a->msg, sizeof a->msg,
             "could not read the results now; ask again later (ingest logged why)");
    answer_error(a, NCAP__V1__RESULTS_REPLY__KIND__ERROR);
}

static int fill_figures(results_answer_t *a, const audit_def_t *def)
{
    size_t n = a->figures.n;
    a->fig_cells = calloc(n + 1, sizeof *a->fig_cells);
    a->fig_ptrs = calloc(n + 1, sizeof *a->fig_ptrs);
    if (!a->fig_cells || !a->fig_ptrs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const results_figure_t *f = &a->figures.figures[i];
        Ncap__V1__ResultsFigure *m = &a->fig_cells[i];
        ncap__v1__results_figure__init(m);
        m->period = (char *)f->period;
        m->metric_id = (char *)f->metric_id;
        m->kind = (char *)metric_kind(def, f->metric_id);
        m->level = (char *)(f->trust_level ? "trust" : "site");
        m->site = (char *)f->site;
        m->numerator = f->numerator;
        m->denominator = f->denominator;
        m->expected_e9 = f->expected_e9;
        m->held = f->held;
        m->missing = f->missing;
        m->has_value = f->has_value;
        m->value = f->value;
        a->fig_ptrs[i] = m;
    }
    a->reply.figures = a->fig_ptrs;
    a->reply.n_figures = n;
    return 0;
}

static int fill_records(results_answer_t *a)
{
    size_t n = a->page.n;
    a->rec_cells = calloc(n + 1, sizeof *a->rec_cells);
    a->rec_ptrs = calloc(n + 1, sizeof *a->rec_ptrs);
    if (!a->rec_cells || !a->rec_ptrs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const results_record_t *r = &a->page.records[i];
        Ncap__V1__ResultsRecord *m = &a->rec_cells[i];
        ncap__v1__results_record__init(m);
        m->metric_id = (char *)r->metric_id;
        m->local_id = (char *)r->local_id;
        m->site = (char *)r->site;
        m->period = (char *)r->period;
        m->date = (char *)r->date;
        m->numerator = r->numerator;
        m->denominator = r->denominator;
        m->expected_e9 = r->expected_e9;
        m->has_value = r->has_value;
        m->value = r->value;
        m->held = r->held;
        m->missing = r->missing;
        a->rec_ptrs[i] = m;
    }
    a->reply.records = a->rec_ptrs;
    a->reply.n_records = n;
    a->reply.more = a->page.more;
    return 0;
}

/* Reads the figures (first page only) and a page of records: 1, 0 when the trust has none (first
 * page), -1 with err. One retry when the connection was lost. */
static int read_results(const results_source_t *src, const audit_def_t *def,
                        const Ncap__V1__ResultsRequest *req, const char *trust, results_answer_t *a,
                        char *err, size_t errlen)
{
    unsigned limit = req->max_records && req->max_records < INGEST_RESULTS_PAGE
                         ? req->max_records
                         : INGEST_RESULTS_PAGE;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *db = src->db(src->arg);
        if (!db) {
            snprintf(err, errlen, "no database connection");
            return -1;
        }
        results_figures_clear(&a->figures);
        int rc = req->after
                     ? 0
                     : results_store_figures(db, def, trust, req->period, &a->figures, err, errlen);
        if (rc == 0 && !req->after && a->figures.n == 0)
            return 0;
        if (rc == 0)
            rc = results_store_page(
                db, def, trust, req->period, req->after ? req->after->metric_id : NULL,
                req->after ? req->after->local_id : NULL, limit, &a->page, err, errlen);
        if (rc == 0)
            return 1;
        if (db_alive(db))
            return -1;
    }
    return -1;
}

void results_request_answer(const results_source_t *src, const Ncap__V1__ResultsRequest *req,
                            const char *trust, results_answer_t *out)
{
    memset(out, 0, sizeof *out);
    ncap__v1__results_reply__init(&out->reply);
    if (request_gate_results(req, trust, out->msg, sizeof out->msg) ==
        REQUEST_GATE_RESULTS_REFUSED) {
        answer_error(out, NCAP__V1__RESULTS_REPLY__KIND__ERROR);
        return;
    }
    char err[1024];
    const audit_def_t *def = audit_cache_get(src->audits, req->audit, err, sizeof err);
    if (!def) {
        if (strncmp(err, "unknown audit", 13) == 0) {
            snprintf(out->msg, sizeof out->msg, "%s", err);
            answer_error(out, NCAP__V1__RESULTS_REPLY__KIND__ERROR);
        } else {
            answer_failed(out, err);
        }
        return;
    }
    switch (read_results(src, def, req, trust, out, err, sizeof err)) {
    case -1:
        answer_failed(out, err);
        return;
    case 0: /* the gate's "no results for trust T in audit A" */
        answer_error(out, NCAP__V1__RESULTS_REPLY__KIND__NOT_FOUND);
        return;
    }
    if (out->figures.n > INGEST_RESULTS_MAX_FIGURES) {
        snprintf(out->msg, sizeof out->msg,
                 "trust %s has %zu figures in audit %s, more than one reply carries (%d): ask for "
                 "one period",
                 trust, out->figures.n, req->audit, INGEST_RESULTS_MAX_FIGURES);
        answer_error(out, NCAP__V1__RESULTS_REPLY__KIND__ERROR);
        return;
    }
    if (fill_figures(out, def) != 0 || fill_records(out) != 0) {
        snprintf(out->msg, sizeof out->msg, "out of memory while reading the results");
        answer_error(out, NCAP__V1__RESULTS_REPLY__KIND__ERROR);
        return;
    }
    out->reply.kind = NCAP__V1__RESULTS_REPLY__KIND__PAGE;
}

void results_answer_clear(results_answer_t *a)
{
    results_figures_clear(&a->figures);
    results_page_clear(&a->page);
    free(a->fig_cells);
    free(a->fig_ptrs);
    free(a->rec_cells);
    free(a->rec_ptrs);
    memset(a, 0, sizeof *a);
}
