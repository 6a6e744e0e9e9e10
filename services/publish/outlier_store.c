/* outlier_store.c - outlier cases in PostgreSQL: from releases, past deadlines, to the audit team
 */
#include "outlier_store.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "db.h"
#include "outlier_process.h"
#include "period_export.h"

long long outlier_day_seconds(char *err, size_t errlen)
{
    const char *v = getenv(OUTLIER_DAY_SECONDS_ENV);
    if (!v || !*v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long s = strtoll(v, &end, 10);
    if (errno || *end || s < 1 || s > 86400) {
        snprintf(err, errlen, "%s is \"%.40s\", expected a whole number of seconds from 1 to 86400",
                 OUTLIER_DAY_SECONDS_ENV, v);
        return -1;
    }
    return s;
}

void outlier_team_dir(const char *out_dir, char *buf, size_t len)
{
    const char *env = getenv(OUTLIER_TEAM_OUT_ENV);
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return;
    }
    size_t n = strlen(out_dir);
    while (n > 1 && out_dir[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (out_dir[i] == '/')
            slash = out_dir + i;
    if (!slash)
        snprintf(buf, len, "team");
    else
        snprintf(buf, len, "%.*s/team", (int)(slash - out_dir), out_dir);
}

/* A figure of rel as JSON: null when absent or not finite. */
static json_t *figure(bool has, double v)
{
    return has && isfinite(v) ? json_real(v) : json_null();
}

int outlier_store_release(PGconn *db, const char *audit, const char *period,
                          const benchmark_release_t *rel, char *err, size_t errlen)
{
    json_t *units = json_array();
    if (!units)
        goto oom;
    for (size_t i = 0; i < rel->n_rows; i++) {
        const benchmark_row_t *r = &rel->rows[i];
        if (!outlier_gate_unit_row(r))
            continue;
        json_t *u = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "metric", r->metric,
            "level", r->level, "area", r->area_code, "trust",
            strcmp(r->level, "site") == 0 ? r->parent_code : r->area_code, "flag", r->outlier,
            "num", r->has_numerator ? json_integer(r->numerator) : json_null(), "den",
            r->has_denominator ? json_integer(r->denominator) : json_null(), "expected",
            figure(r->has_expected, r->expected), "value", figure(r->has_value, r->value),
            "england", figure(r->has_england, r->england_value), "fl998",
            figure(r->has_funnel, r->funnel_lower998), "fu998",
            figure(r->has_funnel, r->funnel_upper998));
        if (!u || json_array_append_new(units, u) != 0)
            goto oom;
    }
    if (json_array_size(units) == 0) {
        json_decref(units);
        return 0;
    }
    char *text = json_dumps(units, JSON_COMPACT);
    json_decref(units);
    units = NULL;
    if (!text)
        goto oom;
    const char *p[] = {audit, period, text};
    /* The state changes here are outlier_process.h's FLAGGED on a closed case (detected again)
     * and CLEARED (closed); a flag on an open case only updates its figures. */
    int rc = db_execp(
        db,
        "WITH u AS (SELECT * FROM json_to_recordset($3::json) AS x(metric text, level text,"
        "   area text, trust text, flag text, num bigint, den bigint, expected float8,"
        "   value float8, england float8, fl998 float8, fu998 float8)),"
        " flagged AS (INSERT INTO publish.outlier_case AS c (audit, period, metric_id, level,"
        "   area_code, trust, state, state_by, flag, numerator, denominator, expected, value,"
        "   england_value, funnel_lower998, funnel_upper998)"
        "   SELECT $1, $2, metric, level, area, trust, 'detected', 'release', flag, num, den,"
        "   expected, value, england, fl998, fu998 FROM u"
        "   WHERE flag LIKE 'alert\\_%' OR flag LIKE 'alarm\\_%'"
        "   ON CONFLICT (audit, period, metric_id, level, area_code) DO UPDATE SET"
        "   flag = EXCLUDED.flag, numerator = EXCLUDED.numerator,"
        "   denominator = EXCLUDED.denominator, expected = EXCLUDED.expected,"
        "   value = EXCLUDED.value, england_value = EXCLUDED.england_value,"
        "   funnel_lower998 = EXCLUDED.funnel_lower998,"
        "   funnel_upper998 = EXCLUDED.funnel_upper998, updated_at = now(),"
        "   state = CASE WHEN c.state = 'closed' THEN 'detected' ELSE c.state END,"
        "   state_at = CASE WHEN c.state = 'closed' THEN now() ELSE c.state_at END,"
        "   state_by = CASE WHEN c.state = 'closed' THEN 'release' ELSE c.state_by END"
        /* an unchanged case is not written again: a rebuild costs no row versions */
        "   WHERE c.state = 'closed' OR c.flag IS DISTINCT FROM EXCLUDED.flag"
        "   OR c.numerator IS DISTINCT FROM EXCLUDED.numerator"
        "   OR c.denominator IS DISTINCT FROM EXCLUDED.denominator"
        "   OR c.expected IS DISTINCT FROM EXCLUDED.expected"
        "   RETURNING 1)"
        " UPDATE publish.outlier_case c SET flag = u.flag, numerator = u.num,"
        "   denominator = u.den, expected = u.expected, value = u.value,"
        "   england_value = u.england, funnel_lower998 = u.fl998, funnel_upper998 = u.fu998,"
        "   updated_at = now(),"
        "   state = CASE WHEN u.flag = 'in_control' THEN 'closed' ELSE c.state END,"
        "   state_at = CASE WHEN u.flag = 'in_control' AND c.state <> 'closed' THEN now()"
        "     ELSE c.state_at END,"
        "   state_by = CASE WHEN u.flag = 'in_control' AND c.state <> 'closed' THEN 'release'"
        "     ELSE c.state_by END"
        " FROM u WHERE c.audit = $1 AND c.period = $2 AND c.metric_id = u.metric"
        "   AND c.level = u.level AND c.area_code = u.area"
        "   AND NOT (u.flag LIKE 'alert\\_%' OR u.flag LIKE 'alarm\\_%')"
        "   AND (c.flag IS DISTINCT FROM u.flag OR c.numerator IS DISTINCT FROM u.num"
        "   OR c.denominator IS DISTINCT FROM u.den)",
        3, p, err, errlen);
    free(text);
    return rc;
oom:
    json_decref(units);
    snprintf(err, errlen, "out of memory");
    return -1;
}

PGresult *outlier_store_published(PGconn *db, const char *audit, const char *period,
                                  outlier_unit_t **units, size_t *n, char *err, size_t errlen)
{
    const char *p[] = {audit, period};
    PGresult *r = db_query(db,
                           "SELECT metric_id, level, area_code FROM publish.outlier_case"
                           " WHERE audit = $1 AND period = $2 AND state = 'published'",
                           2, p, err, errlen);
    if (!r)
        return NULL;
    *n = (size_t)PQntuples(r);
    *units = calloc(*n + 1, sizeof **units);
    if (!*units) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < *n; i++)
        (*units)[i] = (outlier_unit_t){PQgetvalue(r, (int)i, 0), PQgetvalue(r, (int)i, 1),
                                       PQgetvalue(r, (int)i, 2)};
    return r;
}

