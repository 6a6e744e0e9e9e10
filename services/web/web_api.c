/* web_api.c - the read API */
#include "web_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_table.h"

/* A timestamp column as ISO 8601 in UTC. */
#define ISO_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The release a request names (audit $1, period $2 or '' for the latest, revision $3 or 0 for
 * the period's latest provisional one). */
#define RELEASE_CTE                                                                                \
    "WITH rel AS (SELECT release_id, audit, period, revision, status, records, created_at"         \
    "   FROM publish.release WHERE audit = $1 AND ($2 = '' OR period = $2)"                        \
    "   AND CASE WHEN $3::int = 0 THEN status = 'provisional' ELSE revision = $3::int END"         \
    "   ORDER BY period DESC, revision DESC LIMIT 1)"

static const char audits_sql[] =
    "SELECT a.audit, a.periods, l.period, l.revision, l.status,"
    "  " ISO_UTC(
        "a.updated") " FROM (SELECT audit, count(DISTINCT period) AS periods, max(period) AS "
                     "latest,"
                     "   max(created_at) AS updated FROM publish.release GROUP BY audit) a"
                     " CROSS JOIN LATERAL (SELECT period, revision, status FROM publish.release x"
                     "   WHERE x.audit = a.audit AND x.period = a.latest ORDER BY revision DESC "
                     "LIMIT 1) l"
                     " ORDER BY a.audit";
static const web_col_t audits_cols[] = {
    {"audit", WEB_COL_TEXT, 0},         {"periods", WEB_COL_INT, 1},
    {"latest_period", WEB_COL_TEXT, 2}, {"latest_revision", WEB_COL_INT, 3},
    {"status", WEB_COL_TEXT, 4},        {"updated_at", WEB_COL_TEXT, 5},
};

static const char audit_sql[] =
    "SELECT period, max(revision) FILTER (WHERE status = 'provisional'), count(*),"
    "  bool_or(status = 'final'),"
    "  " ISO_UTC(
        "max(created_at)") " FROM publish.release WHERE audit = $1 GROUP BY period ORDER BY period";
static const web_col_t audit_cols[] = {
    {"period", WEB_COL_TEXT, 0}, {"latest_revision", WEB_COL_INT, 1}, {"revisions", WEB_COL_INT, 2},
    {"final", WEB_COL_BOOL, 3},  {"updated_at", WEB_COL_TEXT, 4},
};

static const char releases_sql[] =
    "SELECT period, revision, status, records, final_year, content_hash,"
    "  " ISO_UTC("created_at") ", release_id"
                               " FROM publish.release WHERE audit = $1 AND ($2 = '' OR period = $2)"
                               "   AND release_id > $3::bigint ORDER BY release_id LIMIT $4::int";
static const web_col_t releases_cols[] = {
    {"period", WEB_COL_TEXT, 0},     {"revision", WEB_COL_INT, 1},
    {"status", WEB_COL_TEXT, 2},     {"records", WEB_COL_INT, 3},
    {"final_year", WEB_COL_INT, 4},  {"content_hash", WEB_COL_TEXT, 5},
    {"created_at", WEB_COL_TEXT, 6},
};

static const char metrics_sql[] =
    RELEASE_CTE " SELECT rel.period, rel.revision, rel.status, (f.content::json -> 'metrics')::text"
                " FROM rel LEFT JOIN publish.release_file f"
                "   ON f.release_id = rel.release_id AND f.name = 'latest.json'";

/* $4 the cursor, $5 level, $6 area, $7 metric, $8 breakdown, $9 the page's size + 1 */
static const char rows_sql[] = RELEASE_CTE
    " SELECT rel.audit, rel.period, rel.revision, rel.status, o.ordinal, o.level, o.area_code,"
    "   o.area_name, o.parent_code, o.metric_id, o.breakdown, o.category, o.numerator,"
    "   o.denominator, o.value, o.lower95, o.upper95, o.lower998, o.upper998, o.england_value,"
    "   o.compared_to_england, o.funnel_lower95, o.funnel_upper95, o.funnel_lower998,"
    "   o.funnel_upper998, o.outlier, o.note, o.expected, o.held, o.missing, o.rejected,"
    "   o.left_out, o.bound_lower, o.bound_upper, o.withheld_opt_out"
    " FROM rel LEFT JOIN LATERAL (SELECT * FROM publish.output o"
    "   WHERE o.release_id = rel.release_id AND o.ordinal > $4::bigint"
    "   AND ($5 = '' OR o.level = $5) AND ($6 = '' OR o.area_code = $6)"
    "   AND ($7 = '' OR o.metric_id = $7) AND ($8 = '' OR o.breakdown = $8)"
    "   ORDER BY o.ordinal LIMIT $9::int) o ON true ORDER BY o.ordinal";
