/* release_finalise.c - `ncap release finalise`: the final release of a financial year, made from
 * the record versions received by a cutoff, in one transaction (migration 0025) */
#include "release_finalise.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ascertainment.h"
#include "audit_cache.h"
#include "command_db.h"
#include "db.h"
#include "final_late.h"
#include "message.h"
#include "outlier_gate.h"
#include "outlier_store.h"
#include "release_actions.h"
#include "release_build.h"
#include "release_files.h"
#include "release_input.h"
#include "site_build.h"
#include "stage_record.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap release finalise --audit A --year YYYY [--cutoff DATE] [--out DIR]\n"
        "                             [--audit-dir DIR]\n"
        "\n"
        "Makes the final release of financial year YYYY (1 April YYYY to 31 March YYYY+1: the\n"
        "quarters YYYYQ2, YYYYQ3, YYYYQ4 and (YYYY+1)Q1) from the record versions ingest had\n"
        "received by the cutoff: each record as its latest version received by then, linked and\n"
        "validated as the pipeline holds it, counted by the metric stage's own code and\n"
        "benchmarked by the publish stage's, with the outlier cases published so far. One\n"
        "release per quarter with a record, status \"final\", never changed, pruned or made\n"
        "again; record versions received after the cutoff stay in the provisional releases and\n"
        "are counted per trust and quarter in the final's late.csv (those received before the\n"
        "final was made). All of it commits in one transaction: stopped at any point, nothing\n"
        "of it is left.\n"
        "\n"
        "  --audit A       the audit, e.g. nhfd\n"
        "  --year YYYY     the financial year, by the year it starts in\n"
        "  --cutoff DATE   the last day (YYYY-MM-DD, to its end, UTC) or instant (an ISO 8601\n"
        "                  timestamp) of receipt that counts; default: now. Never in the future\n"
        "  --out DIR       where the release folders are ($NCAP_OUT): the final goes to\n"
        "                  DIR/<audit>/final/<YYYY>/<quarter>/ and "
        "DIR/<audit>/final/<YYYY>/late.csv\n"
        "  --audit-dir DIR where definitions are ($NCAP_AUDIT_DIR)\n"
        "\n"
        "Connects through $NCAP_PG as the administrator. Refused while a record version received\n"
        "by the cutoff has not been through linkage and validation yet (`ncap wait`, then again).\n"
        "\n"
        "Exit status: 0 made, 1 the year is already final (its files are written again where\n"
        "missing), a record version still in the pipeline or PostgreSQL trouble, 2 usage or\n"
        "definition trouble.\n",
        out);
}

/* The record versions of the audit ($1) received by the cutoff ($2): each record's latest, as
 * ingest received it. O(the audit's record versions), once a year. */
#define AT_CUTOFF                                                                                  \
    "WITH v AS (SELECT DISTINCT ON (x.record_id) x.record_id, x.version FROM ingest.raw_record x"  \
    " JOIN ingest.record r USING (record_id) WHERE r.audit = $1 AND x.ingested_at <= $2"           \
    " ORDER BY x.record_id, x.version DESC) "

/* Versions received by the cutoff that linkage and validation have not decided on yet: neither
 * validated, withheld under the opt-out nor held in a quarantine. */
static const char in_flight_sql[] =
    AT_CUTOFF "SELECT count(*) FROM v WHERE NOT EXISTS (SELECT 1 FROM validation.record s"
              " WHERE s.record_id = v.record_id AND s.version = v.version)"
              " AND NOT EXISTS (SELECT 1 FROM linkage.optout_withheld w"
              " WHERE w.record_id = v.record_id AND w.version = v.version)"
              " AND NOT EXISTS (SELECT 1 FROM linkage.quarantine q"
              " WHERE q.record_id = v.record_id AND q.version = v.version AND q.held)"
              " AND NOT EXISTS (SELECT 1 FROM validation.quarantine q"
              " WHERE q.record_id = v.record_id AND q.version = v.version AND q.held)";

