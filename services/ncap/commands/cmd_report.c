/* ncap report - data-quality reports read from the pipeline's database: completeness, linkage */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "command_db.h"
#include "commands.h"
#include "completeness.h"
#include "completeness_query.h"
#include "csv.h"
#include "db.h"
#include "linkage_quality.h"
#include "ods_code.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap report REPORT [options]\n"
          "\n"
          "Data-quality reports over what the pipeline holds, read through $NCAP_PG (the\n"
          "operator's connection, as ncap status).\n"
          "\n"
          "reports:\n"
          "  completeness   per field, trust and month: records, missing, invalid and rates\n"
          "  linkage        who fails to link: per audit, period, trust and site, and by\n"
          "                 IMD quintile, ethnic group, sex and age band, the shares linked\n"
          "                 by NHS number, probabilistically, left as singletons, and\n"
          "                 matched to the register of deaths\n"
          "\n"
          "ncap report REPORT --help for each.\n",
          out);
}

static void usage_completeness(FILE *out)
{
    fputs("usage: ncap report completeness --audit A [--trust ODS] [--period YYYYQn] [--csv]\n"
          "                                [--audit-dir DIR]\n"
          "\n"
          "How complete and valid each field is, per trust and per month of the record's\n"
          "period field (e.g. arrival_datetime), over the latest version of each record that\n"
          "validation has finished:\n"
          "\n"
          "  records   records of that trust and month\n"
          "  missing   the field empty or absent\n"
          "  invalid   the field given but wrong: validation reported an error on it (type,\n"
          "            code list, range, pattern, or a rule naming the field)\n"
          "\n"
          "Identifiers never reach validation: NHS number and date of birth are counted from\n"
          "linkage's problems (nhs_number_missing is missing; not a valid number, a placeholder\n"
          "or a test number is invalid). Records whose period field is not a date are under\n"
          "month \"unknown\" (left out when --period is given).\n"
          "\n"
          "options:\n"
          "  --audit A         the audit, e.g. nhfd\n"
          "  --trust ODS       one trust only\n"
          "  --period YYYYQn   one calendar quarter only, e.g. 2026Q3 (July to September)\n"
          "  --csv             CSV: field,trust,month,records,missing,invalid,missing_rate,\n"
          "                    invalid_rate (rates are fractions of records, 6 decimals)\n"
          "  --audit-dir DIR   where definitions are ($NCAP_AUDIT_DIR, else the\n"
          "                    installed ones: " NCAP_DEFAULT_AUDIT_DIR ")\n"
          "  --help            show this help\n"
          "\n"
          "exit status: 0 printed, 1 database trouble, 2 usage or definition trouble\n",
          out);
}

static void print_csv(const completeness_row_t *rows, size_t n)
{
    static const char *const head[] = {"field",   "trust",   "month",        "records",
                                       "missing", "invalid", "missing_rate", "invalid_rate"};
    csv_write_row(stdout, head, sizeof head / sizeof *head);
    for (size_t i = 0; i < n; i++) {
        const completeness_row_t *r = &rows[i];
        char rec[24], mis[24], inv[24], mr[24], ir[24];
        snprintf(rec, sizeof rec, "%lu", r->records);
        snprintf(mis, sizeof mis, "%lu", r->missing);
        snprintf(inv, sizeof inv, "%lu", r->invalid);
        snprintf(mr, sizeof mr, "%.6f", r->missing_rate);
        snprintf(ir, sizeof ir, "%.6f", r->invalid_rate);
        const char *cols[] = {r->field, r->trust, r->month, rec, mis, inv, mr, ir};
        csv_write_row(stdout, cols, sizeof cols / sizeof *cols);
    }
}

