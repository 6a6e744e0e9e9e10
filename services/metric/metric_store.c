/* metric_store.c - metric.contribution, metric.aggregate and metric.measure, kept together */
#include "metric_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"

/* a new contribution: the record's key, its cell, its sums, its value and its categories
 * (breakdown_t order) */
enum {
    K_RID,
    K_METRIC,
    K_AUDIT,
    K_TRUST,
    K_SITE,
    K_PERIOD,
    K_MONTH,
    K_NUM,
    K_DEN,
    K_E9,
    K_VALUE,
    K_HELD,
    K_MISSING,
    K_CATEGORY
};
#define NK (K_CATEGORY + BREAKDOWN_COUNT)
/* a cell and its sums (metric.aggregate); a cell, a value and its count (metric.measure) */
enum {
    C_AUDIT,
    C_PERIOD,
    C_MONTH,
    C_TRUST,
    C_SITE,
    C_METRIC,
    C_BREAKDOWN,
    C_CATEGORY,
    C_NUM,
    C_DEN,
    C_E9,
    C_HELD,
    C_MISSING,
    NC
};
enum { M_VALUE = C_NUM, M_COUNT, NM };
/* the rows delete_sql returns: a cell, a value (NULL: the cell's sums follow), five sums */
enum { D_VALUE = C_NUM, D_NUM };

/* clang-format off */
#define CELL_KEY "audit, period, month, trust, site, metric_id, breakdown, category"
#define SUMS "numerator, denominator, expected_e9, held, missing"
#define CONTRIBUTION_COLUMNS                                                                       \
    "audit, period, month, trust, site, metric_id, numerator, denominator, expected_e9, value,"    \
    " held, missing, imd_decile, ethnicity, sex, age"
/* The cells of the contributions in relation c (CONTRIBUTION_COLUMNS): each counts in breakdown
 * 'all' (category '') and in each breakdown its record has a category in. The columns of
 * metric.contribution that hold the categories are named for the breakdowns (breakdown_name). */
#define CELLS_OF(c)                                                                                \
    " SELECT " c ".audit, " c ".period, " c ".month, " c ".trust, " c ".site, " c ".metric_id,"    \
    "   b.breakdown, b.category, " c ".numerator, " c ".denominator::bigint AS denominator,"       \
    "   " c ".expected_e9, " c ".held::int::bigint AS held, " c ".missing::int::bigint AS missing," \
    "   " c ".value"                                                                               \
    " FROM " c " CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_decile', " c ".imd_decile),"        \
    "   ('ethnicity', " c ".ethnicity), ('sex', " c ".sex), ('age', " c ".age))"                   \
    "   AS b(breakdown, category) WHERE b.breakdown = 'all' OR b.category <> ''"
/* Deletes the contributions of the records $1 and returns what they added: per cell its sums
 * (value NULL), and per cell and value how many had it (in the numerator's place). */
static const char delete_sql[] =
    "WITH old AS (DELETE FROM metric.contribution WHERE record_id = ANY($1::bigint[])"
    "   RETURNING " CONTRIBUTION_COLUMNS "),"
    " cells AS (" CELLS_OF("old") ")"
    " SELECT " CELL_KEY ", NULL::float8, sum(numerator), sum(denominator), sum(expected_e9),"
    "   sum(held), sum(missing) FROM cells GROUP BY " CELL_KEY
    " UNION ALL SELECT " CELL_KEY ", value, count(*), 0, 0, 0, 0 FROM cells"
    "   WHERE value IS NOT NULL GROUP BY " CELL_KEY ", value";

/* Inserts the new contributions ($1..$17) and applies to metric.aggregate, in one upsert in key
 * order, their sums less the old sums ($18..$30) per cell; returns the cells whose sums are now
 * all 0 (no contribution left) and any with a sum below 0 or a numerator above its denominator. */
