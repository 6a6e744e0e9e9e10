/* cmd_validate.c - `ncap validate`: a trust's file checked offline by the same code as the
 * pipeline: ingest's shape checks, linkage's identifier checks and derived fields, validation's
 * types and rules. One CSV line per problem. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "commands.h"
#include "usage_error.h"
#include "csv.h"
#include "file_read.h"
#include "link_record.h"
#include "submission.h"
#include "validate_record.h"

#ifndef NCAP_DEFAULT_AUDIT_DIR
#define NCAP_DEFAULT_AUDIT_DIR "deploy/audits"
#endif

static void usage(FILE *out)
{
    fputs("usage: ncap validate --audit A [--audit-dir DIR] FILE\n"
          "\n"
          "Checks a trust's CSV file offline, as the pipeline would: the file's shape (header,\n"
          "columns, trust, duplicates), the patient identifiers (NHS number, date of birth,\n"
          "postcode; identifier values are never printed), then every field's type, code list\n"
          "and range and every rule of the audit's definition. Prints one CSV line per problem:\n"
          "\n"
          "  row,field,rule,severity,value,message\n"
          "\n"
          "row is the line in FILE (the header is line 1). The file's trust is the one named in\n"
          "its first data row; rows of another trust are refused as ingest would refuse them.\n"
          "\n"
          "  --audit A        the audit, e.g. nhfd (its definition is DIR/A.yaml)\n"
          "  --audit-dir DIR  where definitions are ($NCAP_AUDIT_DIR, else the source tree's\n"
          "                   deploy/audits)\n"
          "  --help           show this help\n"
          "\n"
          "Exit status: 0 no errors (warnings allowed), 1 at least one error, 2 usage, I/O or\n"
          "definition trouble.\n",
          out);
}

typedef struct {
    FILE *out;
    unsigned errors;
    unsigned warnings;
} report_t;

static void report(report_t *r, int row, const char *field, const char *rule, const char *severity,
                   const char *value, const char *message)
{
    char row_text[16];
    snprintf(row_text, sizeof row_text, "%d", row);
    const char *cols[] = {row_text, field, rule, severity, value, message};
    csv_write_row(r->out, cols, sizeof cols / sizeof cols[0]);
    if (strcmp(severity, "error") == 0)
        r->errors++;
    else
        r->warnings++;
}

/* The trust named in the first data row, copied to trust ("" when there is none). */
static void first_trust(const audit_def_t *def, const char *data, size_t len, char *trust,
                        size_t trustlen)
{
    trust[0] = '\0';
    csv_reader_t *csv = csv_reader_new(data, len, true);
    if (!csv)
        return;
    long col = -1;
    if (csv_reader_next(csv) > 0)
        for (size_t i = 0; i < csv_reader_nfields(csv); i++)
            if (strcmp(csv_reader_field(csv, i), def->trust_field) == 0)
                col = (long)i;
    if (col >= 0 && csv_reader_next(csv) > 0 && (size_t)col < csv_reader_nfields(csv))
        snprintf(trust, trustlen, "%s", csv_reader_field(csv, (size_t)col));
    csv_reader_destroy(&csv);
}

/* Identifier fields linkage does not check itself (it checks the NHS number and date of birth):
 * their type, e.g. the postcode. Never fatal to the record, as in the pipeline. */
static void check_other_identifiers(const audit_def_t *def, const ncap_record_t *rec, int row,
                                    report_t *r)
{
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        if (!f->identifier || ncap_record_missing(rec, f->name) ||
            (f->link_as &&
             (strcmp(f->link_as, "nhs_number") == 0 || strcmp(f->link_as, "dob") == 0)))
            continue;
        char rule[32], msg[320];
        if (audit_field_check(f, ncap_record_get(rec, f->name), rule, sizeof rule, msg,
                              sizeof msg) != 0)
            report(r, row, f->name, rule, "warning", "", msg);
    }
}

