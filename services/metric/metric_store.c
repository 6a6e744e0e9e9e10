/* metric_store.c - metric.contribution, metric.aggregate, metric.measure and its metric.cell */
#include "metric_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "db.h"
#include "pg_columns.h"
#include "str_map.h"
#include "strbuf.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* a record's row of metric.record_contribution: its key, its cell fields, its categories
 * (breakdown_t order), then its contributions as arrays (one literal each) */
enum {
    K_RID,
    K_AUDIT,
    K_TRUST,
    K_SITE,
    K_PERIOD,
    K_MONTH,
    K_CATEGORY,
    K_METRIC = K_CATEGORY + BREAKDOWN_COUNT,
    K_NUM,
    K_DEN,
    K_E9,
    K_VALUE,
    K_HELD,
    K_MISSING,
    NK
};
#define N_ARRAYS (NK - K_METRIC)
/* a cell and its sums (metric.aggregate) */
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
/* a cell of values (metric.cell, migration 0053: breakdown 'all' of a month) */
enum { V_AUDIT, V_PERIOD, V_MONTH, V_TRUST, V_SITE, V_METRIC, NV };
/* a cell's number, a value, its record's categories (breakdown_t order) and its count
 * (metric.measure, migration 0053) */
enum { M_CELL, M_VALUE, M_CATEGORY, M_COUNT = M_CATEGORY + BREAKDOWN_COUNT, NM };
/* the rows delete_sql returns: an old contribution with its record's cell fields */
enum {
    O_AUDIT,
    O_PERIOD,
    O_MONTH,
    O_TRUST,
    O_SITE,
    O_CATEGORY,
    O_METRIC = O_CATEGORY + BREAKDOWN_COUNT,
    O_NUM,
    O_DEN,
    O_E9,
    O_VALUE,
    O_HELD,
    O_MISSING
};

/* clang-format off */
#define CELL_KEY "audit, period, month, trust, site, metric_id, breakdown, category"
#define SUMS "numerator, denominator, expected_e9, held, missing"
#define CONTRIBUTION_ARRAYS "metric_id, numerator, denominator, expected_e9, value, held, missing"
/* Deletes the row of each record of $1 (metric.record_contribution) and returns its contributions,
 * each with its record's cell fields and categories (breakdown_t order), for the sums and values
 * they added to be taken away (old_add).
 * An index probe per record whatever the statistics: "record_id = ANY($1)" was planned as a scan
 * of the whole table whenever they were missing or young (every batch of a 100,000-record load:
 * 89 ms a batch, and growing with the table), so the rows are found by a LATERAL probe per record
 * (never flattened into a join: OFFSET 0) and deleted by their ctid. Rows are inserted and
 * deleted, never updated, so a ctid found is the row to delete (one another transaction deleted
 * meanwhile is skipped, as "record_id = ANY" skipped it). */
static const char delete_sql[] =
    "WITH old AS (DELETE FROM metric.record_contribution WHERE ctid = ANY (ARRAY(SELECT x.tid"
    "   FROM unnest($1::bigint[]) AS u(record_id) CROSS JOIN LATERAL (SELECT k.ctid AS tid FROM"
    "   metric.record_contribution k WHERE k.record_id = u.record_id OFFSET 0) x))"
    "   RETURNING audit, period, month, trust, site, imd_decile, ethnicity, sex, age, "
    CONTRIBUTION_ARRAYS ")"
    " SELECT o.audit, o.period, o.month, o.trust, o.site, o.imd_decile, o.ethnicity, o.sex, o.age,"
    "   c.* FROM old o CROSS JOIN LATERAL unnest(o.metric_id, o.numerator, o.denominator,"
    "   o.expected_e9, o.value, o.held, o.missing) AS c(" CONTRIBUTION_ARRAYS ")";

/* Inserts each record's row ($1..$17: its contributions as one array literal per record and
 * array). */
static const char insert_sql[] =
    "INSERT INTO metric.record_contribution (record_id, audit, trust, site, period, month,"
    "   imd_decile, ethnicity, sex, age, " CONTRIBUTION_ARRAYS ")"
    " SELECT r, a, t, s, p, mo, c1, c2, c3, c4, m::text[], n::bigint[], d::int[], e::bigint[],"
    "   v::float8[], h::bool[], x::bool[] FROM unnest($1::bigint[], $2::text[], $3::text[],"
    "   $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],"
    "   $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])"
    "   AS u(r, a, t, s, p, mo, c1, c2, c3, c4, m, n, d, e, v, h, x)";

