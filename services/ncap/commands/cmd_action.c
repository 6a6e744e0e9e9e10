/* ncap action - what a trust did about its results: record a change, list the changes with the
 * verdict of the run chart across each */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_verdict.h"
#include "audit_def.h"
#include "benchmark.h"
#include "command_db.h"
#include "commands.h"
#include "csv.h"
#include "datetime.h"
#include "db.h"
#include "ods_code.h"
#include "usage_error.h"

#define ACTION_TEXT_MAX 2000

static void usage(FILE *out)
{
    fputs("usage: ncap action add --trust ODS --audit A --metric M --date YYYY-MM-DD --text TEXT\n"
          "       ncap action list [--audit A] [--trust ODS] [--csv]\n"
          "\n"
          "add    records a change a trust made to improve a metric (a new pathway, a staffing\n"
          "       change) on the day it took effect. The trust's run chart of the metric\n"
          "       (spc.csv) then starts a new period, its mean and limits recalculated, at the\n"
          "       first month after the action (the action's month when it took effect on the\n"
          "       1st); publish rebuilds the audit's releases within seconds.\n"
          "list   every action with its verdict, from the trust's months of the metric in the\n"
          "       audit's latest release (spc.csv, the months the public sees), by the Making\n"
          "       Data Count rules across the action date: the months before give the baseline\n"
          "       (mean and process limits); the months after are tested against it, no run\n"
          "       beginning before the action: a month outside the limits, 7 in a row on one\n"
          "       side of the mean (shift), 7 rising or falling (trend), or 2 of 3 beyond two\n"
          "       thirds of the way to a limit. The most recent such signal decides: improved\n"
          "       or worse by the metric's better direction (higher or lower for a metric with\n"
          "       none); no signal: no change. pending until the chart has 6 months before the\n"
          "       action and 7 after. --csv prints CSV with the header\n"
          "       action_id,audit,trust,metric,date,recorded_at,months_before,months_after,\n"
          "       verdict,signal,text\n"
          "\n"
          "options:\n"
          "  --trust ODS        the trust's ODS code (list: only its actions)\n"
          "  --audit A          the audit (list: only its actions)\n"
          "  --metric M         add: one of the audit's metrics\n"
          "  --date YYYY-MM-DD  add: the day the change took effect\n"
          "  --text TEXT        add: what was done (1-2000 characters)\n"
          "  --audit-dir DIR    where definitions are ($NCAP_AUDIT_DIR, else the installed ones)\n"
          "  --csv              list: CSV instead of a table\n"
          "  --help             show this help\n"
          "\n"
          "Reads and writes PostgreSQL through $NCAP_PG (the operator's connection). Exit status:\n"
          "0 done, 1 database trouble, 2 usage.\n",
          out);
}

typedef struct {
    const char *trust, *audit, *metric, *date, *text, *dir;
    int csv;
} action_opts_t;

