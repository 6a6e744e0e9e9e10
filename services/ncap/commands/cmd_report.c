/* ncap report - data-quality reports read from the pipeline's database: completeness */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "command_db.h"
#include "commands.h"
#include "completeness.h"
#include "completeness_query.h"
#include "csv.h"
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

static int report_completeness(int argc, char **argv)
{
    const char *audit = NULL, *trust = NULL, *period = NULL, *dir = getenv("NCAP_AUDIT_DIR");
    int csv = 0;
    if (!dir || !*dir)
        dir = NCAP_DEFAULT_AUDIT_DIR;
    enum { O_AUDIT = 1000, O_TRUST, O_PERIOD, O_CSV, O_AUDIT_DIR, O_HELP };
    static const struct option opts[] = {{"audit", required_argument, NULL, O_AUDIT},
                                         {"trust", required_argument, NULL, O_TRUST},
                                         {"period", required_argument, NULL, O_PERIOD},
                                         {"csv", no_argument, NULL, O_CSV},
                                         {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
                                         {"help", no_argument, NULL, O_HELP},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            audit = optarg;
            break;
        case O_TRUST:
            trust = optarg;
            break;
        case O_PERIOD:
            period = optarg;
            break;
        case O_CSV:
            csv = 1;
            break;
        case O_AUDIT_DIR:
            dir = optarg;
            break;
        case 'h':
        case O_HELP:
            usage_completeness(stdout);
            return 0;
        default:
            fprintf(stderr, "try 'ncap report completeness --help'\n");
            return 2;
        }
    }
    if (optind != argc)
        return usage_error("report completeness", "unexpected argument \"%s\"", argv[optind]);
    if (!audit)
        return usage_error("report completeness", "%s", "need --audit, e.g. --audit nhfd");
    if (trust && ods_code_kind(trust) == ODS_CODE_INVALID)
        return usage_error("report completeness", "trust \"%s\" is not an ODS trust code", trust);
    char months[3][8];
    if (period && completeness_quarter_months(period, months) != 0)
        return usage_error("report completeness",
                           "period \"%s\" is not a calendar quarter such as 2026Q3", period);
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
        def, fields, nf, trust, period ? (const char(*)[8])months : NULL, period ? 3 : 0};
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
    return usage_error("report", "unknown report \"%s\" (reports: completeness)", name);
}
