/* test_value_cache.c - the values publish holds between its rounds (value_cache.h: read whole by
 * release_values_cache, then brought up to each round by release_values_deltas, on a real
 * PostgreSQL: $NCAP_TEST_PG) give the same latest.csv and run charts, byte for byte, as the values
 * streamed from metric.measure (release_values.h): over rounds of random changes to metric.measure
 * written as metric writes them (write_xid set on every insert and update, each deleted key left in
 * metric.measure_gone: migration 0040) -- new records, records moving value, month, period or
 * trust, records withdrawn (counts reaching 0, rows deleted), a key deleted and added again in one
 * round, and a transaction running across a round's snapshot (committed after it, read by the next
 * round) -- each round reading only what changed since each held period's snapshot
 * (release_values_deltas), with a budget that holds every period and with one so small that periods
 * are forgotten or found too big (their values then streamed), after a round rolled back (the
 * periods it touched forgotten), and after a pause longer than metric keeps the gone keys (periods
 * read whole). */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "measure_sql.h"
#include "pg_fixture.h"
#include "release_sums.h"
#include "release_values.h"
#include "value_cache.h"

#define AUDIT "nhfd"
#define N_TRUSTS 4 /* and a fifth, RE5, written by the concurrent transaction alone */
#define N_ALL (N_TRUSTS + 1)
#define N_PERIODS 3
#define N_RECORDS 400
#define ROUNDS 8

static const char *const trusts[N_ALL] = {"RA1", "RB2", "RC3", "RD4", "RE5"};
static const char *const periods[N_PERIODS] = {"2025Q4", "2026Q1", "2026Q2"};
static const char *const sexes[] = {"male", "female"};
static const benchmark_metric_t metrics[] = {
    {.id = "hours", .label = "Hours (median)", .kind = BENCHMARK_MEDIAN},
    {.id = "score", .label = "Score (mean)", .kind = BENCHMARK_MEAN},
};

/* A simulated record: what it contributes to metric.measure (a value under its sex, no other
 * category: publish counts it in breakdowns all and sex). */
typedef struct {
    bool live;
    int trust, period, month; /* month 0..2 of the period */
    int sex, metric;
    double value;
} record_t;