static int action_add(const action_opts_t *o)
{
    if (!o->trust || !o->audit || !o->metric || !o->date || !o->text)
        return usage_error("action add", "%s",
                           "need --trust, --audit, --metric, --date and --text");
    if (ods_code_kind(o->trust) != ODS_CODE_TRUST)
        return usage_error("action add", "trust \"%s\" is not an ODS trust code (3 characters)",
                           o->trust);
    int y, m, d;
    char start[8];
    benchmark_action_month(o->date, start);
    if (ncap_date_parse(o->date, &y, &m, &d) != 0 || !start[0])
        return usage_error("action add", "date \"%s\" is not a date YYYY-MM-DD", o->date);
    size_t len = strlen(o->text);
    if (len == 0 || len > ACTION_TEXT_MAX)
        return usage_error("action add", "--text has %zu characters, expected 1-%d", len,
                           ACTION_TEXT_MAX);
    char err[1024];
    audit_def_t *def = audit_def_load_named(o->dir, o->audit, err, sizeof err);
    if (!def) {
        fprintf(stderr, "ncap action add: %s\n", err);
        return 2;
    }
    int found = audit_def_metric(def, o->metric) != NULL;
    audit_def_destroy(&def);
    if (!found)
        return usage_error("action add",
                           "audit %s has no metric \"%s\" (ncap audit check lists them)", o->audit,
                           o->metric);
    PGconn *db = command_db_connect("action add");
    if (!db)
        return 1;
    const char *p[] = {o->audit, o->trust, o->metric, o->date, o->text};
    PGresult *r = db_query(db,
                           "INSERT INTO publish.action (audit, trust, metric_id, action_date, text)"
                           " VALUES ($1, $2, $3, $4::date, $5) RETURNING action_id",
                           5, p, err, sizeof err);
    int rc = 1;
    if (!r) {
        fprintf(stderr, "ncap action add: %s\n", err);
    } else {
        printf("action %s recorded: trust %s, %s %s from %s; its run chart starts a new period at "
               "%s\n",
               PQgetvalue(r, 0, 0), o->trust, o->audit, o->metric, o->date, start);
        rc = 0;
    }
    PQclear(r);
    PQfinish(db);
    return rc;
}

/* The audit's latest spc.csv (its latest period's newest revision), "" when none. */
static char *latest_spc(PGconn *db, const char *audit, char *err, size_t errlen)
{
    const char *p[] = {audit};
    PGresult *r = db_query(db,
                           "SELECT f.content FROM publish.release r JOIN publish.release_file f"
                           " ON f.release_id = r.release_id AND f.name = 'spc.csv'"
                           " WHERE r.audit = $1 AND r.status = 'provisional'"
                           " ORDER BY r.period DESC, r.revision DESC LIMIT 1",
                           1, p, err, errlen);
    if (!r)
        return NULL;
    char *text = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    if (!text)
        snprintf(err, errlen, "out of memory");
    return text;
}

static spc_improvement_t improvement_of(const audit_metric_t *m)
{
    return !m                                            ? SPC_IMPROVEMENT_INCREASE
           : m->polarity == AUDIT_POLARITY_HIGHER_BETTER ? SPC_IMPROVEMENT_INCREASE
           : m->polarity == AUDIT_POLARITY_LOWER_BETTER  ? SPC_IMPROVEMENT_DECREASE
                                                         : SPC_IMPROVEMENT_NEUTRAL;
}

/* The verdict on row i of r (columns as action_list selects them), in out; why not in err. */
static int verdict_of(PGconn *db, const action_opts_t *o, PGresult *r, int i, char **spc,
                      char *spc_audit, audit_def_t **def, spc_verdict_result_t *out, char *err,
                      size_t errlen)
{
    const char *audit = PQgetvalue(r, i, 1);
    if (!*spc || strcmp(spc_audit, audit) != 0) { /* rows come by audit: one read per audit */
        free(*spc);
        audit_def_destroy(def);
        snprintf(spc_audit, 64, "%s", audit);
        if (!(*spc = latest_spc(db, audit, err, errlen)))
            return -1;
        *def = audit_def_load_named(o->dir, audit, err, errlen); /* NULL: polarity unknown */
    }
    const audit_metric_t *m = *def ? audit_def_metric(*def, PQgetvalue(r, i, 3)) : NULL;
    return action_verdict(*spc, PQgetvalue(r, i, 3), PQgetvalue(r, i, 2), PQgetvalue(r, i, 4),
                          improvement_of(m), out, err, errlen);
}

