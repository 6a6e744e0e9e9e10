/* cmd_refdata.c - `ncap refdata load deaths|optouts|imd|ods FILE` and `ncap refdata status`: the
 * reference data linkage joins records to (services/linkage/decide/refdata.c) and the organisations
 * releases name (services/publish/ods_etr.c), checked row by row and loaded in one transaction that
 * replaces the set of its kind; with the deaths, how far the register reaches (--covers-to,
 * linkage.death_coverage: services/linkage/decide/follow_up.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_db.h"
#include "commands.h"
#include "db.h"
#include "file_read.h"
#include "nhs_code_list.h"
#include "ods_etr.h"
#include "refdata.h"
#include "refdata_expected.h"
#include "strbuf.h"
#include "usage_error.h"

#define PROGRESS_EVERY 100000

static void usage(FILE *out)
{
    fputs("usage: ncap refdata load deaths|optouts|imd|ods FILE\n"
          "       ncap refdata load deaths FILE [--covers-to DATE]\n"
          "       ncap refdata load expected --audit A FILE\n"
          "       ncap refdata status\n"
          "\n"
          "Loads the reference data that linkage joins records to, into the linkage schema, and\n"
          "the organisations releases name, into the publish schema:\n"
          "\n"
          "  deaths   a register-of-deaths extract, CSV with the header\n"
          "           nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"
          "           (any column but date_of_death may be empty)\n"
          "  optouts  NHS numbers of patients under the national data opt-out: header nhs_number\n"
          "  imd      the index of multiple deprivation by LSOA, e.g. the 2019 English index:\n"
          "           header lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\n"
          "  ods      NHS trusts, the Organisation Data Service's etr extract: CSV without a\n"
          "           header, a trust a line: code, name, national grouping (its region, e.g.\n"
          "           Y56 London), high-level health geography, address, postcode, open and\n"
          "           close dates, ... (only the first three are read). A trust releases name\n"
          "           that is not in it is published under its code, in region unknown\n"
          "\n"
          "Dates may be YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY; sex 1, 2, 9, X, M, F or U. Every row\n"
          "is checked (NHS number Modulus 11, dates, postcode, ranges; a trust's 3-character\n"
          "code, its name, the shape of its national grouping): a bad row is reported on\n"
          "standard error with its line and reason and skipped. A wrong header, or an ods file\n"
          "without one good row, loads nothing.\n"
          "A load is one transaction that replaces the whole set of its kind: deaths whose row\n"
          "is unchanged keep their id (so links to them survive), new rows are added and rows\n"
          "no longer in the file removed; loading the same file twice changes nothing. A summary\n"
          "is printed at the end: rows read, loaded, added, removed, skipped and why (for ods,\n"
          "the trusts of each region too).\n"
          "\n"
          "  expected the cases each trust was expected to submit per period, from another\n"
          "           source (e.g. hospital episode statistics), for the audit --audit A: CSV\n"
          "           with the header trust,period,expected (an ODS code, a quarter YYYYQn or a\n"
          "           year, a whole number). Replaces the audit's rows; publish writes each\n"
          "           trust's ascertainment (records / expected) with the next releases\n"
          "\n"
          "  --covers-to DATE  (deaths) the last day the extract covers: every death registered\n"
          "           up to and including DATE is in it. An outcome within N days of a record's\n"
          "           date (a metric's follow_up_days, e.g. death within 30 days of arrival) is\n"
          "           counted only once the register covers that day; until then the record is\n"
          "           held back, and a later load that covers it releases it (linkage derives\n"
          "           the record again as a link revision). Without --covers-to the extract is\n"
          "           taken to cover its latest date of death (an extract of deaths to the end\n"
          "           of a month with none on its last days is taken to cover less: say so with\n"
          "           --covers-to). Coverage never goes back: an earlier --covers-to than the\n"
          "           register's now is refused and nothing is loaded; an extract whose latest\n"
          "           death is earlier, without --covers-to, keeps the coverage as it is.\n"
          "\n"
          "status prints, per kind, the rows held and the last load, and the day the register\n"
          "of deaths covers to.\n"
          "\n"
          "Connects to PostgreSQL through $NCAP_PG as the operator (run `ncap migrate` first).\n"
          "Exit status: 0 loaded (bad rows skipped), 1 nothing loaded (wrong header, no good\n"
          "row of ods, database trouble), 2 usage or a file that cannot be read.\n",
          out);
}

/* ---------------------------------------------------------------- SQL per kind */

