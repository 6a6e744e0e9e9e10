/* metric_stage.c - ncap-metricd's work on a batch: contributions of the latest versions */
#include "metric_stage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakdown.h"
#include "contribution.h"
#include "db.h"
#include "stage_record.h"
#include "pg_columns.h"

/* A row of validation.record as metric takes it, and the decision on it. */
typedef struct {
    stage_record_t r; /* audit, trust, site, payload, definition */
    bool valid;
    char period[8];
    char month[8];           /* "YYYY-MM" */
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
/* O(backlog) over validation.record's index on validated_at. */
static const char backlog_sql[] = STAGE_BACKLOG_SQL(SOURCE_COLUMNS, "v", "validated_at", NOT_TAKEN);

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

/* Each record's period, contributions and categories (pure). An invalid record contributes
 * nothing; a valid one whose metric fails, or that cannot be placed in a declared breakdown, is
 * quarantined. */
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
        if (nc < 0 && in->valid)
            stage_item_fail(it, STAGE_ERR_EVALUATION, "%s", err);
        in->n_contrib = in->valid && in->period[0] && nc > 0 ? nc : 0;
        /* a valid record with a period counts once (CONTRIBUTION_RECORDS) in its categories */
        if (in->valid && in->period[0] && nc >= 0) {
            in->contrib[in->n_contrib++] = (contribution_t){
                .metric_id = CONTRIBUTION_RECORDS, .numerator = 0, .denominator = 1};
            if (breakdown_categories(in->r.def, in->r.rec, in->categories, err, sizeof err) != 0)
                stage_item_fail(it, STAGE_ERR_EVALUATION, "%s", err);
        }
    }
}

enum { S_RID, S_VER, S_AUDIT, S_TRUST, S_PERIOD, S_VALID, S_LREV, NS };
/* a contribution: the record's key, its cell, its counts and its categories (breakdown_t order) */
enum { K_RID, K_METRIC, K_AUDIT, K_TRUST, K_SITE, K_PERIOD, K_NUM, K_DEN, K_CATEGORY };
#define NK (K_CATEGORY + BREAKDOWN_COUNT)
/* a cell of metric.aggregate and its sums */
enum { C_AUDIT, C_PERIOD, C_TRUST, C_SITE, C_METRIC, C_BREAKDOWN, C_CATEGORY, C_NUM, C_DEN, NC };

/* clang-format off */
/* The cells of the contributions in relation c (audit, period, trust, site, metric_id, numerator,
 * denominator and the category columns): each contribution counts in breakdown 'all' (category
 * '') and in each breakdown its record has a category in. The columns of metric.contribution
 * that hold the categories are named for the breakdowns (breakdown_name). */
#define CELLS_OF(c)                                                                                \
    " SELECT " c ".audit, " c ".period, " c ".trust, " c ".site, " c ".metric_id, b.breakdown,"    \
    "   b.category, " c ".numerator::bigint AS numerator,"                                        \
    "   " c ".denominator::bigint AS denominator"                                                 \
    " FROM " c " CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_decile', " c ".imd_decile),"        \
    "   ('ethnicity', " c ".ethnicity), ('sex', " c ".sex), ('age', " c ".age))"                   \
    "   AS b(breakdown, category) WHERE b.breakdown = 'all' OR b.category <> ''"
#define CONTRIBUTION_COLUMNS                                                                       \
    "audit, period, trust, site, metric_id, numerator, denominator, imd_decile, ethnicity, sex, age"
#define CELL_KEY "audit, period, trust, site, metric_id, breakdown, category"

/* Deletes the contributions of the records ids and returns their sums per cell. */
static const char delete_sql[] =
    "WITH old AS (DELETE FROM metric.contribution WHERE record_id = ANY($1::bigint[])"
    "   RETURNING " CONTRIBUTION_COLUMNS "),"
    " cells AS (" CELLS_OF("old") ")"
    " SELECT " CELL_KEY ", sum(numerator), sum(denominator) FROM cells GROUP BY " CELL_KEY;

/* Inserts the new contributions ($1..$12) and applies to metric.aggregate, in one upsert in key
 * order, their sums less the old sums ($13..$21) per cell; returns the cells whose denominator is
 * now 0 (no contribution left) and any whose sums have become impossible (negative, or a numerator
 * above its denominator: the sums no longer match the contributions), with their sums. */
