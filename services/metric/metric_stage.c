/* metric_stage.c - ncap-metricd's work on a batch: contributions of the latest versions */
#include "metric_stage.h"

#include <math.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakdown.h"
#include "contribution.h"
#include "datetime.h"
#include "db.h"
#include "metric_store.h"
#include "stage_record.h"
#include "pg_columns.h"

/* A row of validation.record as metric takes it, and the decision on it. */
typedef struct {
    stage_record_t r; /* audit, trust, site, payload, definition */
    bool valid;
    char period[8];
    char month[8];           /* "YYYY-MM" */
    char event_at[24];       /* the period field's time, seconds since 1970 ("" none) */
    contribution_t *contrib; /* def->n_metrics of them */
    int n_contrib;
    char categories[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX]; /* where it has contributions */
} input_t;

/* Columns of load_sql and backlog_sql: the key first, as the contract asks. */
#define SOURCE_COLUMNS                                                                             \
    "SELECT v.record_id, v.version, v.link_revision, v.audit, v.trust, v.site, v.payload::text,"   \
    " v.valid FROM validation.record v"
/* Not yet taken in at this link revision, and not quarantined. */
#define NOT_TAKEN                                                                                  \
    " NOT EXISTS (SELECT 1 FROM metric.processed m WHERE m.record_id = v.record_id"                \
    "   AND m.version = v.version AND m.link_revision >= v.link_revision)" STAGE_NOT_QUARANTINED(  \
        "metric", "v", "v.link_revision")

static const char load_sql[] = STAGE_LOAD_SQL(SOURCE_COLUMNS, "v", NOT_TAKEN);
/* After the watermark: O(rows after it) over validation.record's index on (write_xid, record_id,
 * version), never O(table) (migration 0018). */
static const char backlog_sql[] =
    STAGE_BACKLOG_SQL("metric", SOURCE_COLUMNS, "v", "validated_at", NOT_TAKEN);
static const char advance_sql[] = STAGE_ADVANCE_SQL("metric", "validation.record", "v", NOT_TAKEN);
static const char backlog_count_sql[] =
    STAGE_BACKLOG_COUNT_SQL("metric", "validation.record", "v", NOT_TAKEN);

static void free_input(void *state, void *p)
{
    (void)state;
    input_t *in = p;
    if (!in)
        return;
    stage_record_clear(&in->r);
    free(in->contrib);
    free(in);
}

static void *read_row(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen)
{
    metric_t *ms = state;
    input_t *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (stage_record_read(&in->r, ms->audits, r, row, class_out, err, errlen) != 0) {
        free_input(state, in);
        return NULL;
    }
    in->valid = PQgetvalue(r, row, STAGE_RECORD_COLUMNS)[0] == 't';
    if (!(in->contrib = calloc(in->r.def->n_metrics + 1, sizeof *in->contrib))) {
        snprintf(err, errlen, "out of memory");
        free_input(state, in);
        return NULL;
    }
    return in;
}

/* Each record's period, contributions and categories (pure). An invalid record with a period
 * counts once as rejected (CONTRIBUTION_REJECTED, no category) and in no metric; a valid one whose
 * metric fails, or that cannot be placed in a declared breakdown, is quarantined. */
static void decide(void *state, stage_batch_t *b)
{
    (void)state;
    for (size_t i = 0; i < b->n; i++) {
        stage_item_t *it = &b->items[i];
        input_t *in = it->input;
        if (it->error != STAGE_OK)
            continue;
        char err[400];
        int nc = contribution_compute(in->r.def, in->r.rec, in->period, in->month, in->contrib, err,
                                      sizeof err);
        /* the clinical event's time, for the delay ledger (publish.delay, migration 0026) */
        const char *pv = ncap_record_get(in->r.rec, in->r.def->period_field);
        int64_t t;
        bool has_time;
        if (in->period[0] && pv && ncap_datetime_parse(pv, &t, &has_time) == 0)
            snprintf(in->event_at, sizeof in->event_at, "%lld", (long long)t);
        if (nc < 0 && in->valid)
            stage_item_fail(it, STAGE_ERR_EVALUATION, "%s", err);
        /* metric.measure counts values: an infinity or NaN has no place in a median or mean */
        for (int c = 0; c < nc && in->valid && it->error == STAGE_OK; c++)
            if (in->contrib[c].has_value && !isfinite(in->contrib[c].value))
                stage_item_fail(it, STAGE_ERR_EVALUATION,
                                "metric \"%s\": value is %g, expected a finite number",
                                in->contrib[c].metric_id, in->contrib[c].value);
        in->n_contrib = in->valid && in->period[0] && nc > 0 ? nc : 0;
        if (!in->valid && in->period[0]) {
            in->contrib[0] = (contribution_t){
                .metric_id = CONTRIBUTION_REJECTED, .numerator = 0, .denominator = 1};
            in->n_contrib = 1;
            continue;
        }
        /* a valid record with a period counts once (CONTRIBUTION_RECORDS) in its categories */
        if (in->valid && in->period[0] && nc >= 0 && it->error == STAGE_OK) {
            in->contrib[in->n_contrib++] = (contribution_t){
                .metric_id = CONTRIBUTION_RECORDS, .numerator = 0, .denominator = 1};
            if (breakdown_categories(in->r.def, in->r.rec, in->categories, err, sizeof err) != 0)
                stage_item_fail(it, STAGE_ERR_EVALUATION, "%s", err);
        }
    }
}