static const char insert_sql[] =
    "WITH new AS (INSERT INTO metric.contribution (record_id, metric_id, audit, trust, site,"
    "   period, month, numerator, denominator, expected_e9, value, held, missing, imd_decile,"
    "   ethnicity, sex, age)"
    "   SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[], $7::text[], $8::bigint[], $9::int[], $10::bigint[], $11::float8[],"
    "   $12::bool[], $13::bool[], $14::text[], $15::text[], $16::text[], $17::text[])"
    "   RETURNING " CONTRIBUTION_COLUMNS "),"
    " delta AS (SELECT " CELL_KEY ", " SUMS " FROM (" CELLS_OF("new") ") n"
    "   UNION ALL SELECT " CELL_KEY ", -numerator, -denominator, -expected_e9, -held, -missing"
    "   FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[],"
    "   $23::text[], $24::text[], $25::text[], $26::bigint[], $27::bigint[], $28::bigint[],"
    "   $29::bigint[], $30::bigint[]) AS o(" CELL_KEY ", " SUMS ")),"
    " cells AS (SELECT " CELL_KEY ", sum(numerator)::bigint AS numerator,"
    "   sum(denominator)::bigint AS denominator, sum(expected_e9)::bigint AS expected_e9,"
    "   sum(held)::bigint AS held, sum(missing)::bigint AS missing FROM delta GROUP BY " CELL_KEY "),"
    " up AS (INSERT INTO metric.aggregate AS a (" CELL_KEY ", " SUMS ")"
    "   SELECT " CELL_KEY ", " SUMS " FROM cells"
    "   WHERE (" SUMS ") <> (0, 0, 0, 0, 0) ORDER BY " CELL_KEY
    "   ON CONFLICT (" CELL_KEY ") DO UPDATE SET numerator = a.numerator + EXCLUDED.numerator,"
    "   denominator = a.denominator + EXCLUDED.denominator,"
    "   expected_e9 = a.expected_e9 + EXCLUDED.expected_e9, held = a.held + EXCLUDED.held,"
    "   missing = a.missing + EXCLUDED.missing"
    "   RETURNING " CELL_KEY ", " SUMS ")"
    " SELECT " CELL_KEY ", " SUMS " FROM up"
    " WHERE (" SUMS ") = (0, 0, 0, 0, 0) OR least(" SUMS ") < 0 OR numerator > denominator";

/* Counts the values of the records $1's contributions (stored by insert_sql) on in
 * metric.measure, the old ones ($2..$11) off, in one upsert in key order; returns the values
 * whose count is now 0 or below. */
static const char measure_sql[] =
    "WITH cur AS (SELECT " CONTRIBUTION_COLUMNS " FROM metric.contribution"
    "   WHERE record_id = ANY($1::bigint[]) AND value IS NOT NULL),"
    " delta AS (SELECT " CELL_KEY ", value, 1::bigint AS count FROM (" CELLS_OF("cur") ") n"
    "   UNION ALL SELECT " CELL_KEY ", value, -count FROM unnest($2::text[], $3::text[],"
    "   $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[],"
    "   $11::bigint[]) AS o(" CELL_KEY ", value, count)),"
    " vals AS (SELECT " CELL_KEY ", value, sum(count)::bigint AS count FROM delta"
    "   GROUP BY " CELL_KEY ", value),"
    " up AS (INSERT INTO metric.measure AS m (" CELL_KEY ", value, count)"
    "   SELECT " CELL_KEY ", value, count FROM vals WHERE count <> 0 ORDER BY " CELL_KEY ", value"
    "   ON CONFLICT (" CELL_KEY ", value) DO UPDATE SET count = m.count + EXCLUDED.count"
    "   RETURNING " CELL_KEY ", value, count)"
    " SELECT " CELL_KEY ", value, count FROM up WHERE count <= 0";

#define KEY_MATCHES(t, z)                                                                          \
    " (" t ".audit, " t ".period, " t ".month, " t ".trust, " t ".site, " t ".metric_id, " t       \
    ".breakdown, " t ".category) = (" z ".audit, " z ".period, " z ".month, " z ".trust, " z       \
    ".site, " z ".metric_id, " z ".breakdown, " z ".category)"

/* Deletes the cells $1..$8 whose sums are all 0. */
static const char delete_empty_sql[] =
    "DELETE FROM metric.aggregate a USING unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    "   $5::text[], $6::text[], $7::text[], $8::text[]) AS z(" CELL_KEY ")"
    " WHERE" KEY_MATCHES("a", "z") " AND (a.numerator, a.denominator, a.expected_e9, a.held,"
    "   a.missing) = (0, 0, 0, 0, 0)";

