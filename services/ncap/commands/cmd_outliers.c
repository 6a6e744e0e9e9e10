/* ncap outliers - outlier cases: the audit team's list and view (over PostgreSQL), a trust's own
 * cases and its response (over ingest, authenticated as the trust) */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cache.h"
#include "command_db.h"
#include "commands.h"
#include "csv.h"
#include "file_read.h"
#include "number_arg.h"
#include "outlier_client.h"
#include "outlier_process.h"
#include "outlier_store.h"
#include "request_gate.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap outliers list [--audit A] [--period P] [--trust T] [--state S] [--csv]\n"
        "       ncap outliers show ID\n"
        "       ncap outliers mine --trust T [--csv]\n"
        "       ncap outliers show ID --trust T\n"
        "       ncap outliers respond ID --trust T --text FILE\n"
        "\n"
        "An outlier case is one metric of one trust (or site) in one audit period that a release\n"
        "flagged beyond its funnel's 95% (alert) or 99.8% (alarm) limits. It moves through\n"
        "detected -> trust_notified -> trust_responded -> published, or closed when corrected\n"
        "data brings the unit back in control; each stage has a deadline in working days from\n"
        "the audit's definition (outliers:), after which the case moves on by itself. The\n"
        "public files show an alarm only once its case is published.\n"
        "\n"
        "For the audit team, over PostgreSQL ($NCAP_PG):\n"
        "list     the cases (--csv: the columns of the team's outliers.csv:\n"
        "         " OUTLIER_CSV_HEADER ")\n"
        "show ID  one case, every transition with its time, and the trust's responses\n"
        "\n"
        "For a trust, over ingest with the trust's key (as ncap feedback; a trust sees its own\n"
        "cases from the time it is notified, never another trust's):\n"
        "mine              the trust's cases\n"
        "show ID --trust   one case with the local record ids of the trust's records in it\n"
        "respond ID        the clinical lead's response, the text of FILE (1 to 65,536 bytes);\n"
        "                  taken until the case is published\n"
        "\n"
        "options:\n"
        "  --audit A, --period P, --trust T, --state S   list: only these cases\n"
        "  --trust T           mine, show, respond: the trust speaking\n"
        "  --text FILE         respond: the response\n"
        "  --csv               CSV instead of a table\n"
        "  --endpoint URL      ingest endpoint (default $NCAP_INGEST, else the live instances)\n"
        "  --timeout SECONDS   give up waiting for ingest after this long (60)\n"
        "  --help              show this help\n"
        "\n"
        "Deadlines count working days (Monday to Friday); NCAP_OUTLIER_DAY_SECONDS=N makes a\n"
        "day N seconds, weekends included, for tests and demonstrations (publish reads it too).\n"
        "Exit status: 0 done, 1 database or ingest trouble, 2 usage or no such case.\n",
        out);
}

/* Where the definitions are (deadlines): $NCAP_AUDIT_DIR, else the installed ones. */
static audit_cache_t *audits_new(void)
{
    const char *dir = getenv("NCAP_AUDIT_DIR");
    return audit_cache_new(dir && *dir ? dir : NCAP_DEFAULT_AUDIT_DIR);
}

typedef struct {
    const char *audit, *period, *trust, *state, *text, *endpoint;
    int csv, timeout;
} opts_t;

/* What the team's commands work with: the database, the definitions (deadlines) and the day's
 * length. */
typedef struct {
    PGconn *db;
    audit_cache_t *audits;
    long long day;
} team_t;

/* 0, or the exit status after saying why. */
static int team_open(team_t *t)
{
    char err[512];
    if ((t->day = outlier_day_seconds(err, sizeof err)) < 0)
        return usage_error("outliers", "%s", err);
    if (!(t->db = command_db_connect("outliers")))
        return 1;
    t->audits = audits_new();
    return 0;
}

static void team_close(team_t *t)
{
    PQfinish(t->db);
    audit_cache_destroy(&t->audits);
}

