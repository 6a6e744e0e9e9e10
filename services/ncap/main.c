/* ncap - the National Clinical Audit Pipeline's command */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"sim", cmd_sim, "write realistic simulated trust submissions, or keep submitting them"},
    {"submit", cmd_submit, "send a file to ingest and print the receipt once it is committed"},
    {"status", cmd_status, "each stage's live instances, records processed, backlog and rate"},
    {"wait", cmd_wait, "wait until every stage has worked off its backlog"},
    {"quarantine", cmd_quarantine,
     "records a stage could not process: summarise, list, retry after a fix"},
    {"migrate", cmd_migrate, "create or update the database schemas (safe to repeat)"},
    {"ci", cmd_ci, "confidence intervals for proportions and observed/expected ratios"},
    {"funnel", cmd_funnel, "funnel plot limits and outlier flags, with overdispersion"},
    {"spc", cmd_spc, "statistical process control (XmR, Making Data Count rules)"},
    {"link", cmd_link, "find the same person across records (probabilistic record linkage)"},
    {"link-train", cmd_link_train, "learn ncap-linkd's linkage parameters from its patient index"},
    {"link-score", cmd_link_score, "score a linkage against the truth: pairwise and B-cubed F1"},
    {"validate", cmd_validate, "check a trust's file offline: every problem, row by row"},
    {"risk", cmd_risk, "each row's expected value under a risk model of the audit"},
    {"outliers", cmd_outliers, "outlier cases: the team's view, a trust's own and its response"},
    {"feedback", cmd_feedback, "every problem the pipeline found in one of a trust's submissions"},
    {"results", cmd_results, "a trust's own figures and the records behind them, privately"},
    {"action", cmd_action, "record what a trust changed; list the changes with their verdicts"},
    {"report", cmd_report,
     "data-quality reports: completeness per field, trust and month; linkage quality"},
    {"refdata", cmd_refdata, "load the register of deaths, the opt-outs and deprivation (IMD)"},
    {"keys", cmd_keys,
     "make CurveZMQ key pairs: one, the five stages', or every simulated trust's"},
    {"audit", cmd_audit, "check audit definitions as the pipeline loads them (audit check)"},
    {"release", cmd_release,
     "build the release a deployment would publish, from trust files; or ask for one now"},
    {"site", cmd_site, "write the public portal (static HTML) from a releases folder"},
    {NULL, NULL, NULL}};

static void usage(FILE *f)
{
    fprintf(f, "usage: ncap COMMAND [options]   (ncap COMMAND --help for each)\n\n"
               "The National Clinical Audit Pipeline: trusts' audit records in, benchmarked\n"
               "quarterly outputs out.\n\ncommands:\n");
    for (const command_t *c = commands; c->name; c++)
        fprintf(f, "  %-11s %s\n", c->name, c->summary);
    fprintf(f, "\nenvironment: NCAP_PG (PostgreSQL connection string), NCAP_PG_PASSWORD_FILE\n"
               "(a file holding its password), NCAP_AUDIT_DIR (audit definitions), NCAP_INGEST\n"
               "(ingest endpoint for submit, else found via NCAP_PG)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2)
            for (const command_t *c = commands; c->name; c++)
                if (strcmp(c->name, argv[2]) == 0) {
                    char *help_argv[] = {argv[2], "--help", NULL};
                    return c->run(2, help_argv);
                }
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("ncap %s\n", NCAP_VERSION);
        return 0;
    }
    for (const command_t *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "ncap: unknown command \"%s\"\n\n", name);
    usage(stderr);
    return 2;
}