/* Applies to metric.aggregate, in one upsert in key order, the net change of each cell ($1..$13:
 * the new sums less the old, added up and sorted by key in C by delta_columns, only cells that
 * change: PostgreSQL sorting a batch's cells on eight text columns took about a seventh of the
 * statement), each cell's row stamped with its writer's transaction (write_xid, migration 0045:
 * publish reads the cells changed since its last round); returns the cells whose sums are now all
 * 0 (no contribution left) and any with a sum below 0 or a numerator above its denominator.
 * metric_store_replace runs it after the values: another instance's batch that needs one of
 * these cells waits for the rest of this transaction, which is then only its commit. */
static const char aggregate_sql[] =
    "WITH up AS (INSERT INTO metric.aggregate AS a (" CELL_KEY ", " SUMS ")"
    "   SELECT " CELL_KEY ", " SUMS " FROM unnest($1::text[], $2::text[], $3::text[],"
    "   $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[],"
    "   $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[]) WITH ORDINALITY"
    "   AS d(" CELL_KEY ", " SUMS ", ord) ORDER BY ord"
    "   ON CONFLICT (" CELL_KEY ") DO UPDATE SET numerator = a.numerator + EXCLUDED.numerator,"
    "   denominator = a.denominator + EXCLUDED.denominator,"
    "   expected_e9 = a.expected_e9 + EXCLUDED.expected_e9, held = a.held + EXCLUDED.held,"
    "   missing = a.missing + EXCLUDED.missing, write_xid = EXCLUDED.write_xid"
    "   RETURNING " CELL_KEY ", " SUMS ")"
    " SELECT " CELL_KEY ", " SUMS " FROM up"
    " WHERE (" SUMS ") = (0, 0, 0, 0, 0) OR least(" SUMS ") < 0 OR numerator > denominator";

#define KEY_MATCHES(t, z)                                                                          \
    " (" t ".audit, " t ".period, " t ".month, " t ".trust, " t ".site, " t ".metric_id, " t       \
    ".breakdown, " t ".category) = (" z ".audit, " z ".period, " z ".month, " z ".trust, " z       \
    ".site, " z ".metric_id, " z ".breakdown, " z ".category)"

#define VALUE_CELL_KEY "audit, period, month, trust, site, metric_id"
#define VALUE_CELL_MATCHES(t, z)                                                                   \
    " (" t ".audit, " t ".period, " t ".month, " t ".trust, " t ".site, " t ".metric_id) = (" z     \
    ".audit, " z ".period, " z ".month, " z ".trust, " z ".site, " z ".metric_id)"
#define CATEGORIES "imd_decile, ethnicity, sex, age"

/* The numbers of the cells $1..$6 (metric.cell, migration 0053) as (ord, id), ord each cell's
 * position in the arrays (from 1): those already there found by an index probe each (LATERAL,
 * OFFSET 0: never a scan of the table whatever its statistics), the others inserted in the order
 * sent (the cells' key order: two instances inserting the same new cells wait for each other
 * rather than deadlock). A cell another transaction inserted meanwhile, not yet committed when
 * this statement's snapshot was taken, is in neither part (the insert waits for that transaction
 * and does nothing): the caller asks again for the cells missing, under a new snapshot. */
static const char cell_sql[] =
    "WITH k AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[]) WITH ORDINALITY AS k(" VALUE_CELL_KEY ", ord)),"
    " f AS (SELECT k.ord, x.id FROM k CROSS JOIN LATERAL (SELECT c.id FROM metric.cell c WHERE"
    VALUE_CELL_MATCHES("c", "k") " OFFSET 0) x),"
    " i AS (INSERT INTO metric.cell (" VALUE_CELL_KEY ") SELECT " VALUE_CELL_KEY " FROM k"
    "   WHERE k.ord NOT IN (SELECT ord FROM f) ORDER BY k.ord ON CONFLICT DO NOTHING"
    "   RETURNING id, " VALUE_CELL_KEY ")"
    " SELECT ord, id FROM f UNION ALL SELECT k.ord, i.id FROM i JOIN k ON"
    VALUE_CELL_MATCHES("i", "k");

/* Applies to metric.measure, in one upsert in key order (cell, value, categories), the net change
 * of the count of each value of a cell under its records' categories ($1..$7: the cell's number,
 * the value, the four categories and the change: the new contributions' values counted on, the
 * old ones' off, added up and sorted in C, only those that change). measure_sql returns the values whose count is now 0 or below; measure_add_sql, for a
 * batch that only counts values on (every batch of new records), returns nothing: a count only
 * goes up, and PostgreSQL keeps no copy of the batch's rows to return (a twentieth of the
 * statement). */
