/* outlier_request.c - a trust's outlier cases, its records in one, and its response */
#include "outlier_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* The trust's cases it has been told of (notified_at set): its own and its sites'. Figures as
 * latest.csv prints them. */
static const char cases_sql[] =
    "SELECT case_id, audit, period, metric_id, level, area_code, state,"
    " to_char(state_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), flag,"
    " coalesce(numerator::text, ''), coalesce(denominator::text, ''),"
    " coalesce(to_char(expected, 'FM999999999990.000000000'), ''),"
    " coalesce(to_char(value, 'FM999999999990.000000'), ''),"
    " coalesce(to_char(england_value, 'FM999999999990.000000'), ''),"
    " coalesce(to_char(funnel_lower998, 'FM999999999990.000000'), ''),"
    " coalesce(to_char(funnel_upper998, 'FM999999999990.000000'), ''),"
    " to_char(notified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " (SELECT count(*) FROM publish.outlier_response r WHERE r.case_id = c.case_id)"
    " FROM publish.outlier_case c WHERE trust = $1 AND notified_at IS NOT NULL"
    " AND ($2::bigint = 0 OR case_id = $2::bigint)"
    " ORDER BY audit, period, metric_id, level, area_code";

/* The trust's records in a case's denominator: their local ids. Cost: O(contributions of the
 * period) through metric.contribution's (audit, period) index. */
static const char ids_sql[] =
    "SELECT r.local_id FROM publish.outlier_case c JOIN metric.contribution m"
    " ON m.audit = c.audit AND m.period = c.period AND m.metric_id = c.metric_id"
    " AND m.trust = c.trust AND (c.level = 'trust' OR m.site = c.area_code)"
    " JOIN ingest.record r ON r.record_id = m.record_id"
    " WHERE c.case_id = $1::bigint AND c.trust = $2 AND m.denominator > 0 ORDER BY r.local_id";

/* The response: kept while the case awaits or has one (trust_notified, trust_responded); the
 * first moves it to trust_responded (outlier_process.h's RESPONDED). One statement: the row lock
 * orders it against publish moving the case past its deadline. */
static const char respond_sql[] =
    "WITH c AS (SELECT case_id, state FROM publish.outlier_case WHERE case_id = $1::bigint"
    "   AND trust = $2 AND notified_at IS NOT NULL FOR UPDATE),"
    " moved AS (UPDATE publish.outlier_case o SET state = 'trust_responded', state_at = now(),"
    "   state_by = 'trust', updated_at = now() FROM c WHERE o.case_id = c.case_id"
    "   AND c.state = 'trust_notified'),"
    " kept AS (INSERT INTO publish.outlier_response (case_id, trust, text)"
    "   SELECT case_id, $2, $3 FROM c WHERE c.state IN ('trust_notified', 'trust_responded')"
    "   RETURNING response_id)"
    " SELECT c.state, (SELECT count(*) FROM kept) FROM c";

static int fill_cases(Ncap__V1__OutlierReply *rep, outlier_answer_t *a)
{
    int n = PQntuples(a->cases);
    a->cells = calloc((size_t)n + 1, sizeof *a->cells);
    a->ptrs = calloc((size_t)n + 1, sizeof *a->ptrs);
    if (!a->cells || !a->ptrs)
        return -1;
    for (int i = 0; i < n; i++) {
        Ncap__V1__OutlierCase *c = &a->cells[i];
        ncap__v1__outlier_case__init(c);
        const PGresult *r = a->cases;
        c->case_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        char **text[] = {
            &c->audit,         &c->period,          &c->metric,          &c->level,
            &c->area_code,     &c->state,           &c->since,           &c->flag,
            &c->numerator,     &c->denominator,     &c->expected,        &c->value,
            &c->england_value, &c->funnel_lower998, &c->funnel_upper998, &c->notified_at};
        for (int k = 0; k < (int)(sizeof text / sizeof text[0]); k++)
            *text[k] = PQgetvalue(r, i, k + 1);
        c->responses = (uint32_t)strtoul(PQgetvalue(r, i, 17), NULL, 10);
        a->ptrs[i] = c;
    }
    rep->cases = a->ptrs;
    rep->n_cases = (size_t)n;
    return 0;
}

int outlier_request_answer(PGconn *db, const Ncap__V1__OutlierRequest *req, const char *trust,
                           const char *not_found, Ncap__V1__OutlierReply *rep, outlier_answer_t *a,
                           char *err, size_t errlen)
{
    *a = (outlier_answer_t){0};
    char id[32];
    snprintf(id, sizeof id, "%lld",
             req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__LIST ? 0LL
                                                                    : (long long)req->case_id);
    if (req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND) {
        const char *p[] = {id, trust, req->text};
        PGresult *r = db_query(db, respond_sql, 3, p, err, errlen);
        if (!r)
            return -1;
        int found = PQntuples(r) == 1, kept = found && strcmp(PQgetvalue(r, 0, 1), "1") == 0;
        if (found && !kept) {
            snprintf(a->msg, sizeof a->msg,
                     "outlier case %s is %s: responses are taken until it is published", id,
                     PQgetvalue(r, 0, 0));
            rep->kind = NCAP__V1__OUTLIER_REPLY__KIND__ERROR;
            rep->error = a->msg;
        }
        PQclear(r);
        if (!found) {
            rep->kind = NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND;
            rep->error = (char *)not_found;
        }
        if (!found || !kept)
            return 0;
    }
    const char *p[] = {trust, id};
    if (!(a->cases = db_query(db, cases_sql, 2, p, err, errlen)))
        return -1;
    if (req->action != NCAP__V1__OUTLIER_REQUEST__ACTION__LIST && PQntuples(a->cases) == 0) {
        rep->kind = NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND;
        rep->error = (char *)not_found;
        return 0;
    }
    if (fill_cases(rep, a) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW) {
        const char *pi[] = {id, trust};
        if (!(a->ids = db_query(db, ids_sql, 2, pi, err, errlen)))
            return -1;
        int n = PQntuples(a->ids);
        if (!(a->local_ids = calloc((size_t)n + 1, sizeof *a->local_ids))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int i = 0; i < n; i++)
            a->local_ids[i] = PQgetvalue(a->ids, i, 0);
        rep->local_ids = a->local_ids;
        rep->n_local_ids = (size_t)n;
    }
    rep->kind = NCAP__V1__OUTLIER_REPLY__KIND__OK;
    return 0;
}

void outlier_answer_clear(outlier_answer_t *a)
{
    PQclear(a->cases);
    PQclear(a->ids);
    free(a->cells);
    free(a->ptrs);
    free(a->local_ids);
    *a = (outlier_answer_t){0};
}
