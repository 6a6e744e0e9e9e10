/* cmd_ci.c - `ncap ci`: 95% and 99.8% confidence intervals for each unit of a file. */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>

#include "ci.h"
#include "commands.h"
#include "usage_error.h"
#include "number_text.h"
#include "csv.h"
#include "funnel_file.h"

static void usage(FILE *out)
{
    fputs("usage: ncap ci --type proportion|ratio FILE.csv\n"
          "\n"
          "95% and 99.8% confidence intervals for each unit. FILE.csv (\"-\" for standard input)\n"
          "is as for `ncap funnel`: a header naming unit,numerator,denominator (proportions) or\n"
          "unit,observed,expected (ratios). Writes CSV to standard output:\n"
          "  unit,numerator,denominator,value,lower95,upper95,lower998,upper998\n"
          "(for ratios numerator = observed, denominator = expected, value = O/E).\n"
          "Proportions: Wilson score interval. Ratios: exact Poisson (chi-square) limits for the\n"
          "observed count when it is below 10, Byar's approximation otherwise, divided by the\n"
          "expected count. A unit with denominator (expected) 0 has empty value and limits.\n"
          "Numbers have 17 significant digits.\n"
          "\n"
          "  --type T   proportion or ratio\n"
          "  --help     show this help\n"
          "\n"
          "Exit status 0, or 2 on a usage error or a file that cannot be read (the message names\n"
          "the row, the header being row 1, and the column).\n",
          out);
}

static int run(funnel_type_t type, const char *path)
{
    funnel_input_t *in = funnel_file_read("ci", path, type);
    if (!in)
        return 2;
    static const char *const header[] = {"unit",    "numerator", "denominator", "value",
                                         "lower95", "upper95",   "lower998",    "upper998"};
    csv_write_row(stdout, header, 8);
    const funnel_unit_t *units = funnel_input_units(in);
    for (size_t i = 0; i < funnel_input_size(in); i++) {
        double num = units[i].numerator, den = units[i].denominator;
        double v[7] = {num, den, NAN, NAN, NAN, NAN, NAN};
        if (den > 0) {
            v[2] = num / den;
            if (type == FUNNEL_PROPORTION) {
                ci_wilson(num, den, NCAP_Z95, &v[3], &v[4]);
                ci_wilson(num, den, NCAP_Z998, &v[5], &v[6]);
            } else {
                ci_ratio(num, den, NCAP_Z95, &v[3], &v[4]);
                ci_ratio(num, den, NCAP_Z998, &v[5], &v[6]);
            }
        }
        char text[7][32];
        const char *row[8];
        row[0] = funnel_input_name(in, i);
        for (int j = 0; j < 7; j++) {
            number_text(text[j], sizeof text[j], v[j]);
            row[j + 1] = text[j];
        }
        csv_write_row(stdout, row, 8);
    }
    funnel_input_destroy(&in);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "ncap ci: could not write to standard output\n");
        return 2;
    }
    return 0;
}

int cmd_ci(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"type", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    funnel_type_t type = FUNNEL_PROPORTION;
    bool have_type = false;
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'T':
            if (funnel_file_type(optarg, &type) != 0)
                return usage_error("ci", "--type is \"%s\", expected proportion or ratio", optarg);
            have_type = true;
            break;
        default: /* ':' or '?' */
            return usage_error_option("ci", c, argv);
        }
    }
    if (!have_type)
        return usage_error("ci", "--type is required: proportion or ratio");
    if (optind == argc)
        return usage_error("ci", "expected an input file");
    if (optind != argc - 1)
        return usage_error("ci", "expected one input file, got %d", argc - optind);
    return run(type, argv[optind]);
}
