/* cmd_sim_linkage.c - `ncap sim linkage`: a test population for record linkage, with its truth. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "linkage_pop.h"
#include "number_arg.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap sim linkage [--records N] [--seed S] [--blank FIELD=RATE ...] [--out FILE]\n"
          "                        [--relations FILE]\n"
          "\n"
          "Writes a population to test record linkage on, as CSV with the truth in column\n"
          "cluster (which person each record is: for scoring only, never to link with):\n"
          "  unique_id,nhs_number,first_name,surname,dob,sex,postcode,city,email,cluster\n"
          "the columns of splink's fake_1000 demo with nhs_number, sex and postcode added, so one\n"
          "set of `ncap link --map` options serves both. unique_id numbers the rows from 0;\n"
          "cluster numbers the people from 0. The same options always give the same bytes; memory\n"
          "is about 5 bytes a record (500,000 records in a second or two).\n"
          "\n"
          "  --records N         records in all, 1-5000000 (default 50000)\n"
          "  --seed S            seed of the generator, 0 or more (default 1)\n"
          "  --blank FIELD=RATE  share of records, 0-1, with FIELD left blank (repeatable);\n"
          "                      defaults: nhs_number=0.3 first_name=0.02 surname=0.02 dob=0.05\n"
          "                      sex=0.02 postcode=0.1 city=0.1 email=0.5\n"
          "  --out FILE          write to FILE instead of standard output\n"
          "  --relations FILE    also write cluster,related_to,relation for each person related\n"
          "                      to the one numbered before them: twin, spouse or relative\n"
          "  --help              show this help\n"
          "\n"
          "People: seen k = 1-20 times in proportion to k^-1.5 (46% once, 38% three times or\n"
          "more; 3.5 records a person on average), the records of all people shuffled. Sex 50:50;\n"
          "ages even to 64 on 2025-01-01, then fewer each year to 99. Forenames: 85% from 128\n"
          "common ones (with their nicknames) drawn in proportion to 1/(rank + 3), 15% from about\n"
          "1,900 rarer made-up ones; surnames: 25% from 112 common ones in proportion to\n"
          "1/(rank + 5) (Smith about 1.3% of people), 75% from about 57,000 rarer made-up ones in\n"
          "proportion to 1/(rank + 100), most held by a handful of people. Each person has their\n"
          "own valid NHS number and email address (name-based, 50% with two digits). Households:\n"
          "a person is the twin (1.5%: same date of birth, another forename), spouse (6%: the\n"
          "other sex, born within 8 years) or another relative (6%: sibling within 12 years, or\n"
          "parent or child 20-40 years apart) of the person numbered before them, with their\n"
          "surname and first postcode. Moves: 25% of people have lived at two addresses, a fifth\n"
          "of those at three (60% in the same postcode area), their visits in order across them;\n"
          "city is the post town of the postcode area. Marriage: 6% of women seen more than once\n"
          "take a new surname (30% double-barrelled) from a visit on.\n"
          "\n"
          "Each record as written: forename as a nickname 10% (when the name has one), with a\n"
          "typo 5% (two letters swapped, one dropped or one doubled), the initial only 1%;\n"
          "surname with a typo 5%; forename and surname swapped 1%; date of birth mistyped 4%\n"
          "(day and month swapped, or the day, month or year one off); sex the other 0.5%;\n"
          "postcode mistyped 2% (the unit's letters swapped or the sector one off); city with a\n"
          "typo 2%; NHS number mistyped 1% (fails its check digit); email with a typo 3%. Then\n"
          "each field is left blank at its --blank rate, independently. A summary goes to\n"
          "standard error.\n",
          out);
}

int cmd_sim_linkage(int argc, char **argv)
{
    enum { O_RECORDS = 1000, O_SEED, O_BLANK, O_OUT, O_RELATIONS, O_HELP };
    static const struct option longopts[] = {
        {"records", required_argument, NULL, O_RECORDS},
        {"seed", required_argument, NULL, O_SEED},
        {"blank", required_argument, NULL, O_BLANK},
        {"out", required_argument, NULL, O_OUT},
        {"relations", required_argument, NULL, O_RELATIONS},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    linkage_pop_opts_t opts;
    linkage_pop_opts_default(&opts);
    const char *out_path = NULL, *relations_path = NULL;
    unsigned long long v;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case O_RECORDS:
            if (number_arg_whole(arg, LINKAGE_POP_MAX_RECORDS, &v) != 0 || v < 1)
                return usage_error("sim linkage",
                                   "invalid value \"%s\" for --records, expected 1-5000000", arg);
            opts.records = (size_t)v;
            break;
        case O_SEED:
            if (number_arg_whole(arg, UINT64_MAX, &v) != 0)
                return usage_error("sim linkage",
                                   "invalid value \"%s\" for --seed, expected a whole number", arg);
            opts.seed = v;
            break;
        case O_BLANK: {
            const char *eq = strchr(arg, '=');
            char name[32];
            linkage_pop_field_t f;
            double rate;
            if (!eq || (size_t)(eq - arg) >= sizeof name)
                return usage_error("sim linkage", "--blank takes FIELD=RATE, not \"%s\"", arg);
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            if (linkage_pop_field_parse(name, &f) != 0)
                return usage_error("sim linkage",
                                   "unknown field \"%s\" in --blank, expected nhs_number, "
                                   "first_name, surname, dob, sex, postcode, city or email",
                                   name);
            if (number_arg(eq + 1, &rate) != 0 || rate < 0 || rate > 1)
                return usage_error("sim linkage", "invalid rate \"%s\" in --blank %s, expected 0-1",
                                   eq + 1, arg);
            opts.blank[f] = rate;
            break;
        }
        case O_OUT:
            out_path = arg;
            break;
        case O_RELATIONS:
            relations_path = arg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' or '?' */
            return usage_error_option("sim linkage", c, argv);
        }
    }
    if (optind < argc)
        return usage_error("sim linkage", "unexpected argument \"%s\"", argv[optind]);

    FILE *out = stdout, *relations = NULL;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "ncap sim linkage: could not write \"%s\": %s\n", out_path,
                strerror(errno));
        return 2;
    }
    if (relations_path && !(relations = fopen(relations_path, "w"))) {
        fprintf(stderr, "ncap sim linkage: could not write \"%s\": %s\n", relations_path,
                strerror(errno));
        if (out != stdout)
            fclose(out);
        return 2;
    }
    char err[256];
    linkage_pop_stats_t st;
    int rc = linkage_pop_write(&opts, out, relations, &st, err, sizeof err) == 0 ? 0 : 2;
    if (rc != 0)
        fprintf(stderr, "ncap sim linkage: %s\n", err);
    if (relations && fclose(relations) != 0 && rc == 0) {
        fprintf(stderr, "ncap sim linkage: could not write \"%s\": %s\n", relations_path,
                strerror(errno));
        rc = 2;
    }
    int closed = out == stdout ? fflush(out) : fclose(out);
    if (closed != 0 && rc == 0) {
        fprintf(stderr, "ncap sim linkage: could not write the records: %s\n", strerror(errno));
        rc = 2;
    }
    if (rc == 0) {
        size_t once = st.seen[1], many = 0;
        for (size_t k = 3; k <= LINKAGE_POP_MAX_VISITS; k++)
            many += st.seen[k];
        fprintf(stderr,
                "ncap sim linkage: %zu records of %zu people (%zu seen once, %zu three times or "
                "more); %zu twins, %zu spouses, %zu other relatives\n",
                st.records, st.people, once, many, st.related[LINKAGE_POP_TWIN],
                st.related[LINKAGE_POP_SPOUSE], st.related[LINKAGE_POP_RELATIVE]);
    }
    return rc;
}