/* The team's list: CSV as outliers.csv, or a table of its main columns. */
static int team_list(const opts_t *o)
{
    char err[1024];
    team_t t;
    int rc = team_open(&t);
    if (rc != 0)
        return rc;
    outlier_filter_t f = {o->audit, o->period, o->trust, o->state};
    char *csv = NULL;
    int n = outlier_store_csv(t.db, t.audits, t.day, &f, &csv, err, sizeof err);
    team_close(&t);
    if (n < 0) {
        fprintf(stderr, "ncap outliers: could not list the cases: %s\n", err);
        return 1;
    }
    if (o->csv) {
        fputs(csv, stdout);
    } else if (n == 0) {
        printf("no outlier case\n");
    } else {
        /* columns: case_id audit period metric level area_code trust state since due flag
         * public_flag ... value */
        static const int cols[] = {0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 15};
        csv_reader_t *r = csv_reader_new(csv, strlen(csv), false);
        if (!r) {
            free(csv);
            fprintf(stderr, "ncap outliers: out of memory\n");
            return 1;
        }
        printf("%-6s %-8s %-7s %-24s %-5s %-6s %-16s %-20s %-11s %-11s %s\n", "case", "audit",
               "period", "metric", "level", "area", "state", "due", "flag", "public", "value");
        csv_reader_next(r); /* the header */
        while (csv_reader_next(r) > 0) {
            const char *v[11];
            for (int k = 0; k < 11; k++)
                v[k] = csv_reader_field(r, (size_t)cols[k]);
            printf("%-6s %-8s %-7s %-24s %-5s %-6s %-16s %-20s %-11s %-11s %s\n", v[0], v[1], v[2],
                   v[3], v[4], v[5], v[6], v[7][0] ? v[7] : "-", v[8], v[9], v[10]);
        }
        csv_reader_destroy(&r);
        printf("%d case%s\n", n, n == 1 ? "" : "s");
    }
    free(csv);
    return 0;
}

static int team_show(long long id)
{
    char err[1024];
    team_t t;
    int rc = team_open(&t);
    if (rc != 0)
        return rc;
    rc = outlier_store_show(t.db, t.audits, t.day, id, stdout, err, sizeof err);
    team_close(&t);
    if (rc < 0) {
        fprintf(stderr, "ncap outliers: could not read case %lld: %s\n", id, err);
        return 1;
    }
    if (rc == 0) {
        fprintf(stderr, "ncap outliers: no outlier case %lld\n", id);
        return 2;
    }
    return 0;
}

static const char trust_header[] =
    "case_id,audit,period,metric,level,area_code,state,since,flag,numerator,denominator,"
    "expected,value,england_value,funnel_lower998,funnel_upper998,notified_at,responses";

static void trust_case(const Ncap__V1__OutlierCase *c, int csv)
{
    char id[32], responses[16];
    snprintf(id, sizeof id, "%lld", (long long)c->case_id);
    snprintf(responses, sizeof responses, "%u", c->responses);
    const char *v[] = {id,
                       c->audit,
                       c->period,
                       c->metric,
                       c->level,
                       c->area_code,
                       c->state,
                       c->since,
                       c->flag,
                       c->numerator,
                       c->denominator,
                       c->expected,
                       c->value,
                       c->england_value,
                       c->funnel_lower998,
                       c->funnel_upper998,
                       c->notified_at,
                       responses};
    if (csv) {
        csv_write_row(stdout, v, sizeof v / sizeof v[0]);
        return;
    }
    printf("%-6s %-8s %-7s %-24s %-5s %-6s %-16s %-11s %s/%s value %s (England %s, 99.8%% "
           "limits %s-%s)\n",
           id, c->audit, c->period, c->metric, c->level, c->area_code, c->state, c->flag,
           c->numerator, c->denominator, c->value, c->england_value, c->funnel_lower998,
           c->funnel_upper998);
}