enum { S_RID, S_VER, S_AUDIT, S_TRUST, S_PERIOD, S_VALID, S_LREV, S_EVENT, NS };

/* metric_store_is_ratio_fn over the audits' definitions: a metric the current definition does not
 * have (any more) is taken as a ratio, whose numerator is not checked against its denominator,
 * since its kind is not known. */
static bool is_ratio(void *ctx, const char *audit, const char *metric_id)
{
    metric_t *ms = ctx;
    char err[400];
    const audit_def_t *def = ms ? audit_cache_get(ms->audits, audit, err, sizeof err) : NULL;
    for (size_t i = 0; def && i < def->n_metrics; i++)
        if (strcmp(def->metrics[i].id, metric_id) == 0)
            return def->metrics[i].kind == AUDIT_METRIC_RATIO;
    /* CONTRIBUTION_RECORDS and CONTRIBUTION_REJECTED count records: their numerator is 0 */
    return metric_id[0] != '\0' && strcmp(metric_id, CONTRIBUTION_REJECTED) != 0;
}

/* Takes in every version; applies a version (at a link revision) only if it is the newest seen for
 * its record, replacing the record's contributions (and their sums and values, metric_store.h);
 * marks those applied to pass on to publish. */
static int store(void *state, PGconn *db, stage_batch_t *b, char *err, size_t errlen)
{
    pg_columns_t s;
    pg_columns_open(&s, NS);
    PGresult *applied = NULL;
    metric_store_record_t *recs = NULL;
    int rc = -1;
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        const input_t *in = it->input;
        if (it->error != STAGE_OK)
            continue;
        char rid[32], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)it->key.record_id);
        snprintf(ver, sizeof ver, "%d", it->key.version);
        snprintf(lrev, sizeof lrev, "%d", it->key.link_revision);
        const char *sv[NS] = {rid,
                              ver,
                              in->r.audit,
                              in->r.trust,
                              in->period[0] ? in->period : NULL,
                              in->valid ? "t" : "f",
                              lrev,
                              in->event_at[0] ? in->event_at : NULL};
        pg_columns_row(&s, sv);
    }
    if (pg_columns_close(&s) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    applied = db_query(
        db,
        "WITH src AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[],"
        "   $5::text[], $6::bool[], $7::int[], $8::bigint[]) AS s(record_id, version, audit, trust,"
        "   period, valid, link_revision, event_s)),"
        " pr AS (INSERT INTO metric.processed AS m (record_id, version, link_revision)"
        "   SELECT DISTINCT ON (record_id, version) record_id, version, link_revision FROM src"
        "   ORDER BY record_id, version, link_revision DESC"
        "   ON CONFLICT (record_id, version) DO UPDATE SET link_revision = EXCLUDED.link_revision,"
        "   processed_at = now() WHERE m.link_revision < EXCLUDED.link_revision)"
        " INSERT INTO metric.record_state AS st (record_id, version, audit, trust, period, valid,"
        "   link_revision, event_at)"
        " SELECT DISTINCT ON (record_id) record_id, version, audit, trust, period, valid,"
        "   link_revision, to_timestamp(event_s) FROM src"
        "   ORDER BY record_id, version DESC, link_revision DESC"
        " ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
        "   trust = EXCLUDED.trust, period = EXCLUDED.period, valid = EXCLUDED.valid,"
        "   event_at = EXCLUDED.event_at,"
        "   link_revision = EXCLUDED.link_revision, updated_at = now()"
        "   WHERE (st.version, st.link_revision) < (EXCLUDED.version, EXCLUDED.link_revision)"
        " RETURNING record_id, version, link_revision",
        NS, s.params, err, errlen);
    if (!applied)
        goto done;
    size_t n = (size_t)PQntuples(applied);
    if (!(recs = calloc(n + 1, sizeof *recs))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        stage_key_t key = {strtoll(PQgetvalue(applied, (int)r, 0), NULL, 10),
                           atoi(PQgetvalue(applied, (int)r, 1)),
                           atoi(PQgetvalue(applied, (int)r, 2))};
        recs[r].record_id = key.record_id;
        for (size_t i = 0; i < b->n; i++) {
            stage_item_t *it = &b->items[i];
            const input_t *in = it->input;
            if (it->error != STAGE_OK || it->key.record_id != key.record_id ||
                it->key.version != key.version || it->key.link_revision != key.link_revision)
                continue;
            it->forward = true;
            it->out_key = key;
            recs[r] = (metric_store_record_t){.record_id = key.record_id,
                                              .audit = in->r.audit,
                                              .trust = in->r.trust,
                                              .site = in->r.site,
                                              .period = in->period,
                                              .month = in->month,
                                              .contrib = in->contrib,
                                              .n_contrib = in->n_contrib};
            for (int bd = 0; bd < BREAKDOWN_COUNT; bd++)
                recs[r].categories[bd] = in->categories[bd];
            break;
        }
    }
    rc = metric_store_replace(db, recs, n, is_ratio, state, err, errlen);
done:
    free(recs);
    PQclear(applied);
    pg_columns_free(&s);
    return rc;
}

stage_ops_t metric_stage_ops(metric_t *ms)
{
    return (stage_ops_t){.upstream = "validation",
                         .downstream = "publish",
                         .state = ms,
                         .load_sql = load_sql,
                         .backlog_sql = backlog_sql,
                         .advance_sql = advance_sql,
                         .backlog_count_sql = backlog_count_sql,
                         .read_row = read_row,
                         .free_input = free_input,
                         .decide = decide,
                         .store = store,
                         .gather_ms = 5};
}