/* What can be loaded: linkage's kinds (refdata_kind_t, the same numbers) and the organisations. */
typedef enum { KIND_DEATHS, KIND_OPTOUTS, KIND_IMD, KIND_ODS, N_KINDS } load_kind_t;

_Static_assert((int)KIND_DEATHS == (int)REFDATA_DEATHS &&
                   (int)KIND_OPTOUTS == (int)REFDATA_OPTOUTS && (int)KIND_IMD == (int)REFDATA_IMD,
               "linkage's kinds keep their numbers");

static const char *kind_name(load_kind_t kind)
{
    return kind == KIND_ODS ? "ods" : refdata_kind_name((refdata_kind_t)kind);
}

/* "deaths", "optouts", "imd" or "ods" to a kind: 0, or -1 for another name. */
static int kind_parse(const char *name, load_kind_t *kind)
{
    refdata_kind_t k;
    if (strcmp(name, "ods") == 0)
        *kind = KIND_ODS;
    else if (refdata_kind_parse(name, &k) == 0)
        *kind = (load_kind_t)k;
    else
        return -1;
    return 0;
}

typedef struct {
    const char *table;
    const char *temp_columns; /* of the temporary table the file is copied into */
    const char *remove;       /* rows of the set no longer in the file */
    const char *update;       /* rows whose key stays but whose values change, or NULL */
    const char *insert;       /* rows new to the set (the first line of duplicates) */
} kind_sql_t;

static const kind_sql_t kind_sql[N_KINDS] = {
    [KIND_DEATHS] =
        {"linkage.death",
         "line integer, nhs_number text, forename text, surname text, date_of_birth date, "
         "sex text, postcode text, date_of_death date, row_hash text",
         "DELETE FROM linkage.death d WHERE NOT EXISTS "
         "(SELECT 1 FROM refdata_in i WHERE i.row_hash = d.row_hash)",
         NULL,
         "INSERT INTO linkage.death (nhs_number, forename, surname, date_of_birth, sex, postcode, "
         "date_of_death, row_hash) SELECT nhs_number, forename, surname, date_of_birth, sex, "
         "postcode, date_of_death, row_hash FROM refdata_in i WHERE NOT EXISTS (SELECT 1 FROM "
         "linkage.death d WHERE d.row_hash = i.row_hash) ORDER BY line "
         "ON CONFLICT (row_hash) DO NOTHING"},
    [KIND_OPTOUTS] = {"linkage.optout", "line integer, nhs_number text",
                      "DELETE FROM linkage.optout o WHERE NOT EXISTS "
                      "(SELECT 1 FROM refdata_in i WHERE i.nhs_number = o.nhs_number)",
                      NULL,
                      "INSERT INTO linkage.optout (nhs_number) SELECT nhs_number FROM refdata_in i "
                      "WHERE NOT EXISTS (SELECT 1 FROM linkage.optout o WHERE o.nhs_number = "
                      "i.nhs_number) ORDER BY line ON CONFLICT (nhs_number) DO NOTHING"},
    [KIND_IMD] =
        {"linkage.imd",
         "line integer, lsoa text, imd_rank integer, imd_decile smallint, "
         "imd_quintile smallint",
         "DELETE FROM linkage.imd m WHERE NOT EXISTS "
         "(SELECT 1 FROM refdata_in i WHERE i.lsoa = m.lsoa)",
         "UPDATE linkage.imd m SET imd_rank = i.imd_rank, imd_decile = i.imd_decile, "
         "imd_quintile = i.imd_quintile FROM (SELECT DISTINCT ON (lsoa) * FROM refdata_in "
         "ORDER BY lsoa, line) i WHERE i.lsoa = m.lsoa AND (m.imd_rank, m.imd_decile, "
         "m.imd_quintile) IS DISTINCT FROM (i.imd_rank, i.imd_decile, i.imd_quintile)",
         "INSERT INTO linkage.imd (lsoa, imd_rank, imd_decile, imd_quintile) SELECT lsoa, "
         "imd_rank, imd_decile, imd_quintile FROM (SELECT DISTINCT ON (lsoa) * FROM refdata_in "
         "ORDER BY lsoa, line) i ON CONFLICT (lsoa) DO NOTHING"},
    [KIND_ODS] =
        {"publish.organisation", "line integer, code text, name text, region text",
         "DELETE FROM publish.organisation o WHERE NOT EXISTS "
         "(SELECT 1 FROM refdata_in i WHERE i.code = o.code)",
         "UPDATE publish.organisation o SET name = i.name, region = i.region, loaded_at = now() "
         "FROM (SELECT DISTINCT ON (code) * FROM refdata_in ORDER BY code, line) i "
         "WHERE i.code = o.code AND (o.name, o.region) IS DISTINCT FROM (i.name, i.region)",
         "INSERT INTO publish.organisation (code, name, region) SELECT code, name, region FROM "
         "(SELECT DISTINCT ON (code) * FROM refdata_in ORDER BY code, line) i "
         "ON CONFLICT (code) DO NOTHING"},
};

