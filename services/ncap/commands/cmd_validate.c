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
#include "trust_file.h"
#include "validate_file.h"

static void usage(FILE *out)
{
    fputs("usage: ncap validate --audit A [--audit-dir DIR] FILE\n"
          "\n"
          "Checks a trust's CSV file offline, as the pipeline would: the file's shape (header,\n"
          "columns, trust, duplicates), the patient identifiers (NHS number, date of birth,\n"
          "postcode; identifier values are never printed), then every field's type, code list\n"
          "and range and every rule of the audit's definition, history rules included (a\n"
          "patient's other records are the rows with the same valid NHS number and date of\n"
          "birth). Prints one CSV line per problem:\n"
          "\n"
          "  row,field,rule,severity,value,message\n"
          "\n"
          "row is the line in FILE (the header is line 1). The file's trust is the one named in\n"
          "its first data row; rows of another trust are refused as ingest would refuse them.\n"
          "\n"
          "  --audit A        the audit, e.g. nhfd (its definition is DIR/A.yaml)\n"
          "  --audit-dir DIR  where definitions are ($NCAP_AUDIT_DIR, else the\n"
          "                   installed ones: " NCAP_DEFAULT_AUDIT_DIR ")\n"
          "  --help           show this help\n"
          "\n"
          "Exit status: 0 no errors (warnings allowed), 1 at least one error, 2 usage, I/O or\n"
          "definition trouble.\n",
          out);
}

typedef struct {
    FILE *out;
} report_t;

static void report(void *ctx, const file_problem_t *p)
{
    report_t *r = ctx;
    char row_text[16];
    snprintf(row_text, sizeof row_text, "%d", p->row);
    const char *cols[] = {row_text, p->field, p->rule, p->severity, p->value, p->message};
    csv_write_row(r->out, cols, sizeof cols / sizeof cols[0]);
}

static int check_file(const audit_def_t *def, const char *path, const char *data, size_t len)
{
    char trust[64];
    validate_file_trust(def, data, len, trust, sizeof trust);
    report_t r = {.out = stdout};
    fputs("row,field,rule,severity,value,message\n", stdout);
    file_summary_t sum;
    if (validate_file(def, trust, data, len, report, &r, &sum) != 0) {
        fprintf(stderr, "ncap validate: out of memory\n");
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ncap validate: could not write the report: %s\n", strerror(errno));
        return 2;
    }
    fprintf(stderr, "ncap validate: %s: %u data rows, %u errors, %u warnings\n", path,
            sum.data_rows, sum.errors, sum.warnings);
    return sum.errors ? 1 : 0;
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
        default: /* ':' or '?' */
            return usage_error_option("validate", c, argv);
        }
    }
    if (!audit)
        return usage_error("validate", "missing --audit");
    if (optind != argc - 1)
        return usage_error("validate",
                           optind == argc ? "missing FILE" : "expected one FILE, got %d",
                           argc - optind);
    const char *path = argv[optind];
    trust_file_t f;
    if (trust_file_open("validate", dir, audit, path, &f) != 0)
        return 2;
    int rc = check_file(f.def, path, f.data, f.len);
    trust_file_close(&f);
    return rc;
}