/* Those versions as validation keeps them (the columns of stage_record.h, then valid). */
static const char snapshot_sql[] = AT_CUTOFF
    "SELECT s.record_id, s.version, s.link_revision, s.audit, s.trust, s.site,"
    " s.payload::text, s.valid FROM v JOIN validation.record s USING (record_id, version)";

/* Those versions withheld under the opt-out, as received (trust, site, payload): the selection
 * ledger's withheld_opt_out, placed by their period field as metric would place them. */
static const char withheld_sql[] =
    AT_CUTOFF "SELECT rec.trust, x.site, x.payload::text FROM v"
              " JOIN linkage.optout_withheld w USING (record_id, version)"
              " JOIN ingest.raw_record x USING (record_id, version)"
              " JOIN ingest.record rec USING (record_id)";

/* The records with a version received after the cutoff and before now (the transaction's
 * snapshot) whose quarter is one of the year's ($3: the quarters), kept as the final's late
 * records ($4: the year; publish.final_late, migration 0028): a record with a version received by
 * the cutoff was corrected, any other added. publish adds those published later. */
static const char late_sql[] =
    "INSERT INTO publish.final_late (audit, year, record_id, trust, period, corrected)"
    " SELECT $1, $4::int, s.record_id, s.trust, s.period, EXISTS (SELECT 1 FROM ingest.raw_record"
    "   e WHERE e.record_id = s.record_id AND e.ingested_at <= $2)"
    " FROM metric.record_state s JOIN ingest.record r USING (record_id)"
    " WHERE r.audit = $1 AND s.period = ANY ($3::text[]) AND EXISTS (SELECT 1"
    "   FROM ingest.raw_record x WHERE x.record_id = s.record_id AND x.ingested_at > $2)";

typedef struct {
    const char *audit, *cutoff, *out, *dir;
    int year;
} final_opts_t;

/* Everything one finalise holds, freed by final_clear. */
typedef struct {
    audit_cache_t *audits;
    const audit_def_t *def;
    release_build_t *rb;
    benchmark_metric_t *metrics;
    PGresult *orgs_res;
    benchmark_org_t *orgs;
    size_t n_orgs;
    release_actions_t actions;
    char cutoff[64]; /* as PostgreSQL states it */
    char quarters[4][16];
} final_t;

static void final_clear(final_t *f)
{
    release_build_destroy(&f->rb);
    free(f->metrics);
    free(f->orgs);
    PQclear(f->orgs_res);
    release_actions_clear(&f->actions);
    audit_cache_destroy(&f->audits);
}

static void note(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "ncap release finalise: %s\n", message);
}

/* Feeds one version at the cutoff to the build (db_each_row's row): one the metric stage would
 * quarantine is left out as there, and said. */
static int add_version(void *ctx, const PGresult *r, int i)
{
    final_t *f = ctx;
    stage_record_t sr;
    stage_error_t cls;
    char rerr[512];
    if (stage_record_read(&sr, f->audits, r, i, &cls, rerr, sizeof rerr) != 0) {
        fprintf(stderr,
                "ncap release finalise: record %s is left out as the metric stage would "
                "quarantine it: %s\n",
                PQgetvalue(r, i, 0), rerr);
        return 0;
    }
    bool valid = PQgetvalue(r, i, STAGE_RECORD_COLUMNS)[0] == 't';
    int rc = release_build_add(f->rb, sr.trust, sr.site, PQgetvalue(r, i, 0), sr.rec, valid);
    stage_record_clear(&sr);
    return rc == 0 ? 0 : -1;
}

