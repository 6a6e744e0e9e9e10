/* ncap feedback - every problem any stage found in one of a trust's submissions, from ingest */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "feedback_client.h"
#include "feedback_report.h"
#include "number_arg.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap feedback SUBMISSION_ID --trust ODS [--csv] [--endpoint URL]\n"
          "\n"
          "Prints every problem found in a submission, by every stage (ingest: the file's\n"
          "shape; linkage: the patient identifiers; validation: the audit's fields and rules),\n"
          "with no cap, sorted by row, field and rule. row is the line in the file as sent (the\n"
          "header is line 1). The offending value is shown, never an identifier's. A problem\n"
          "of the file's shape that ingest keeps once per rule (a wrong number of columns on\n"
          "every row, say) is one line at its first row that ends with how many rows have it\n"
          "and the first 1,000 of them: \"...: 999,998 rows (first 1,000 listed: 2, 3, ...)\".\n"
          "\n"
          "The default output is readable: a summary (rows, accepted, rejected, errors,\n"
          "warnings, and whether the pipeline has finished with the submission or records are\n"
          "still in flight), then one line per problem. --csv prints CSV with a header:\n"
          "\n"
          "  submission_id,row,field,rule,severity,value,message\n"
          "\n"
          "A trust sees only its own submissions: ingest answers \"no submission N for trust T\"\n"
          "for another trust's as for one that does not exist.\n"
          "\n"
          "options:\n"
          "  --trust ODS         the asking trust's ODS code, e.g. RH8\n"
          "  --csv               CSV instead of text (the summary's last line goes to stderr\n"
          "                      when records are still in flight)\n"
          "  --endpoint URL      ingest endpoint (default $NCAP_INGEST, else the live\n"
          "                      instances found through $NCAP_PG)\n"
          "  --timeout SECONDS   give up waiting for ingest after this long (60)\n"
          "  --help              show this help\n"
          "\n"
          "keys: as for ncap submit (NCAP_CURVE_SERVER_KEY, and NCAP_CLIENT_KEYS/<ODS>.key or\n"
          "NCAP_CURVE_CLIENT_SECRET_FILE): with keys, a connection reads its own trust's\n"
          "feedback only.\n"
          "\n"
          "exit status: 0 no errors (warnings allowed), 1 the submission has errors, 2 usage,\n"
          "connection trouble or no such submission\n",
          out);
}

typedef struct {
    int csv;
    int64_t submission_id;
    feedback_summary_t summary;
} printer_t;

static void on_summary(void *arg, const feedback_summary_t *s)
{
    printer_t *pr = arg;
    pr->summary = *s;
    if (pr->csv) {
        feedback_report_csv_header(stdout);
        if (s->in_flight)
            fprintf(stderr,
                    "ncap feedback: the pipeline is still working on %u record%s of submission "
                    "%lld; ask again for their problems\n",
                    s->in_flight, s->in_flight == 1 ? "" : "s", (long long)pr->submission_id);
    } else {
        feedback_report_text_summary(stdout, pr->submission_id, s);
        if (s->errors + s->warnings)
            fputs("\n", stdout);
    }
}

static void on_problem(void *arg, const feedback_problem_t *p)
{
    printer_t *pr = arg;
    if (pr->csv)
        feedback_report_csv_row(stdout, pr->submission_id, p);
    else
        feedback_report_text_row(stdout, p);
}

int cmd_feedback(int argc, char **argv)
{
    const char *trust = NULL, *endpoint = NULL;
    int csv = 0, timeout = 60;
    static const struct option opts[] = {
        {"trust", required_argument, 0, 't'},    {"csv", no_argument, 0, 'c'},
        {"endpoint", required_argument, 0, 'e'}, {"timeout", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            trust = optarg;
            break;
        case 'c':
            csv = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'T':
            if (number_arg_timeout("feedback", optarg, &timeout) != 0)
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "try 'ncap feedback --help'\n");
            return 2;
        }
    }
    if (optind != argc - 1)
        return usage_error("feedback", "%s",
                           optind == argc ? "need a SUBMISSION_ID" : "give one SUBMISSION_ID");
    if (!trust)
        return usage_error("feedback", "%s", "need --trust, the asking trust's ODS code");
    const char *arg = argv[optind];
    char *end;
    long long sid = strtoll(arg, &end, 10);
    if (!*arg || *end || sid <= 0)
        return usage_error("feedback", "submission id \"%s\" is not a positive whole number", arg);
    char err[4096];
    printer_t pr = {.csv = csv, .submission_id = sid};
    feedback_sink_t sink = {on_summary, on_problem, &pr};
    ingest_target_t to = {.endpoint = endpoint};
    int rc = feedback_fetch(&to, trust, sid, 0, timeout, &sink, err, sizeof err);
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "ncap feedback: %s\n", err);
        return 2;
    }
    return feedback_exit_status(&pr.summary);
}
