/* cmd_funnel.c - `ncap funnel`: funnel plot limits and outlier flags for a file of units. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "number_arg.h"
#include "usage_error.h"
#include "number_text.h"
#include "csv.h"
#include "funnel_file.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap funnel --type proportion|ratio [--limits exact|normal]\n"
        "                   [--overdispersion none|multiplicative|additive] [--method shmi|cqc]\n"
        "                   [--trim FRACTION] [--target T] [--summary FILE.json] FILE.csv\n"
        "\n"
        "Funnel plot control limits at 95% and 99.8% around a target, and each unit's outlier\n"
        "flag, as in Spiegelhalter (2005). FILE.csv (\"-\" for standard input) has a header "
        "naming\n"
        "the columns unit,numerator,denominator (proportions) or unit,observed,expected (ratios);\n"
        "other columns are ignored. Writes CSV to standard output:\n"
        "  unit,numerator,denominator,value,target,lower95,upper95,lower998,upper998,flag\n"
        "(for ratios numerator = observed, denominator = expected, value = O/E), with flag\n"
        "in_control, alert_high or alert_low (beyond 95%), alarm_high or alarm_low\n"
        "(beyond 99.8%); a value on a limit is in control. A unit with denominator (expected) 0\n"
        "has empty value, limits and flag. Numbers have 17 significant digits.\n"
        "\n"
        "  --type T             proportion (counts: numerator <= denominator) or ratio\n"
        "                       (observed / expected)\n"
        "  --limits L           exact (default): binomial or Poisson quantiles interpolated as in\n"
        "                       Spiegelhalter (2005) A.1; normal: target -+ z sqrt(variance / n)\n"
        "  --overdispersion O   none (default), multiplicative (limits widened by sqrt(phi)) or\n"
        "                       additive (random effects, tau^2); applied only when phi > 1\n"
        "  --method M           for ratios: shmi (default; log(O/E), truncated) or cqc\n"
        "                       (sqrt(O/E), Winsorised); proportions use asin(sqrt(p)), "
        "Winsorised\n"
        "  --trim FRACTION      share of z-scores truncated or Winsorised at each end, 0 <= F <\n"
        "                       0.5 (default 0.1)\n"
        "  --target T           the target; default the pooled proportion, or 1 for ratios\n"
        "  --summary FILE.json  also write "
        "{\"target\",\"phi\",\"tau2\",\"units\",\"alerts\",\"alarms\"}:\n"
        "                       phi and tau2 as estimated (tau2 0 unless phi > 1), units those\n"
        "                       with a denominator > 0, alerts beyond 95% only, alarms beyond "
        "99.8%\n"
        "  --help               show this help\n"
        "\n"
        "Exit status 0, or 2 on a usage error or a file that cannot be read (the message names "
        "the\n"
        "row, the header being row 1, and the column).\n",
        out);
}

static int write_summary(const char *path, const funnel_summary_t *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "target", isnan(s->target) ? json_null() : json_real(s->target));
    json_object_set_new(o, "phi", isnan(s->phi) ? json_null() : json_real(s->phi));
    json_object_set_new(o, "tau2", json_real(s->tau2));
    json_object_set_new(o, "units", json_integer((json_int_t)s->units));
    json_object_set_new(o, "alerts", json_integer((json_int_t)s->alerts));
    json_object_set_new(o, "alarms", json_integer((json_int_t)s->alarms));
    int rc = json_dump_file(o, path, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (rc != 0) {
        fprintf(stderr, "ncap funnel: could not write file \"%s\": %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

static int run(const funnel_opts_t *opts, const char *path, const char *summary_path)
{
    funnel_input_t *in = funnel_file_read("funnel", path, opts->type);
    if (!in)
        return 2;
    size_t n = funnel_input_size(in);
    const funnel_unit_t *units = funnel_input_units(in);
    funnel_point_t *points = malloc((n ? n : 1) * sizeof *points);
    funnel_summary_t summary;
    char err[512];
    if (!points || funnel_compute(opts, units, n, points, &summary, err, sizeof err) != 0) {
        fprintf(stderr, "ncap funnel: %s\n", points ? err : "out of memory");
        free(points);
        funnel_input_destroy(&in);
        return 2;
    }
    static const char *const header[] = {"unit",     "numerator", "denominator", "value",
                                         "target",   "lower95",   "upper95",     "lower998",
                                         "upper998", "flag"};
    csv_write_row(stdout, header, 10);
    char num[10][32];
    for (size_t i = 0; i < n; i++) {
        const funnel_point_t *p = &points[i];
        double v[8] = {units[i].numerator, units[i].denominator, p->value,    summary.target,
                       p->lower95,         p->upper95,           p->lower998, p->upper998};
        const char *row[10];
        row[0] = funnel_input_name(in, i);
        for (int j = 0; j < 8; j++) {
            number_text(num[j], sizeof num[j], v[j]);
            row[j + 1] = num[j];
        }
        row[9] = funnel_flag_name(p->flag);
        csv_write_row(stdout, row, 10);
    }
    free(points);
    funnel_input_destroy(&in);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "ncap funnel: could not write to standard output\n");
        return 2;
    }
    return summary_path ? write_summary(summary_path, &summary) : 0;
}

int cmd_funnel(int argc, char **argv)
{
    static const struct option longopts[] = {{"type", required_argument, 0, 'T'},
                                             {"limits", required_argument, 0, 'l'},
                                             {"overdispersion", required_argument, 0, 'o'},
                                             {"method", required_argument, 0, 'm'},
                                             {"trim", required_argument, 0, 'r'},
                                             {"target", required_argument, 0, 't'},
                                             {"summary", required_argument, 0, 's'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    funnel_opts_t opts = funnel_opts_default(FUNNEL_PROPORTION);
    int have_type = 0;
    const char *summary_path = NULL;
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'T':
            if (funnel_file_type(optarg, &opts.type) != 0)
                return usage_error("funnel", "--type is \"%s\", expected proportion or ratio",
                                   optarg);
            have_type = 1;
            break;
        case 'l':
            if (strcmp(optarg, "exact") == 0)
                opts.limits = FUNNEL_LIMITS_EXACT;
            else if (strcmp(optarg, "normal") == 0)
                opts.limits = FUNNEL_LIMITS_NORMAL;
            else
                return usage_error("funnel", "--limits is \"%s\", expected exact or normal",
                                   optarg);
            break;
        case 'o':
            if (strcmp(optarg, "none") == 0)
                opts.overdispersion = FUNNEL_OD_NONE;
            else if (strcmp(optarg, "multiplicative") == 0)
                opts.overdispersion = FUNNEL_OD_MULTIPLICATIVE;
            else if (strcmp(optarg, "additive") == 0)
                opts.overdispersion = FUNNEL_OD_ADDITIVE;
            else
                return usage_error("funnel",
                                   "--overdispersion is \"%s\", expected none, multiplicative or "
                                   "additive",
                                   optarg);
            break;
        case 'm':
            if (strcmp(optarg, "shmi") == 0)
                opts.method = FUNNEL_METHOD_SHMI;
            else if (strcmp(optarg, "cqc") == 0)
                opts.method = FUNNEL_METHOD_CQC;
            else
                return usage_error("funnel", "--method is \"%s\", expected shmi or cqc", optarg);
            break;
        case 'r':
            if (number_arg(optarg, &opts.trim) != 0 || !(opts.trim >= 0 && opts.trim < 0.5))
                return usage_error("funnel", "--trim is \"%s\", expected a number 0 <= F < 0.5",
                                   optarg);
            break;
        case 't':
            if (number_arg(optarg, &opts.target) != 0 || !(opts.target >= 0))
                return usage_error("funnel", "--target is \"%s\", expected a number >= 0", optarg);
            break;
        case 's':
            summary_path = optarg;
            break;
        default: /* ':' or '?' */
            return usage_error_option("funnel", c, argv);
        }
    }
    if (!have_type)
        return usage_error("funnel", "--type is required: proportion or ratio");
    if (opts.type == FUNNEL_PROPORTION && !isnan(opts.target) && opts.target > 1)
        return usage_error("funnel", "--target is %g, expected 0-1 for proportions", opts.target);
    if (opts.type == FUNNEL_RATIO && !isnan(opts.target) && !(opts.target > 0))
        return usage_error("funnel", "--target is %g, expected a number > 0 for ratios",
                           opts.target);
    if (optind == argc)
        return usage_error("funnel", "expected an input file");
    if (optind != argc - 1)
        return usage_error("funnel", "expected one input file, got %d", argc - optind);
    return run(&opts, argv[optind], summary_path);
}
