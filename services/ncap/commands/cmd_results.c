/* ncap results - a trust's own results in one audit, privately, from ingest: its figures per
 * metric and site before disclosure control, and the records that make them up */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark_build.h"
#include "ci.h"
#include "commands.h"
#include "contribution.h"
#include "csv.h"
#include "number_arg.h"
#include "results_client.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap results --trust ODS --audit A [--period 2025Q3] [--csv] [--endpoint URL]\n"
          "\n"
          "A trust's own results, from ingest over the trust's authenticated connection (as\n"
          "ncap feedback): for each period and metric, the trust's figure and each of its\n"
          "sites' as the public release computes them, but before disclosure control (no cell\n"
          "is hidden: these are the trust's own patients), then for each metric every record\n"
          "of the trust that makes up its numerator and denominator, by the trust's own local\n"
          "record id: its site, period, date (the audit's period field as sent), whether it met\n"
          "the standard, and a ratio's expected risk. The counts are those of the release\n"
          "(latest.csv) wherever the release shows them; they may be newer by the seconds a\n"
          "release takes.\n"
          "\n"
          "--csv prints one table with a header:\n"
          "\n"
          "  row,period,metric,kind,level,site,local_id,date,numerator,denominator,value,\n"
          "  lower95,upper95,expected,held,missing,status\n"
          "\n"
          "row is figure (level trust, or site with its code) or record (level record). A\n"
          "figure's value and 95% interval are the release's (Wilson for a proportion, exact\n"
          "Poisson or Byar for observed / expected; a median's or mean's value, no interval);\n"
          "held and missing count the patients held back (follow-up incomplete) or left out\n"
          "(an input missing). A record's numerator is 1 when it met the standard (a ratio's:\n"
          "its observed count), its denominator 1 when it counts in the figures, its value a\n"
          "median's or mean's measurement, its expected the risk model's expected value, and\n"
          "status met or not_met (a proportion), observed or not_observed (a ratio's outcome,\n"
          "e.g. a death), counted (a median's or mean's), held or missing. The header comes\n"
          "with the first row: nothing is printed when ingest refuses or has no results.\n"
          "\n"
          "A trust sees only its own: a connection with another trust's key is refused, and a\n"
          "trust without records in the audit gets \"no results for trust T in audit A\".\n"
          "\n"
          "options:\n"
          "  --trust ODS         the asking trust's ODS code, e.g. RH8\n"
          "  --audit A           the audit, e.g. nhfd\n"
          "  --period P          one quarter, e.g. 2025Q3 (default every period)\n"
          "  --csv               CSV instead of text\n"
          "  --endpoint URL      ingest endpoint (default $NCAP_INGEST, else the live\n"
          "                      instances found through $NCAP_PG)\n"
          "  --timeout SECONDS   give up waiting for ingest after this long (60)\n"
          "  --help              show this help\n"
          "\n"
          "keys: as for ncap submit (NCAP_CURVE_SERVER_KEY, and NCAP_CLIENT_KEYS/<ODS>.key or\n"
          "NCAP_CURVE_CLIENT_SECRET_FILE).\n"
          "\n"
          "exit status: 0 results printed, 2 usage, connection trouble, refused or no results\n",
          out);
}

#define CSV_HEADER                                                                                 \
    "row,period,metric,kind,level,site,local_id,date,numerator,denominator,value,lower95,upper95," \
    "expected,held,missing,status\n"

/* The kinds of the metrics seen in the figures, for the records that follow them. */
typedef struct {
    char id[64];
    char kind[16];
} metric_kind_t;

typedef struct {
    bool csv, header_done;
    const char *trust;
    metric_kind_t *kinds;
    size_t n_kinds, cap_kinds;
    char last_metric[64];
    unsigned long long figures, records;
} printer_t;

static const char *kind_of(const printer_t *pr, const char *metric)
{
    for (size_t i = 0; i < pr->n_kinds; i++)
        if (strcmp(pr->kinds[i].id, metric) == 0)
            return pr->kinds[i].kind;
    return "proportion";
}

