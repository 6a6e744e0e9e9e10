/* cmd_sim.c - `ncap sim`: simulated trusts, written to files or submitted round after round. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "number_arg.h"
#include "usage_error.h"
#include "datetime.h"
#include "sim_files.h"
#include "sim_submit.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap sim --audit nhfd [--trusts K] [--records N] [--seed S] [--out DIR]\n"
        "                [--truth FILE] [--invalid-rate R] [--start YYYY-MM-DD] [--days D]\n"
        "                [--problems N | KIND=N ...] [--problems-truth FILE]\n"
        "                [--deaths FILE] [--deaths-truth FILE] [--optouts FILE]\n"
        "       ncap sim --audit nela [--trusts K] [--records N] [--seed S] [--out DIR]\n"
        "                [--truth FILE] [--trusts-truth FILE] [--invalid-rate R] [--start ...]\n"
        "                [--days D] [--deaths FILE] [--deaths-truth FILE] [--optouts FILE]\n"
        "       ncap sim --audit nhfd|nela [--trusts K] [--records N] [--seed S] --submit\n"
        "                [--interval SECONDS] [--rounds R] [--invalid-rate R] [--start ...]\n"
        "                [--deaths FILE [--deaths-step DAYS]]\n"
        "       ncap sim linkage [--records N] [--seed S] [--blank FIELD=RATE ...] [--out FILE]\n"
        "                a test population for record linkage, with its truth (see\n"
        "                ncap sim linkage --help)\n"
        "\n"
        "Writes realistic, entirely synthetic audit records the way trusts send them, with a "
        "known\n"
        "truth to score the pipeline against. The same options always give the same bytes.\n"
        "\n"
        "  --audit NAME        audit to simulate: nhfd (hip fracture) or nela (emergency\n"
        "                      laparotomy; see NELA below)\n"
        "  --trusts K          number of trusts, 1-500 (default 20); English acute trust codes\n"
        "  --records N         records in all, spread over the trusts by size (default 1000)\n"
        "  --seed S            seed of the generator, 0 or more (default 1)\n"
        "  --out DIR           write one file per trust, DIR/<ODS>.csv (DIR is created);\n"
        "                      without it, one header and every trust's rows go to stdout\n"
        "  --truth FILE        write the truth as CSV: local_record_id, trust_code, row (line\n"
        "                      in the file written, header is line 1), patient_id, invalid (1\n"
        "                      when the row has an error), reason (the kind of its problem),\n"
        "                      nhs_number_issue, opted_out; for nela also risk, true_risk,\n"
        "                      died_30d, date_of_death (see NELA below)\n"
        "  --trusts-truth FILE nela: the truth about each trust: trust_code, role\n"
        "                      (excess_risk, sicker_patients or ordinary), odds_ratio,\n"
        "                      frailty_shift, poor_times, records, valid_records,\n"
        "                      expected_30d (the true model's expected deaths within 30 days\n"
        "                      over the valid records), deaths_30d\n"
        "  --invalid-rate R    share of rows, 0-1, with one error in a clinical field (default\n"
        "                      0.02; exactly round(R * N) rows): missing_required, bad_datetime\n"
        "                      or bad_code\n"
        "  --problems N        also give N rows each kind of problem `ncap validate` reports\n"
        "  --problems KIND=N   ... or N rows this kind (repeatable; kinds below); rows with a\n"
        "                      problem are patients seen once, one problem each, and --records\n"
        "                      defaults to what holds them (10 rows per 7 problems)\n"
        "  --problems-truth FILE  every problem `ncap validate` reports on the files written:\n"
        "                      row,field,rule,severity,trust_code (row as in --truth; rows not\n"
        "                      listed are clean; validate one trust's file at a time)\n"
        "  --deaths FILE       a register-of-deaths extract: nhs_number,forename,surname,\n"
        "                      date_of_birth,sex,postcode,date_of_death\n"
        "  --deaths-truth FILE row,patient_id for each row of --deaths (row: line in that file,\n"
        "                      header line 1; patient_id empty for people not in the audit)\n"
        "  --optouts FILE      national data opt-out list: nhs_number (column opted_out of\n"
        "                      --truth says which patients)\n"
        "  --start DATE        first arrival date (default 2025-04-01)\n"
        "  --days D            arrivals spread over D days from the start (default 365)\n"
        "  --submit            keep submitting: each round generates N records (seed S + round)\n"
        "                      and sends one file per trust to ingest ($NCAP_INGEST, or the live\n"
        "                      ingest registered in $NCAP_PG), each trust with its own key\n"
        "                      ($NCAP_CLIENT_KEYS/<ODS>.key and $NCAP_CURVE_SERVER_KEY, see\n"
        "                      ncap keys --help); prints one line per round\n"
        "  --interval SECONDS  pause between rounds with --submit (default 5)\n"
        "  --rounds R          stop after R rounds with --submit (default 0: until SIGTERM)\n"
        "  --deaths FILE       with --submit: a register of deaths that follows the rounds.\n"
        "                      The simulated date advances --deaths-step days a round (default\n"
        "                      14) from --start: after round R the register covers deaths to\n"
        "                      start + R x step, and holds the deaths of the patients of rounds\n"
        "                      1..R (and of people not in the audit) dated up to then; later\n"
        "                      ones wait for their round. Each round rewrites FILE whole, then\n"
        "                      FILE.covers-to (the day it covers to, YYYY-MM-DD): load it with\n"
        "                      ncap refdata load deaths FILE --covers-to \"$(cat "
        "FILE.covers-to)\"\n"
        "                      (read FILE.covers-to first). A FILE of an earlier run is added\n"
        "                      to, and its coverage never goes back\n"
        "  --deaths-step DAYS  days the register's date advances a round, 1-3660 (default 14)\n"
        "  --help              show this help\n"
        "\n"
        "About 9% of rows are a patient seen in another row (a transfer to another trust a few\n"
        "hours later, or the other hip months later). Such a repeat visit is written with the\n"
        "noise of real records: forename as a nickname 12% or with a typo 8%; surname with a\n"
        "typo 8% or changed (marriage, double-barrelled) 2%; names swapped 1%; date of birth\n"
        "mistyped 5% (day and month swapped, or the day, month or year one off); a new\n"
        "postcode and LSOA 15%; NHS number missing 4% or mistyped 2%. Besides, 2% of all rows\n"
        "have a mistyped or missing NHS number. LSOAs are real 2011 English codes.\n"
        "\n"
        "Deaths: patients who died in hospital, and about a quarter of the others within a year\n"
        "of discharge (never before an arrival); as many people not in the audit, one in five\n"
        "with the name of an audit patient. A patient's row in the register has NHS number\n"
        "missing 5% or mistyped 1%, forename typo 2%, surname typo 2% or changed 1%, date of\n"
        "birth typo 1%, another postcode 20%, sex empty unless 1 or 2. Opt-outs: 5% of\n"
        "patients, and as many people not in the audit.\n"
        "\n"
        "Kinds of problem (field, rule id, severity as `ncap validate` reports them):\n"
        "  required (10 required fields, required, error), type_integer (asa_grade),\n"
        "  type_date (discharge_date), type_datetime_iso and type_datetime_uk (the four\n"
        "  date-time fields), type_boolean (never_admitted_to_ward): type, error;\n"
        "  type_postcode, type_lsoa: type, warning; type_ods: site_code, site_trust, error;\n"
        "  code (9 code fields), code_sex, code_ethnic: code, error; range (asa_grade) and\n"
        "  pattern (local_record_id): errors; nhs_number_invalid, nhs_number_placeholder,\n"
        "  nhs_number_test, nhs_number_missing, dob_invalid, dob_missing: warnings; and each\n"
        "  rule of nhfd.yaml by its id, with its severity: surgery_before_arrival,\n"
        "  ortho_before_arrival, discharge_before_arrival, ward_admission_never_admitted,\n"
        "  age_over_110, surgery_after_30_days, operation_without_surgery and\n"
        "  probable_duplicate_episode (a second episode of one patient, same side, within\n"
        "  30 days, in the same trust's file).\n"
        "\n"
        "About 3 in 20 trusts write dates as DD/MM/YYYY, and about 3 in 20 perform worse (longer\n"
        "delays to surgery and orthogeriatric review); a summary on stderr names them.\n"
        "\n"
        "NELA: every field of deploy/audits/nela.yaml, one record a patient (no repeat visits;\n"
        "--problems is nhfd only). The risk factors are drawn jointly through latent frailty,\n"
        "acute severity and age (older patients have higher ASA grades and worse cardiac and\n"
        "respiratory signs; the acutely ill a faster pulse, lower pressure, more soiling, a more\n"
        "urgent operation). Death within 30 days of the day of arrival (never before surgery)\n"
        "is drawn from the true logistic model, nela.yaml's nela_mortality_30d (restated in\n"
        "services/ncap/sim/nela_model.c), its odds multiplied by 3 at the trusts with excess\n"
        "risk (about 3 in 20, at least 1 of 3 or more trusts); one other trust sees sicker\n"
        "patients (frailty +0.8 SD) with ordinary care. Trusts' roles depend on the seed only.\n"
        "The register of deaths holds those deaths, 7% of the others dying within the year,\n"
        "and as many people not in the audit. --truth gives each record's risk;\n"
        "--trusts-truth and the summary name the trusts. Poorer-performing trusts take longer\n"
        "to theatre and document the risk less often.\n",
        out);
}

int cmd_sim(int argc, char **argv)
{
    enum {
        O_AUDIT = 1000,
        O_TRUSTS,
        O_RECORDS,
        O_SEED,
        O_OUT,
        O_TRUTH,
        O_INVALID_RATE,
        O_START,
        O_DAYS,
        O_SUBMIT,
        O_INTERVAL,
        O_ROUNDS,
        O_DEATHS_STEP,
        O_PROBLEMS,
        O_PROBLEMS_TRUTH,
        O_DEATHS,
        O_DEATHS_TRUTH,
        O_OPTOUTS,
        O_TRUSTS_TRUTH,
        O_HELP
    };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"trusts", required_argument, NULL, O_TRUSTS},
        {"records", required_argument, NULL, O_RECORDS},
        {"seed", required_argument, NULL, O_SEED},
        {"out", required_argument, NULL, O_OUT},
        {"truth", required_argument, NULL, O_TRUTH},
        {"invalid-rate", required_argument, NULL, O_INVALID_RATE},
        {"start", required_argument, NULL, O_START},
        {"days", required_argument, NULL, O_DAYS},
        {"submit", no_argument, NULL, O_SUBMIT},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"deaths-step", required_argument, NULL, O_DEATHS_STEP},
        {"problems", required_argument, NULL, O_PROBLEMS},
        {"problems-truth", required_argument, NULL, O_PROBLEMS_TRUTH},
        {"deaths", required_argument, NULL, O_DEATHS},
        {"deaths-truth", required_argument, NULL, O_DEATHS_TRUTH},
        {"optouts", required_argument, NULL, O_OPTOUTS},
        {"trusts-truth", required_argument, NULL, O_TRUSTS_TRUTH},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    if (argc > 1 && strcmp(argv[1], "linkage") == 0)
        return cmd_sim_linkage(argc - 1, argv + 1);
    sim_opts_t opts;
    sim_opts_default(&opts);
    const char *audit = NULL, *out_dir = NULL, *truth = NULL;
    sim_outputs_t outs = {0};
    bool submit = false, interval_given = false, rounds_given = false, records_given = false;
    unsigned deaths_step = 0; /* --deaths-step, 0 when not given */
    double interval = 5.0;
    unsigned long long rounds = 0, v;
    int y, m, d;

    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case O_AUDIT:
            audit = arg;
            break;
        case O_TRUSTS:
            if (number_arg_whole(arg, SIM_MAX_TRUSTS, &v) != 0 || v < 1)
                return usage_error("sim", "invalid value \"%s\" for --trusts, expected 1-500", arg);
            opts.trusts = (unsigned)v;
            break;
        case O_RECORDS:
            if (number_arg_whole(arg, SIM_MAX_RECORDS, &v) != 0)
                return usage_error("sim", "invalid value \"%s\" for --records, expected 0-5000000",
                                   arg);
            opts.records = (unsigned)v;
            records_given = true;
            break;
        case O_SEED:
            if (number_arg_whole(arg, UINT64_MAX, &v) != 0)
                return usage_error("sim",
                                   "invalid value \"%s\" for --seed, expected a whole number", arg);
            opts.seed = v;
            break;
        case O_OUT:
            out_dir = arg;
            break;
        case O_TRUTH:
            truth = arg;
            break;
        case O_INVALID_RATE:
            if (number_arg(arg, &opts.invalid_rate) != 0 || opts.invalid_rate < 0 ||
                opts.invalid_rate > 1)
                return usage_error("sim", "invalid value \"%s\" for --invalid-rate, expected 0-1",
                                   arg);
            break;
        case O_START:
            if (ncap_date_parse(arg, &y, &m, &d) != 0)
                return usage_error("sim", "invalid value \"%s\" for --start, expected YYYY-MM-DD",
                                   arg);
            opts.start_day = ncap_days_from_civil(y, m, d);
            break;
        case O_DAYS:
            if (number_arg_whole(arg, 36600, &v) != 0 || v < 1)
                return usage_error("sim", "invalid value \"%s\" for --days, expected 1-36600", arg);
            opts.days = (unsigned)v;
            break;
        case O_SUBMIT:
            submit = true;
            break;
        case O_INTERVAL:
            if (number_arg(arg, &interval) != 0 || interval < 0 || interval > 86400)
                return usage_error(
                    "sim", "invalid value \"%s\" for --interval, expected 0-86400 seconds", arg);
            interval_given = true;
            break;
        case O_ROUNDS:
            if (number_arg_whole(arg, UINT_MAX, &v) != 0)
                return usage_error("sim", "invalid value \"%s\" for --rounds, expected 0 or more",
                                   arg);
            rounds = v;
            rounds_given = true;
            break;
        case O_DEATHS_STEP:
            if (number_arg_whole(arg, 3660, &v) != 0 || v < 1)
                return usage_error("sim", "invalid value \"%s\" for --deaths-step, expected 1-3660",
                                   arg);
            deaths_step = (unsigned)v;
            break;
        case O_PROBLEMS: {
            const char *eq = strchr(arg, '=');
            char kind[64];
            snprintf(kind, sizeof kind, "%.*s", eq ? (int)(eq - arg) : 0, arg);
            sim_problem_kind_t k = eq ? sim_problem_kind_parse(kind) : SIM_P_NONE;
            if (eq && k == SIM_P_NONE)
                return usage_error(
                    "sim", "unknown kind of problem \"%s\" for --problems (see --help)", kind);
            if (number_arg_whole(eq ? eq + 1 : arg, 1000000, &v) != 0)
                return usage_error(
                    "sim",
                    "invalid value \"%s\" for --problems, expected N or KIND=N (N 0-1000000)", arg);
            for (int i = 1; i < SIM_NPROBLEM_KINDS; i++)
                if (!eq || i == (int)k)
                    opts.problems[i] = (unsigned)v;
            break;
        }
        case O_PROBLEMS_TRUTH:
            outs.problems_truth = arg;
            break;
        case O_DEATHS:
            outs.deaths = arg;
            break;
        case O_DEATHS_TRUTH:
            outs.deaths_truth = arg;
            break;
        case O_OPTOUTS:
            outs.optouts = arg;
            break;
        case O_TRUSTS_TRUTH:
            outs.trusts_truth = arg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' or '?' */
            return usage_error_option("sim", c, argv);
        }
    }
    if (optind < argc)
        return usage_error("sim", "unexpected argument \"%s\"", argv[optind]);
    if (!audit)
        return usage_error("sim", "%s", "option --audit is required (\"nhfd\" or \"nela\")");
    bool nela = strcmp(audit, "nela") == 0;
    if (!nela && strcmp(audit, "nhfd") != 0)
        return usage_error("sim",
                           "audit \"%s\" cannot be simulated: only \"nhfd\" (hip fracture) and "
                           "\"nela\" (emergency laparotomy) are supported",
                           audit);
    if (nela && (sim_min_records(&opts) > 0 || outs.problems_truth))
        return usage_error("sim", "%s",
                           "--problems and --problems-truth are for --audit nhfd only");
    if (!nela && outs.trusts_truth)
        return usage_error("sim", "%s", "--trusts-truth is for --audit nela only");
    opts.audit = audit;
    if (submit && (out_dir || truth || outs.problems_truth || outs.deaths_truth || outs.optouts))
        return usage_error("sim", "%s",
                           "--out and the files of truth and opt-outs cannot be used with "
                           "--submit");
    if (deaths_step && !(submit && outs.deaths))
        return usage_error("sim", "%s", "--deaths-step needs --submit and --deaths");
    if (!records_given && sim_min_records(&opts) > opts.records) {
        size_t need = sim_min_records(&opts);
        if (need > SIM_MAX_RECORDS)
            return usage_error("sim", "%s", "too many problems asked for: at most 5000000 records");
        opts.records = (unsigned)need;
    }
    if (submit && outs.trusts_truth)
        return usage_error("sim", "%s", "--trusts-truth cannot be used with --submit");
    if (!submit && (interval_given || rounds_given))
        return usage_error("sim", "%s", "--interval and --rounds need --submit");

    if (submit) {
        char err[512];
        sim_register_t *reg = NULL;
        if (outs.deaths &&
            !(reg = sim_register_open(outs.deaths, opts.start_day, deaths_step ? deaths_step : 14,
                                      err, sizeof err))) {
            fprintf(stderr, "ncap sim: %s\n", err);
            return 2;
        }
        int rc = sim_submit_rounds(&opts, interval, rounds, reg);
        sim_register_destroy(&reg);
        return rc;
    }

    char err[512];
    sim_t *sim = sim_new(&opts, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "ncap sim: %s\n", err);
        return 2;
    }
    outs.out_dir = out_dir;
    outs.truth = truth;
    int rc = sim_write_files(sim, &outs);
    sim_destroy(&sim);
    return rc;
}