/* Feeds the versions at the cutoff to the build, a cursor's chunk at a time. */
static int load_snapshot(PGconn *db, final_t *f, const char *const p[2], char *err, size_t errlen)
{
    if (db_each_row(db, snapshot_sql, 2, p, add_version, f, err, errlen) != 0)
        return -1;
    PGresult *w = db_query(db, withheld_sql, 2, p, err, errlen);
    if (!w)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(w); i++) {
        ncap_record_t *rec = ncap_record_new();
        if (!rec || message_record_from_json(PQgetvalue(w, i, 2), rec) != 0) {
            ncap_record_destroy(&rec);
            rc = -1;
            break;
        }
        rc = release_build_add_withheld(f->rb, PQgetvalue(w, i, 0), PQgetvalue(w, i, 1), rec);
        ncap_record_destroy(&rec);
    }
    PQclear(w);
    if (rc != 0 || release_build_finish(f->rb) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* One quarter's final release (period i of the build), stored with its files and rows. Returns
 * 0, or -1 with err. */
static int store_period(PGconn *db, final_t *f, size_t i, char *err, size_t errlen)
{
    const audit_def_t *def = f->def;
    const char *period = release_build_period(f->rb, i);
    long long records = release_build_period_records(f->rb, i);
    release_sums_t sums;
    if (release_build_sums(f->rb, i, &sums) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    benchmark_input_t in = release_input_of(def, period, f->metrics, NULL, 0, f->orgs, f->n_orgs);
    release_sums_input(&sums, &in);
    in.actions = f->actions.actions;
    in.n_actions = f->actions.n;
    benchmark_release_t rel = {0};
    char *csv = NULL, *json = NULL, *tips = NULL, *spc = NULL, *spc_summary = NULL;
    char *ascertained = NULL;
    PGresult *pub = NULL, *ins = NULL, *cases = NULL;
    int rc = -1;
    if (benchmark_build(&in, &rel, err, errlen) != 0)
        goto done;
    /* the public files show the alarms whose case is published, as publish's releases do */
    if (def->outliers.enabled) {
        outlier_unit_t *units = NULL;
        size_t n = 0;
        if (!(pub = outlier_store_published(db, def->audit, period, &units, &n, err, errlen)))
            goto done;
        outlier_gate_release(def, &rel, units, n);
        free(units);
    }
    if (!(csv = benchmark_csv_text(&in, &rel)) || !(tips = benchmark_fingertips_text(&in, &rel))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (benchmark_spc_text(&in, &spc, &spc_summary, err, errlen) != 0)
        goto done;
    char hash[65], n_records[32];
    release_files_hash(csv, spc, spc_summary, records, hash);
    snprintf(n_records, sizeof n_records, "%lld", records);
    const char *p[] = {def->audit, period, n_records, hash, f->quarters[0]};
    /* the final takes the next revision number of its quarter; final_year from the first
     * quarter's label */
    ins = db_query(db,
                   "INSERT INTO publish.release (audit, period, revision, status, records,"
                   " content_hash, final_year) SELECT $1, $2, coalesce(max(revision), 0) + 1,"
                   " 'final', $3::int, $4, left($5, 4)::int FROM publish.release WHERE audit = $1"
                   " AND period = $2 RETURNING release_id, revision, to_char(created_at AT TIME"
                   " ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                   5, p, err, errlen);
    if (!ins)
        goto done;
    json_t *prov =
        release_input_provenance(def, atoi(PQgetvalue(ins, 0, 1)), "final", records,
                                 PQgetvalue(ins, 0, 2), "ncap release finalise " NCAP_VERSION);
    if (prov)
        json_object_set_new(prov, "cutoff", json_string(f->cutoff));
    json = prov ? benchmark_json(&in, &rel, prov) : NULL;
    json_decref(prov);
    if (!json) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* case ascertainment at the cutoff: the final's records of each trust over its expected
     * cases (none without them); no delays.csv, which times publication */
    if (!(cases = db_query(db,
                           "SELECT trust, expected FROM publish.expected_cases WHERE audit = $1"
                           " AND period = $2 ORDER BY trust COLLATE \"C\"",
                           2, p, err, errlen)))
        goto done;
    if (PQntuples(cases) > 0) {
        int n = PQntuples(cases);
        ascertainment_row_t *rows = calloc((size_t)n, sizeof *rows);
        for (int k = 0; rows && k < n; k++)
            rows[k] = (ascertainment_row_t){
                PQgetvalue(cases, k, 0),
                release_build_trust_records(f->rb, i, PQgetvalue(cases, k, 0)),
                strtoll(PQgetvalue(cases, k, 1), NULL, 10)};
        ascertained = rows ? ascertainment_text(def->audit, period, rows, (size_t)n,
                                                def->has_ascertainment_threshold,
                                                def->ascertainment_threshold)
                           : NULL;
        free(rows);
        if (!ascertained) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    const char *content[RELEASE_N_FILES] = {csv, json, tips, spc, spc_summary, NULL, ascertained};
    if (release_files_store(db, PQgetvalue(ins, 0, 0), content, err, errlen) != 0)
        goto done;
    printf("  %s r%04d: %lld records, %zu rows\n", period, atoi(PQgetvalue(ins, 0, 1)), records,
           rel.n_rows);
    rc = 0;
done:
    free(csv);
    free(json);
    free(tips);
    free(spc);
    free(spc_summary);
    free(ascertained);
    PQclear(pub);
    PQclear(ins);
    PQclear(cases);
    benchmark_release_free(&rel);
    release_sums_free(&sums);
    return rc;
}

static int load_orgs(PGconn *db, final_t *f, char *err, size_t errlen)
{
    f->orgs_res = db_query(db, "SELECT code, name, region FROM publish.organisation ORDER BY code",
                           0, NULL, err, errlen);
    if (!f->orgs_res)
        return -1;
    f->n_orgs = (size_t)PQntuples(f->orgs_res);
    if (!(f->orgs = calloc(f->n_orgs + 1, sizeof *f->orgs))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < f->n_orgs; i++)
        f->orgs[i] = release_input_org(PQgetvalue(f->orgs_res, (int)i, 0),
                                       PQgetvalue(f->orgs_res, (int)i, 1),
                                       PQgetvalue(f->orgs_res, (int)i, 2));
    return 0;
}

/* Writes the final's files when there is a folder to write them to. */
static int export(PGconn *db, const final_opts_t *o)
{
    if (!o->out)
        return 0;
    char err[1024], dir[1024];
    if (release_files_export_final(db, o->out, o->audit, o->year, err, sizeof err) != 0) {
        fprintf(stderr, "ncap release finalise: %s\n", err);
        return -1;
    }
    release_files_final_dir(o->out, o->audit, o->year, dir, sizeof dir);
    printf("written to %s\n", dir);
    if (site_build(o->out, NULL, err, sizeof err) < 0) /* the portal's home lists the final */
        fprintf(stderr, "ncap release finalise: the final is written, the portal not: %s\n", err);
    return 0;
}

/* Returns the exit status; the transaction is open on entry and ended (or the connection lost)
 * on return. */
static int finalise(PGconn *db, const final_opts_t *o, final_t *f)
{
    char err[1024], year[16];
    snprintf(year, sizeof year, "%d", o->year);
    /* one finalise at a time; the year's row is the last thing written, so a second one waits
     * here and then finds it */
    if (db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('ncap.finalise'))", err, sizeof err))
        goto failed;
    const char *pc[] = {o->cutoff ? o->cutoff : ""};
    PGresult *r = db_query(
        db,
        "SELECT c, c > now() FROM (SELECT CASE WHEN $1 = '' THEN now()"
        " WHEN $1 ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN ($1::date + 1)::timestamp AT TIME ZONE 'UTC'"
        " - interval '1 microsecond' ELSE $1::timestamptz END AS c) x",
        1, pc, err, sizeof err);
    if (!r) {
        fprintf(stderr,
                "ncap release finalise: invalid value \"%s\" for --cutoff, expected a date "
                "(YYYY-MM-DD) or a timestamp (YYYY-MM-DDTHH:MM:SSZ): %s\n",
                o->cutoff, err);
        return 2;
    }
    snprintf(f->cutoff, sizeof f->cutoff, "%s", PQgetvalue(r, 0, 0));
    bool future = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (future) {
        fprintf(stderr,
                "ncap release finalise: the cutoff %s is in the future: records received later "
                "than now cannot be in a final release made now\n",
                f->cutoff);
        return 2;
    }
    const char *pe[] = {o->audit, year};
    if (!(r = db_query(db,
                       "SELECT cutoff, created_at FROM publish.final WHERE audit = $1"
                       " AND year = $2::int",
                       2, pe, err, sizeof err)))
        goto failed;
    if (PQntuples(r) == 1) {
        fprintf(stderr,
                "ncap release finalise: the final release of %s %d exists (cutoff %s, made %s): "
                "a final release is made once and never changed\n",
                o->audit, o->year, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
        PQclear(r);
        (void)db_exec(db, "ROLLBACK", err, sizeof err);
        (void)export(db, o); /* files a kill after the commit left unwritten */
        return 1;
    }
    PQclear(r);
    const char *p[] = {o->audit, f->cutoff};
    if (!(r = db_query(db, in_flight_sql, 2, p, err, sizeof err)))
        goto failed;
    long long in_flight = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (in_flight > 0) {
        fprintf(stderr,
                "ncap release finalise: %lld record versions of %s received by the cutoff %s have "
                "not been through linkage and validation yet; run `ncap wait` and finalise "
                "again\n",
                in_flight, o->audit, f->cutoff);
        return 1;
    }
    if (!(f->rb = release_build_new(f->def, NULL, note, NULL)) ||
        !(f->metrics = release_input_metrics(f->def))) {
        snprintf(err, sizeof err, "out of memory");
        goto failed;
    }
    if (load_snapshot(db, f, p, err, sizeof err) != 0 || load_orgs(db, f, err, sizeof err) != 0 ||
        release_actions_load(db, o->audit, &f->actions, err, sizeof err) != 0)
        goto failed;
    printf("final release of %s %d (1 April %d to 31 March %d), record versions received by %s:\n",
           o->audit, o->year, o->year, o->year + 1, f->cutoff);
    long long total = 0;
    size_t made = 0;
    for (size_t i = 0; i < release_build_n_periods(f->rb); i++) {
        const char *period = release_build_period(f->rb, i);
        for (size_t q = 0; q < 4; q++)
            if (strcmp(period, f->quarters[q]) == 0) {
                if (store_period(db, f, i, err, sizeof err) != 0)
                    goto failed;
                total += release_build_period_records(f->rb, i);
                made++;
            }
    }
    if (made == 0) {
        fprintf(stderr,
                "ncap release finalise: no record of %s received by %s falls in %s..%s: nothing "
                "to finalise\n",
                o->audit, f->cutoff, f->quarters[0], f->quarters[3]);
        return 1;
    }
    char quarters[80], n_total[32];
    snprintf(quarters, sizeof quarters, "{%s,%s,%s,%s}", f->quarters[0], f->quarters[1],
             f->quarters[2], f->quarters[3]);
    snprintf(n_total, sizeof n_total, "%lld", total);
    const char *pl[] = {o->audit, f->cutoff, quarters, year};
    char *late = NULL;
    long long n_late;
    if (db_execp(db, late_sql, 4, pl, err, sizeof err) != 0 ||
        (n_late = final_late_csv(db, o->audit, o->year, &late, err, sizeof err)) < 0)
        goto failed;
    const char *pf[] = {o->audit, year, f->cutoff, n_total, late};
    printf("  late.csv: %lld records with a version received after the cutoff\n", n_late);
    /* the year's row last: until it commits, nothing of the final is there */
    int rc = db_execp(db,
                      "INSERT INTO publish.final (audit, year, cutoff, records, late_csv)"
                      " VALUES ($1, $2::int, $3::timestamptz, $4::int, $5)",
                      5, pf, err, sizeof err);
    free(late);
    if (rc != 0 || db_exec(db, "COMMIT", err, sizeof err) != 0)
        goto failed;
    return export(db, o) == 0 ? 0 : 1;
failed:
    fprintf(stderr, "ncap release finalise: %s; nothing of the final release was kept\n", err);
    return 1;
}

int release_finalise(int argc, char **argv)
{
    enum { O_AUDIT = 1000, O_YEAR, O_CUTOFF, O_OUT, O_AUDIT_DIR, O_HELP };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"year", required_argument, NULL, O_YEAR},
        {"cutoff", required_argument, NULL, O_CUTOFF},
        {"out", required_argument, NULL, O_OUT},
        {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    final_opts_t o = {.dir = getenv("NCAP_AUDIT_DIR"), .out = getenv("NCAP_OUT")};
    if (!o.dir || !*o.dir)
        o.dir = NCAP_DEFAULT_AUDIT_DIR;
    if (o.out && !*o.out)
        o.out = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            o.audit = optarg;
            break;
        case O_YEAR: {
            char *end;
            long y = strtol(optarg, &end, 10);
            if (*end || end == optarg || y < 1990 || y > 2999)
                return usage_error("release finalise",
                                   "invalid value \"%s\" for --year, expected the year a "
                                   "financial year starts in, e.g. 2025 for April 2025 to "
                                   "March 2026",
                                   optarg);
            o.year = (int)y;
            break;
        }
        case O_CUTOFF:
            o.cutoff = optarg;
            break;
        case O_OUT:
            o.out = optarg;
            break;
        case O_AUDIT_DIR:
            o.dir = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error_option("release finalise", c, argv);
        }
    }
    if (optind < argc)
        return usage_error("release finalise", "unexpected argument \"%s\"", argv[optind]);
    if (!o.audit || !*o.audit)
        return usage_error("release finalise", "missing --audit");
    if (!o.year)
        return usage_error("release finalise", "missing --year");
    final_t f = {0};
    /* NHS financial year Y: April Y to March Y+1, in the audits' calendar quarters */
    snprintf(f.quarters[0], sizeof f.quarters[0], "%dQ2", o.year);
    snprintf(f.quarters[1], sizeof f.quarters[1], "%dQ3", o.year);
    snprintf(f.quarters[2], sizeof f.quarters[2], "%dQ4", o.year);
    snprintf(f.quarters[3], sizeof f.quarters[3], "%dQ1", o.year + 1);
    char err[1024];
    if (!(f.audits = audit_cache_new(o.dir)) ||
        !(f.def = audit_cache_get(f.audits, o.audit, err, sizeof err))) {
        fprintf(stderr, "ncap release finalise: %s\n", f.audits ? err : "out of memory");
        final_clear(&f);
        return 2;
    }
    PGconn *db = command_db_connect("release finalise");
    if (!db) {
        final_clear(&f);
        return 1;
    }
    /* one snapshot for every read: the versions, the records' state and the late ones agree.
     * Publish's lock (the one its rounds take before their snapshot) is taken before it and held
     * to the end, so that no round commits between the snapshot and the final: a round after it
     * finds the final and counts its late records (publish.final_late), every round before it is
     * in the snapshot. LOCK TABLE takes no snapshot. Publish's rounds wait meanwhile (once a
     * year); a kill -9 of the command ends its transaction and the lock. */
    int rc = 1;
    if (db_exec(db,
                "BEGIN ISOLATION LEVEL REPEATABLE READ;"
                " LOCK TABLE publish.watermark IN SHARE ROW EXCLUSIVE MODE",
                err, sizeof err) == 0)
        rc = finalise(db, &o, &f);
    else
        fprintf(stderr, "ncap release finalise: %s\n", err);
    PQfinish(db); /* an open transaction is rolled back */
    final_clear(&f);
    return rc;
}