static const char insert_sql[] =
    "WITH new AS (INSERT INTO metric.contribution (record_id, metric_id, audit, trust, site,"
    "   period, numerator, denominator, imd_decile, ethnicity, sex, age)"
    "   SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[])"
    "   RETURNING " CONTRIBUTION_COLUMNS "),"
    " delta AS (" CELLS_OF("new")
    "   UNION ALL SELECT " CELL_KEY ", -numerator, -denominator"
    "   FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[],"
    "   $18::text[], $19::text[], $20::bigint[], $21::bigint[])"
    "   AS o(" CELL_KEY ", numerator, denominator)),"
    " cells AS (SELECT " CELL_KEY ", sum(numerator)::bigint AS numerator,"
    "   sum(denominator)::bigint AS denominator FROM delta GROUP BY " CELL_KEY "),"
    " up AS (INSERT INTO metric.aggregate AS a (" CELL_KEY ", numerator, denominator)"
    "   SELECT " CELL_KEY ", numerator, denominator FROM cells"
    "   WHERE numerator <> 0 OR denominator <> 0 ORDER BY " CELL_KEY
    "   ON CONFLICT (" CELL_KEY ") DO UPDATE SET numerator = a.numerator + EXCLUDED.numerator,"
    "   denominator = a.denominator + EXCLUDED.denominator"
    "   RETURNING " CELL_KEY ", numerator, denominator)"
    " SELECT " CELL_KEY ", numerator, denominator FROM up"
    " WHERE denominator <= 0 OR numerator < 0 OR numerator > denominator";

/* Deletes the cells $1..$7 left with no contribution. */
static const char delete_empty_sql[] =
    "DELETE FROM metric.aggregate a USING unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    "   $5::text[], $6::text[], $7::text[]) AS z(" CELL_KEY ")"
    " WHERE (a.audit, a.period, a.trust, a.site, a.metric_id, a.breakdown, a.category)"
    "   = (z.audit, z.period, z.trust, z.site, z.metric_id, z.breakdown, z.category)"
    "   AND a.denominator = 0";
/* clang-format on */

/* Every row of r (ncols columns) appended to cols. */
static void rows_to_columns(const PGresult *r, int ncols, pg_columns_t *cols)
{
    const char *v[NC];
    for (int i = 0; i < PQntuples(r); i++) {
        for (int c = 0; c < ncols; c++)
            v[c] = PQgetvalue(r, i, c);
        pg_columns_row(cols, v);
    }
}

/* Replaces the contributions of the records ids with those in k, keeping metric.aggregate equal
 * to their sums in the same transaction. O(contributions replaced), in three statements (four
 * when a cell empties). */