static const web_col_t rows_cols[] = {
    {"audit", WEB_COL_TEXT, 0},
    {"period", WEB_COL_TEXT, 1},
    {"level", WEB_COL_TEXT, 5},
    {"area_code", WEB_COL_TEXT, 6},
    {"area_name", WEB_COL_TEXT, 7},
    {"parent_code", WEB_COL_TEXT_EMPTY_NULL, 8},
    {"metric", WEB_COL_TEXT, 9},
    {"breakdown", WEB_COL_TEXT, 10},
    {"category", WEB_COL_TEXT_EMPTY_NULL, 11},
    {"numerator", WEB_COL_INT, 12},
    {"denominator", WEB_COL_INT, 13},
    {"value", WEB_COL_FIGURE, 14},
    {"lower95", WEB_COL_FIGURE, 15},
    {"upper95", WEB_COL_FIGURE, 16},
    {"lower998", WEB_COL_FIGURE, 17},
    {"upper998", WEB_COL_FIGURE, 18},
    {"england_value", WEB_COL_FIGURE, 19},
    {"compared_to_england", WEB_COL_TEXT_EMPTY_NULL, 20},
    {"funnel_lower95", WEB_COL_FIGURE, 21},
    {"funnel_upper95", WEB_COL_FIGURE, 22},
    {"funnel_lower998", WEB_COL_FIGURE, 23},
    {"funnel_upper998", WEB_COL_FIGURE, 24},
    {"outlier", WEB_COL_TEXT_EMPTY_NULL, 25},
    {"note", WEB_COL_TEXT_EMPTY_NULL, 26},
    {"expected", WEB_COL_FIGURE9, 27},
    {"held", WEB_COL_INT, 28},
    {"missing", WEB_COL_INT, 29},
    {"rejected", WEB_COL_INT, 30},
    {"left_out", WEB_COL_INT, 31},
    {"bound_lower", WEB_COL_FIGURE, 32},
    {"bound_upper", WEB_COL_FIGURE, 33},
    {"withheld_opt_out", WEB_COL_INT, 34},
};
#define N_ROWS_COLS (sizeof rows_cols / sizeof *rows_cols)

#define N(a) (sizeof a / sizeof *a)

static void set_json(web_reply_t *rep, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(o);
    if (!s) {
        web_reply_problem(rep, 500, NULL, "out of memory", NULL);
        return;
    }
    strbuf_append(&rep->body, s);
    strbuf_append(&rep->body, "\n");
    free(s);
    rep->content_type = "application/json";
}

static void set_csv(web_reply_t *rep, const PGresult *r, int from, int to, const web_col_t *cols,
                    size_t ncols)
{
    if (web_table_csv(&rep->body, r, from, to, cols, ncols, true) != 0) {
        web_reply_problem(rep, 500, NULL, "out of memory", NULL);
        return;
    }
    rep->content_type = "text/csv; charset=utf-8";
}

/* The request's path and query with after= set to cursor: the next page's link. */
static void next_link(web_reply_t *rep, const web_request_t *req, long long cursor)
{
    size_t n = (size_t)snprintf(rep->link, sizeof rep->link, "<%s?", req->path);
    for (size_t i = 0; i < req->n_query && n < sizeof rep->link; i++)
        if (strcmp(req->query[i].key, "after") != 0)
            n += (size_t)snprintf(rep->link + n, sizeof rep->link - n, "%s=%s&", req->query[i].key,
                                  req->query[i].value ? req->query[i].value : "");
    if (n < sizeof rep->link)
        snprintf(rep->link + n, sizeof rep->link - n, "after=%lld>; rel=\"next\"", cursor);
    if (n >= sizeof rep->link)
        rep->link[0] = '\0'; /* cannot happen: every value is short and checked */
}