static unsigned seed = 7;
static unsigned rnd(unsigned n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

static void month_of(const record_t *r, char *out, size_t len)
{
    int y = 2025 + (9 + 3 * r->period + r->month) / 12, m = (9 + 3 * r->period + r->month) % 12 + 1;
    snprintf(out, len, "%04d-%02d", y, m);
}

/* Adds (sign 1) or takes off (-1) a record's row in metric.measure, as metric_store.c does: an
 * upsert stamping write_xid, and a count reaching 0 deleting the row, its key kept in
 * metric.measure_gone. */
static void apply(PGconn *db, const record_t *r, int sign)
{
    char month[16], sql[2048], key[512];
    month_of(r, month, sizeof month);
    const char *sex = sexes[r->sex];
    snprintf(key, sizeof key,
             "cell = (SELECT id FROM metric.cell WHERE audit = '" AUDIT "' AND period = '%s'"
             " AND month = '%s' AND trust = '%s' AND site = '' AND metric_id = '%s')"
             " AND value = %.17g AND (imd_decile, ethnicity, sex, age) = ('', '', '%s', '')",
             periods[r->period], month, trusts[r->trust], metrics[r->metric].id, r->value, sex);
    if (sign > 0)
        snprintf(sql, sizeof sql,
                 MEASURE_CELL_WITH " INSERT INTO metric.measure AS m (cell, value, imd_decile,"
                                   " ethnicity, sex, age, count) SELECT id, %.17g, '', '', '%s',"
                                   " '', 1 FROM c ON CONFLICT (cell, value, imd_decile, ethnicity,"
                                   " sex, age) DO UPDATE SET count = m.count + 1,"
                                   " write_xid = EXCLUDED.write_xid",
                 AUDIT, periods[r->period], month, trusts[r->trust], "", metrics[r->metric].id,
                 r->value, sex);
    else
        snprintf(sql, sizeof sql,
                 "WITH d AS (DELETE FROM metric.measure WHERE %s AND count <= 1 RETURNING"
                 " cell, value, imd_decile, ethnicity, sex, age),"
                 " g AS (INSERT INTO metric.measure_gone (cell, value, imd_decile, ethnicity, sex,"
                 " age) SELECT * FROM d)"
                 " UPDATE metric.measure SET count = count - 1,"
                 " write_xid = pg_current_xact_id() WHERE %s AND count > 1",
                 key, key);
    pg_fixture_exec(db, sql);
}

static void random_record(record_t *r, int trust)
{
    r->live = true;
    r->trust = trust >= 0 ? trust : (int)rnd(N_TRUSTS);
    r->period = (int)rnd(N_PERIODS);
    r->month = (int)rnd(3);
    r->sex = (int)rnd(2);
    r->metric = (int)rnd(2);
    r->value = (double)rnd(200) / 4 - 5; /* quarters: equal values in many cells */
}

/* The trusts that changed in each period this round. */
typedef struct {
    bool changed[N_PERIODS][N_ALL];
} changes_t;

static void note(changes_t *c, const record_t *r)
{
    c->changed[r->period][r->trust] = true;
}

/* One round of changes: new records, records re-versioned (value, month, period or trust),
 * records withdrawn, a record taken off and counted on again (its row deleted and added again
 * when it was its value's only one). trust >= 0: of that trust only (records never move to
 * another). */
static void change(PGconn *db, record_t *recs, size_t *n, changes_t *c, int how_many, int trust)
{
    for (int k = 0; k < how_many; k++) {
        unsigned what = rnd(11);
        if (*n < N_RECORDS && (what < 4 || *n == 0)) {
            record_t *r = &recs[(*n)++];
            random_record(r, trust);
            apply(db, r, 1);
            note(c, r);
            continue;
        }
        record_t *r = &recs[rnd((unsigned)*n)];
        if (!r->live)
            continue;
        apply(db, r, -1);
        note(c, r);
        if (what < 6) {
            r->live = false;
            continue;
        }
        if (what < 8)
            r->value = (double)rnd(200) / 4 - 5;
        else if (what < 9)
            r->month = (int)rnd(3), r->period = (int)rnd(N_PERIODS);
        else if (what < 10 && trust < 0)
            r->trust = (int)rnd(N_TRUSTS);
        apply(db, r, 1);
        note(c, r);
    }
}

/* The cells of a build of period p from metric.measure (each measure's key, its denominator the
 * records with a value), as release_sums.h has them; res keeps their strings. */
static void cells_of(PGconn *db, const char *period, release_sums_t *s, PGresult **res)
{
    char sql[2048], err[1024];
    snprintf(sql, sizeof sql,
             "SELECT trust, site, metric_id, breakdown, category, '' AS month, sum(count), 0"
             " FROM " MEASURE_ROWS_SQL " mr WHERE audit = '" AUDIT "' AND period = '%s'"
             " GROUP BY 1, 2, 3, 4, 5"
             " UNION ALL SELECT trust, site, metric_id, breakdown, category, month, sum(count), 1"
             " FROM " MEASURE_ROWS_SQL " mr WHERE audit = '" AUDIT "' AND period <= '%s'"
             " AND breakdown = 'all' GROUP BY 1, 2, 3, 4, 5, 6",
             period, period);
    *res = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!*res)
        fail_msg("%s", err);
    int n = PQntuples(*res);
    *s = (release_sums_t){0};
    s->cells = calloc((size_t)n + 1, sizeof *s->cells);
    s->series = calloc((size_t)n + 1, sizeof *s->series);
    assert_non_null(s->cells);
    assert_non_null(s->series);
    for (int i = 0; i < n; i++) {
        benchmark_cell_t c = {.trust = PQgetvalue(*res, i, 0),
                              .site = PQgetvalue(*res, i, 1),
                              .metric = PQgetvalue(*res, i, 2),
                              .breakdown = PQgetvalue(*res, i, 3),
                              .category = PQgetvalue(*res, i, 4),
                              .month = PQgetvalue(*res, i, 5),
                              .denominator = strtoll(PQgetvalue(*res, i, 6), NULL, 10)};
        if (PQgetvalue(*res, i, 7)[0] == '1')
            s->series[s->n_series++] = c;
        else
            s->cells[s->n_cells++] = c;
    }
    assert_int_equal(release_sums_sort(s), 0);
}

