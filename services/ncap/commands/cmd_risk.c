/* cmd_risk.c - `ncap risk`: each row's expected value under a risk model of the audit's
 * definition, for an analyst checking the model against another implementation. The file is read
 * as `ncap validate` reads it (validate_file_rows), derived fields computed as linkage computes
 * them, and the model evaluated by the code the metric stage uses (risk_model_expected). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "commands.h"
#include "record_view.h"
#include "risk_model.h"
#include "trust_file.h"
#include "usage_error.h"
#include "validate_file.h"

static void usage(FILE *out)
{
    fputs("usage: ncap risk --audit A --model M [--audit-dir DIR] FILE\n"
          "\n"
          "Reads a trust's CSV file as `ncap validate` does (rows ingest would refuse are left\n"
          "out), computes the derived fields, and prints each row's expected value under the\n"
          "risk model M of the audit's definition (its risk_models), one CSV line a row:\n"
          "\n"
          "  row,expected\n"
          "\n"
          "row is the line in FILE (the header is line 1); expected has 17 significant digits,\n"
          "and is empty when an input of the model is missing (a term without a value and no\n"
          "default). The model is evaluated by the pipeline's own code, so a second\n"
          "implementation can be checked against it.\n"
          "\n"
          "  --audit A        the audit, e.g. nela (its definition is DIR/A.yaml)\n"
          "  --model M        the id of a risk model of the definition\n"
          "  --audit-dir DIR  where definitions are ($NCAP_AUDIT_DIR, else the\n"
          "                   installed ones: " NCAP_DEFAULT_AUDIT_DIR ")\n"
          "  --help           show this help\n"
          "\n"
          "Exit status: 0 every row evaluated (missing inputs allowed), 1 an expression failed on\n"
          "some row (said on stderr), 2 usage, I/O or definition trouble.\n",
          out);
}

typedef struct {
    const audit_def_t *def;
    const audit_risk_model_t *model;
    record_view_t *view;
    unsigned rows, missing, errors;
} risk_run_t;

/* The value of a name in the current row's view (expr_lookup_fn). */
static int view_lookup(void *ctx, const char *name, expr_value_t *out)
{
    risk_run_t *r = ctx;
    int slot = audit_def_slot(r->def, name);
    if (slot < 0)
        return -1;
    record_view_value(r->view, slot, out);
    return 0;
}

static int print_row(void *ctx, int row, record_view_t *view)
{
    risk_run_t *r = ctx;
    r->view = view;
    r->rows++;
    double e = 0;
    char err[400];
    risk_result_t rc = risk_model_expected(r->model, view_lookup, r, &e, err, sizeof err);
    if (rc == RISK_VALUE)
        printf("%d,%.17g\n", row, e);
    else
        printf("%d,\n", row);
    if (rc == RISK_MISSING)
        r->missing++;
    else if (rc == RISK_ERROR) {
        r->errors++;
        fprintf(stderr, "ncap risk: row %d: %s\n", row, err);
    }
    return 0;
}

static int run(const audit_def_t *def, const audit_risk_model_t *model, const char *path,
               const char *data, size_t len)
{
    char trust[64];
    validate_file_trust(def, data, len, trust, sizeof trust);
    risk_run_t r = {.def = def, .model = model};
    fputs("row,expected\n", stdout);
    unsigned data_rows = 0;
    if (validate_file_rows(def, trust, data, len, print_row, &r, &data_rows) != 0) {
        fprintf(stderr, "ncap risk: out of memory\n");
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ncap risk: could not write the values: %s\n", strerror(errno));
        return 2;
    }
    fprintf(stderr,
            "ncap risk: %s: %u data rows, %u evaluated, %u with a missing input, %u failed\n", path,
            data_rows, r.rows, r.missing, r.errors);
    return r.errors ? 1 : 0;
}

static int unknown_model(const audit_def_t *def, const char *audit, const char *model_id)
{
    char list[300] = "";
    for (size_t i = 0, used = 0; i < def->n_risk_models && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         def->risk_models[i].id);
        used += w > 0 ? (size_t)w : 0;
    }
    fprintf(stderr, "ncap risk: audit %s has no risk model \"%s\" (its models: %s)\n", audit,
            model_id, list[0] ? list : "none");
    return 2;
}

int cmd_risk(int argc, char **argv)
{
    enum { O_AUDIT = 1000, O_MODEL, O_AUDIT_DIR, O_HELP };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"model", required_argument, NULL, O_MODEL},
        {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *audit = NULL, *model_id = NULL, *dir = getenv("NCAP_AUDIT_DIR");
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
        case O_MODEL:
            model_id = optarg;
            break;
        case O_AUDIT_DIR:
            dir = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' or '?' */
            return usage_error_option("risk", c, argv);
        }
    }
    if (!audit)
        return usage_error("risk", "missing --audit");
    if (!model_id)
        return usage_error("risk", "missing --model");
    if (optind != argc - 1)
        return usage_error("risk", optind == argc ? "missing FILE" : "expected one FILE, got %d",
                           argc - optind);
    const char *path = argv[optind];
    trust_file_t f;
    if (trust_file_open("risk", dir, audit, path, &f) != 0)
        return 2;
    const audit_risk_model_t *model = audit_def_risk_model(f.def, model_id);
    int rc = model ? run(f.def, model, path, f.data, f.len) : unknown_model(f.def, audit, model_id);
    trust_file_close(&f);
    return rc;
}
