/* ncap quarantine - records a stage could not process: summarise and list them, and release them
 * after a fix */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_db.h"
#include "commands.h"
#include "csv.h"
#include "quarantine.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap quarantine summary [--stage S] [--audit A] [--csv]\n"
        "       ncap quarantine list [--stage S] [--audit A] [--csv]\n"
        "       ncap quarantine retry [--stage S] (--all | RECORD_ID...)\n"
        "\n"
        "A record a stage cannot process (its audit definition does not load, a metric fails\n"
        "on it, PostgreSQL refuses what it makes) is quarantined in that stage's schema: kept,\n"
        "left out of the stage's backlog, counted in `ncap status`, never dropped and never\n"
        "counted as zero in a published figure.\n"
        "\n"
        "summary prints the quarantined records in groups of stage, audit, error class and\n"
        "        SQLSTATE, the most records first: how many, how many still held (not\n"
        "        released), from how many trusts, first and last seen, how many distinct\n"
        "        errors and the most common one. A definition that fails every record of an\n"
        "        audit is one line here and a line a record in list: read this first.\n"
        "        --csv prints CSV with the header\n"
        "        stage,audit,error_class,sqlstate,records,held,trusts,first_seen,last_seen,\n"
        "        errors,most_common_error\n"
        "list    prints each quarantined record: stage, record id, version, link revision,\n"
        "        audit, trust, error class (input, definition, evaluation, data), SQLSTATE\n"
        "        where PostgreSQL gave one, when first and last seen, attempts, and the error.\n"
        "        --csv prints CSV with the header\n"
        "        stage,record_id,version,link_revision,audit,trust,error_class,sqlstate,\n"
        "        first_seen,last_seen,attempts,held,message\n"
        "retry   releases quarantined records (all of them with --all, else those with the\n"
        "        record ids given) after the cause was fixed: the stage takes them again within\n"
        "        its backlog interval; one that fails again is quarantined again (attempts + 1).\n"
        "\n"
        "options:\n"
        "  --stage S   only this stage: linkage, validation or metric\n"
        "  --audit A   summary, list: only records of this audit\n"
        "  --csv       summary, list: CSV instead of a table\n"
        "  --all       retry: every quarantined record (of --stage, if given)\n"
        "  --help      show this help\n"
        "\n"
        "Reads and writes PostgreSQL through $NCAP_PG. Exit status: 0 done, 1 database trouble,\n"
        "2 usage.\n",
        out);
}

/* A listed record as a CSV line (quarantine_list's each). */
static void print_csv_row(void *ctx, const quarantine_row_t *q)
{
    (void)ctx;
    printf("%s,%lld,%d,%d,", q->stage, q->record_id, q->version, q->link_revision);
    csv_write_field(stdout, q->audit);
    putchar(',');
    csv_write_field(stdout, q->trust);
    printf(",%s,%s,%s,%s,%d,%s,", q->error_class, q->sqlstate, q->first_seen, q->last_seen,
           q->attempts, q->held ? "true" : "false");
    csv_write_field(stdout, q->message);
    putchar('\n');
}

/* A listed record as a line of the table, its header before the first (quarantine_list's
 * each; ctx: the records printed so far). */
static void print_table_row(void *ctx, const quarantine_row_t *q)
{
    long long *printed = ctx;
    if ((*printed)++ == 0)
        printf("%-10s %10s %4s %4s %-8s %-6s %-10s %-5s %-20s %3s  %s\n", "stage", "record_id",
               "ver", "rev", "audit", "trust", "class", "state", "first_seen", "try", "error");
    printf("%-10s %10lld %4d %4d %-8s %-6s %-10s %-5s %-20s %3d  %s%s\n", q->stage, q->record_id,
           q->version, q->link_revision, q->audit, q->trust, q->error_class,
           q->sqlstate[0] ? q->sqlstate : "-", q->first_seen, q->attempts,
           q->held ? "" : "(released) ", q->message);
}