/* latest.csv and spc.csv of period p with its values from reader. */
static char *build(const release_sums_t *s, const char *period, release_values_t *reader)
{
    benchmark_input_t in = {.audit = AUDIT,
                            .period = period,
                            .metrics = metrics,
                            .n_metrics = 2,
                            .read_measures = release_values_read,
                            .reader = reader};
    release_sums_input(s, &in);
    benchmark_release_t rel;
    char err[1024], *spc = NULL, *summary = NULL;
    if (benchmark_build(&in, &rel, err, sizeof err) != 0)
        fail_msg("%s", err);
    char *csv = benchmark_csv_text(&in, &rel);
    assert_non_null(csv);
    if (benchmark_spc_text(&in, &spc, &summary, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t len = strlen(csv) + strlen(spc) + strlen(summary) + 1;
    char *all = malloc(len);
    assert_non_null(all);
    snprintf(all, len, "%s%s%s", csv, spc, summary);
    free(csv);
    free(spc);
    free(summary);
    benchmark_release_free(&rel);
    return all;
}

/* Starts a round as publish does: its transaction (REPEATABLE READ: the cursors live in it, and
 * every read is of its snapshot), the cache told the snapshot's xmin, taken at now_ms. */
static void round_begin(PGconn *db, value_cache_t *vc, double now_ms)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    value_cache_round(vc);
    PGresult *r =
        db_query(db, "SELECT pg_snapshot_xmin(pg_current_snapshot())", 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    value_cache_snapshot(vc, PQgetvalue(r, 0, 0), now_ms);
    PQclear(r);
}

/* Brings the cache up to the round as publish does: each period held whose records changed from
 * what changed since its snapshot, then every period not held (nor too big) read whole. Returns
 * how many periods were brought up to date by what changed. */
static int update(PGconn *db, value_cache_t *vc, const changes_t *c)
{
    char err[1024];
    const char *held[N_PERIODS];
    size_t nheld = 0;
    for (int p = 0; p < N_PERIODS; p++) {
        size_t n = 0;
        for (int t = 0; t < N_ALL; t++)
            n += c->changed[p][t];
        if (n > 0 && value_cache_has(vc, AUDIT, periods[p]))
            held[nheld++] = periods[p];
    }
    int deltas = nheld > 0 ? release_values_deltas(db, vc, AUDIT, held, nheld, err, sizeof err) : 0;
    if (deltas < 0)
        fail_msg("%s", err);
    for (int p = 0; p < N_PERIODS; p++)
        if (value_cache_wants(vc, AUDIT, periods[p]) &&
            release_values_cache(db, vc, AUDIT, periods[p], err, sizeof err) < 0)
            fail_msg("%s", err);
    return deltas;
}

/* Every period's build from the cache equals the streamed one; returns how many took their own
 * values from the cache. */
static int compare(PGconn *db, value_cache_t *vc)
{
    int cached = 0;
    for (int p = 0; p < N_PERIODS; p++) {
        release_sums_t s;
        PGresult *res;
        cells_of(db, periods[p], &s, &res);
        release_values_t streamed = {.db = db, .audit = AUDIT, .period = periods[p]};
        release_values_t held = streamed;
        held.cache = vc;
        held.own = value_cache_has(vc, AUDIT, periods[p]);
        held.series = true;
        for (int q = 0; q <= p; q++)
            held.series = held.series && value_cache_has(vc, AUDIT, periods[q]);
        cached += held.own;
        char *a = build(&s, periods[p], &streamed), *b = build(&s, periods[p], &held);
        assert_string_equal(b, a);
        free(a);
        free(b);
        release_sums_free(&s);
        PQclear(res);
    }
    return cached;
}

/* A second connection to the test's database (the concurrent writer). */
static PGconn *open_second(void)
{
    char conninfo[1024], err[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_value_cache", getenv("NCAP_TEST_PG"));
    PGconn *db = db_connect(conninfo, "ncap_test_value_cache", err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    return db;
}

static void run(size_t budget, int *cached, int *too_big, int *deltas)
{
    PGconn *db = pg_fixture_open("ncap_test_value_cache"), *db2 = open_second();
    value_cache_t *vc = value_cache_new(budget);
    assert_non_null(vc);
    record_t *recs = calloc(N_RECORDS, sizeof *recs), *recs2 = calloc(N_RECORDS, sizeof *recs2);
    assert_non_null(recs);
    assert_non_null(recs2);
    size_t n = 0, n2 = 0;
    seed = 7;
    *cached = *too_big = *deltas = 0;
    double now = 0;
    changes_t late = {0}; /* the concurrent transaction's: the next round's */
    for (int round = 0; round < ROUNDS; round++) {
        changes_t c = late;
        late = (changes_t){0};
        /* every other round, a transaction of trust RE5 that writes (its id taken) before the
         * round's changes and commits only after the round's snapshot: the round does not see
         * it, the next one reads it (its write_xid is at least the round's xmin) */
        bool concurrent = round % 2 == 1;
        if (concurrent) {
            pg_fixture_exec(db2, "BEGIN");
            change(db2, recs2, &n2, &late, 20, N_TRUSTS);
        }
        pg_fixture_exec(db, "BEGIN");
        change(db, recs, &n, &c, round == 0 ? 150 : 40, -1);
        pg_fixture_exec(db, "COMMIT");
        /* a pause longer than metric keeps the keys it deletes: every period read whole */
        now += round == ROUNDS - 2 ? RELEASE_VALUES_DELTA_MAX_MS + 1 : 2000;
        round_begin(db, vc, now);
        *deltas += update(db, vc, &c);
        *cached += compare(db, vc);
        pg_fixture_exec(db, "COMMIT");
        if (concurrent)
            pg_fixture_exec(db2, "COMMIT");
        for (int p = 0; p < N_PERIODS; p++)
            *too_big += value_cache_too_big(vc, AUDIT, periods[p]);
        assert_true(value_cache_bytes(vc) <= budget);
    }
    /* a round rolled back: what it put is forgotten, and the next round is right again */
    record_t *saved = malloc(N_RECORDS * sizeof *saved);
    assert_non_null(saved);
    memcpy(saved, recs, N_RECORDS * sizeof *saved);
    size_t n_saved = n;
    changes_t c = late;
    round_begin(db, vc, now += 2000);
    change(db, recs, &n, &c, 60, -1);
    update(db, vc, &c);
    pg_fixture_exec(db, "ROLLBACK");
    value_cache_drop_touched(vc);
    memcpy(recs, saved, N_RECORDS * sizeof *saved);
    n = n_saved;
    c = late;
    pg_fixture_exec(db, "BEGIN");
    change(db, recs, &n, &c, 30, -1);
    pg_fixture_exec(db, "COMMIT");
    round_begin(db, vc, now += 2000);
    update(db, vc, &c);
    compare(db, vc);
    pg_fixture_exec(db, "COMMIT");
    free(saved);
    free(recs);
    free(recs2);
    value_cache_destroy(&vc);
    PQfinish(db2);
    PQfinish(db);
}

static void test_cached_equals_streamed(void **state)
{
    (void)state;
    int cached, too_big, deltas;
    run(VALUE_CACHE_MAX_BYTES, &cached, &too_big, &deltas);
    assert_int_equal(cached, ROUNDS * N_PERIODS); /* every build from the cache */
    assert_int_equal(too_big, 0);
    /* periods brought up to date by what changed (not the first round, nor after the pause) */
    print_message("%d periods of %d brought up to date by what changed\n", deltas,
                  (ROUNDS - 2) * N_PERIODS);
    assert_true(deltas > 0);
}

static void test_tiny_budget(void **state)
{
    (void)state;
    int cached, too_big, deltas;
    /* 35 rows (a row a record's value, migration 0053): about one period at a time early on,
     * then some too big */
    run(35 * sizeof(value_row_t), &cached, &too_big, &deltas);
    print_message("tiny budget: %d builds of %d from the cache, %d periods too big\n", cached,
                  ROUNDS * N_PERIODS, too_big);
    assert_true(cached > 0);
    assert_true(too_big > 0);
}

/* The values of a period held, as "trust value count;" in the cache's order. */
static int text_row(void *ctx, const benchmark_measure_t *m)
{
    char *out = ctx;
    snprintf(out + strlen(out), 512 - strlen(out), "%s %g %lld;", m->trust, m->value,
             (long long)m->count);
    return 0;
}

static void test_pure(void **state)
{
    (void)state;
    value_cache_t *vc = value_cache_new(10 * sizeof(value_row_t));
    assert_non_null(vc);
    value_cache_round(vc);
    value_batch_t b;
    value_cache_batch(vc, AUDIT, "2026Q1", &b);
    const char *k1[8] = {"RA1", "", "hours", "2026-01", "", "", "", ""};
    const char *k2[8] = {"RB2", "", "hours", "2026-02", "", "", "", ""};
    assert_int_equal(value_cache_add(vc, &b, k1, 3, 1), 0);
    assert_int_equal(value_cache_add(vc, &b, k2, 1, 2), 0);
    assert_int_equal(value_cache_add(vc, &b, k1, -1, 5), 0);
    assert_int_equal(value_cache_add(vc, &b, k1, 2, -1), -1); /* a count below 0 */
    assert_int_equal(value_cache_put(vc, AUDIT, "2026Q1", &b), 0);
    assert_int_equal(value_cache_bytes(vc), 3 * sizeof(value_row_t));
    /* a put of the whole period again replaces what was held */
    value_cache_batch(vc, AUDIT, "2026Q1", &b);
    assert_int_equal(value_cache_add(vc, &b, k2, 0.5, 1), 0);
    assert_int_equal(value_cache_put(vc, AUDIT, "2026Q1", &b), 0);
    assert_int_equal(value_cache_bytes(vc), sizeof(value_row_t));
    char out[512] = "";
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q1", false, NULL, text_row, out), 0);
    assert_string_equal(out, "RB2 0.5 1;");
    /* past the budget: the batch stops */
    value_cache_batch(vc, AUDIT, "2026Q1", &b);
    int rc = 0;
    for (int i = 0; rc == 0 && i < 20; i++)
        rc = value_cache_add(vc, &b, k1, i, 1);
    assert_int_equal(rc, 1);
    assert_int_equal(b.n, 10);
    value_batch_free(&b);
    value_cache_destroy(&vc);
}

/* Puts n rows of one cell into (AUDIT, period) as a read would; returns value_cache_add's last
 * return (1: the batch stopped, given up as release_values does). */
static int put_rows(value_cache_t *vc, const char *period, int n)
{
    const char *k[8] = {"RA1", "", "hours", "2026-01", "", "", "", ""};
    value_batch_t b;
    value_cache_batch(vc, AUDIT, period, &b);
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = value_cache_add(vc, &b, k, i, 1);
    if (rc == 1) {
        assert_int_equal(value_cache_give_up(vc, &b), 0);
        return 1;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(value_cache_put(vc, AUDIT, period, &b), 0);
    return 0;
}

/* A round never forgets a period it has used to hold another: the other is crowded out (not
 * held, not too big), the cache remembers it would not fit beside them, and a later round that
 * has not used the first holds it again. */
static void test_crowded_out(void **state)
{
    (void)state;
    value_cache_t *vc = value_cache_new(100 * sizeof(value_row_t));
    assert_non_null(vc);
    value_cache_round(vc);
    assert_int_equal(put_rows(vc, "2026Q1", 60), 0);
    assert_true(value_cache_fits(vc, AUDIT, "2026Q2")); /* nothing known of it */
    assert_int_equal(put_rows(vc, "2026Q2", 60), 1);    /* 40 rows of room beside 2026Q1 */
    assert_true(value_cache_has(vc, AUDIT, "2026Q1"));
    assert_false(value_cache_has(vc, AUDIT, "2026Q2"));
    assert_false(value_cache_too_big(vc, AUDIT, "2026Q2"));
    assert_false(value_cache_fits(vc, AUDIT, "2026Q2")); /* 41 rows at least: not beside 60 */
    assert_true(value_cache_bytes(vc) <= 100 * sizeof(value_row_t));
    /* the next round uses 2026Q2 first: 2026Q1 (not used yet) makes room */
    value_cache_round(vc);
    assert_true(value_cache_fits(vc, AUDIT, "2026Q2"));
    assert_int_equal(put_rows(vc, "2026Q2", 60), 0);
    assert_true(value_cache_has(vc, AUDIT, "2026Q2"));
    assert_false(value_cache_has(vc, AUDIT, "2026Q1"));
    assert_false(value_cache_fits(vc, AUDIT, "2026Q1")); /* its 60 rows, known when forgotten */
    /* a batch beside the periods the round has used is limited to the room they leave */
    value_batch_t b;
    value_cache_batch(vc, AUDIT, "2026Q4", &b);
    assert_true(b.crowded);
    assert_int_equal(b.limit, 40 * sizeof(value_row_t));
    value_batch_free(&b);
    /* a period past that room is crowded out, not found too big: its size alone is not known */
    assert_int_equal(put_rows(vc, "2026Q3", 101), 1);
    assert_false(value_cache_too_big(vc, AUDIT, "2026Q3"));
    /* in a round that has used nothing, it is found too big alone */
    value_cache_round(vc);
    assert_true(value_cache_fits(vc, AUDIT, "2026Q3")); /* 41 rows at least: may fit */
    assert_int_equal(put_rows(vc, "2026Q3", 101), 1);
    assert_true(value_cache_too_big(vc, AUDIT, "2026Q3"));
    assert_true(value_cache_bytes(vc) <= 100 * sizeof(value_row_t));
    value_cache_destroy(&vc);
}

/* The cells' keys interned do not pile up: past half the budget, a round forgets them with every
 * period held, and what is put afterwards is held and handed back right. */
static void test_keys_bounded(void **state)
{
    (void)state;
    /* room for 1,000 rows; half of it is 12,000 bytes: 125 keys */
    value_cache_t *vc = value_cache_new(1000 * sizeof(value_row_t));
    assert_non_null(vc);
    char trust[16];
    for (int period = 0; period < 6; period++) {
        value_cache_round(vc);
        assert_true(value_cache_key_bytes(vc) <=
                    1000 * sizeof(value_row_t) / 2 + 40 * VALUE_CACHE_KEY_BYTES);
        char name[16];
        snprintf(name, sizeof name, "2026Q%d", period + 1);
        value_batch_t b;
        value_cache_batch(vc, AUDIT, name, &b);
        for (int t = 0; t < 40; t++) { /* 40 new cells each period */
            snprintf(trust, sizeof trust, "R%02d%d", t, period);
            const char *k[8] = {trust, "", "hours", "2026-01", "", "", "", ""};
            assert_int_equal(value_cache_add(vc, &b, k, 40 - t, 1), 0);
        }
        assert_int_equal(value_cache_put(vc, AUDIT, name, &b), 0);
        assert_true(value_cache_has(vc, AUDIT, name));
        char out[512] = "";
        assert_int_equal(value_cache_each(vc, AUDIT, name, false, NULL, text_row, out), 0);
        snprintf(trust, sizeof trust, "R39%d 1 1;", period); /* the smallest value first */
        assert_memory_equal(out, trust, strlen(trust));
    }
    /* six periods of 40 new cells: the keys were forgotten at least once */
    assert_true(value_cache_key_bytes(vc) < 240 * VALUE_CACHE_KEY_BYTES);
    value_cache_destroy(&vc);
    assert_null(vc);
}

/* A row, as a measure it counts in: "trust breakdown category month value count;". */
static int spread_row(void *ctx, const benchmark_measure_t *m)
{
    char *out = ctx;
    snprintf(out + strlen(out), 1024 - strlen(out), "%s %s %s %s %g %lld;", m->trust, m->breakdown,
             m->category, m->month, m->value, (long long)m->count);
    return 0;
}

/* A row of metric.measure (migration 0053) counts in breakdown "all" of its month and in each
 * breakdown its record has a category in, of the period (month ""), as metric.aggregate keeps the
 * sums; the run charts take breakdown "all" alone. Rows of one cell and value under other
 * categories are rows of their own. */
static void test_rows_spread(void **state)
{
    (void)state;
    value_cache_t *vc = value_cache_new(100 * sizeof(value_row_t));
    assert_non_null(vc);
    value_cache_round(vc);
    value_batch_t b;
    value_cache_batch(vc, AUDIT, "2026Q1", &b);
    const char *x[8] = {"RA1", "RA101", "hours", "2026-01", "3", "white", "female", "80-89"};
    const char *y[8] = {"RA1", "RA101", "hours", "2026-01", "3", "", "male", ""};
    const char *z[8] = {"RA1", "RA101", "hours", "2026-01", "3", "", "male", "90+"};
    assert_int_equal(value_cache_add(vc, &b, x, 2.5, 2), 0);
    assert_int_equal(value_cache_add(vc, &b, y, 1, 1), 0);
    assert_int_equal(value_cache_add(vc, &b, z, 4, 1), 0);
    assert_int_equal(value_cache_add(vc, &b, y, 4, 3), 0);
    assert_int_equal(value_cache_put(vc, AUDIT, "2026Q1", &b), 0);
    assert_int_equal(value_cache_bytes(vc), 4 * sizeof(value_row_t));
    char out[1024] = "";
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q1", false, NULL, spread_row, out), 0);
    const char *want_y1 = "RA1 all  2026-01 1 1;RA1 imd_decile 3  1 1;RA1 sex male  1 1;";
    const char *want_x =
        "RA1 all  2026-01 2.5 2;RA1 imd_decile 3  2.5 2;RA1 ethnicity white  2.5 2;"
        "RA1 sex female  2.5 2;RA1 age 80-89  2.5 2;";
    assert_memory_equal(out, want_y1, strlen(want_y1));
    assert_memory_equal(out + strlen(want_y1), want_x, strlen(want_x));
    /* value 4: y's and z's rows, in either order, each spread */
    const char *rest = out + strlen(want_y1) + strlen(want_x);
    assert_non_null(strstr(rest, "RA1 all  2026-01 4 3;RA1 imd_decile 3  4 3;RA1 sex male  4 3;"));
    assert_non_null(strstr(rest, "RA1 all  2026-01 4 1;RA1 imd_decile 3  4 1;RA1 sex male  4 1;"
                                 "RA1 age 90+  4 1;"));
    assert_int_equal(strlen(rest), strlen("RA1 all  2026-01 4 3;RA1 imd_decile 3  4 3;RA1 sex male"
                                          "  4 3;RA1 all  2026-01 4 1;RA1 imd_decile 3  4 1;RA1 sex"
                                          " male  4 1;RA1 age 90+  4 1;"));
    /* the run charts: breakdown "all" of each row's month */
    out[0] = '\0';
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q1", true, NULL, spread_row, out), 0);
    assert_true(strcmp(out, "RA1 all  2026-01 1 1;RA1 all  2026-01 2.5 2;"
                            "RA1 all  2026-01 4 3;RA1 all  2026-01 4 1;") == 0 ||
                strcmp(out, "RA1 all  2026-01 1 1;RA1 all  2026-01 2.5 2;"
                            "RA1 all  2026-01 4 1;RA1 all  2026-01 4 3;") == 0);
    /* with a later period: the run charts from a month on pass over the months before it, and
     * over a period with none from it on */
    value_cache_batch(vc, AUDIT, "2026Q2", &b);
    const char *w[8] = {"RA1", "RA101", "hours", "2026-04", "", "", "", ""};
    const char *v[8] = {"RA1", "RA101", "hours", "2026-05", "", "", "", ""};
    assert_int_equal(value_cache_add(vc, &b, w, 3, 1), 0);
    assert_int_equal(value_cache_add(vc, &b, v, 0.5, 1), 0);
    assert_int_equal(value_cache_put(vc, AUDIT, "2026Q2", &b), 0);
    out[0] = '\0';
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q2", true, NULL, spread_row, out), 0);
    assert_memory_equal(out, "RA1 all  2026-05 0.5 1;RA1 all  2026-01 1 1;", 44);
    out[0] = '\0';
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q2", true, "2026-05", spread_row, out), 0);
    assert_string_equal(out, "RA1 all  2026-05 0.5 1;");
    out[0] = '\0';
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q2", true, "2026-04", spread_row, out), 0);
    assert_string_equal(out, "RA1 all  2026-05 0.5 1;RA1 all  2026-04 3 1;");
    out[0] = '\0'; /* a period's own run charts never take a later one's */
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q1", true, "2026-01", spread_row, out), 0);
    assert_null(strstr(out, "2026-04"));
    assert_non_null(strstr(out, "RA1 all  2026-01 2.5 2;"));
    value_cache_destroy(&vc);
}

static void test_apply(void **state)
{
    (void)state;
    value_cache_t *vc = value_cache_new(100 * sizeof(value_row_t));
    assert_non_null(vc);
    value_cache_round(vc);
    value_batch_t b, gone, set;
    const char *a[8] = {"RA1", "", "hours", "2026-01", "", "", "", ""};
    const char *z[8] = {"RB2", "", "hours", "2026-01", "", "", "", ""};
    /* not held: nothing done */
    value_cache_batch(vc, AUDIT, "2026Q1", &gone);
    value_cache_batch(vc, AUDIT, "2026Q1", &set);
    assert_int_equal(value_cache_apply(vc, AUDIT, "2026Q1", &gone, &set), 1);
    value_cache_snapshot(vc, "100", 0);
    value_cache_batch(vc, AUDIT, "2026Q1", &b);
    assert_int_equal(value_cache_add(vc, &b, a, 1, 1), 0);
    assert_int_equal(value_cache_add(vc, &b, z, 1, 2), 0);
    assert_int_equal(value_cache_add(vc, &b, a, 2, 3), 0);
    assert_int_equal(value_cache_add(vc, &b, a, 3, 4), 0);
    assert_int_equal(value_cache_put(vc, AUDIT, "2026Q1", &b), 0);
    assert_string_equal(value_cache_since(vc, AUDIT, "2026Q1", 10), "100");
    /* a count set, a key gone, a key gone and written again, keys added (one twice) */
    value_cache_round(vc);
    value_cache_snapshot(vc, "120", 5);
    value_cache_batch(vc, AUDIT, "2026Q1", &gone);
    value_cache_batch(vc, AUDIT, "2026Q1", &set);
    assert_int_equal(value_cache_add(vc, &gone, a, 2, 0), 0);
    assert_int_equal(value_cache_add(vc, &gone, a, 3, 0), 0);
    assert_int_equal(value_cache_add(vc, &gone, z, 9, 0), 0); /* not held */
    assert_int_equal(value_cache_add(vc, &set, a, 3, 7), 0);
    assert_int_equal(value_cache_add(vc, &set, z, 1, 5), 0);
    assert_int_equal(value_cache_add(vc, &set, z, 0.5, 1), 0);
    assert_int_equal(value_cache_add(vc, &set, a, 1.5, 6), 0);
    assert_int_equal(value_cache_add(vc, &set, a, 1.5, 6), 0);
    assert_int_equal(value_cache_apply(vc, AUDIT, "2026Q1", &gone, &set), 0);
    char out[512] = "";
    assert_int_equal(value_cache_each(vc, AUDIT, "2026Q1", false, NULL, text_row, out), 0);
    assert_string_equal(out, "RB2 0.5 1;RA1 1 1;RB2 1 5;RA1 1.5 6;RA1 3 7;");
    assert_int_equal(value_cache_bytes(vc), 5 * sizeof(value_row_t));
    /* of the round's snapshot; too old for a round long after */
    assert_string_equal(value_cache_since(vc, AUDIT, "2026Q1", 10), "120");
    value_cache_round(vc);
    value_cache_snapshot(vc, "130", 100);
    assert_null(value_cache_since(vc, AUDIT, "2026Q1", 10));
    assert_non_null(value_cache_since(vc, AUDIT, "2026Q1", 1000));
    value_cache_round(vc); /* no snapshot given: none known */
    assert_null(value_cache_since(vc, AUDIT, "2026Q1", 1000));
    value_cache_forget(vc, AUDIT, "2026Q1");
    assert_false(value_cache_has(vc, AUDIT, "2026Q1"));
    value_cache_destroy(&vc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pure),
        cmocka_unit_test(test_keys_bounded),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_rows_spread),
        cmocka_unit_test(test_cached_equals_streamed),
        cmocka_unit_test(test_tiny_budget),
        cmocka_unit_test(test_crowded_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