/* Linkage's and validation's checks of one row. Returns 0, or -1 when out of memory. */
static int check_row(const audit_def_t *def, const submission_row_t *sr, report_t *r)
{
    link_outcome_t lo;
    if (link_record_prepare(def, sr->row, sr->rec, &lo) != 0) {
        link_outcome_clear(&lo);
        return -1;
    }
    for (int i = 0; i < lo.n_problems; i++)
        report(r, sr->row, lo.problems[i].field, lo.problems[i].rule, lo.problems[i].severity, "",
               lo.problems[i].message);
    check_other_identifiers(def, sr->rec, sr->row, r);
    validation_result_t res;
    int rc = validate_record(def, lo.pseudo, &res);
    for (size_t i = 0; rc == 0 && i < res.n; i++) {
        const validation_problem_t *p = &res.problems[i];
        report(r, sr->row, p->field, p->rule, p->severity, p->value, p->message);
    }
    validation_result_free(&res);
    link_outcome_clear(&lo);
    return rc;
}

static int validate_file(const audit_def_t *def, const char *path, const char *data, size_t len)
{
    char trust[64];
    first_trust(def, data, len, trust, sizeof trust);
    submission_t *s = submission_parse_csv(def, trust, data, len);
    if (!s) {
        fprintf(stderr, "ncap validate: out of memory\n");
        return 2;
    }
    report_t r = {.out = stdout};
    fputs("row,field,rule,severity,value,message\n", stdout);
    if (s->file_error[0])
        report(&r, 1, "", "file", "error", "", s->file_error);
    /* shape problems and row problems, in row order */
    size_t next_problem = 0;
    int rc = 0;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        for (; next_problem < s->n_problems && s->problems[next_problem].row <= s->rows[i].row;
             next_problem++) {
            const submission_problem_t *p = &s->problems[next_problem];
            report(&r, p->row, p->field, p->rule, p->severity, "", p->message);
        }
        rc = check_row(def, &s->rows[i], &r);
    }
    for (; rc == 0 && next_problem < s->n_problems; next_problem++) {
        const submission_problem_t *p = &s->problems[next_problem];
        report(&r, p->row, p->field, p->rule, p->severity, "", p->message);
    }
    unsigned data_rows = s->data_rows;
    submission_destroy(&s);
    if (rc != 0) {
        fprintf(stderr, "ncap validate: out of memory\n");
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ncap validate: could not write the report: %s\n", strerror(errno));
        return 2;
    }
    fprintf(stderr, "ncap validate: %s: %u data rows, %u errors, %u warnings\n", path, data_rows,
            r.errors, r.warnings);
    return r.errors ? 1 : 0;
}

int cmd_validate(int argc, char **argv)
{
    enum { O_AUDIT = 1000, O_AUDIT_DIR, O_HELP };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *audit = NULL, *dir = getenv("NCAP_AUDIT_DIR");
    if (!dir || !*dir)
        dir = NCAP_DEFAULT_AUDIT_DIR;
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            audit = optarg;
            break;
        case O_AUDIT_DIR:
            dir = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return usage_error("validate", "option \"%s\" needs a value", argv[optind - 1]);
        default:
            return usage_error("validate", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (!audit)
        return usage_error("validate", "missing --audit");
    if (optind != argc - 1)
        return usage_error("validate",
                           optind == argc ? "missing FILE" : "expected one FILE, got %d",
                           argc - optind);
    const char *path = argv[optind];
    char err[512];
    audit_def_t *def = audit_def_load_named(dir, audit, err, sizeof err);
    if (!def) {
        fprintf(stderr, "ncap validate: %s\n", err);
        return 2;
    }
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0) {
        fprintf(stderr, "ncap validate: could not read \"%s\": %s\n", path, strerror(errno));
        audit_def_destroy(&def);
        return 2;
    }
    int rc = validate_file(def, path, data, len);
    free(data);
    audit_def_destroy(&def);
    return rc;
}