static PGresult *query(web_db_t *db, const char *sql, int n, const char *const *p,
                       const web_request_t *req, web_reply_t *rep)
{
    char err[512];
    int status = 500;
    PGresult *r = web_db_query(db, sql, n, p, &status, err, sizeof err);
    if (!r) {
        if (status == 503)
            web_reply_problem(rep, 503, "database-unavailable",
                              "the release database cannot be reached just now: try again "
                              "shortly (the portal's files are still served)",
                              req->path);
        else
            web_reply_problem(rep, 500, NULL, "the query failed: see the server's log", req->path);
    }
    return r;
}

static void no_release(web_reply_t *rep, const char *audit, const web_query_t *q, const char *path)
{
    char detail[400];
    snprintf(detail, sizeof detail, "no release of audit \"%s\"%s%s%s%s", audit,
             q->period[0] ? " for period " : "", q->period, q->revision ? " at that revision" : "",
             ": GET /api/v1/audits lists the audits, /api/v1/audits/{audit}/releases the "
             "revisions");
    web_reply_problem(rep, 404, "no-release", detail, path);
}

static void answer_list(web_db_t *db, const char *sql, int n, const char *const *p,
                        const web_col_t *cols, size_t ncols, const char *key,
                        const web_request_t *req, web_format_t fmt, json_t *extra, web_reply_t *rep,
                        bool not_found_when_empty, const char *audit)
{
    PGresult *r = query(db, sql, n, p, req, rep);
    if (!r) {
        json_decref(extra);
        return;
    }
    int rows = PQntuples(r);
    if (rows == 0 && not_found_when_empty) {
        web_query_t none = {0};
        no_release(rep, audit, &none, req->path);
    } else if (fmt == WEB_FORMAT_CSV) {
        set_csv(rep, r, 0, rows, cols, ncols);
    } else {
        json_t *o = extra ? extra : json_object();
        json_object_set_new(o, key, web_table_json(r, 0, rows, cols, ncols, false));
        extra = NULL;
        set_json(rep, o);
    }
    json_decref(extra);
    PQclear(r);
}

static void answer_releases(web_db_t *db, const char *audit, const web_request_t *req,
                            const web_query_t *q, web_format_t fmt, web_reply_t *rep)
{
    char after[24], limit[24];
    snprintf(after, sizeof after, "%lld", q->after);
    snprintf(limit, sizeof limit, "%ld", q->limit + 1);
    const char *p[] = {audit, q->period, after, limit};
    PGresult *r = query(db, releases_sql, 4, p, req, rep);
    if (!r)
        return;
    int rows = PQntuples(r), shown = rows > q->limit ? (int)q->limit : rows;
    if (rows > q->limit)
        next_link(rep, req, strtoll(PQgetvalue(r, shown - 1, 7), NULL, 10));
    if (fmt == WEB_FORMAT_CSV) {
        set_csv(rep, r, 0, shown, releases_cols, N(releases_cols));
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "audit", json_string(audit));
        json_object_set_new(o, "releases",
                            web_table_json(r, 0, shown, releases_cols, N(releases_cols), false));
        json_object_set_new(
            o, "next", rows > q->limit ? json_string(PQgetvalue(r, shown - 1, 7)) : json_null());
        set_json(rep, o);
    }
    PQclear(r);
}

static void answer_metrics(web_db_t *db, const char *audit, const web_request_t *req,
                           const web_query_t *q, web_reply_t *rep)
{
    char rev[16];
    snprintf(rev, sizeof rev, "%d", q->revision);
    const char *p[] = {audit, q->period, rev};
    PGresult *r = query(db, metrics_sql, 3, p, req, rep);
    if (!r)
        return;
    if (PQntuples(r) == 0) {
        no_release(rep, audit, q, req->path);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "audit", json_string(audit));
        json_object_set_new(o, "period", json_string(PQgetvalue(r, 0, 0)));
        json_object_set_new(o, "revision", json_integer(atoll(PQgetvalue(r, 0, 1))));
        json_object_set_new(o, "status", json_string(PQgetvalue(r, 0, 2)));
        json_t *m = PQgetisnull(r, 0, 3) ? NULL : json_loads(PQgetvalue(r, 0, 3), 0, NULL);
        json_object_set_new(o, "metrics", m ? m : json_array());
        set_json(rep, o);
    }
    PQclear(r);
}