static void print_text(const char *audit, const completeness_row_t *rows, size_t n)
{
    size_t w = strlen("field");
    for (size_t i = 0; i < n; i++)
        if (strlen(rows[i].field) > w)
            w = strlen(rows[i].field);
    printf("completeness of %s: latest version of each validated record\n\n", audit);
    if (n == 0) {
        printf("no records\n");
        return;
    }
    printf("%-*s  %-5s  %-7s  %8s  %17s  %17s\n", (int)w, "field", "trust", "month", "records",
           "missing", "invalid");
    for (size_t i = 0; i < n; i++) {
        const completeness_row_t *r = &rows[i];
        char mis[40], inv[40];
        snprintf(mis, sizeof mis, "%lu (%.1f%%)", r->missing, 100.0 * r->missing_rate);
        snprintf(inv, sizeof inv, "%lu (%.1f%%)", r->invalid, 100.0 * r->invalid_rate);
        printf("%-*s  %-5s  %-7s  %8lu  %17s  %17s\n", (int)w, r->field, r->trust, r->month,
               r->records, mis, inv);
    }
}

/* The options every report takes. */
typedef struct {
    const char *audit, *trust, *period, *dir;
    int csv;
    char months[3][8]; /* period's months, when given */
} report_opts_t;

/* Parses the options of report name (argv[0] the report's name) into *o, checking the trust and
 * period; audit_needed: no --audit is a usage error. Returns -1 to go on, or the exit status (0
 * after --help, 2 for a usage error). */
static int report_opts(int argc, char **argv, const char *name, void (*help)(FILE *),
                       bool audit_needed, report_opts_t *o)
{
    *o = (report_opts_t){.dir = getenv("NCAP_AUDIT_DIR")};
    if (!o->dir || !*o->dir)
        o->dir = NCAP_DEFAULT_AUDIT_DIR;
    enum { O_AUDIT = 1000, O_TRUST, O_PERIOD, O_CSV, O_AUDIT_DIR, O_HELP };
    static const struct option opts[] = {{"audit", required_argument, NULL, O_AUDIT},
                                         {"trust", required_argument, NULL, O_TRUST},
                                         {"period", required_argument, NULL, O_PERIOD},
                                         {"csv", no_argument, NULL, O_CSV},
                                         {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
                                         {"help", no_argument, NULL, O_HELP},
                                         {NULL, 0, NULL, 0}};
    char command[64];
    snprintf(command, sizeof command, "report %s", name);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            o->audit = optarg;
            break;
        case O_TRUST:
            o->trust = optarg;
            break;
        case O_PERIOD:
            o->period = optarg;
            break;
        case O_CSV:
            o->csv = 1;
            break;
        case O_AUDIT_DIR:
            o->dir = optarg;
            break;
        case 'h':
        case O_HELP:
            help(stdout);
            return 0;
        default:
            fprintf(stderr, "try 'ncap %s --help'\n", command);
            return 2;
        }
    }
    if (optind != argc)
        return usage_error(command, "unexpected argument \"%s\"", argv[optind]);
    if (audit_needed && !o->audit)
        return usage_error(command, "%s", "need --audit, e.g. --audit nhfd");
    if (o->trust && ods_code_kind(o->trust) == ODS_CODE_INVALID)
        return usage_error(command, "trust \"%s\" is not an ODS trust code", o->trust);
    if (o->period && completeness_quarter_months(o->period, o->months) != 0)
        return usage_error(command, "period \"%s\" is not a calendar quarter such as 2026Q3",
                           o->period);
    return -1;
}