static void print_summary(const quarantine_summary_t *s, bool csv)
{
    if (csv)
        printf("stage,audit,error_class,sqlstate,records,held,trusts,first_seen,last_seen,errors,"
               "most_common_error\n");
    else if (s->n == 0) {
        printf("no record is quarantined\n");
        return;
    } else
        printf("%-10s %-8s %-10s %-5s %9s %9s %6s %-20s %-20s %6s  %s\n", "stage", "audit", "class",
               "state", "records", "held", "trusts", "first_seen", "last_seen", "errors",
               "most common error");
    long long records = 0;
    for (size_t i = 0; i < s->n; i++) {
        const quarantine_group_t *g = &s->groups[i];
        records += g->records;
        if (csv) {
            printf("%s,", g->stage);
            csv_write_field(stdout, g->audit);
            printf(",%s,%s,%lld,%lld,%lld,%s,%s,%lld,", g->error_class, g->sqlstate, g->records,
                   g->held, g->trusts, g->first_seen, g->last_seen, g->messages);
            csv_write_field(stdout, g->message);
            putchar('\n');
        } else {
            printf("%-10s %-8s %-10s %-5s %9lld %9lld %6lld %-20s %-20s %6lld  %s\n", g->stage,
                   g->audit[0] ? g->audit : "-", g->error_class, g->sqlstate[0] ? g->sqlstate : "-",
                   g->records, g->held, g->trusts, g->first_seen, g->last_seen, g->messages,
                   g->message);
        }
    }
    if (!csv)
        printf("%lld quarantined\n", records);
}

int cmd_quarantine(int argc, char **argv)
{
    const char *stage = NULL, *audit = NULL;
    int csv = 0, all = 0;
    static const struct option opts[] = {
        {"stage", required_argument, 0, 's'}, {"audit", required_argument, 0, 'a'},
        {"csv", no_argument, 0, 'c'},         {"all", no_argument, 0, 'A'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            stage = optarg;
            break;
        case 'a':
            audit = optarg;
            break;
        case 'c':
            csv = 1;
            break;
        case 'A':
            all = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error("quarantine", "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error("quarantine", "expected \"summary\", \"list\" or \"retry\"");
    const char *verb = argv[optind++];
    if (stage && !quarantine_stage_known(stage))
        return usage_error("quarantine",
                           "unknown stage \"%s\": expected linkage, validation or metric", stage);
    int summary = strcmp(verb, "summary") == 0;
    int list = summary || strcmp(verb, "list") == 0; /* both read and take the same options */
    if (!list && strcmp(verb, "retry") != 0)
        return usage_error("quarantine", "unknown action \"%s\": expected summary, list or retry",
                           verb);
    size_t n_ids = (size_t)(argc - optind);
    long long *ids = calloc(n_ids + 1, sizeof *ids);
    if (!ids) {
        fprintf(stderr, "ncap quarantine: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n_ids; i++) {
        char *end;
        ids[i] = strtoll(argv[optind + (int)i], &end, 10);
        if (!*argv[optind + (int)i] || *end || ids[i] <= 0) {
            free(ids);
            return usage_error("quarantine", "\"%s\" is not a record id (a whole number > 0)",
                               argv[optind + (int)i]);
        }
    }
    if (list && (all || n_ids > 0)) {
        free(ids);
        return usage_error("quarantine", "%s takes no record ids and no --all", verb);
    }
    if (!list && (all == (n_ids > 0))) {
        free(ids);
        return usage_error("quarantine", "retry needs --all or record ids, not both");
    }
    if (!list && audit) {
        free(ids);
        return usage_error("quarantine", "retry takes no --audit");
    }
    char err[1024];
    PGconn *db = command_db_connect("quarantine");
    if (!db) {
        free(ids);
        return 1;
    }
    int rc = 0;
    if (summary) {
        quarantine_summary_t q;
        if (quarantine_summary(db, stage, audit, &q, err, sizeof err) != 0) {
            fprintf(stderr, "ncap quarantine: could not summarise: %s\n", err);
            rc = 1;
        } else {
            print_summary(&q, csv);
            quarantine_summary_free(&q);
        }
    } else if (list) {
        long long printed = 0, n;
        if (csv)
            printf("stage,record_id,version,link_revision,audit,trust,error_class,sqlstate,"
                   "first_seen,last_seen,attempts,held,message\n");
        n = quarantine_list(db, stage, audit, csv ? print_csv_row : print_table_row, &printed, err,
                            sizeof err);
        if (n < 0) {
            fprintf(stderr, "ncap quarantine: could not list: %s\n", err);
            rc = 1;
        } else if (!csv) {
            if (n == 0)
                printf("no record is quarantined\n");
            else
                printf("%lld quarantined\n", n);
        }
    } else {
        long long n = quarantine_retry(db, stage, ids, n_ids, all, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "ncap quarantine: could not release: %s\n", err);
            rc = 1;
        } else {
            printf("released %lld quarantined record%s; %s takes them again within its backlog "
                   "interval\n",
                   n, n == 1 ? "" : "s", stage ? stage : "each stage");
        }
    }
    PQfinish(db);
    free(ids);
    return rc;
}