/* The file being loaded, read by the reader of its kind. */
typedef struct {
    load_kind_t kind;
    refdata_reader_t *refdata; /* deaths, optouts, imd */
    ods_etr_reader_t *ods;     /* ods */
} source_t;

/* One good row of linkage's reference data as a line of COPY text. */
static void refdata_copy_line(strbuf_t *b, load_kind_t kind, const refdata_row_t *r)
{
    switch (kind) {
    case KIND_DEATHS: {
        const char *cols[] = {r->nhs_number,    r->forename,
                              r->surname,       r->date_of_birth[0] ? r->date_of_birth : NULL,
                              r->sex,           r->postcode,
                              r->date_of_death, r->row_hash};
        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
            strbuf_append(b, "\t");
            strbuf_copy_field(b, cols[i]);
        }
        break;
    }
    case KIND_OPTOUTS:
        strbuf_appendf(b, "\t%s", r->nhs_number);
        break;
    case KIND_IMD:
        strbuf_appendf(b, "\t%s\t%d\t%d\t%d", r->lsoa, r->imd_rank, r->imd_decile, r->imd_quintile);
        break;
    default:
        break;
    }
}

/* Reads the next row of src: 1 with the good row appended to b as a line of COPY text (its line
 * number first), 0 at the end, -1 for a bad row, with the field at fault and why. */
static int source_next(source_t *src, strbuf_t *b, char field[32], char reason[256])
{
    int got;
    size_t line;
    if (src->kind == KIND_ODS) {
        ods_etr_row_t row;
        ods_etr_problem_t problem;
        got = ods_etr_reader_next(src->ods, &row, &problem);
        line = ods_etr_reader_line(src->ods);
        if (got > 0) {
            strbuf_appendf(b, "%zu\t", line);
            strbuf_copy_field(b, row.code);
            strbuf_append(b, "\t");
            strbuf_copy_field(b, row.name);
            strbuf_append(b, "\t");
            strbuf_copy_field(b, ods_etr_region(&row));
            strbuf_append(b, "\n");
        }
        snprintf(field, 32, "%s", problem.field);
        snprintf(reason, 256, "%s", problem.reason);
        return got;
    }
    refdata_row_t row;
    refdata_problem_t problem;
    got = refdata_reader_next(src->refdata, &row, &problem);
    line = refdata_reader_line(src->refdata);
    if (got > 0) {
        strbuf_appendf(b, "%zu", line);
        refdata_copy_line(b, src->kind, &row);
        strbuf_append(b, "\n");
    }
    snprintf(field, 32, "%s", got < 0 ? problem.field : "");
    snprintf(reason, 256, "%s", got < 0 ? problem.reason : "");
    return got;
}

static size_t source_line(const source_t *src)
{
    return src->kind == KIND_ODS ? ods_etr_reader_line(src->ods)
                                 : refdata_reader_line(src->refdata);
}

/* ---------------------------------------------------------------- the load */