static int trust_call(const opts_t *o, Ncap__V1__OutlierRequest__Action action, long long id)
{
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    req.trust = (char *)o->trust;
    req.action = action;
    req.case_id = id;
    char *text = NULL, err[1024];
    size_t len = 0;
    if (action == NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND) {
        if (file_read_max(o->text, REQUEST_GATE_OUTLIER_TEXT_MAX, &text, &len) != 0)
            return usage_error("outliers", "could not read \"%s\", or it is over %d bytes", o->text,
                               REQUEST_GATE_OUTLIER_TEXT_MAX);
        if (len == 0 || strlen(text) != len) {
            free(text);
            return usage_error("outliers", "\"%s\" is empty or holds a NUL byte, expected text",
                               o->text);
        }
        req.text = text;
    }
    Ncap__V1__OutlierReply *rep = NULL;
    ingest_target_t to = {.endpoint = o->endpoint};
    int rc = outlier_client_call(&to, &req, o->timeout, &rep, err, sizeof err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "ncap outliers: %s\n", err);
        return 1;
    }
    if (rep->kind != NCAP__V1__OUTLIER_REPLY__KIND__OK) {
        fprintf(stderr, "ncap outliers: %s\n", rep->error[0] ? rep->error : "ingest refused");
        rc = rep->kind == NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND ? 2 : 1;
        ncap__v1__outlier_reply__free_unpacked(rep, NULL);
        return rc;
    }
    if (action == NCAP__V1__OUTLIER_REQUEST__ACTION__LIST) {
        if (o->csv)
            printf("%s\n", trust_header);
        else if (rep->n_cases == 0)
            printf("no outlier case for trust %s\n", o->trust);
        for (size_t i = 0; i < rep->n_cases; i++)
            trust_case(rep->cases[i], o->csv);
    } else if (action == NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW && rep->n_cases == 1) {
        const Ncap__V1__OutlierCase *c = rep->cases[0];
        printf("case: %lld\naudit: %s\nperiod: %s\nmetric: %s\nlevel: %s\narea_code: %s\n"
               "state: %s\nsince: %s\nflag: %s\nnumerator: %s\ndenominator: %s\nexpected: %s\n"
               "value: %s\nengland_value: %s\nfunnel_lower998: %s\nfunnel_upper998: %s\n"
               "notified_at: %s\nresponses: %u\nrecords: %zu\n",
               (long long)c->case_id, c->audit, c->period, c->metric, c->level, c->area_code,
               c->state, c->since, c->flag, c->numerator, c->denominator, c->expected, c->value,
               c->england_value, c->funnel_lower998, c->funnel_upper998, c->notified_at,
               c->responses, rep->n_local_ids);
        for (size_t i = 0; i < rep->n_local_ids; i++)
            printf("record %s\n", rep->local_ids[i]);
    } else if (rep->n_cases == 1) {
        printf("response to outlier case %lld taken: the case is %s\n", id, rep->cases[0]->state);
    }
    ncap__v1__outlier_reply__free_unpacked(rep, NULL);
    return 0;
}

static int parse_id(const char *s, long long *id)
{
    unsigned long long v;
    if (number_arg_whole(s, LLONG_MAX, &v) != 0 || v == 0)
        return -1;
    *id = (long long)v;
    return 0;
}

int cmd_outliers(int argc, char **argv)
{
    opts_t o = {.timeout = 60};
    static const struct option opts[] = {
        {"audit", required_argument, 0, 'a'},    {"period", required_argument, 0, 'p'},
        {"trust", required_argument, 0, 't'},    {"state", required_argument, 0, 's'},
        {"text", required_argument, 0, 'x'},     {"csv", no_argument, 0, 'c'},
        {"endpoint", required_argument, 0, 'e'}, {"timeout", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.audit = optarg;
            break;
        case 'p':
            o.period = optarg;
            break;
        case 't':
            o.trust = optarg;
            break;
        case 's':
            o.state = optarg;
            break;
        case 'x':
            o.text = optarg;
            break;
        case 'c':
            o.csv = 1;
            break;
        case 'e':
            o.endpoint = optarg;
            break;
        case 'T': {
            unsigned long long v;
            if (number_arg_whole(optarg, 86400, &v) != 0 || v == 0)
                return usage_error("outliers", "--timeout must be 1-86400 seconds, not \"%s\"",
                                   optarg);
            o.timeout = (int)v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error_option("outliers", c, argv);
        }
    }
    if (optind >= argc)
        return usage_error("outliers", "expected list, show, mine or respond");
    const char *verb = argv[optind++];
    static const char *const verbs[] = {"list", "show", "mine", "respond"};
    bool known = false;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        known |= strcmp(verb, verbs[i]) == 0;
    if (!known)
        return usage_error("outliers",
                           "unknown action \"%s\": expected list, show, mine or respond", verb);
    long long id = 0;
    int takes_id = strcmp(verb, "show") == 0 || strcmp(verb, "respond") == 0;
    if (takes_id && (optind >= argc || parse_id(argv[optind++], &id) != 0))
        return usage_error("outliers", "%s needs a case id (a whole number > 0)", verb);
    if (optind < argc)
        return usage_error("outliers", "unexpected argument \"%s\"", argv[optind]);
    if (o.state && outlier_state_parse(o.state) < 0)
        return usage_error("outliers",
                           "unknown state \"%s\": expected detected, trust_notified, "
                           "trust_responded, published or closed",
                           o.state);
    if (strcmp(verb, "list") == 0)
        return team_list(&o);
    if (strcmp(verb, "show") == 0)
        return o.trust ? trust_call(&o, NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW, id)
                       : team_show(id);
    if (!o.trust)
        return usage_error("outliers", "%s needs --trust T (the trust speaking)", verb);
    if (strcmp(verb, "mine") == 0)
        return trust_call(&o, NCAP__V1__OUTLIER_REQUEST__ACTION__LIST, 0);
    if (!o.text)
        return usage_error("outliers", "respond needs --text FILE");
    return trust_call(&o, NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND, id);
}