static int action_list(const action_opts_t *o)
{
    PGconn *db = command_db_connect("action list");
    if (!db)
        return 1;
    char err[1024], spc_audit[64] = "";
    const char *p[] = {o->audit ? o->audit : "", o->trust ? o->trust : ""};
    PGresult *r =
        db_query(db,
                 "SELECT action_id, audit, trust, metric_id, to_char(action_date, 'YYYY-MM-DD'),"
                 " to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), text"
                 " FROM publish.action WHERE ($1 = '' OR audit = $1) AND ($2 = '' OR trust = $2)"
                 " ORDER BY audit, action_id",
                 2, p, err, sizeof err);
    if (!r) {
        fprintf(stderr, "ncap action list: %s\n", err);
        PQfinish(db);
        return 1;
    }
    int n = PQntuples(r), rc = 0;
    char *spc = NULL;
    audit_def_t *def = NULL;
    if (o->csv)
        puts("action_id,audit,trust,metric,date,recorded_at,months_before,months_after,verdict,"
             "signal,text");
    else if (n == 0)
        puts("no action recorded");
    else
        printf("%-6s %-8s %-5s %-26s %-10s %6s %5s  %-10s %s\n", "id", "audit", "trust", "metric",
               "date", "before", "after", "verdict", "text");
    for (int i = 0; i < n; i++) {
        spc_verdict_result_t v;
        if (verdict_of(db, o, r, i, &spc, spc_audit, &def, &v, err, sizeof err) != 0) {
            fprintf(stderr, "ncap action list: action %s: %s\n", PQgetvalue(r, i, 0), err);
            rc = 1;
            break;
        }
        char before[24], after[24];
        snprintf(before, sizeof before, "%zu", v.before);
        snprintf(after, sizeof after, "%zu", v.after);
        const char *signal = spc_cause_name(v.cause);
        if (o->csv) {
            const char *cells[] = {PQgetvalue(r, i, 0),
                                   PQgetvalue(r, i, 1),
                                   PQgetvalue(r, i, 2),
                                   PQgetvalue(r, i, 3),
                                   PQgetvalue(r, i, 4),
                                   PQgetvalue(r, i, 5),
                                   before,
                                   after,
                                   spc_verdict_name(v.verdict),
                                   signal,
                                   PQgetvalue(r, i, 6)};
            csv_write_row(stdout, cells, sizeof cells / sizeof *cells);
        } else {
            printf("%-6s %-8s %-5s %-26s %-10s %6s %5s  %-10s %s\n", PQgetvalue(r, i, 0),
                   PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
                   PQgetvalue(r, i, 4), before, after, spc_verdict_name(v.verdict),
                   PQgetvalue(r, i, 6));
        }
    }
    free(spc);
    audit_def_destroy(&def);
    PQclear(r);
    PQfinish(db);
    return rc;
}

int cmd_action(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0)
        return usage_error("action", "unknown subcommand \"%s\": add or list", sub);
    action_opts_t o = {.dir = getenv("NCAP_AUDIT_DIR")};
    if (!o.dir || !*o.dir)
        o.dir = NCAP_DEFAULT_AUDIT_DIR;
    enum { O_AUDIT_DIR = 256 };
    static const struct option opts[] = {{"trust", required_argument, 0, 't'},
                                         {"audit", required_argument, 0, 'a'},
                                         {"metric", required_argument, 0, 'm'},
                                         {"date", required_argument, 0, 'd'},
                                         {"text", required_argument, 0, 'x'},
                                         {"csv", no_argument, 0, 'c'},
                                         {"audit-dir", required_argument, 0, O_AUDIT_DIR},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            o.trust = optarg;
            break;
        case 'a':
            o.audit = optarg;
            break;
        case 'm':
            o.metric = optarg;
            break;
        case 'd':
            o.date = optarg;
            break;
        case 'x':
            o.text = optarg;
            break;
        case 'c':
            o.csv = 1;
            break;
        case O_AUDIT_DIR:
            o.dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "try 'ncap action --help'\n");
            return 2;
        }
    }
    if (optind != argc - 1)
        return usage_error("action", "unexpected argument \"%s\"", argv[optind + 1]);
    return strcmp(sub, "add") == 0 ? action_add(&o) : action_list(&o);
}