#define MEASURE_UPSERT                                                                             \
    "INSERT INTO metric.measure AS m (cell, value, " CATEGORIES ", count)"                       \
    "   SELECT cell, value, " CATEGORIES ", count FROM unnest($1::bigint[], $2::float8[],"         \
    "   $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])"                             \
    "   WITH ORDINALITY AS d(cell, value, " CATEGORIES ", count, ord) ORDER BY ord"                \
    "   ON CONFLICT (cell, value, " CATEGORIES ") DO UPDATE SET count = m.count + EXCLUDED.count," \
    "   write_xid = EXCLUDED.write_xid"
static const char measure_sql[] = "WITH up AS (" MEASURE_UPSERT
                                  "   RETURNING cell, value, " CATEGORIES ", count)"
                                  " SELECT cell, value, " CATEGORIES ", count FROM up"
                                  " WHERE count <= 0";
static const char measure_add_sql[] = MEASURE_UPSERT;

/* Deletes the cells $1..$8 whose sums are all 0, each key left in metric.aggregate_gone
 * (migration 0045: publish reads the cells gone since its last round), and deletes the gone keys
 * older than MEASURE_GONE_HORIZON_S (as delete_values_sql). */
static const char delete_empty_sql[] =
    "WITH d AS (DELETE FROM metric.aggregate a USING unnest($1::text[], $2::text[], $3::text[],"
    "   $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS z(" CELL_KEY ")"
    " WHERE" KEY_MATCHES("a", "z") " AND (a.numerator, a.denominator, a.expected_e9, a.held,"
    "   a.missing) = (0, 0, 0, 0, 0) RETURNING a.audit, a.period, a.month, a.trust, a.site,"
    "   a.metric_id, a.breakdown, a.category),"
    " g AS (INSERT INTO metric.aggregate_gone (" CELL_KEY ") SELECT * FROM d)"
    " DELETE FROM metric.aggregate_gone WHERE ctid IN (SELECT ctid FROM metric.aggregate_gone"
    "   WHERE gone_at < now() - make_interval(secs => " STR(MEASURE_GONE_HORIZON_S) ")"
    "   LIMIT 10000 FOR UPDATE SKIP LOCKED)";

/* Deletes the values $1..$6 (a cell's number, a value, the categories) whose count is 0, each key
 * left in metric.measure_gone (migration 0040: publish reads the keys gone since its last round), and
 * deletes the gone keys older than MEASURE_GONE_HORIZON_S (an index range of a small table; rows
 * another instance is deleting are skipped, never waited for). */
static const char delete_values_sql[] =
    "WITH d AS (DELETE FROM metric.measure m USING unnest($1::bigint[], $2::float8[], $3::text[],"
    "   $4::text[], $5::text[], $6::text[]) AS z(cell, value, " CATEGORIES ")"
    "   WHERE (m.cell, m.value, m.imd_decile, m.ethnicity, m.sex, m.age) = (z.cell, z.value,"
    "   z.imd_decile, z.ethnicity, z.sex, z.age) AND m.count = 0"
    "   RETURNING m.cell, m.value, m.imd_decile, m.ethnicity, m.sex, m.age),"
    " g AS (INSERT INTO metric.measure_gone (cell, value, " CATEGORIES ") SELECT * FROM d)"
    " DELETE FROM metric.measure_gone WHERE ctid IN (SELECT ctid FROM metric.measure_gone"
    "   WHERE gone_at < now() - make_interval(secs => " STR(MEASURE_GONE_HORIZON_S) ")"
    "   LIMIT 10000 FOR UPDATE SKIP LOCKED)";
/* clang-format on */

/* v in decimal into out (room for 21 bytes: a sign, 19 digits, the NUL), as "%lld" writes it
 * without a stdio stream set up per number: a batch writes tens of thousands. Returns out. */
static char *format_ll(char out[24], long long v)
{
    char digits[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        digits[n++] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    int at = 0;
    if (v < 0)
        out[at++] = '-';
    while (n > 0)
        out[at++] = digits[--n];
    out[at] = '\0';
    return out;
}

static int fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return -1;
}

/* A cell's fields (C_NUM of them), for a message. */
static void cell_text(const char *const *f, char *out, size_t cap)
{
    snprintf(out, cap, "(%s, %s, %s, %s, %s, %s, %s, %s)", f[C_AUDIT], f[C_PERIOD], f[C_MONTH],
             f[C_TRUST], f[C_SITE], f[C_METRIC], f[C_BREAKDOWN], f[C_CATEGORY]);
}