static int replace_contributions(PGconn *db, const pg_columns_t *ids, const pg_columns_t *k,
                                 char *err, size_t errlen)
{
    pg_columns_t old, gone;
    pg_columns_open(&old, NC);
    pg_columns_open(&gone, C_NUM);
    PGresult *r = NULL;
    int rc = -1;
    if (ids->nrows > 0) {
        if (!(r = db_query(db, delete_sql, 1, ids->params, err, errlen)))
            goto done;
        rows_to_columns(r, NC, &old);
        PQclear(r);
        r = NULL;
    }
    if (pg_columns_close(&old) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (k->nrows > 0 || old.nrows > 0) {
        const char *p[NK + NC];
        for (int c = 0; c < NK; c++)
            p[c] = k->params[c];
        for (int c = 0; c < NC; c++)
            p[NK + c] = old.params[c];
        if (!(r = db_query(db, insert_sql, NK + NC, p, err, errlen)))
            goto done;
        for (int i = 0; i < PQntuples(r); i++) {
            if (strcmp(PQgetvalue(r, i, C_NUM), "0") == 0 &&
                strcmp(PQgetvalue(r, i, C_DEN), "0") == 0)
                continue;
            snprintf(err, errlen,
                     "metric.aggregate would hold numerator %s of denominator %s in cell (%s, %s,"
                     " %s, %s, %s, %s, %s): its sums no longer match metric.contribution",
                     PQgetvalue(r, i, C_NUM), PQgetvalue(r, i, C_DEN), PQgetvalue(r, i, C_AUDIT),
                     PQgetvalue(r, i, C_PERIOD), PQgetvalue(r, i, C_TRUST),
                     PQgetvalue(r, i, C_SITE), PQgetvalue(r, i, C_METRIC),
                     PQgetvalue(r, i, C_BREAKDOWN), PQgetvalue(r, i, C_CATEGORY));
            goto done;
        }
        rows_to_columns(r, C_NUM, &gone);
    }
    if (pg_columns_close(&gone) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (gone.nrows > 0 && db_execp(db, delete_empty_sql, C_NUM, gone.params, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    PQclear(r);
    pg_columns_free(&old);
    pg_columns_free(&gone);
    return rc;
}

/* Takes in every version; applies a version (at a link revision) only if it is the newest seen for
 * its record, replacing the record's contributions (and their sums in metric.aggregate); marks
 * those applied to pass on to publish. */
static int store(void *state, PGconn *db, stage_batch_t *b, char *err, size_t errlen)
{
    (void)state;
    pg_columns_t s, k, ids;
    pg_columns_open(&s, NS);
    pg_columns_open(&k, NK);
    pg_columns_open(&ids, 1);
    PGresult *applied = NULL;
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
                              lrev};
        pg_columns_row(&s, sv);
    }
    if (pg_columns_close(&s) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    applied = db_query(
        db,
        "WITH src AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[],"
        "   $5::text[], $6::bool[], $7::int[]) AS s(record_id, version, audit, trust, period,"
        "   valid, link_revision)),"
        " pr AS (INSERT INTO metric.processed AS m (record_id, version, link_revision)"
        "   SELECT DISTINCT ON (record_id, version) record_id, version, link_revision FROM src"
        "   ORDER BY record_id, version, link_revision DESC"
        "   ON CONFLICT (record_id, version) DO UPDATE SET link_revision = EXCLUDED.link_revision,"
        "   processed_at = now() WHERE m.link_revision < EXCLUDED.link_revision)"
        " INSERT INTO metric.record_state AS st (record_id, version, audit, trust, period, valid,"
        "   link_revision)"
        " SELECT DISTINCT ON (record_id) record_id, version, audit, trust, period, valid,"
        "   link_revision FROM src ORDER BY record_id, version DESC, link_revision DESC"
        " ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
        "   trust = EXCLUDED.trust, period = EXCLUDED.period, valid = EXCLUDED.valid,"
        "   link_revision = EXCLUDED.link_revision, updated_at = now()"
        "   WHERE (st.version, st.link_revision) < (EXCLUDED.version, EXCLUDED.link_revision)"
        " RETURNING record_id, version, link_revision",
        NS, s.params, err, errlen);
    if (!applied)
        goto done;
    for (int r = 0; r < PQntuples(applied); r++) {
        stage_key_t key = {strtoll(PQgetvalue(applied, r, 0), NULL, 10),
                           atoi(PQgetvalue(applied, r, 1)), atoi(PQgetvalue(applied, r, 2))};
        const char *idv[1] = {PQgetvalue(applied, r, 0)};
        pg_columns_row(&ids, idv);
        for (size_t i = 0; i < b->n; i++) {
            stage_item_t *it = &b->items[i];
            const input_t *in = it->input;
            if (it->error != STAGE_OK || it->key.record_id != key.record_id ||
                it->key.version != key.version || it->key.link_revision != key.link_revision)
                continue;
            it->forward = true;
            it->out_key = key;
            for (int c = 0; c < in->n_contrib; c++) {
                char num[24], den[4];
                snprintf(num, sizeof num, "%lld", in->contrib[c].numerator);
                snprintf(den, sizeof den, "%d", in->contrib[c].denominator);
                const char *kv[NK] = {PQgetvalue(applied, r, 0),
                                      in->contrib[c].metric_id,
                                      in->r.audit,
                                      in->r.trust,
                                      in->r.site,
                                      in->period,
                                      num,
                                      den};
                for (int bd = 0; bd < BREAKDOWN_COUNT; bd++)
                    kv[K_CATEGORY + bd] = in->categories[bd];
                pg_columns_row(&k, kv);
            }
            break;
        }
    }
    if (pg_columns_close(&k) != 0 || pg_columns_close(&ids) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = replace_contributions(db, &ids, &k, err, errlen);
done:
    PQclear(applied);
    pg_columns_free(&s);
    pg_columns_free(&k);
    pg_columns_free(&ids);
    return rc;
}

stage_ops_t metric_stage_ops(metric_t *ms)
{
    return (stage_ops_t){.upstream = "validation",
                         .downstream = "publish",
                         .state = ms,
                         .load_sql = load_sql,
                         .backlog_sql = backlog_sql,
                         .read_row = read_row,
                         .free_input = free_input,
                         .decide = decide,
                         .store = store,
                         .gather_ms = 5};
}