typedef struct {
    long long read, good, skipped, duplicates, added, removed, changed, held;
    /* deaths: the register's coverage after the load ("" none), how it was chosen, the deaths of
     * the file dated after it, and the file's latest date of death */
    char covers_to[11], latest[11];
    enum { COVERS_NONE, COVERS_GIVEN, COVERS_LATEST, COVERS_KEPT } covers_how;
    long long after;
    /* skipped rows per field at fault ("" for the row as a whole) */
    struct {
        char field[32];
        long long n;
    } why[16];
    size_t n_why;
} load_counts_t;

static void count_skip(load_counts_t *c, const char *field)
{
    c->skipped++;
    size_t i = 0;
    while (i < c->n_why && strcmp(c->why[i].field, field) != 0)
        i++;
    if (i == c->n_why) {
        if (c->n_why == sizeof c->why / sizeof c->why[0])
            return;
        snprintf(c->why[c->n_why++].field, sizeof c->why[0].field, "%s", field);
    }
    c->why[i].n++;
}

static int put(PGconn *db, strbuf_t *b)
{
    int rc = b->oom || db_copy_put(db, b->s, b->len) != 0 ? -1 : 0;
    strbuf_reset(b);
    return rc;
}

/* Reads the file's rows, reports the bad ones, and copies the good ones into refdata_in.
 * Returns 0, or -1 with err when the database failed. */
static int copy_rows(PGconn *db, source_t *src, load_counts_t *c, char *err, size_t errlen)
{
    if (db_copy_begin(db, "COPY refdata_in FROM STDIN", err, errlen) != 0)
        return -1;
    strbuf_t b;
    strbuf_init(&b);
    int rc = 0, got;
    char field[32], reason[256];
    while (rc == 0 && (got = source_next(src, &b, field, reason)) != 0) {
        c->read++;
        if (got < 0) {
            fprintf(stderr, "ncap refdata: skipped line %zu: %s\n", source_line(src), reason);
            count_skip(c, field[0] ? field : "row");
        } else {
            c->good++;
            if (b.len > (1 << 20))
                rc = put(db, &b);
        }
        if (c->read % PROGRESS_EVERY == 0)
            fprintf(stderr, "ncap refdata: %lld rows read\n", c->read);
    }
    if (rc == 0 && b.len > 0)
        rc = put(db, &b);
    strbuf_free(&b);
    return db_copy_end(db, rc == 0, err, errlen);
}