static int report_completeness(int argc, char **argv)
{
    report_opts_t o;
    int exit_status = report_opts(argc, argv, "completeness", usage_completeness, true, &o);
    if (exit_status >= 0)
        return exit_status;
    const char *audit = o.audit, *trust = o.trust, *period = o.period, *dir = o.dir;
    int csv = o.csv;
    char err[1024];
    audit_def_t *def = audit_def_load_named(dir, audit, err, sizeof err);
    if (!def) {
        fprintf(stderr, "ncap report completeness: %s\n", err);
        return 2;
    }
    const audit_field_t **fields = calloc(def->n_fields + 1, sizeof *fields);
    const char **names = calloc(def->n_fields + 1, sizeof *names);
    size_t nf = 0;
    for (size_t i = 0; fields && names && i < def->n_fields; i++)
        if (completeness_reported(def, &def->fields[i])) {
            fields[nf] = &def->fields[i];
            names[nf++] = def->fields[i].name;
        }
    completeness_t *table = fields && names ? completeness_new(names, nf) : NULL;
    int rc = 1;
    if (!table) {
        fprintf(stderr, "ncap report completeness: out of memory\n");
        goto out;
    }
    PGconn *db = command_db_connect("report completeness");
    if (!db)
        goto out;
    completeness_query_t q = {
        def, fields, nf, trust, period ? (const char(*)[8])o.months : NULL, period ? 3 : 0};
    int qrc = completeness_read(db, &q, table, err, sizeof err);
    PQfinish(db);
    if (qrc != 0) {
        fprintf(stderr, "ncap report completeness: could not read the records: %s\n", err);
        goto out;
    }
    const completeness_row_t *rows;
    size_t n = completeness_rows(table, &rows);
    if (!rows) {
        fprintf(stderr, "ncap report completeness: out of memory\n");
        goto out;
    }
    if (csv)
        print_csv(rows, n);
    else
        print_text(def->audit, rows, n);
    rc = 0;
out:
    completeness_destroy(&table);
    free(fields);
    free(names);
    audit_def_destroy(&def);
    return rc;
}

static void usage_linkage(FILE *out)
{
    fputs("usage: ncap report linkage [--audit A] [--trust ODS] [--period YYYYQn] [--csv]\n"
          "                           [--audit-dir DIR]\n"
          "\n"
          "The linkage quality report, as each period's linkage_quality.csv publishes it\n"
          "(aggregate counts with the audit's small-number suppression), from linkage's\n"
          "counts of the latest version of each record (migration 0027): per period, for\n"
          "England, each trust and site, and by IMD quintile, ethnic group, sex and age band\n"
          "(England and trusts of 30 records or more):\n"
          "\n"
          "  records         record versions linkage passed on (not withheld)\n"
          "  nhs_number      linked: another record of its patient has the same valid NHS\n"
          "                  number and date of birth\n"
          "  probabilistic   linked otherwise (a probabilistic match)\n"
          "  singleton       no other record of the audit is linked to its patient\n"
          "  death_matched   its patient is matched to the register of deaths\n"
          "\n"
          "Records withheld under the national data opt-out are in none of these: latest.csv's\n"
          "withheld_opt_out counts them. A suppressed count is shown as \"-\" (empty in CSV).\n"
          "\n"
          "options:\n"
          "  --audit A         one audit (default: every audit with counts)\n"
          "  --trust ODS       England's rows and those of one trust and its sites\n"
          "  --period YYYYQn   one calendar quarter, e.g. 2026Q3\n"
          "  --csv             linkage_quality.csv's columns: audit,period,level,area_code,\n"
          "                    parent_code,breakdown,category,records,nhs_number,\n"
          "                    probabilistic,singleton,death_matched,share_nhs_number,\n"
          "                    share_probabilistic,share_singleton,share_death_matched,note\n"
          "  --audit-dir DIR   where definitions are (their disclosure min_count; default\n"
          "                    $NCAP_AUDIT_DIR, else " NCAP_DEFAULT_AUDIT_DIR ")\n"
          "  --help            show this help\n"
          "\n"
          "exit status: 0 printed, 1 database trouble, 2 usage or definition trouble\n",
          out);
}

/* One row of the report as text: counts with their share, "-" where suppressed. */
static void print_linkage_row(const lq_row_t *r)
{
    char cell[LQ_SHARES][32];
    for (int i = 0; i < LQ_SHARES; i++) {
        if (!r->shown[i])
            snprintf(cell[i], sizeof cell[i], "-");
        else
            snprintf(cell[i], sizeof cell[i], "%lld (%.1f%%)", r->n[i],
                     r->records > 0 ? 100.0 * (double)r->n[i] / (double)r->records : 0.0);
    }
    char area[64];
    snprintf(area, sizeof area, "%s %s", r->level, r->area_code);
    printf("%-22s %-12s %-13s %8lld %16s %16s %16s %16s\n", area, r->breakdown, r->category,
           r->records, cell[0], cell[1], cell[2], cell[3]);
}

