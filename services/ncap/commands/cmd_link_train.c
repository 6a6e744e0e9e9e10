/* ncap link-train - learns ncap-linkd's linkage parameters from the patient index */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_db.h"
#include "commands.h"
#include "number_arg.h"
#include "db.h"
#include "link_train.h"
#include "patient_index.h"
#include "usage_error.h"

#define CMD "link-train"

static void usage(void)
{
    printf("usage: ncap link-train [--sample N] [--seed S] [--dry-run]\n\n"
           "Learns the parameters ncap-linkd scores with, without labels, from the identifiers\n"
           "held in the patient index (linkage.block): u from random pairs, m by\n"
           "expectation-maximisation over the blocking passes, the prior from the data, as\n"
           "`ncap link` does; and the term frequencies: each forename, surname and postcode\n"
           "held by at least %d patients and more common than its field's u at exact\n"
           "agreement, with its share of the patients, so that agreeing on it weighs less\n"
           "(\"smith\", a care home's postcode). Prints a table of the learned m, u and\n"
           "weight log2(m/u) per field and comparison level (with what the level means)\n"
           "beside the current ones, the prior and the most common values, then\n"
           "stores them all (linkage.match_param, match_setting, match_term_freq) in one\n"
           "transaction; every ncap-linkd instance loads them at its next batch.\n\n"
           "  --sample N  train on N patients chosen by the seed (default: all)\n"
           "  --seed S    seed of the sample and of the random pairs (default 1); the same\n"
           "              index and seed give the same parameters\n"
           "  --dry-run   print, store nothing\n\n"
           "Refuses when the sample holds fewer than %d patients or the fit is degenerate.\n"
           "Reads and writes PostgreSQL through $NCAP_PG.\n",
           LINK_TRAIN_TF_MIN_PATIENTS, LINK_TRAIN_MIN_PATIENTS);
}

/* The sample's identifiers (distinct sets per patient, in a fixed order) into *ids and their
 * patients into *patient, the patients sampled into *npatients and all patients held into
 * *total. */
static int read_sample(PGconn *db, unsigned long long sample, unsigned long long seed,
                       link_ident_t **ids, int64_t **patient, size_t *n, size_t *npatients,
                       size_t *total, char *err, size_t errlen)
{
    char lim[32], sd[32];
    snprintf(lim, sizeof lim, "%llu", sample);
    snprintf(sd, sizeof sd, "%lld", (long long)seed);
    const char *pv[] = {sample ? lim : NULL, sd};
    PGresult *r =
        db_query(db,
                 "WITH p AS (SELECT DISTINCT patient_id FROM linkage.block),"
                 " s AS (SELECT patient_id FROM p ORDER BY hashtextextended(patient_id::text,"
                 "   $2::bigint), patient_id LIMIT $1::bigint)"
                 " SELECT DISTINCT b.patient_id, b.nhs_number, b.forename, b.surname, b.dob, b.sex,"
                 "   b.postcode, (SELECT count(*) FROM s), (SELECT count(*) FROM p)"
                 " FROM linkage.block b JOIN s USING (patient_id) ORDER BY 1, 2, 3, 4, 5, 6, 7",
                 2, pv, err, errlen);
    if (!r)
        return -1;
    size_t rows = (size_t)PQntuples(r);
    *ids = calloc(rows + 1, sizeof **ids);
    *patient = calloc(rows + 1, sizeof **patient);
    if (!*ids || !*patient) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < rows; i++) {
        int k = (int)i;
        (*patient)[i] = strtoll(PQgetvalue(r, k, 0), NULL, 10);
        link_ident_from_values(PQgetvalue(r, k, 1), PQgetvalue(r, k, 2), PQgetvalue(r, k, 3),
                               PQgetvalue(r, k, 4), PQgetvalue(r, k, 5), PQgetvalue(r, k, 6),
                               &(*ids)[i]);
    }
    *n = rows;
    *npatients = rows ? (size_t)strtoull(PQgetvalue(r, 0, 7), NULL, 10) : 0;
    *total = rows ? (size_t)strtoull(PQgetvalue(r, 0, 8), NULL, 10) : 0;
    PQclear(r);
    return 0;
}

/* The fitted m and u per field and comparison level as a table, with what the level means, its
 * weight log2(m / u), and the values in use beside them. */