static void remember_kind(printer_t *pr, const char *metric, const char *kind)
{
    if (strcmp(kind_of(pr, metric), kind) == 0 || pr->n_kinds == pr->cap_kinds)
        return;
    metric_kind_t *k = &pr->kinds[pr->n_kinds++];
    snprintf(k->id, sizeof k->id, "%s", metric);
    snprintf(k->kind, sizeof k->kind, "%s", kind);
}

/* A figure's value and 95% interval as the release computes them. */
static void figure_values(const Ncap__V1__ResultsFigure *f, char value[32], char lo[32],
                          char hi[32], char expected[40])
{
    double v = 0, l = 0, h = 0, e = (double)f->expected_e9 / CONTRIBUTION_EXPECTED_SCALE;
    bool has = false, has_ci = false;
    if (strcmp(f->kind, "proportion") == 0 && f->denominator > 0) {
        v = (double)f->numerator / (double)f->denominator;
        has = has_ci =
            ci_wilson((double)f->numerator, (double)f->denominator, NCAP_Z95, &l, &h) == 0;
    } else if (strcmp(f->kind, "ratio") == 0 && e > 0) {
        v = (double)f->numerator / e;
        has = has_ci = ci_ratio((double)f->numerator, e, NCAP_Z95, &l, &h) == 0;
    } else if (f->has_value) {
        v = f->value;
        has = true;
    }
    bench_figure(value, 32, has, v);
    bench_figure(lo, 32, has_ci, l);
    bench_figure(hi, 32, has_ci, h);
    expected[0] = '\0';
    if (strcmp(f->kind, "ratio") == 0)
        snprintf(expected, 40, "%.9f", e);
}

static void on_figure(void *arg, const Ncap__V1__ResultsFigure *f)
{
    printer_t *pr = arg;
    remember_kind(pr, f->metric_id, f->kind);
    pr->figures++;
    char value[32], lo[32], hi[32], expected[40], num[32], den[32], held[32], missing[32];
    figure_values(f, value, lo, hi, expected);
    snprintf(num, sizeof num, "%lld", (long long)f->numerator);
    snprintf(den, sizeof den, "%lld", (long long)f->denominator);
    snprintf(held, sizeof held, "%lld", (long long)f->held);
    snprintf(missing, sizeof missing, "%lld", (long long)f->missing);
    bool trust = strcmp(f->level, "trust") == 0;
    if (pr->csv && !pr->header_done)
        fputs(CSV_HEADER, stdout);
    pr->header_done = true;
    bool counts = strcmp(f->kind, "proportion") == 0 || strcmp(f->kind, "ratio") == 0;
    if (pr->csv) {
        const char *cells[] = {"figure", f->period, f->metric_id, f->kind,           f->level,
                               f->site,  "",        "",           counts ? num : "", den,
                               value,    lo,        hi,           expected,          held,
                               missing,  ""};
        csv_write_row(stdout, cells, sizeof cells / sizeof *cells);
        return;
    }
    if (trust)
        printf("%s %s (%s)\n", f->period, f->metric_id, f->kind);
    printf("  %-5s %-8s ", trust ? "trust" : "site", trust ? pr->trust : f->site);
    if (strcmp(f->kind, "ratio") == 0)
        printf("observed %s, expected %s: O/E %s", num, expected, value[0] ? value : "-");
    else if (counts)
        printf("%s of %s: %s", num, den, value[0] ? value : "-");
    else
        printf("%s patients: %s", den, value[0] ? value : "-");
    if (lo[0])
        printf(" (95%% %s to %s)", lo, hi);
    if (f->held || f->missing)
        printf("; held back %s, missing an input %s", held, missing);
    fputc('\n', stdout);
}