/* The net change of a batch, added up here rather than by GROUP BY in PostgreSQL: per cell, its
 * sums (the new contributions' less the old ones'); per cell of values (breakdown 'all' of a
 * month), value and categories, its count. A cell's key is its fields, each as its length and its
 * bytes, so no text makes two cells one; a value is keyed by its cell's index, its bits (-0 taken
 * as 0, so equal doubles are one key) and its categories. Fields are borrowed from the records
 * and from delete_sql's result, which outlive the deltas. */
typedef struct {
    const char *f[C_NUM];
    long long sum[5];
} cell_delta_t;

typedef struct {
    const char *f[NV];
    long long id; /* its number in metric.cell (cell_ids), 0 until known */
} value_cell_t;

typedef struct {
    size_t cell; /* in value_cells */
    double value;
    const char *category[BREAKDOWN_COUNT];
    long long count;
    char text[32]; /* the value as sent: a new contribution's, formatted once; "" when not yet */
} value_delta_t;

typedef struct {
    str_map_t *cell_index, *value_cell_index, *value_index;
    cell_delta_t *cells;
    value_cell_t *value_cells;
    value_delta_t *values;
    size_t cap_cells, cap_value_cells, cap_values;
    strbuf_t key;
} deltas_t;

static int deltas_open(deltas_t *d)
{
    memset(d, 0, sizeof *d);
    strbuf_init(&d->key);
    d->cell_index = str_map_new(1024);
    d->value_cell_index = str_map_new(256);
    d->value_index = str_map_new(256);
    return d->cell_index && d->value_cell_index && d->value_index ? 0 : -1;
}

static void deltas_free(deltas_t *d)
{
    str_map_destroy(&d->cell_index);
    str_map_destroy(&d->value_cell_index);
    str_map_destroy(&d->value_index);
    free(d->cells);
    free(d->value_cells);
    free(d->values);
    strbuf_free(&d->key);
}

/* d's key: the n fields f, each as its length, ':' and its bytes. Returns 0, or -1. */
static int fields_key(deltas_t *d, const char *const *f, int n)
{
    strbuf_reset(&d->key);
    for (int c = 0; c < n; c++) {
        size_t len = strlen(f[c]);
        char digits[24];
        int at_digit = (int)sizeof digits;
        digits[--at_digit] = ':';
        do
            digits[--at_digit] = (char)('0' + len % 10);
        while ((len /= 10) > 0);
        strbuf_append_n(&d->key, digits + at_digit, sizeof digits - (size_t)at_digit);
        strbuf_append(&d->key, f[c]);
    }
    return d->key.oom ? -1 : 0;
}

/* Adds sum to the cell f; its index in *at. Returns 0, or -1. */
static int cell_add(deltas_t *d, const char *const f[C_NUM], const long long *sum, size_t *at)
{
    if (fields_key(d, f, C_NUM) != 0)
        return -1;
    int added = str_map_put(d->cell_index, d->key.s, at);
    if (added < 0)
        return -1;
    if (added == 1) {
        if (array_grow((void **)&d->cells, &d->cap_cells, *at + 1, sizeof *d->cells) != 0)
            return -1;
        for (int c = 0; c < C_NUM; c++)
            d->cells[*at].f[c] = f[c];
    }
    for (int c = 0; c < 5; c++)
        d->cells[*at].sum[c] += sum[c];
    return 0;
}

/* The cell of values f; its index in *at. Returns 0, or -1. */
static int value_cell_add(deltas_t *d, const char *const f[NV], size_t *at)
{
    if (fields_key(d, f, NV) != 0)
        return -1;
    int added = str_map_put(d->value_cell_index, d->key.s, at);
    if (added < 0)
        return -1;
    if (added == 1) {
        if (array_grow((void **)&d->value_cells, &d->cap_value_cells, *at + 1,
                       sizeof *d->value_cells) != 0)
            return -1;
        d->value_cells[*at] = (value_cell_t){.id = 0};
        for (int c = 0; c < NV; c++)
            d->value_cells[*at].f[c] = f[c];
    }
    return 0;
}

/* Adds count to value of cell under categories; text is value as new_columns formatted it, or
 * NULL (an old contribution's). Returns 0, or -1. */