/* The report of one audit period, printed; returns 0, 1 (database) or 2 (definition). */
static int print_linkage(PGconn *db, const char *dir, const char *audit, const char *period,
                         const char *trust, int csv, bool first)
{
    char err[1024];
    audit_def_t *def = audit_def_load_named(dir, audit, err, sizeof err);
    if (!def) {
        fprintf(stderr, "ncap report linkage: %s\n", err);
        return 2;
    }
    PGresult *res = NULL;
    lq_cell_t *cells = NULL;
    size_t n = 0;
    lq_report_t rep = {0};
    int rc = 1;
    if (linkage_quality_read(db, audit, period, &res, &cells, &n, err, sizeof err) != 0) {
        fprintf(stderr, "ncap report linkage: could not read linkage's counts: %s\n", err);
        goto out;
    }
    if (linkage_quality_build(cells, n, def->disclosure_min_count, &rep) != 0) {
        fprintf(stderr, "ncap report linkage: out of memory\n");
        goto out;
    }
    if (csv) {
        char *text = linkage_quality_csv(audit, period, &rep, trust);
        if (!text) {
            fprintf(stderr, "ncap report linkage: out of memory\n");
            goto out;
        }
        /* one header for every period */
        fputs(first ? text : strchr(text, '\n') + 1, stdout);
        free(text);
    } else {
        printf("%slinkage quality of %s %s (small counts suppressed below %d)\n\n",
               first ? "" : "\n", audit, period, def->disclosure_min_count);
        printf("%-22s %-12s %-13s %8s %16s %16s %16s %16s\n", "area", "breakdown", "category",
               "records", "nhs_number", "probabilistic", "singleton", "death_matched");
        for (size_t i = 0; i < rep.n_rows; i++) {
            const lq_row_t *r = &rep.rows[i];
            if (linkage_quality_row_wanted(r, trust))
                print_linkage_row(r);
        }
    }
    rc = 0;
out:
    linkage_quality_free(&rep);
    free(cells);
    PQclear(res);
    audit_def_destroy(&def);
    return rc;
}

static int report_linkage(int argc, char **argv)
{
    report_opts_t o;
    int exit_status = report_opts(argc, argv, "linkage", usage_linkage, false, &o);
    if (exit_status >= 0)
        return exit_status;
    const char *audit = o.audit, *trust = o.trust, *period = o.period, *dir = o.dir;
    int csv = o.csv;
    PGconn *db = command_db_connect("report linkage");
    if (!db)
        return 1;
    char err[1024];
    const char *pv[] = {audit, period};
    PGresult *periods = db_query(db,
                                 "SELECT DISTINCT audit, period FROM publish.linkage_quality"
                                 " WHERE ($1::text IS NULL OR audit = $1)"
                                 " AND ($2::text IS NULL OR period = $2) ORDER BY 1, 2",
                                 2, pv, err, sizeof err);
    int rc = 0;
    if (!periods) {
        fprintf(stderr, "ncap report linkage: could not read linkage's counts: %s\n", err);
        rc = 1;
    } else if (PQntuples(periods) == 0) {
        if (csv)
            printf("%s\n", LINKAGE_QUALITY_HEADER);
        else
            printf("no linkage counts%s%s%s%s\n", audit ? " of " : "", audit ? audit : "",
                   period ? " in " : "", period ? period : "");
    }
    for (int i = 0; rc == 0 && periods && i < PQntuples(periods); i++)
        rc = print_linkage(db, dir, PQgetvalue(periods, i, 0), PQgetvalue(periods, i, 1), trust,
                           csv, i == 0);
    PQclear(periods);
    PQfinish(db);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "completeness") == 0)
        return report_completeness(argc - 1, argv + 1);
    if (strcmp(name, "linkage") == 0)
        return report_linkage(argc - 1, argv + 1);
    return usage_error("report", "unknown report \"%s\" (reports: completeness, linkage)", name);
}
