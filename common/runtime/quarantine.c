/* quarantine.c - records a stage could not process: written, listed, released */
#include "quarantine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"
#include "strbuf.h"

const char *const quarantine_stages[QUARANTINE_STAGES] = {"linkage", "validation", "metric"};

bool quarantine_stage_known(const char *name)
{
    for (int i = 0; i < QUARANTINE_STAGES; i++)
        if (strcmp(name, quarantine_stages[i]) == 0)
            return true;
    return false;
}

int quarantine_write(PGconn *db, const char *stage, const stage_batch_t *b, char *err,
                     size_t errlen)
{
    pg_columns_t q, ok;
    pg_columns_open(&q, 6);
    pg_columns_open(&ok, 2);
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        if (it->error == STAGE_OK && it->deferred)
            continue; /* not taken: a quarantine it is held in stays until it is */
        char rid[24], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)it->key.record_id);
        snprintf(ver, sizeof ver, "%d", it->key.version);
        snprintf(lrev, sizeof lrev, "%d", it->key.link_revision);
        if (it->error != STAGE_OK) {
            const char *v[6] = {rid,
                                ver,
                                lrev,
                                stage_error_name(it->error),
                                it->sqlstate[0] ? it->sqlstate : NULL,
                                it->message};
            pg_columns_row(&q, v);
        } else {
            const char *v[2] = {rid, ver};
            pg_columns_row(&ok, v);
        }
    }
    int rc = pg_columns_close(&q) == 0 && pg_columns_close(&ok) == 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    char sql[1024];
    if (rc == 0 && q.nrows > 0) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO %s.quarantine AS q (record_id, version, link_revision, stage,"
                 " error_class, sqlstate, message)"
                 " SELECT DISTINCT ON (record_id, version, link_revision) record_id, version,"
                 " link_revision, '%s', error_class, sqlstate, message FROM unnest($1::bigint[],"
                 " $2::int[], $3::int[], $4::text[], $5::text[], $6::text[]) AS u(record_id,"
                 " version, link_revision, error_class, sqlstate, message)"
                 " ON CONFLICT (record_id, version, link_revision) DO UPDATE SET held = true,"
                 " error_class = EXCLUDED.error_class, sqlstate = EXCLUDED.sqlstate,"
                 " message = EXCLUDED.message, attempts = q.attempts + 1, last_seen = now()",
                 stage, stage);
        rc = db_execp(db, sql, 6, q.params, err, errlen);
    }
    if (rc == 0 && ok.nrows > 0) {
        /* A record taken after `ncap quarantine retry` leaves the quarantine: one index probe per
         * record on a table that is empty in a healthy pipeline. */
        snprintf(sql, sizeof sql,
                 "DELETE FROM %s.quarantine q USING unnest($1::bigint[], $2::int[]) AS"
                 " u(record_id, version) WHERE q.record_id = u.record_id AND"
                 " q.version = u.version",
                 stage);
        rc = db_execp(db, sql, 2, ok.params, err, errlen);
    }
    pg_columns_free(&q);
    pg_columns_free(&ok);
    return rc;
}

/* A time as `ncap quarantine` shows it: UTC, ISO 8601. */
#define TIME_FORMAT "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\""

/* Where each stage's quarantined records come from, for their audit and trust. */
static const char *const upstream_sql[QUARANTINE_STAGES] = {
    "SELECT rec.audit, rec.trust FROM ingest.record rec WHERE rec.record_id = q.record_id",
    "SELECT l.audit, l.trust FROM linkage.pseudo_record l WHERE l.record_id = q.record_id"
    " AND l.version = q.version",
    "SELECT v.audit, v.trust FROM validation.record v WHERE v.record_id = q.record_id"
    " AND v.version = q.version"};

/* Appends to sql the quarantined rows of stage (NULL: every stage), each with its audit and trust
 * from upstream, of audit $1 (NULL: every audit): stage, record_id, version, link_revision,
 * audit, trust, error_class, sqlstate ('' for none), message, first_seen and last_seen as text,
 * attempts, held, first_seen, last_seen, stage_order. */
static void append_rows_sql(strbuf_t *sql, const char *stage)
{
    bool first = true;
    for (int i = 0; i < QUARANTINE_STAGES; i++) {
        if (stage && strcmp(stage, quarantine_stages[i]) != 0)
            continue;
        strbuf_appendf(
            sql,
            "%sSELECT '%s' AS stage, q.record_id, q.version, q.link_revision,"
            " coalesce(u.audit, '') AS audit, coalesce(u.trust, '') AS trust, q.error_class,"
            " coalesce(q.sqlstate, '') AS sqlstate, q.message,"
            " to_char(q.first_seen AT TIME ZONE 'UTC', '" TIME_FORMAT "') AS first_text,"
            " to_char(q.last_seen AT TIME ZONE 'UTC', '" TIME_FORMAT "') AS last_text,"
            " q.attempts, q.held, q.first_seen, q.last_seen, %d AS stage_order"
            " FROM %s.quarantine q LEFT JOIN LATERAL (%s) u ON true"
            " WHERE $1::text IS NULL OR u.audit = $1",
            first ? "" : " UNION ALL ", quarantine_stages[i], i, quarantine_stages[i],
            upstream_sql[i]);
        first = false;
    }
}

/* What list_row hands each row to. */
typedef struct {
    void (*each)(void *ctx, const quarantine_row_t *row);
    void *ctx;
    long long n;
} list_ctx_t;