static int value_add(deltas_t *d, size_t cell, double value,
                     const char *const category[BREAKDOWN_COUNT], const char *text, long long count)
{
    /* the cell's index and the double's bytes, in hex, then the categories: the same double, the
     * same key */
    value += 0.0;
    unsigned char raw[sizeof cell + sizeof value];
    memcpy(raw, &cell, sizeof cell);
    memcpy(raw + sizeof cell, &value, sizeof value);
    char hex[2 * sizeof raw + 1];
    for (size_t i = 0; i < sizeof raw; i++) {
        hex[2 * i] = "0123456789abcdef"[raw[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
    }
    hex[2 * sizeof raw] = '\0';
    const char *f[1 + BREAKDOWN_COUNT] = {hex};
    for (int b = 0; b < BREAKDOWN_COUNT; b++)
        f[1 + b] = category[b];
    if (fields_key(d, f, 1 + BREAKDOWN_COUNT) != 0)
        return -1;
    size_t at;
    int added = str_map_put(d->value_index, d->key.s, &at);
    if (added < 0)
        return -1;
    if (added == 1) {
        if (array_grow((void **)&d->values, &d->cap_values, at + 1, sizeof *d->values) != 0)
            return -1;
        d->values[at] = (value_delta_t){.cell = cell, .value = value};
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            d->values[at].category[b] = category[b];
    }
    /* "%.17g" takes a microsecond a value: formatted once a contribution, not once a cell */
    if (text && !d->values[at].text[0])
        snprintf(d->values[at].text, sizeof d->values[at].text, "%s", text);
    d->values[at].count += count;
    return 0;
}

/* Adds a contribution (sign 1: a new one) or takes it away (sign -1: an old one) in every cell it
 * counts in: breakdown 'all' (category '') of its record's month, and each breakdown its record
 * has a category in, for the whole period (month '': metric_store.h); its value, if any, once:
 * in the cell of its record's month under the record's categories. value_text: its value as
 * new_columns sends it, or NULL. Returns 0, or -1. */
static int contribution_add(deltas_t *d, const metric_store_record_t *rec, const contribution_t *ct,
                            const char *value_text, int sign)
{
    const long long sum[5] = {sign * ct->numerator, sign * (long long)ct->denominator,
                              sign * ct->expected_e9, ct->held ? sign : 0, ct->missing ? sign : 0};
    if (ct->has_value) {
        const char *f[NV] = {rec->audit, rec->period, rec->month,
                             rec->trust, rec->site,   ct->metric_id};
        const char *category[BREAKDOWN_COUNT];
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            category[b] = rec->categories[b] ? rec->categories[b] : "";
        size_t at;
        if (value_cell_add(d, f, &at) != 0 ||
            value_add(d, at, ct->value, category, value_text, sign) != 0)
            return -1;
    }
    for (int b = -1; b < BREAKDOWN_COUNT; b++) {
        const char *category = b < 0 ? "" : rec->categories[b] ? rec->categories[b] : "";
        if (b >= 0 && !category[0])
            continue;
        const char *f[C_NUM] = {rec->audit,
                                rec->period,
                                b < 0 ? rec->month : "",
                                rec->trust,
                                rec->site,
                                ct->metric_id,
                                b < 0 ? "all" : breakdown_name((breakdown_t)b),
                                category};
        size_t at;
        if (cell_add(d, f, sum, &at) != 0)
            return -1;
    }
    return 0;
}

/* Takes away what the old contributions added (delete_sql's rows). Returns 0, or -1. */
static int old_add(deltas_t *d, const PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++) {
        metric_store_record_t rec = {.audit = PQgetvalue(r, i, O_AUDIT),
                                     .trust = PQgetvalue(r, i, O_TRUST),
                                     .site = PQgetvalue(r, i, O_SITE),
                                     .period = PQgetvalue(r, i, O_PERIOD),
                                     .month = PQgetvalue(r, i, O_MONTH)};
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            rec.categories[b] = PQgetvalue(r, i, O_CATEGORY + b);
        contribution_t ct = {.metric_id = PQgetvalue(r, i, O_METRIC),
                             .numerator = strtoll(PQgetvalue(r, i, O_NUM), NULL, 10),
                             .denominator = atoi(PQgetvalue(r, i, O_DEN)),
                             .expected_e9 = strtoll(PQgetvalue(r, i, O_E9), NULL, 10),
                             .has_value = !PQgetisnull(r, i, O_VALUE),
                             .held = PQgetvalue(r, i, O_HELD)[0] == 't',
                             .missing = PQgetvalue(r, i, O_MISSING)[0] == 't'};
        if (ct.has_value)
            ct.value = strtod(PQgetvalue(r, i, O_VALUE), NULL);
        if (contribution_add(d, &rec, &ct, NULL, -1) != 0)
            return -1;
    }
    return 0;
}

static int cmp_cell(const cell_delta_t *a, const cell_delta_t *b)
{
    for (int c = 0; c < C_NUM; c++) {
        int r = strcmp(a->f[c], b->f[c]);
        if (r)
            return r;
    }
    return 0;
}

static int by_cell(const void *a, const void *b)
{
    return cmp_cell(*(const cell_delta_t *const *)a, *(const cell_delta_t *const *)b);
}

static int by_value_cell(const void *a, const void *b)
{
    const value_cell_t *x = *(const value_cell_t *const *)a, *y = *(const value_cell_t *const *)b;
    for (int c = 0; c < NV; c++) {
        int r = strcmp(x->f[c], y->f[c]);
        if (r)
            return r;
    }
    return 0;
}

/* A value's delta with its cell's number, to sort by both. */
typedef struct {
    long long cell;
    const value_delta_t *v;
} value_at_t;

/* metric.measure's key order (migration 0053): the cell's number, the value, the categories. */
static int by_measure_key(const void *a, const void *b)
{
    const value_at_t *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    if (x->v->value != y->v->value)
        return x->v->value < y->v->value ? -1 : 1;
    for (int k = 0; k < BREAKDOWN_COUNT; k++) {
        int r = strcmp(x->v->category[k], y->v->category[k]);
        if (r)
            return r;
    }
    return 0;
}

/* The cells whose sums change, in key order (the order every instance locks rows in: by bytes,
 * the order of the tables' keys under the C and C.UTF-8 collations), as columns for
 * aggregate_sql. Returns 0, or -1 when out of memory. */
static int delta_columns(const deltas_t *d, pg_columns_t *cells)
{
    size_t nc = str_map_size(d->cell_index);
    const cell_delta_t **order = malloc((nc + 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < nc; i++)
        order[i] = &d->cells[i];
    qsort(order, nc, sizeof *order, by_cell);
    for (size_t i = 0; i < nc; i++) {
        const cell_delta_t *c = order[i];
        if (!c->sum[0] && !c->sum[1] && !c->sum[2] && !c->sum[3] && !c->sum[4])
            continue;
        char sum[5][24];
        const char *v[NC];
        for (int k = 0; k < C_NUM; k++)
            v[k] = c->f[k];
        for (int k = 0; k < 5; k++) {
            format_ll(sum[k], c->sum[k]);
            v[C_NUM + k] = sum[k];
        }
        pg_columns_row(cells, v);
    }
    free(order);
    return 0;
}

/* Sets the number in metric.cell of each cell whose values' counts change, inserting the cells
 * it does not hold yet (cell_sql, in the cells' key order); *any whether there is one. A cell
 * missing from cell_sql's answer was inserted by a transaction that has committed since (the
 * insert waited for it): asked again, it is found. Returns 0, or -1 with err. */
static int cell_ids(PGconn *db, deltas_t *d, bool *any, char *err, size_t errlen)
{
    size_t nc = str_map_size(d->value_cell_index), nv = str_map_size(d->value_index);
    value_cell_t **ask = malloc((nc + 1) * sizeof *ask);
    bool *need = calloc(nc + 1, sizeof *need);
    int rc = -1;
    *any = false;
    if (!ask || !need) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nv; i++)
        if (d->values[i].count != 0)
            *any = need[d->values[i].cell] = true;
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t n = 0;
        for (size_t i = 0; i < nc; i++)
            if (need[i] && d->value_cells[i].id == 0)
                ask[n++] = &d->value_cells[i];
        if (n == 0) {
            rc = 0;
            goto done;
        }
        qsort(ask, n, sizeof *ask, by_value_cell);
        pg_columns_t cols;
        pg_columns_open(&cols, NV);
        for (size_t i = 0; i < n; i++)
            pg_columns_row(&cols, ask[i]->f);
        PGresult *r = NULL;
        if (pg_columns_close(&cols) != 0)
            fail(err, errlen, "out of memory");
        else
            r = db_query(db, cell_sql, NV, cols.params, err, errlen);
        pg_columns_free(&cols);
        if (!r)
            goto done;
        for (int i = 0; i < PQntuples(r); i++) {
            long long ord = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            if (ord >= 1 && (size_t)ord <= n)
                ask[ord - 1]->id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        }
        PQclear(r);
    }
    fail(err, errlen, "metric.cell: a cell inserted is still not found");
done:
    free(ask);
    free(need);
    return rc;
}

