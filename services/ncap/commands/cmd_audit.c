/* cmd_audit.c - `ncap audit check FILE...`: an audit definition checked exactly as the pipeline
 * checks it when it loads it, every problem listed, for an analyst editing one. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit_def.h"
#include "commands.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap audit check FILE...\n"
          "\n"
          "Checks audit definitions (deploy/audits/*.yaml) with the very check every stage runs\n"
          "when it loads one, and lists every problem, one a line, in the order of the file:\n"
          "\n"
          "  FILE:LINE:COLUMN: what was found, what was expected\n"
          "  FILE:LINE: what is wrong          (a whole value, key or list item)\n"
          "\n"
          "Beyond the YAML and its keys, every expression is checked: its syntax, the functions\n"
          "and the number of their arguments, that each name is a field declared before it (in\n"
          "a rule, not an identifier), and its types (number + string, a date compared with a\n"
          "number, and on a number...). Numerators, denominators and rules' check, when and\n"
          "require must give true/false; a derived field's expression its declared type.\n"
          "Limits: 64 metrics an audit, expressions of 4000 characters and 64 levels of\n"
          "nesting. COLUMN counts characters from 1 and is that of the token at fault, in\n"
          "multi-line (> or |) and quoted values too (in a double-quoted value with escapes\n"
          "other than \\\" the opening quote's). At most 100 problems a file are listed.\n"
          "\n"
          "A clean file gives one line: FILE: ok (its fields, derived fields, metrics and\n"
          "rules); a file with problems ends with FILE: N problems. FILE may be - for standard\n"
          "input.\n"
          "\n"
          "  --help   show this help\n"
          "\n"
          "Exit status: 0 every file is clean, 1 a file has problems, 2 usage trouble or a file\n"
          "that could not be read (the other files are still checked).\n",
          out);
}

static void usage_top(FILE *out)
{
    fputs("usage: ncap audit check FILE...   (ncap audit check --help)\n"
          "\n"
          "Audit definitions:\n"
          "  check   check definition files as the pipeline loads them, every problem listed\n",
          out);
}

/* Checks one file; returns its exit status (0 clean, 1 problems, 2 unreadable). */
static int check_one(const char *path)
{
    audit_problems_t problems;
    audit_def_t *def = audit_def_load_problems(path, &problems);
    int rc = 0;
    if (def) {
        printf("%s: ok (%zu fields, %zu linked, %zu derived, %zu metrics, %zu rules)\n", path,
               def->n_fields, def->n_linked, def->n_derived, def->n_metrics, def->n_rules);
        audit_def_destroy(&def);
    } else if (problems.unreadable) {
        fprintf(stderr, "ncap audit check: %s\n", problems.n ? problems.lines[0] : "out of memory");
        rc = 2;
    } else {
        for (size_t i = 0; i < problems.n; i++)
            printf("%s\n", problems.lines[i]);
        size_t total = problems.n + problems.n_more;
        if (problems.n_more)
            printf("%s: %zu problems (the first %zu listed)\n", path, total, problems.n);
        else
            printf("%s: %zu problem%s\n", path, total, total == 1 ? "" : "s");
        rc = 1;
    }
    audit_problems_free(&problems);
    return rc;
}

static int cmd_audit_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        return usage_error("audit check", "unknown option \"%s\"", argv[optind - 1]);
    }
    if (optind == argc)
        return usage_error("audit check", "missing FILE");
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        int one = check_one(argv[i]);
        if (one > rc)
            rc = one;
    }
    fflush(stdout);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("audit", "missing subcommand (check)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage_top(stdout);
        return 0;
    }
    if (strcmp(sub, "check") == 0)
        return cmd_audit_check(argc - 1, argv + 1);
    return usage_error("audit", "unknown subcommand \"%s\" (expected check)", sub);
}