static const char *record_status(const char *kind, const Ncap__V1__ResultsRecord *r)
{
    if (r->held)
        return "held";
    if (r->missing)
        return "missing";
    if (strcmp(kind, "proportion") == 0)
        return r->numerator > 0 ? "met" : "not_met";
    if (strcmp(kind, "ratio") == 0)
        return r->numerator > 0 ? "observed" : "not_observed";
    return "counted";
}

static void on_record(void *arg, const Ncap__V1__ResultsRecord *r)
{
    printer_t *pr = arg;
    pr->records++;
    const char *kind = kind_of(pr, r->metric_id);
    const char *status = record_status(kind, r);
    char num[32], den[16], value[32], expected[40] = "";
    snprintf(num, sizeof num, "%lld", (long long)r->numerator);
    snprintf(den, sizeof den, "%d", (int)r->denominator);
    bench_figure(value, sizeof value, r->has_value, r->value);
    if (strcmp(kind, "ratio") == 0 && !r->held && !r->missing)
        snprintf(expected, sizeof expected, "%.9f",
                 (double)r->expected_e9 / CONTRIBUTION_EXPECTED_SCALE);
    if (pr->csv) {
        const char *cells[] = {"record",
                               r->period,
                               r->metric_id,
                               kind,
                               "record",
                               r->site,
                               r->local_id,
                               r->date,
                               num,
                               den,
                               value,
                               "",
                               "",
                               expected,
                               r->held ? "1" : "0",
                               r->missing ? "1" : "0",
                               status};
        csv_write_row(stdout, cells, sizeof cells / sizeof *cells);
        return;
    }
    if (strcmp(pr->last_metric, r->metric_id) != 0) {
        snprintf(pr->last_metric, sizeof pr->last_metric, "%s", r->metric_id);
        printf("\nrecords of %s (local id, period, site, date, status):\n", r->metric_id);
    }
    printf("  %s  %s  %s  %s  %s", r->local_id, r->period, r->site, r->date[0] ? r->date : "-",
           status);
    if (expected[0])
        printf("  observed %s, expected %s", num, expected);
    if (value[0])
        printf("  value %s", value);
    fputc('\n', stdout);
}

int cmd_results(int argc, char **argv)
{
    const char *trust = NULL, *audit = NULL, *period = "", *endpoint = NULL;
    int csv = 0, timeout = 60;
    static const struct option opts[] = {
        {"trust", required_argument, 0, 't'},    {"audit", required_argument, 0, 'a'},
        {"period", required_argument, 0, 'p'},   {"csv", no_argument, 0, 'c'},
        {"endpoint", required_argument, 0, 'e'}, {"timeout", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            trust = optarg;
            break;
        case 'a':
            audit = optarg;
            break;
        case 'p':
            period = optarg;
            break;
        case 'c':
            csv = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'T':
            if (number_arg_timeout("results", optarg, &timeout) != 0)
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "try 'ncap results --help'\n");
            return 2;
        }
    }
    if (optind != argc)
        return usage_error("results", "unexpected argument \"%s\"", argv[optind]);
    if (!trust)
        return usage_error("results", "%s", "need --trust, the asking trust's ODS code");
    if (!audit)
        return usage_error("results", "%s", "need --audit, e.g. --audit nhfd");
    metric_kind_t kinds[256];
    printer_t pr = {
        .csv = csv, .trust = trust, .kinds = kinds, .cap_kinds = sizeof kinds / sizeof *kinds};
    if (!csv)
        printf("results of trust %s in audit %s%s%s (before disclosure control: not for "
               "publication)\n\n",
               trust, audit, period[0] ? ", period " : "", period);
    char err[4096];
    results_sink_t sink = {on_figure, on_record, &pr};
    ingest_target_t to = {.endpoint = endpoint};
    int rc = results_fetch(&to, trust, audit, period, 0, timeout, &sink, err, sizeof err);
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "ncap results: %s\n", err);
        return 2;
    }
    if (!csv)
        printf("\n%llu figures, %llu record lines\n", pr.figures, pr.records);
    return 0;
}