/* The values whose counts change, in metric.measure's key order (cell_ids set their cells'
 * numbers), as columns for measure_sql; *counted_off whether a count goes down. Returns 0, or -1
 * when out of memory. */
static int value_columns(const deltas_t *d, pg_columns_t *values, bool *counted_off)
{
    *counted_off = false;
    size_t nv = str_map_size(d->value_index), n = 0;
    value_at_t *order = malloc((nv + 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < nv; i++)
        if (d->values[i].count != 0)
            order[n++] = (value_at_t){d->value_cells[d->values[i].cell].id, &d->values[i]};
    qsort(order, n, sizeof *order, by_measure_key);
    for (size_t i = 0; i < n; i++) {
        const value_delta_t *vd = order[i].v;
        *counted_off |= vd->count < 0;
        char cell[24], value[32], count[24];
        if (!vd->text[0])
            snprintf(value, sizeof value, "%.17g", vd->value);
        const char *v[NM] = {format_ll(cell, order[i].cell), vd->text[0] ? vd->text : value};
        for (int k = 0; k < BREAKDOWN_COUNT; k++)
            v[M_CATEGORY + k] = vd->category[k];
        v[M_COUNT] = format_ll(count, vd->count);
        pg_columns_row(values, v);
    }
    free(order);
    return 0;
}

/* The new contributions of recs, as columns for insert_sql (a row per record with any, its
 * contributions as one array literal per array), and added to d. Returns 0, or -1 with err. */
static int new_columns(const metric_store_record_t *recs, size_t n, pg_columns_t *k,
                       pg_columns_t *ids, deltas_t *d, char *err, size_t errlen)
{
    strbuf_t arr[N_ARRAYS];
    for (int a = 0; a < N_ARRAYS; a++)
        strbuf_init(&arr[a]);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const metric_store_record_t *rec = &recs[i];
        char rid[32];
        format_ll(rid, rec->record_id);
        const char *idv[1] = {rid};
        pg_columns_row(ids, idv);
        if (rec->n_contrib == 0)
            continue;
        for (int a = 0; a < N_ARRAYS; a++) {
            strbuf_reset(&arr[a]);
            strbuf_pg_array_open(&arr[a]);
        }
        for (int c = 0; c < rec->n_contrib && rc == 0; c++) {
            const contribution_t *ct = &rec->contrib[c];
            char num[24], den[24], e9[24], value[32];
            format_ll(num, ct->numerator);
            format_ll(den, ct->denominator);
            format_ll(e9, ct->expected_e9);
            if (ct->has_value) {
                if (!isfinite(ct->value)) {
                    snprintf(err, errlen,
                             "record %lld, metric \"%s\": value %g is not a finite number",
                             rec->record_id, ct->metric_id, ct->value);
                    rc = -1;
                    break;
                }
                /* 17 significant digits: the same double back; -0 counts as 0 */
                snprintf(value, sizeof value, "%.17g", ct->value + 0.0);
            }
            const char *av[N_ARRAYS] = {ct->metric_id,
                                        num,
                                        den,
                                        e9,
                                        ct->has_value ? value : NULL,
                                        ct->held ? "t" : "f",
                                        ct->missing ? "t" : "f"};
            /* the metric id quoted (any text); the numbers, booleans and NULL as they are */
            strbuf_pg_array_elem(&arr[0], av[0]);
            for (int a = 1; a < N_ARRAYS; a++) {
                if (c > 0)
                    strbuf_append_n(&arr[a], ",", 1);
                strbuf_append(&arr[a], av[a] ? av[a] : "NULL");
            }
            if (contribution_add(d, rec, ct, ct->has_value ? value : NULL, 1) != 0)
                rc = fail(err, errlen, "out of memory");
        }
        const char *kv[NK] = {rid, rec->audit, rec->trust, rec->site, rec->period, rec->month};
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            kv[K_CATEGORY + b] = rec->categories[b] ? rec->categories[b] : "";
        for (int a = 0; a < N_ARRAYS; a++) {
            strbuf_pg_array_close(&arr[a]);
            if (arr[a].oom)
                rc = fail(err, errlen, "out of memory");
            kv[K_METRIC + a] = arr[a].s;
        }
        if (rc == 0)
            pg_columns_row(k, kv);
    }
    for (int a = 0; a < N_ARRAYS; a++)
        strbuf_free(&arr[a]);
    return rc;
}