static void answer_rows(web_db_t *db, const char *audit, const web_request_t *req,
                        const web_query_t *q, web_format_t fmt, web_reply_t *rep)
{
    char rev[16], after[24], limit[24];
    snprintf(rev, sizeof rev, "%d", q->revision);
    snprintf(after, sizeof after, "%lld", q->after);
    snprintf(limit, sizeof limit, "%ld", q->limit + 1);
    const char *p[] = {audit,   q->period, rev,          after, q->level,
                       q->area, q->metric, q->breakdown, limit};
    PGresult *r = query(db, rows_sql, 9, p, req, rep);
    if (!r)
        return;
    int n = PQntuples(r);
    if (n == 0) {
        no_release(rep, audit, q, req->path);
        PQclear(r);
        return;
    }
    if (PQgetisnull(r, 0, 4)) /* the release, no row on this page */
        n = 0;
    int shown = n > q->limit ? (int)q->limit : n;
    const char *cursor = shown > 0 ? PQgetvalue(r, shown - 1, 4) : NULL;
    if (n > q->limit)
        next_link(rep, req, strtoll(cursor, NULL, 10));
    if (fmt == WEB_FORMAT_CSV) {
        set_csv(rep, r, 0, shown, rows_cols, N_ROWS_COLS);
    } else {
        json_t *o = json_object(), *cols = json_array();
        json_object_set_new(o, "audit", json_string(audit));
        json_object_set_new(o, "period", json_string(PQgetvalue(r, 0, 1)));
        json_object_set_new(o, "revision", json_integer(atoll(PQgetvalue(r, 0, 2))));
        json_object_set_new(o, "status", json_string(PQgetvalue(r, 0, 3)));
        for (size_t c = 0; c < N_ROWS_COLS; c++)
            json_array_append_new(cols, json_string(rows_cols[c].name));
        json_object_set_new(o, "columns", cols);
        json_object_set_new(o, "rows", web_table_json(r, 0, shown, rows_cols, N_ROWS_COLS, true));
        json_object_set_new(o, "next", n > q->limit ? json_string(cursor) : json_null());
        set_json(rep, o);
    }
    PQclear(r);
}

void web_api_answer(web_db_t *db, const web_route_t *route, const char *param,
                    const web_request_t *req, const web_query_t *q, web_format_t fmt,
                    web_reply_t *rep)
{
    rep->cache_control = "no-cache";
    if (route->id != ROUTE_AUDITS && route->id != ROUTE_HEALTH && !web_query_is_audit(param)) {
        web_reply_problem(rep, 400, "bad-path",
                          "invalid audit in the path: expected an audit id (a-z, 0-9, _, -, "
                          "1-64 characters)",
                          req->path);
        return;
    }
    if (q->revision && !q->period[0]) {
        web_reply_problem(rep, 400, NULL,
                          "revision given without period: a revision number is a period's",
                          req->path);
        return;
    }
    switch (route->id) {
    case ROUTE_HEALTH: {
        PGresult *r = query(db, "SELECT 1", 0, NULL, req, rep);
        if (r) {
            json_t *o = json_object();
            json_object_set_new(o, "status", json_string("ok"));
            json_object_set_new(o, "database", json_string("reachable"));
            set_json(rep, o);
            PQclear(r);
        }
        return;
    }
    case ROUTE_AUDITS:
        answer_list(db, audits_sql, 0, NULL, audits_cols, N(audits_cols), "audits", req, fmt, NULL,
                    rep, false, NULL);
        return;
    case ROUTE_AUDIT: {
        const char *p[] = {param};
        json_t *o = json_object();
        json_object_set_new(o, "audit", json_string(param));
        answer_list(db, audit_sql, 1, p, audit_cols, N(audit_cols), "periods", req, fmt, o, rep,
                    true, param);
        return;
    }
    case ROUTE_RELEASES:
        answer_releases(db, param, req, q, fmt, rep);
        return;
    case ROUTE_METRICS:
        answer_metrics(db, param, req, q, rep);
        return;
    case ROUTE_ROWS:
        answer_rows(db, param, req, q, fmt, rep);
        return;
    default:
        web_reply_problem(rep, 500, NULL, "route without a read handler", req->path);
    }
}