/* The deadline of a case of audit in state since `since` (epoch seconds), or -1 when it has none
 * or its audit's definition does not load. */
static long long due_of(audit_cache_t *audits, const char *audit, int state, long long since,
                        long long day_seconds)
{
    char derr[256];
    const audit_def_t *def = audit_cache_get(audits, audit, derr, sizeof derr);
    if (!def || !def->outliers.enabled)
        return -1;
    int days = outlier_stage_days(&def->outliers, state);
    return days < 0 ? -1 : outlier_due(since, days, day_seconds);
}

PGresult *outlier_store_advance(PGconn *db, audit_cache_t *audits, long long day_seconds,
                                int *moved, char *err, size_t errlen)
{
    *moved = 0;
    PGresult *open = db_query(db,
                              /* the start rounded up and now down: never early, at
                               * most a second late */
                              "SELECT case_id, audit, state, ceil(extract(epoch FROM state_at)),"
                              " floor(extract(epoch FROM now())) FROM publish.outlier_case"
                              " WHERE state IN ('detected', 'trust_notified', 'trust_responded')"
                              " ORDER BY case_id",
                              0, NULL, err, errlen);
    if (!open)
        return NULL;
    char *published = malloc((size_t)PQntuples(open) * 24 + 3);
    if (!published) {
        PQclear(open);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t len = 0;
    published[len++] = '{';
    for (int i = 0; i < PQntuples(open); i++) {
        int state = outlier_state_parse(PQgetvalue(open, i, 2));
        long long since = strtoll(PQgetvalue(open, i, 3), NULL, 10);
        long long now = strtoll(PQgetvalue(open, i, 4), NULL, 10);
        long long due = due_of(audits, PQgetvalue(open, i, 1), state, since, day_seconds);
        int next = state < 0 ? -1 : outlier_next(state, OUTLIER_DEADLINE);
        if (due < 0 || now < due || next < 0)
            continue;
        const char *p[] = {PQgetvalue(open, i, 0), outlier_state_name(next),
                           PQgetvalue(open, i, 2)};
        PGresult *u = db_query(db,
                               "UPDATE publish.outlier_case SET state = $2, state_at = now(),"
                               " state_by = 'deadline', updated_at = now(), notified_at ="
                               " CASE WHEN $2 = 'trust_notified' THEN coalesce(notified_at, now())"
                               " ELSE notified_at END"
                               " WHERE case_id = $1::bigint AND state = $3 RETURNING case_id",
                               3, p, err, errlen);
        if (!u) {
            PQclear(open);
            free(published);
            return NULL;
        }
        if (PQntuples(u) == 1) {
            (*moved)++;
            if (next == OUTLIER_PUBLISHED)
                len += (size_t)sprintf(published + len, "%s%s", len > 1 ? "," : "",
                                       PQgetvalue(open, i, 0));
        }
        PQclear(u);
    }
    PQclear(open);
    published[len++] = '}';
    published[len] = '\0';
    const char *p[] = {published};
    PGresult *r = db_query(db,
                           "SELECT DISTINCT audit, period FROM publish.outlier_case"
                           " WHERE case_id = ANY($1::bigint[]) ORDER BY 1, 2",
                           1, p, err, errlen);
    free(published);
    return r;
}

/* A figure as the files print it: 6 decimal places (expected 9), empty for NULL. */
static void fig(char *out, size_t len, const PGresult *r, int row, int col, int places)
{
    if (PQgetisnull(r, row, col))
        out[0] = '\0';
    else
        snprintf(out, len, "%.*f", places, strtod(PQgetvalue(r, row, col), NULL));
}

static void iso_time(char *out, size_t len, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char list_sql[] =
    "SELECT c.case_id, c.audit, c.period, c.metric_id, c.level, c.area_code, c.trust, c.state,"
    " ceil(extract(epoch FROM c.state_at)), c.flag, c.numerator, c.denominator, c.expected,"
    " c.value, c.england_value, c.funnel_lower998, c.funnel_upper998,"
    " coalesce(floor(extract(epoch FROM c.notified_at)), -1),"
    " (SELECT count(*) FROM publish.outlier_response r WHERE r.case_id = c.case_id),"
    /* the delay ledger: the seconds spent in each stage left, from its transitions */
    " t.detected, t.notified, t.responded"
    " FROM publish.outlier_case c LEFT JOIN LATERAL (SELECT"
    "   sum(s) FILTER (WHERE to_state = 'detected') AS detected,"
    "   sum(s) FILTER (WHERE to_state = 'trust_notified') AS notified,"
    "   sum(s) FILTER (WHERE to_state = 'trust_responded') AS responded"
    "   FROM (SELECT to_state, floor(extract(epoch FROM lead(at) OVER (ORDER BY transition_id)"
    "     - at))::bigint AS s FROM publish.outlier_transition x WHERE x.case_id = c.case_id) y"
    "   ) t ON true"
    " WHERE ($1::text IS NULL OR c.audit = $1) AND ($2::text IS NULL OR c.period = $2)"
    " AND ($3::text IS NULL OR c.trust = $3) AND ($4::text IS NULL OR c.state = $4)"
    " AND ($5::bigint IS NULL OR c.case_id = $5)"
    " ORDER BY c.audit, c.period, c.metric_id, c.level, c.area_code";

/* One case of list_sql's result as outliers.csv's fields (into buf). */
enum { N_COLS = 24 };
typedef struct {
    char since[32], due[32], notified[32], f[7][40];
    const char *cols[N_COLS];
} case_text_t;

static void case_text(const PGresult *r, int i, audit_cache_t *audits, long long day_seconds,
                      case_text_t *t)
{
    int state = outlier_state_parse(PQgetvalue(r, i, 7));
    long long since = strtoll(PQgetvalue(r, i, 8), NULL, 10);
    long long due = due_of(audits, PQgetvalue(r, i, 1), state, since, day_seconds);
    long long notified = strtoll(PQgetvalue(r, i, 17), NULL, 10);
    iso_time(t->since, sizeof t->since, since);
    t->due[0] = t->notified[0] = '\0';
    if (due >= 0)
        iso_time(t->due, sizeof t->due, due);
    if (notified >= 0)
        iso_time(t->notified, sizeof t->notified, notified);
    for (int k = 0; k < 5; k++)
        fig(t->f[k], sizeof t->f[k], r, i, 12 + k, k == 0 ? 9 : 6);
    const char *flag = PQgetvalue(r, i, 9);
    const char *cols[N_COLS] = {PQgetvalue(r, i, 0),
                                PQgetvalue(r, i, 1),
                                PQgetvalue(r, i, 2),
                                PQgetvalue(r, i, 3),
                                PQgetvalue(r, i, 4),
                                PQgetvalue(r, i, 5),
                                PQgetvalue(r, i, 6),
                                PQgetvalue(r, i, 7),
                                t->since,
                                t->due,
                                flag,
                                outlier_public_flag(flag, state == OUTLIER_PUBLISHED),
                                PQgetvalue(r, i, 10),
                                PQgetvalue(r, i, 11),
                                t->f[0],
                                t->f[1],
                                t->f[2],
                                t->f[3],
                                t->f[4],
                                t->notified,
                                PQgetvalue(r, i, 18),
                                PQgetvalue(r, i, 19),
                                PQgetvalue(r, i, 20),
                                PQgetvalue(r, i, 21)};
    memcpy(t->cols, cols, sizeof cols);
}

static PGresult *list_query(PGconn *db, const outlier_filter_t *f, const char *case_id, char *err,
                            size_t errlen)
{
    const char *p[] = {f ? f->audit : NULL, f ? f->period : NULL, f ? f->trust : NULL,
                       f ? f->state : NULL, case_id};
    return db_query(db, list_sql, 5, p, err, errlen);
}

int outlier_store_csv(PGconn *db, audit_cache_t *audits, long long day_seconds,
                      const outlier_filter_t *f, char **csv, char *err, size_t errlen)
{
    *csv = NULL;
    PGresult *r = list_query(db, f, NULL, err, errlen);
    if (!r)
        return -1;
    size_t size = 0;
    FILE *out = open_memstream(csv, &size);
    if (!out) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fputs(OUTLIER_CSV_HEADER "\n", out);
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        case_text_t t;
        case_text(r, i, audits, day_seconds, &t);
        csv_write_row(out, t.cols, N_COLS);
    }
    PQclear(r);
    if (fclose(out) != 0) {
        free(*csv);
        *csv = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return n;
}

/* The context of outlier_store_export's files. */
typedef struct {
    audit_cache_t *audits;
    long long day_seconds;
} export_ctx_t;

static int export_text(void *ctx, PGconn *db, const audit_def_t *def, const char *audit,
                       const char *period, char **text, char *err, size_t errlen)
{
    (void)def; /* outlier_store_csv finds the deadlines by audit (none without a definition) */
    const export_ctx_t *x = ctx;
    outlier_filter_t f = {audit, period, NULL, NULL};
    return outlier_store_csv(db, x->audits, x->day_seconds, &f, text, err, errlen) < 0 ? -1 : 0;
}

int outlier_store_export(PGconn *db, audit_cache_t *audits, long long day_seconds,
                         const char *team_dir, char *err, size_t errlen)
{
    export_ctx_t x = {audits, day_seconds};
    return period_export(db, audits,
                         "SELECT c.audit, c.period, e.content_hash FROM (SELECT DISTINCT audit,"
                         " period FROM publish.outlier_case) c LEFT JOIN publish.outlier_export e"
                         " USING (audit, period) ORDER BY 1, 2",
                         "publish.outlier_export", team_dir, "outliers.csv", export_text, &x, err,
                         errlen);
}

int outlier_store_show(PGconn *db, audit_cache_t *audits, long long day_seconds, long long case_id,
                       FILE *out, char *err, size_t errlen)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", case_id);
    PGresult *r = list_query(db, NULL, id, err, errlen);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    static const char *const names[N_COLS] = {"case",
                                              "audit",
                                              "period",
                                              "metric",
                                              "level",
                                              "area_code",
                                              "trust",
                                              "state",
                                              "since",
                                              "due",
                                              "flag",
                                              "public_flag",
                                              "numerator",
                                              "denominator",
                                              "expected",
                                              "value",
                                              "england_value",
                                              "funnel_lower998",
                                              "funnel_upper998",
                                              "notified_at",
                                              "responses",
                                              "detected_seconds",
                                              "trust_notified_seconds",
                                              "trust_responded_seconds"};
    case_text_t t;
    case_text(r, 0, audits, day_seconds, &t);
    for (int k = 0; k < N_COLS; k++)
        fprintf(out, "%s: %s\n", names[k], t.cols[k]);
    PQclear(r);
    const char *p[] = {id};
    r = db_query(db,
                 "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                 " coalesce(from_state, '-'), to_state, by_what FROM publish.outlier_transition"
                 " WHERE case_id = $1::bigint ORDER BY transition_id",
                 1, p, err, errlen);
    if (!r)
        return -1;
    fprintf(out, "transitions:\n");
    for (int i = 0; i < PQntuples(r); i++)
        fprintf(out, "  %s %s -> %s (%s)\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    PQclear(r);
    r = db_query(db,
                 "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                 " trust, text FROM publish.outlier_response WHERE case_id = $1::bigint"
                 " ORDER BY response_id",
                 1, p, err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        fprintf(out, "response %s from %s:\n%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2));
    PQclear(r);
    return 1;
}