/* Checks what aggregate_sql returned: cells emptied go to gone; an impossible sum is an error. */
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
        const char *f[C_NUM];
        for (int c = 0; c < C_NUM; c++)
            f[c] = PQgetvalue(r, i, c);
        char cell[600];
        cell_text(f, cell, sizeof cell);
        snprintf(err, errlen,
                 "metric.aggregate would hold numerator %lld of denominator %lld (expected x 1e9 "
                 "%lld, held %lld, missing %lld) in cell %s: its sums no longer match "
                 "metric.contribution",
                 s[0], s[1], s[2], s[3], s[4], cell);
        return -1;
    }
    return 0;
}

/* The fields of the cell of values numbered id in d, for a message. */
static void cell_of_id(const deltas_t *d, long long id, char *out, size_t cap)
{
    snprintf(out, cap, "%lld", id);
    for (size_t i = 0; i < str_map_size(d->value_cell_index); i++)
        if (d->value_cells[i].id == id) {
            const char *const *f = d->value_cells[i].f;
            snprintf(out, cap, "(%s, %s, %s, %s, %s, %s)", f[V_AUDIT], f[V_PERIOD], f[V_MONTH],
                     f[V_TRUST], f[V_SITE], f[V_METRIC]);
        }
}

/* Applies the values' net counts to metric.measure, deleting those gone to 0 (only when a count
 * went down: counted_off); d: their cells, for a message. */