/* Deletes the values $1..$9 of cells whose count is 0. */
static const char delete_values_sql[] =
    "DELETE FROM metric.measure m USING unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    "   $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[]) AS z(" CELL_KEY ", value)"
    " WHERE" KEY_MATCHES("m", "z") " AND m.value = z.value AND m.count = 0";
/* clang-format on */

static int fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return -1;
}

/* The cell of row i of r, for a message. */
static void cell_text(const PGresult *r, int i, char *out, size_t cap)
{
    snprintf(out, cap, "(%s, %s, %s, %s, %s, %s, %s, %s)", PQgetvalue(r, i, C_AUDIT),
             PQgetvalue(r, i, C_PERIOD), PQgetvalue(r, i, C_MONTH), PQgetvalue(r, i, C_TRUST),
             PQgetvalue(r, i, C_SITE), PQgetvalue(r, i, C_METRIC), PQgetvalue(r, i, C_BREAKDOWN),
             PQgetvalue(r, i, C_CATEGORY));
}

/* The new contributions of recs, as columns for insert_sql. Returns 0, or -1 with err. */
static int new_columns(const metric_store_record_t *recs, size_t n, pg_columns_t *k,
                       pg_columns_t *ids, bool *any_value, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const metric_store_record_t *rec = &recs[i];
        char rid[32];
        snprintf(rid, sizeof rid, "%lld", rec->record_id);
        const char *idv[1] = {rid};
        pg_columns_row(ids, idv);
        for (int c = 0; c < rec->n_contrib; c++) {
            const contribution_t *ct = &rec->contrib[c];
            char num[24], den[16], e9[24], value[32];
            snprintf(num, sizeof num, "%lld", ct->numerator);
            snprintf(den, sizeof den, "%d", ct->denominator);
            snprintf(e9, sizeof e9, "%lld", ct->expected_e9);
            if (ct->has_value) {
                if (!isfinite(ct->value)) {
                    snprintf(err, errlen,
                             "record %lld, metric \"%s\": value %g is not a finite number",
                             rec->record_id, ct->metric_id, ct->value);
                    return -1;
                }
                /* 17 significant digits: the same double back; -0 counts as 0 */
                snprintf(value, sizeof value, "%.17g", ct->value + 0.0);
                *any_value = true;
            }
            const char *kv[NK] = {rid,
                                  ct->metric_id,
                                  rec->audit,
                                  rec->trust,
                                  rec->site,
                                  rec->period,
                                  rec->month,
                                  num,
                                  den,
                                  e9,
                                  ct->has_value ? value : NULL,
                                  ct->held ? "t" : "f",
                                  ct->missing ? "t" : "f"};
            for (int b = 0; b < BREAKDOWN_COUNT; b++)
                kv[K_CATEGORY + b] = rec->categories[b] ? rec->categories[b] : "";
            pg_columns_row(k, kv);
        }
    }
    return 0;
}

/* Checks what insert_sql returned: cells emptied go to gone; an impossible sum is an error. */
static int check_cells(const PGresult *r, metric_store_is_ratio_fn is_ratio, void *ctx,
                       pg_columns_t *gone, char *err, size_t errlen)
{
    for (int i = 0; i < PQntuples(r); i++) {
        long long s[5];
        bool negative = false, zero = true;
        for (int c = 0; c < 5; c++) {
            s[c] = strtoll(PQgetvalue(r, i, C_NUM + c), NULL, 10);
            negative |= s[c] < 0;
            zero &= s[c] == 0;
        }
        if (zero) {
            const char *v[C_NUM];
            for (int c = 0; c < C_NUM; c++)
                v[c] = PQgetvalue(r, i, c);
            pg_columns_row(gone, v);
            continue;
        }
        if (!negative && is_ratio &&
            is_ratio(ctx, PQgetvalue(r, i, C_AUDIT), PQgetvalue(r, i, C_METRIC)))
            continue; /* a ratio's observed count above its denominator */
        char cell[600];
        cell_text(r, i, cell, sizeof cell);
        snprintf(err, errlen,
                 "metric.aggregate would hold numerator %lld of denominator %lld (expected x 1e9 "
                 "%lld, held %lld, missing %lld) in cell %s: its sums no longer match "
                 "metric.contribution",
                 s[0], s[1], s[2], s[3], s[4], cell);
        return -1;
    }
    return 0;
}