/* One row of append_rows_sql's, handed on (db_each_row's row). */
static int list_row(void *ctx, const PGresult *r, int i)
{
    list_ctx_t *l = ctx;
    quarantine_row_t q = {.message = PQgetvalue(r, i, 8)};
    snprintf(q.stage, sizeof q.stage, "%s", PQgetvalue(r, i, 0));
    q.record_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    q.version = atoi(PQgetvalue(r, i, 2));
    q.link_revision = atoi(PQgetvalue(r, i, 3));
    snprintf(q.audit, sizeof q.audit, "%s", PQgetvalue(r, i, 4));
    snprintf(q.trust, sizeof q.trust, "%s", PQgetvalue(r, i, 5));
    snprintf(q.error_class, sizeof q.error_class, "%s", PQgetvalue(r, i, 6));
    snprintf(q.sqlstate, sizeof q.sqlstate, "%s", PQgetvalue(r, i, 7));
    snprintf(q.first_seen, sizeof q.first_seen, "%s", PQgetvalue(r, i, 9));
    snprintf(q.last_seen, sizeof q.last_seen, "%s", PQgetvalue(r, i, 10));
    q.attempts = atoi(PQgetvalue(r, i, 11));
    q.held = PQgetvalue(r, i, 12)[0] == 't';
    l->each(l->ctx, &q);
    l->n++;
    return 0;
}

long long quarantine_list(PGconn *db, const char *stage, const char *audit,
                          void (*each)(void *ctx, const quarantine_row_t *row), void *ctx,
                          char *err, size_t errlen)
{
    strbuf_t sql;
    strbuf_init(&sql);
    append_rows_sql(&sql, stage);
    strbuf_append(&sql, " ORDER BY stage_order, first_seen, record_id, version, link_revision");
    if (!sql.s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    list_ctx_t l = {each, ctx, 0};
    const char *p[] = {audit};
    int rc = db_exec(db, "BEGIN READ ONLY", err, errlen);
    if (rc == 0)
        rc = db_each_row(db, sql.s, 1, p, list_row, &l, err, errlen);
    if (rc == 0)
        rc = db_exec(db, "COMMIT", err, errlen);
    else
        db_exec(db, "ROLLBACK", NULL, 0);
    strbuf_free(&sql);
    return rc == 0 ? l.n : -1;
}

int quarantine_summary(PGconn *db, const char *stage, const char *audit, quarantine_summary_t *out,
                       char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_append(&sql, "SELECT stage, audit, error_class, sqlstate, count(*),"
                        " count(*) FILTER (WHERE held), count(DISTINCT trust),"
                        " to_char(min(first_seen) AT TIME ZONE 'UTC', '" TIME_FORMAT "'),"
                        " to_char(max(last_seen) AT TIME ZONE 'UTC', '" TIME_FORMAT "'),"
                        " count(DISTINCT message), mode() WITHIN GROUP (ORDER BY message)"
                        " FROM (");
    append_rows_sql(&sql, stage);
    strbuf_append(&sql, ") x GROUP BY stage_order, stage, audit, error_class, sqlstate"
                        " ORDER BY stage_order, count(*) DESC, audit, error_class, sqlstate");
    if (!sql.s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {audit};
    PGresult *r = db_query(db, sql.s, 1, p, err, errlen);
    strbuf_free(&sql);
    if (!r)
        return -1;
    int n = PQntuples(r);
    if (!(out->groups = calloc((size_t)n + 1, sizeof *out->groups))) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        quarantine_group_t *g = &out->groups[out->n];
        snprintf(g->stage, sizeof g->stage, "%s", PQgetvalue(r, i, 0));
        snprintf(g->audit, sizeof g->audit, "%s", PQgetvalue(r, i, 1));
        snprintf(g->error_class, sizeof g->error_class, "%s", PQgetvalue(r, i, 2));
        snprintf(g->sqlstate, sizeof g->sqlstate, "%s", PQgetvalue(r, i, 3));
        g->records = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        g->held = strtoll(PQgetvalue(r, i, 5), NULL, 10);
        g->trusts = strtoll(PQgetvalue(r, i, 6), NULL, 10);
        snprintf(g->first_seen, sizeof g->first_seen, "%s", PQgetvalue(r, i, 7));
        snprintf(g->last_seen, sizeof g->last_seen, "%s", PQgetvalue(r, i, 8));
        g->messages = strtoll(PQgetvalue(r, i, 9), NULL, 10);
        if (!(g->message = strdup(PQgetvalue(r, i, 10)))) {
            PQclear(r);
            quarantine_summary_free(out);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        out->n++;
    }
    PQclear(r);
    return 0;
}

void quarantine_summary_free(quarantine_summary_t *s)
{
    for (size_t i = 0; s->groups && i < s->n; i++)
        free(s->groups[i].message);
    free(s->groups);
    memset(s, 0, sizeof *s);
}

long long quarantine_retry(PGconn *db, const char *stage, const long long *record_ids, size_t n,
                           bool all, char *err, size_t errlen)
{
    strbuf_t ids;
    strbuf_init(&ids);
    strbuf_pg_array_open(&ids);
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", record_ids[i]);
        strbuf_pg_array_elem(&ids, id);
    }
    strbuf_pg_array_close(&ids);
    if (!ids.s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long long released = 0;
    for (int i = 0; i < QUARANTINE_STAGES; i++) {
        if (stage && strcmp(stage, quarantine_stages[i]) != 0)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "UPDATE %s.quarantine SET held = false WHERE held AND"
                 " ($1::bool OR record_id = ANY($2::bigint[]))",
                 quarantine_stages[i]);
        const char *p[] = {all ? "t" : "f", ids.s};
        PGresult *r = db_query(db, sql, 2, p, err, errlen);
        if (!r) {
            strbuf_free(&ids);
            return -1;
        }
        released += strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    strbuf_free(&ids);
    return released;
}