static void print_params(const link_params_t *cur, const link_params_t *learned)
{
    printf("fitted m and u per comparison level (weight = log2(m / u); a blank on either side is"
           " level 0, null, which weighs 0 and is not fitted):\n");
    printf("%-11s %5s %-22s %12s %12s %8s %12s %12s %8s\n", "field", "level", "meaning", "m", "u",
           "weight", "current_m", "current_u", "current_w");
    for (size_t f = 0; f < LI_NFIELDS; f++)
        for (size_t l = 1; l < link_field_levels(f); l++)
            printf("%-11s %5zu %-22s %12.6g %12.6g %8.2f %12.6g %12.6g %8.2f\n", link_field_name(f),
                   l, fs_kind_level_name(link_train_kind(f), l), learned->m[f][l], learned->u[f][l],
                   learned->w[f][l], cur->m[f][l], cur->u[f][l], cur->w[f][l]);
    printf("log2_prior_odds %.4f (current %.4f)\n", learned->log2_prior_odds, cur->log2_prior_odds);
}

/* Per field: how many values are more common than u, and the most common of them. */
static void print_term_freqs(const link_params_t *learned, const term_freq_t *tf)
{
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        if (!link_field_tf(f))
            continue;
        size_t count = 0;
        const char *top = NULL;
        double top_freq = 0;
        for (size_t k = 0; k < term_freq_size(tf); k++) {
            size_t field;
            const char *v;
            double freq;
            term_freq_entry(tf, k, &field, &v, &freq);
            if (field != f)
                continue;
            count++;
            if (freq > top_freq || (freq == top_freq && strcmp(v, top) < 0))
                top = v, top_freq = freq;
        }
        printf("term frequencies: %-8s %zu values more common than u %.6g", link_field_name(f),
               count, learned->u[f][1]);
        if (top)
            printf(", the most common \"%s\" at %.6g (weight %.2f instead of %.2f)", top, top_freq,
                   fs_tf_weight(learned->m[f][1], top_freq, learned->u[f][1]), learned->w[f][1]);
        printf("\n");
    }
}

int cmd_link_train(int argc, char **argv)
{
    unsigned long long sample = 0, seed = 1;
    int dry_run = 0;
    static const struct option opts[] = {{"sample", required_argument, 0, 'n'},
                                         {"seed", required_argument, 0, 's'},
                                         {"dry-run", no_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        } else if (c == 'n') {
            if (number_arg_whole(optarg, ULLONG_MAX, &sample) != 0 || sample == 0)
                return usage_error(CMD, "--sample has value \"%s\", expected a positive integer",
                                   optarg);
        } else if (c == 's') {
            if (number_arg_whole(optarg, ULLONG_MAX, &seed) != 0)
                return usage_error(CMD, "--seed has value \"%s\", expected an integer >= 0",
                                   optarg);
        } else if (c == 'd')
            dry_run = 1;
        else
            return usage_error(CMD, "unknown option");
    }
    if (optind != argc)
        return usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);

    PGconn *db = command_db_connect(CMD);
    if (!db)
        return 2;
    char err[1024];
    link_ident_t *ids = NULL;
    int64_t *patient = NULL;
    term_freq_t *tf = NULL;
    size_t n = 0, npatients = 0, total = 0;
    link_params_t cur, learned;
    int rc = 2;
    /* one snapshot for reading, one transaction for writing */
    if (db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", err, sizeof err) != 0 ||
        patient_index_load_params(db, &cur, err, sizeof err) != 0 ||
        read_sample(db, sample, seed, &ids, &patient, &n, &npatients, &total, err, sizeof err) !=
            0) {
        fprintf(stderr, "ncap " CMD ": %s\n", err);
        goto done;
    }
    rc = 1;
    if (npatients < LINK_TRAIN_MIN_PATIENTS) {
        fprintf(stderr,
                "ncap " CMD ": sample too small: %zu patients, at least %d needed (the index"
                " holds %zu)\n",
                npatients, LINK_TRAIN_MIN_PATIENTS, total);
        goto done;
    }
    printf("trained on %zu identifier sets of %zu patients (of %zu held), seed %llu\n", n,
           npatients, total, seed);
    if (link_train(ids, n, total, seed, &cur, &learned, err, sizeof err) != 0 ||
        link_train_term_freqs(ids, patient, n, &learned, &tf, err, sizeof err) != 0) {
        fprintf(stderr, "ncap " CMD ": %s; parameters left unchanged\n", err);
        goto done;
    }
    print_params(&cur, &learned);
    print_term_freqs(&learned, tf);
    if (dry_run) {
        printf("dry run: nothing stored\n");
        rc = 0;
        goto done;
    }
    if (patient_index_store_term_freqs(db, tf, err, sizeof err) != 0 ||
        patient_index_store_params(db, &learned, true, err, sizeof err) != 0 ||
        db_exec(db, "COMMIT", err, sizeof err) != 0) {
        fprintf(stderr, "ncap " CMD ": could not store the parameters: %s\n", err);
        rc = 2;
        goto done;
    }
    printf("stored; ncap-linkd instances load them at their next batch\n");
    rc = 0;
done:
    free(ids);
    free(patient);
    term_freq_destroy(&tf);
    PQfinish(db); /* rolls back whatever was not committed */
    return rc;
}