/* Counts the values on and off metric.measure, deleting those gone to 0. */
static int replace_measures(PGconn *db, const pg_columns_t *ids, const pg_columns_t *old, char *err,
                            size_t errlen)
{
    pg_columns_t zero;
    pg_columns_open(&zero, NM - 1);
    int rc = -1;
    const char *p[1 + NM];
    p[0] = ids->params[0];
    for (int c = 0; c < NM; c++)
        p[1 + c] = old->params[c];
    PGresult *r = db_query(db, measure_sql, 1 + NM, p, err, errlen);
    if (!r)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, M_COUNT), "0") != 0) {
            char cell[600];
            cell_text(r, i, cell, sizeof cell);
            snprintf(err, errlen,
                     "metric.measure would count value %s %s times in cell %s: its counts no "
                     "longer match metric.contribution",
                     PQgetvalue(r, i, M_VALUE), PQgetvalue(r, i, M_COUNT), cell);
            goto done;
        }
        const char *v[NM - 1];
        for (int c = 0; c < NM - 1; c++)
            v[c] = PQgetvalue(r, i, c);
        pg_columns_row(&zero, v);
    }
    if (pg_columns_close(&zero) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (zero.nrows > 0 && db_execp(db, delete_values_sql, NM - 1, zero.params, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    PQclear(r);
    pg_columns_free(&zero);
    return rc;
}

int metric_store_replace(PGconn *db, const metric_store_record_t *recs, size_t n,
                         metric_store_is_ratio_fn is_ratio, void *ctx, char *err, size_t errlen)
{
    pg_columns_t k, ids, old, old_values, gone;
    pg_columns_open(&k, NK);
    pg_columns_open(&ids, 1);
    pg_columns_open(&old, NC);
    pg_columns_open(&old_values, NM);
    pg_columns_open(&gone, C_NUM);
    PGresult *r = NULL;
    int rc = -1;
    bool any_value = false;
    if (n == 0)
        rc = 0;
    if (n == 0 || new_columns(recs, n, &k, &ids, &any_value, err, errlen) != 0)
        goto done;
    if (pg_columns_close(&k) != 0 || pg_columns_close(&ids) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (!(r = db_query(db, delete_sql, 1, ids.params, err, errlen)))
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *v[NC];
        for (int c = 0; c < C_NUM; c++)
            v[c] = PQgetvalue(r, i, c);
        if (PQgetisnull(r, i, D_VALUE)) {
            for (int c = 0; c < 5; c++)
                v[C_NUM + c] = PQgetvalue(r, i, D_NUM + c);
            pg_columns_row(&old, v);
        } else {
            v[M_VALUE] = PQgetvalue(r, i, D_VALUE);
            v[M_COUNT] = PQgetvalue(r, i, D_NUM);
            pg_columns_row(&old_values, v);
        }
    }
    PQclear(r);
    r = NULL;
    if (pg_columns_close(&old) != 0 || pg_columns_close(&old_values) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (k.nrows > 0 || old.nrows > 0) {
        const char *p[NK + NC];
        for (int c = 0; c < NK; c++)
            p[c] = k.params[c];
        for (int c = 0; c < NC; c++)
            p[NK + c] = old.params[c];
        if (!(r = db_query(db, insert_sql, NK + NC, p, err, errlen)) ||
            check_cells(r, is_ratio, ctx, &gone, err, errlen) != 0)
            goto done;
    }
    if (pg_columns_close(&gone) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (gone.nrows > 0 && db_execp(db, delete_empty_sql, C_NUM, gone.params, err, errlen) != 0)
        goto done;
    if ((any_value || old_values.nrows > 0) &&
        replace_measures(db, &ids, &old_values, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    PQclear(r);
    pg_columns_free(&k);
    pg_columns_free(&ids);
    pg_columns_free(&old);
    pg_columns_free(&old_values);
    pg_columns_free(&gone);
    return rc;
}