static int replace_measures(PGconn *db, const deltas_t *d, const pg_columns_t *values,
                            bool counted_off, char *err, size_t errlen)
{
    if (!counted_off)
        return db_execp(db, measure_add_sql, NM, values->params, err, errlen);
    pg_columns_t zero;
    pg_columns_open(&zero, NM - 1);
    int rc = -1;
    PGresult *r = db_query(db, measure_sql, NM, values->params, err, errlen);
    if (!r)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, M_COUNT), "0") != 0) {
            char cell[600];
            cell_of_id(d, strtoll(PQgetvalue(r, i, M_CELL), NULL, 10), cell, sizeof cell);
            snprintf(err, errlen,
                     "metric.measure would count value %s %s times in cell %s under categories "
                     "(%s, %s, %s, %s): its counts no longer match metric.contribution",
                     PQgetvalue(r, i, M_VALUE), PQgetvalue(r, i, M_COUNT), cell,
                     PQgetvalue(r, i, M_CATEGORY), PQgetvalue(r, i, M_CATEGORY + 1),
                     PQgetvalue(r, i, M_CATEGORY + 2), PQgetvalue(r, i, M_CATEGORY + 3));
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
    pg_columns_t k, ids, cells, values, gone;
    pg_columns_open(&k, NK);
    pg_columns_open(&ids, 1);
    pg_columns_open(&cells, NC);
    pg_columns_open(&values, NM);
    pg_columns_open(&gone, C_NUM);
    deltas_t d;
    PGresult *old = NULL, *r = NULL;
    bool counted_off = false;
    int rc = -1;
    if (deltas_open(&d) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (n == 0)
        rc = 0;
    if (n == 0 || new_columns(recs, n, &k, &ids, &d, err, errlen) != 0)
        goto done;
    if (pg_columns_close(&k) != 0 || pg_columns_close(&ids) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    /* old stays until the end: the deltas borrow its cells' fields */
    if (!(old = db_query(db, delete_sql, 1, ids.params, err, errlen)))
        goto done;
    if (old_add(&d, old) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (delta_columns(&d, &cells) != 0 || pg_columns_close(&cells) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (k.nrows > 0 && db_execp(db, insert_sql, NK, k.params, err, errlen) != 0)
        goto done;
    /* the values, then the sums: the rows another instance's batches change too, last */
    bool any_value;
    if (cell_ids(db, &d, &any_value, err, errlen) != 0)
        goto done;
    if (any_value) {
        if (value_columns(&d, &values, &counted_off) != 0 || pg_columns_close(&values) != 0) {
            fail(err, errlen, "out of memory");
            goto done;
        }
        if (replace_measures(db, &d, &values, counted_off, err, errlen) != 0)
            goto done;
    }
    if (cells.nrows > 0 && (!(r = db_query(db, aggregate_sql, NC, cells.params, err, errlen)) ||
                            check_cells(r, is_ratio, ctx, &gone, err, errlen) != 0))
        goto done;
    if (pg_columns_close(&gone) != 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    if (gone.nrows > 0 && db_execp(db, delete_empty_sql, C_NUM, gone.params, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    PQclear(r);
    PQclear(old);
    deltas_free(&d);
    pg_columns_free(&k);
    pg_columns_free(&ids);
    pg_columns_free(&cells);
    pg_columns_free(&values);
    pg_columns_free(&gone);
    return rc;
}