/* Runs sql and returns the rows it touched in *n, or -1 with err. */
static int exec_count(PGconn *db, const char *sql, long long *n, char *err, size_t errlen)
{
    PGresult *r = db_query(db, sql, 0, NULL, err, errlen);
    if (!r)
        return -1;
    *n =
        PQntuples(r) == 1 && PQnfields(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : atoll(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

/* The register's coverage once the deaths of refdata_in are loaded (--covers-to): given ("" when
 * not), else the file's latest date of death, never before the coverage held; recorded in
 * linkage.death_coverage, in the load's transaction. Returns 0, or -1 with err (given is before
 * the coverage held: coverage never goes back). */
static int record_coverage(PGconn *db, const char *given, load_counts_t *c, char *err,
                           size_t errlen)
{
    PGresult *r =
        db_query(db,
                 "SELECT coalesce((SELECT to_char(covers_to, 'YYYY-MM-DD')"
                 " FROM linkage.death_coverage), ''),"
                 " coalesce(to_char(max(date_of_death), 'YYYY-MM-DD'), '') FROM refdata_in",
                 0, NULL, err, errlen);
    if (!r)
        return -1;
    char held[11];
    snprintf(held, sizeof held, "%s", PQgetvalue(r, 0, 0));
    snprintf(c->latest, sizeof c->latest, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    /* ISO dates compare as text */
    if (given[0] && held[0] && strcmp(given, held) < 0) {
        snprintf(
            err, errlen,
            "--covers-to %s is before %s, the day the register of deaths loaded already covers "
            "to: coverage never goes back (give --covers-to %s or later)",
            given, held, held);
        return -1;
    }
    if (given[0])
        c->covers_how = COVERS_GIVEN;
    else if (c->latest[0] && strcmp(c->latest, held) >= 0)
        c->covers_how = COVERS_LATEST;
    else
        c->covers_how = held[0] ? COVERS_KEPT : COVERS_NONE;
    const char *covers = c->covers_how == COVERS_GIVEN    ? given
                         : c->covers_how == COVERS_LATEST ? c->latest
                                                          : held;
    snprintf(c->covers_to, sizeof c->covers_to, "%s", covers);
    if (!covers[0])
        return 0;
    const char *pv[] = {covers};
    if (db_execp(
            db,
            "INSERT INTO linkage.death_coverage (covers_to) VALUES ($1::date)"
            " ON CONFLICT (one) DO UPDATE SET covers_to = EXCLUDED.covers_to, updated_at = now()"
            " WHERE death_coverage.covers_to <> EXCLUDED.covers_to",
            1, pv, err, errlen) != 0)
        return -1;
    if (!(r = db_query(db, "SELECT count(*) FROM linkage.death WHERE date_of_death > $1::date", 1,
                       pv, err, errlen)))
        return -1;
    c->after = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* The load inside its transaction: lock, copy, replace, record (covers_to: --covers-to of deaths,
 * or ""). Returns 0 or -1 with err. */
static int load_in_transaction(PGconn *db, source_t *src, const char *file, const char *covers_to,
                               load_counts_t *c, char *err, size_t errlen)
{
    const kind_sql_t *k = &kind_sql[src->kind];
    char sql[512];
    /* one load of a kind at a time; readers (the daemons) are not blocked. Memory enough to join
     * a million rows by hash rather than by sorting on disk. */
    snprintf(sql, sizeof sql, "LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", k->table);
    if (db_exec(db, sql, err, errlen) != 0 ||
        db_exec(db, "SET LOCAL work_mem = '256MB'", err, errlen) != 0)
        return -1;
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE refdata_in (%s) ON COMMIT DROP", k->temp_columns);
    if (db_exec(db, sql, err, errlen) != 0 || copy_rows(db, src, c, err, errlen) != 0 ||
        db_exec(db, "ANALYZE refdata_in", err, errlen) != 0)
        return -1;
    /* a file of another kind, or cut short, would empty the organisations releases name */
    if (src->kind == KIND_ODS && c->good == 0) {
        snprintf(err, errlen,
                 "no trust in the file (%lld row%s, none good): expected the ODS etr layout, a "
                 "trust a line: code, name, national grouping, ...",
                 c->read, c->read == 1 ? "" : "s");
        return -1;
    }
    if (c->read >= PROGRESS_EVERY)
        fprintf(stderr, "ncap refdata: %lld rows read; replacing %s\n", c->read, k->table);
    if (exec_count(db, k->remove, &c->removed, err, errlen) != 0 ||
        (k->update && exec_count(db, k->update, &c->changed, err, errlen) != 0) ||
        exec_count(db, k->insert, &c->added, err, errlen) != 0)
        return -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", k->table);
    if (exec_count(db, sql, &c->held, err, errlen) != 0 ||
        (src->kind == KIND_DEATHS && record_coverage(db, covers_to, c, err, errlen) != 0))
        return -1;
    /* the set is now exactly the file's distinct keys */
    c->duplicates = c->good - c->held;
    char rows[32], added[32], removed[32];
    snprintf(rows, sizeof rows, "%lld", c->held);
    snprintf(added, sizeof added, "%lld", c->added);
    snprintf(removed, sizeof removed, "%lld", c->removed);
    const char *params[] = {kind_name(src->kind), file, rows, added, removed, c->covers_to};
    return db_execp(
        db,
        "INSERT INTO linkage.refdata_load (kind, file, rows, added, removed, covers_to) "
        "VALUES ($1, $2, $3::integer, $4::integer, $5::integer, NULLIF($6, '')::date)",
        6, params, err, errlen);
}

/* The trusts of each region now held: "Y56 London 36", ..., "unknown 2". */
static void print_regions(PGconn *db)
{
    char err[1024];
    PGresult *r = db_query(db,
                           "SELECT region, count(*) FROM publish.organisation GROUP BY region"
                           " ORDER BY region = 'unknown', region",
                           0, NULL, err, sizeof err);
    if (!r) {
        fprintf(stderr, "ncap refdata: could not count the trusts of each region: %s\n", err);
        return;
    }
    printf("  regions:   ");
    for (int i = 0; i < PQntuples(r); i++) {
        const char *code = PQgetvalue(r, i, 0), *name = nhs_national_grouping_name(code);
        printf("%s %s%s%s %s", i ? "," : "", code, name ? " " : "", name ? name : "",
               PQgetvalue(r, i, 1));
    }
    printf("\n");
    PQclear(r);
}

static void print_summary(load_kind_t kind, const char *file, const load_counts_t *c)
{
    printf("loaded %s from %s\n", kind_name(kind), file);
    printf("  rows read:  %lld\n", c->read);
    printf("  loaded:     %lld (now held)\n", c->held);
    printf("  added:      %lld\n", c->added);
    printf("  removed:    %lld\n", c->removed);
    if (kind_sql[kind].update)
        printf("  changed:    %lld\n", c->changed);
    printf("  duplicates: %lld (kept once)\n", c->duplicates);
    printf("  skipped:    %lld", c->skipped);
    for (size_t i = 0; i < c->n_why; i++)
        printf("%s%s %lld", i ? ", " : " (", c->why[i].field, c->why[i].n);
    printf("%s\n", c->n_why ? ")" : "");
    if (kind != KIND_DEATHS)
        return;
    switch (c->covers_how) {
    case COVERS_NONE:
        printf("  covers to:  no day (no death in the register; give --covers-to)\n");
        return;
    case COVERS_GIVEN:
        printf("  covers to:  %s (--covers-to)\n", c->covers_to);
        break;
    case COVERS_LATEST:
        printf("  covers to:  %s (the latest date of death; --covers-to to say otherwise)\n",
               c->covers_to);
        break;
    case COVERS_KEPT:
        printf("  covers to:  %s (kept: the latest date of death, %s, is earlier)\n", c->covers_to,
               c->latest[0] ? c->latest : "none");
        break;
    }
    if (c->after > 0)
        printf("  after it:   %lld death%s dated after the day it covers to\n", c->after,
               c->after == 1 ? "" : "s");
}

static int load(load_kind_t kind, const char *path, const char *covers_to)
{
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len) != 0) {
        fprintf(stderr, "ncap refdata: could not read \"%s\": %s\n", path, strerror(errno));
        return 2;
    }
    char err[1024];
    source_t src = {.kind = kind};
    if (kind == KIND_ODS) {
        if (!(src.ods = ods_etr_reader_new(data, len)))
            snprintf(err, sizeof err, "out of memory");
    } else {
        src.refdata = refdata_reader_new((refdata_kind_t)kind, data, len, err, sizeof err);
    }
    if (!src.ods && !src.refdata) {
        fprintf(stderr, "ncap refdata: nothing loaded from \"%s\": %s\n", path, err);
        free(data);
        return 1;
    }
    char *abs = realpath(path, NULL);
    const char *file = abs ? abs : path;
    PGconn *db = command_db_connect("refdata");
    int rc = 1;
    if (db) {
        load_counts_t c = {0};
        if (db_exec(db, "BEGIN", err, sizeof err) == 0 &&
            load_in_transaction(db, &src, file, covers_to, &c, err, sizeof err) == 0 &&
            db_exec(db, "COMMIT", err, sizeof err) == 0) {
            print_summary(kind, file, &c);
            if (kind == KIND_ODS)
                print_regions(db);
            rc = 0;
        } else {
            fprintf(stderr, "ncap refdata: nothing loaded from \"%s\": %s\n", path, err);
        }
        PQfinish(db);
    }
    free(abs);
    refdata_reader_destroy(&src.refdata);
    ods_etr_reader_destroy(&src.ods);
    free(data);
    return rc;
}

/* ---------------------------------------------------------------- status */

static int status(void)
{
    PGconn *db = command_db_connect("refdata");
    if (!db)
        return 1;
    char err[1024];
    PGresult *r = db_query(
        db,
        "SELECT k.kind, k.held, l.loaded_at, l.added, l.removed, l.file, CASE k.kind WHEN 'deaths'"
        " THEN coalesce((SELECT to_char(covers_to, 'YYYY-MM-DD') FROM linkage.death_coverage),"
        " 'no day') ELSE '-' END FROM (VALUES "
        "('deaths', (SELECT count(*) FROM linkage.death)), "
        "('optouts', (SELECT count(*) FROM linkage.optout)), "
        "('imd', (SELECT count(*) FROM linkage.imd)), "
        "('ods', (SELECT count(*) FROM publish.organisation)), "
        "('expected', (SELECT count(*) FROM publish.expected_cases))) k (kind, held) "
        "LEFT JOIN LATERAL (SELECT to_char(loaded_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS loaded_at, added, removed, file "
        "FROM linkage.refdata_load WHERE kind = k.kind ORDER BY load_id DESC LIMIT 1) l ON true",
        0, NULL, err, sizeof err);
    PQfinish(db);
    if (!r) {
        fprintf(stderr, "ncap refdata status: %s\n", err);
        return 1;
    }
    printf("%-8s %9s  %-20s %9s %9s  %-10s  %s\n", "kind", "rows", "last load", "added", "removed",
           "covers to", "file");
    for (int i = 0; i < PQntuples(r); i++) {
        int never = PQgetisnull(r, i, 2);
        printf("%-8s %9s  %-20s %9s %9s  %-10s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               never ? "never" : PQgetvalue(r, i, 2), never ? "-" : PQgetvalue(r, i, 3),
               never ? "-" : PQgetvalue(r, i, 4), PQgetvalue(r, i, 6),
               never ? "-" : PQgetvalue(r, i, 5));
    }
    PQclear(r);
    return 0;
}

int cmd_refdata(int argc, char **argv)
{
    enum { O_COVERS_TO = 1000, O_AUDIT };
    static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                         {"covers-to", required_argument, 0, O_COVERS_TO},
                                         {"audit", required_argument, 0, O_AUDIT},
                                         {0, 0, 0, 0}};
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    opterr = 0;
    const char *covers_arg = NULL, *audit_arg = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == O_COVERS_TO) {
            covers_arg = optarg;
            continue;
        }
        if (c == O_AUDIT) {
            audit_arg = optarg;
            continue;
        }
        return usage_error_option("refdata", c, argv);
    }
    int n = argc - optind;
    char **a = argv + optind;
    if (n == 1 && strcmp(a[0], "status") == 0 && !covers_arg)
        return status();
    if (n == 3 && strcmp(a[0], "load") == 0 && strcmp(a[1], "expected") == 0 && !covers_arg) {
        if (!audit_arg || !*audit_arg)
            return usage_error("refdata", "\"load expected\" needs --audit A: the audit whose "
                                          "trusts' expected cases FILE gives");
        return refdata_load_expected(audit_arg, a[2]);
    }
    if (audit_arg)
        return usage_error("refdata", "--audit goes with \"load expected FILE\"");
    if (n >= 1 && strcmp(a[0], "load") == 0) {
        load_kind_t kind;
        if (n != 3 || kind_parse(a[1], &kind) != 0) {
            fprintf(stderr, "ncap refdata: expected \"load deaths|optouts|imd|ods FILE\"\n"
                            "try 'ncap refdata --help'\n");
            return 2;
        }
        char covers_to[11] = "";
        if (covers_arg && kind != KIND_DEATHS)
            return usage_error("refdata",
                               "--covers-to goes with \"load deaths\" (how far the register of "
                               "deaths reaches), not with \"load %s\"",
                               kind_name(kind));
        if (covers_arg && refdata_date_normalise(covers_arg, covers_to) != 0)
            return usage_error("refdata",
                               "invalid value \"%s\" for --covers-to, expected a date "
                               "(YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)",
                               covers_arg);
        return load(kind, a[2], covers_to);
    }
    if (covers_arg)
        return usage_error("refdata", "--covers-to goes with \"load deaths FILE\"");
    if (n == 0)
        fprintf(stderr, "ncap refdata: expected \"load\" or \"status\"\n");
    else
        fprintf(stderr, "ncap refdata: unknown action \"%s\", expected \"load\" or \"status\"\n",
                a[0]);
    fprintf(stderr, "try 'ncap refdata --help'\n");
    return 2;
}
