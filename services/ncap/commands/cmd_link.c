/* cmd_link.c - `ncap link`: probabilistic record linkage of one or two CSV files, offline. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "usage_error.h"
#include "csv.h"
#include "file_read.h"
#include "blocking.h"
#include "fs_model.h"
#include "link_memory.h"
#include "link_train.h"

#define MAX_MAPS 64

static void usage(FILE *out)
{
    fputs(
        "usage: ncap link --map COLUMN=KIND [--map ...] [--threshold P] [--pairs PAIRS.csv]\n"
        "                 [--seed S] [--components | --one-to-one | --incremental] A.csv [B.csv]\n"
        "       ncap link --map COLUMN=KIND [--map ...] --explain ID1 ID2 A.csv [B.csv]\n"
        "\n"
        "Finds the same person across records, without labels (Fellegi-Sunter: u from random\n"
        "pairs, m and the prior by expectation-maximisation over candidate pairs from several\n"
        "blocking rules, term-frequency adjustment for names). One file: duplicates within it.\n"
        "Two files: links A to B (only pairs across the files). A blank or unparseable value,\n"
        "or a placeholder for one (\"unknown\", ZZ99 3WZ), on either side weighs 0 in every\n"
        "kind: missing is not disagreement.\n"
        "\n"
        "Records become people in groups that hold together: the pairs at or above the\n"
        "threshold are taken from the most probable down, and each joins its two records'\n"
        "groups only when a record joining a group matches the group's records on average\n"
        "(mean match probability over the pairs scored between them at or above the\n"
        "threshold), and two groups joining match each other on average over all pairs\n"
        "across them (a pair not scored counting as 0). So one record that looks like two\n"
        "people (a relative, a typo) joins the one it matches best and does not chain the\n"
        "other into it. Two valid NHS numbers more than a digit apart are two people: no\n"
        "group holds such a pair. The same rule as ncap-linkd's, and the same threshold: no\n"
        "other setting.\n"
        "\n"
        "  --map COLUMN=KIND  how to compare a column; KIND is id (the record key, required),\n"
        "                     nhs_number, forename, surname, name, dob (YYYY-MM-DD, YYYYMMDD or\n"
        "                     DD/MM/YYYY), sex, postcode (UK), number (any identifier number),\n"
        "                     text (free text compared fuzzily), exact or ignore. Columns not\n"
        "                     mapped are ignored\n"
        "  --threshold P      link pairs whose match probability is P or more, and groups whose\n"
        "                     mean is (default 0.5)\n"
        "  --pairs FILE       also write record_id_l,record_id_r,match_weight,match_probability\n"
        "                     for scored pairs above 0.01\n"
        "  --seed S           seed for the random pairs u is learned from (default 1)\n"
        "  --components       plain connected components of the pairs at or above the\n"
        "                     threshold instead (chains lookalikes into one person)\n"
        "  --one-to-one       each record links to at most one other, the most probable first\n"
        "                     (a death to one patient), instead of joining whole groups\n"
        "  --incremental      ncap-linkd's algorithm instead, in memory: each record in file\n"
        "                     order joins the patient held so far whose sets of identifiers\n"
        "                     found by its blocking keys it matches on average, or becomes a new\n"
        "                     one; two patients it matches are merged when they match each other\n"
        "                     on average (all pairs of their sets); it compares the columns of "
        "kinds\n"
        "                     nhs_number, forename, surname, dob, sex and postcode, with m, u\n"
        "                     and the prior learned from the records as `ncap link-train`\n"
        "                     learns them (the defaults if the fit is degenerate). To measure\n"
        "                     how far the daemon agrees with the batch linker\n"
        "  --explain ID1 ID2  print the waterfall of one pair instead (ID1 in A, ID2 in B, or\n"
        "                     both in A), with the model trained as for linking: per mapped\n"
        "                     column the values compared (normalised), the comparison level and\n"
        "                     what it means, m and u at that level, the weight log2(m/u) (0 for\n"
        "                     null), the term-frequency adjustment added to it (an exact name\n"
        "                     rarer or commoner than most); then the match weight (their sum),\n"
        "                     the log2 prior odds, the total, the match probability\n"
        "                     1 / (1 + 2^-total), and whether blocking makes them a candidate\n"
        "  --help             show this help\n"
        "\n"
        "Input is RFC 4180 CSV with a header; spaces around fields and header names are\n"
        "trimmed; empty is null; a value its kind cannot parse is compared as null and counted\n"
        "on standard error. Output on stdout: file,record_id,cluster_id, one row per record\n"
        "(file 1 or 2) in input order; records with the same cluster_id are the same person,\n"
        "whichever file they come from; clusters are numbered from 1 in order of first\n"
        "appearance. The same input and seed give the same output, byte for byte. Exit status\n"
        "0, or 2 for usage, input or I/O trouble.\n",
        out);
}

/* an input or I/O error: "ncap link: ...", exit status 2 */
#define fail(...) command_error("link", __VA_ARGS__)

typedef struct {
    char *column;
    bool is_id, ignore;
    fs_kind_t kind;
    size_t field;       /* index among compared fields */
    size_t unparsed[2]; /* per file */
} map_t;

typedef struct {
    map_t maps[MAX_MAPS];
    size_t nmaps, nfields;
    char **values; /* nrecords * nfields */
    char **ids;
    size_t nrecords, cap;
    size_t nleft;
} input_t;

static void input_free(input_t *in)
{
    for (size_t i = 0; i < in->nrecords * in->nfields; i++)
        free(in->values[i]);
    for (size_t r = 0; r < in->nrecords; r++)
        free(in->ids[r]);
    free(in->values);
    free(in->ids);
    for (size_t m = 0; m < in->nmaps; m++)
        free(in->maps[m].column);
}

static int add_map(input_t *in, const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return usage_error("link", "--map takes COLUMN=KIND, not \"%s\"", arg);
    if (in->nmaps == MAX_MAPS)
        return usage_error("link", "too many --map options (at most %d)", MAX_MAPS);
    map_t *m = &in->maps[in->nmaps];
    memset(m, 0, sizeof *m);
    const char *kind = eq + 1;
    if (strcmp(kind, "id") == 0)
        m->is_id = true;
    else if (strcmp(kind, "ignore") == 0)
        m->ignore = true;
    else if (fs_kind_parse(kind, &m->kind) != 0)
        return usage_error("link", "unknown kind \"%s\" in --map \"%s\"", kind, arg);
    m->column = strndup(arg, (size_t)(eq - arg));
    if (!m->column)
        return fail("out of memory");
    for (size_t k = 0; k < in->nmaps; k++)
        if (strcmp(in->maps[k].column, m->column) == 0) {
            free(m->column);
            return usage_error("link", "column \"%s\" is mapped twice", in->maps[k].column);
        }
    in->nmaps++;
    return 0;
}

/* Appends the records of path (file number fileno, 0 or 1). */
static int read_file(input_t *in, const char *path, size_t fileno)
{
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len) != 0)
        return fail("could not read \"%s\": %s", path, strerror(errno));
    size_t bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    csv_reader_t *csv = csv_reader_new(text + bom, len - bom, true);
    if (!csv) {
        free(text);
        return fail("out of memory");
    }
    int rc = 0;
    long col[MAX_MAPS];
    size_t ncols = 0;
    int got = csv_reader_next(csv);
    if (got != 1) {
        rc = got == 0 ? fail("\"%s\" is empty: expected a header", path)
                      : fail("could not read \"%s\" line %zu: %s", path, csv_reader_line(csv),
                             csv_reader_error(csv));
    } else {
        ncols = csv_reader_nfields(csv);
        for (size_t m = 0; m < in->nmaps && rc == 0; m++) {
            col[m] = -1;
            for (size_t c = 0; c < ncols; c++)
                if (strcmp(csv_reader_field(csv, c), in->maps[m].column) == 0)
                    col[m] = (long)c;
            if (col[m] < 0)
                rc = fail("\"%s\" has no column \"%s\"", path, in->maps[m].column);
        }
    }
    while (rc == 0 && (got = csv_reader_next(csv)) != 0) {
        if (got < 0) {
            rc = fail("could not read \"%s\" line %zu: %s", path, csv_reader_line(csv),
                      csv_reader_error(csv));
            break;
        }
        if (csv_reader_nfields(csv) == 1 && csv_reader_field(csv, 0)[0] == '\0')
            continue; /* a blank line */
        if (csv_reader_nfields(csv) != ncols) {
            rc = fail("could not read \"%s\" line %zu: %zu fields, expected %zu as in the header",
                      path, csv_reader_line(csv), csv_reader_nfields(csv), ncols);
            break;
        }
        if (in->nrecords == in->cap) {
            size_t cap = in->cap ? in->cap * 2 : 1024;
            char **v = realloc(in->values, cap * in->nfields * sizeof *v + 1);
            if (v)
                in->values = v;
            char **ids = realloc(in->ids, cap * sizeof *ids);
            if (ids)
                in->ids = ids;
            if (!v || !ids) {
                rc = fail("out of memory");
                break;
            }
            in->cap = cap;
        }
        size_t r = in->nrecords;
        char **row = in->values + r * in->nfields;
        in->ids[r] = NULL;
        for (size_t f = 0; f < in->nfields; f++)
            row[f] = NULL;
        in->nrecords++;
        for (size_t m = 0; m < in->nmaps && rc == 0; m++) {
            map_t *mp = &in->maps[m];
            const char *raw = csv_reader_field(csv, (size_t)col[m]);
            if (mp->is_id) {
                in->ids[r] = strdup(raw);
                if (!in->ids[r])
                    rc = fail("out of memory");
                continue;
            }
            if (mp->ignore)
                continue;
            char buf[512];
            int st = fs_value_normalise(mp->kind, raw, buf, sizeof buf);
            if (st < 0)
                mp->unparsed[fileno]++;
            if (st == 1 && !(row[mp->field] = strdup(buf)))
                rc = fail("out of memory");
        }
    }
    csv_reader_destroy(&csv);
    free(text);
    return rc;
}

static void report_unparsed(const input_t *in, char **files, size_t nfiles)
{
    size_t total = 0;
    for (size_t m = 0; m < in->nmaps; m++)
        total += in->maps[m].unparsed[0] + in->maps[m].unparsed[1];
    if (total == 0)
        return;
    fprintf(stderr, "ncap link: %zu value%s could not be parsed and %s compared as null\n", total,
            total == 1 ? "" : "s", total == 1 ? "was" : "were");
    for (size_t m = 0; m < in->nmaps; m++)
        for (size_t f = 0; f < nfiles; f++)
            if (in->maps[m].unparsed[f])
                fprintf(stderr, "  \"%s\" column \"%s\" (%s): %zu\n", files[f], in->maps[m].column,
                        fs_kind_name(in->maps[m].kind), in->maps[m].unparsed[f]);
}

static int write_pairs(const char *path, const input_t *in, const fs_result_t *res)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return fail("could not write \"%s\": %s", path, strerror(errno));
    fputs("record_id_l,record_id_r,match_weight,match_probability\n", out);
    for (size_t p = 0; p < res->npairs; p++) {
        if (!(res->probability[p] > 0.01))
            continue;
        char w[32], pr[32];
        snprintf(w, sizeof w, "%.4f", res->weight[p]);
        snprintf(pr, sizeof pr, "%.6f", res->probability[p]);
        const char *fields[4] = {in->ids[FS_PAIR_LEFT(res->pairs[p])],
                                 in->ids[FS_PAIR_RIGHT(res->pairs[p])], w, pr};
        csv_write_row(out, fields, 4);
    }
    if (ferror(out) | (fclose(out) != 0))
        return fail("could not write \"%s\": %s", path, strerror(errno));
    return 0;
}

static size_t find_id(const input_t *in, const char *id, size_t from, size_t to)
{
    for (size_t r = from; r < to; r++)
        if (strcmp(in->ids[r], id) == 0)
            return r;
    return SIZE_MAX;
}

/* --explain: the model trained as for linking, then the waterfall of records id1 (in the first
 * file) and id2 (in the last). */
static int explain(const input_t *in, const fs_data_t *data, uint64_t seed, double threshold,
                   char **files, size_t nfiles, const char *id1, const char *id2)
{
    size_t end_a = nfiles == 2 ? in->nleft : in->nrecords;
    size_t i = find_id(in, id1, 0, end_a);
    size_t j = find_id(in, id2, nfiles == 2 ? in->nleft : 0, in->nrecords);
    if (i == SIZE_MAX || j == SIZE_MAX)
        return fail("--explain: no record with id \"%s\" in \"%s\"", i == SIZE_MAX ? id1 : id2,
                    files[i == SIZE_MAX ? 0 : nfiles - 1]);
    if (i == j)
        return fail("--explain: \"%s\" and \"%s\" are the same record", id1, id2);
    fs_model_t *model = fs_model_new(data);
    uint64_t *pairs = NULL;
    size_t npairs = 0;
    if (!model || blocking_candidates(data, &pairs, &npairs, NULL) != 0 ||
        fs_model_train(model, pairs, npairs, seed) != 0) {
        fs_model_destroy(&model);
        free(pairs);
        return fail("out of memory");
    }
    size_t lo = i < j ? i : j, hi = i < j ? j : i;
    fs_explain_t x;
    fs_model_explain(model, lo, hi, &x);
    bool candidate = false;
    for (size_t p = 0; p < npairs && !candidate; p++)
        candidate = pairs[p] == FS_PAIR(lo, hi);
    /* the weights' column ends at column 118; the totals go under it */
    printf("%-16s %-10s %-18s %-18s %5s %-20s %9s %9s %7s %7s\n", "column", "kind", id1, id2,
           "level", "meaning", "m", "u", "weight", "tf_adj");
    for (size_t m = 0; m < in->nmaps; m++) {
        const map_t *mp = &in->maps[m];
        if (mp->is_id || mp->ignore)
            continue;
        size_t f = mp->field;
        const char *a = in->values[i * in->nfields + f], *b = in->values[j * in->nfields + f];
        printf("%-16.16s %-10s %-18.18s %-18.18s %5u %-20s ", mp->column, fs_kind_name(mp->kind),
               a ? a : "(null)", b ? b : "(null)", x.level[f],
               fs_kind_level_name(mp->kind, x.level[f]));
        if (x.level[f])
            printf("%9.4g %9.4g %7.2f %7.2f\n", x.m[f], x.u[f], x.weight[f], x.tf[f]);
        else
            printf("%9s %9s %7.2f %7.2f\n", "-", "-", 0.0, 0.0);
    }
    printf("%-16s %101.2f\n", "match weight", x.total);
    printf("%-16s %101.2f\n", "log2 prior odds", x.log2_prior_odds);
    printf("%-16s %101.2f\n", "total", x.total + x.log2_prior_odds);
    printf("%-16s %101.6f\n", "probability", x.probability);
    printf("%s\n%s\nprobability %s the threshold %g\n",
           x.deterministic ? "a valid NHS number and the date of birth agree: linked at once"
                           : "probability = 1 / (1 + 2^-total)",
           candidate ? "a candidate pair: a blocking rule puts the two records together"
                     : "not a candidate pair: no blocking rule puts the two records together, so "
                       "linking never scores them",
           x.probability >= threshold ? "at or above" : "below", threshold);
    fs_model_destroy(&model);
    free(pairs);
    return 0;
}

/* --incremental: ncap-linkd's algorithm in memory, each record in file order linked against the
 * patients held so far (link_memory_assign), with its default parameters; the columns of kinds
 * nhs_number, forename, surname, dob, sex and postcode (the first of each) are its identifiers.
 * cluster[r] receives record r's patient, from 1. */
static int link_incremental(const input_t *in, uint64_t seed, size_t *cluster)
{
    static const fs_kind_t roles[LI_NFIELDS] = {FS_KIND_NHS_NUMBER, FS_KIND_FORENAME,
                                                FS_KIND_SURNAME,    FS_KIND_DOB,
                                                FS_KIND_SEX,        FS_KIND_POSTCODE};
    long field[LI_NFIELDS];
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        field[f] = -1;
        for (size_t m = 0; m < in->nmaps && field[f] < 0; m++)
            if (!in->maps[m].is_id && !in->maps[m].ignore && in->maps[m].kind == roles[f])
                field[f] = (long)in->maps[m].field;
    }
    for (size_t m = 0; m < in->nmaps; m++) {
        const map_t *mp = &in->maps[m];
        if (!mp->is_id && !mp->ignore && field[0] != (long)mp->field &&
            field[1] != (long)mp->field && field[2] != (long)mp->field &&
            field[3] != (long)mp->field && field[4] != (long)mp->field &&
            field[5] != (long)mp->field)
            fprintf(stderr,
                    "ncap link: --incremental compares nhs_number, forename, surname, dob, sex "
                    "and postcode: column \"%s\" (%s) is not used\n",
                    mp->column, fs_kind_name(mp->kind));
    }
    link_ident_t *ids = calloc(in->nrecords + 1, sizeof *ids);
    if (!ids)
        return -1;
    for (size_t r = 0; r < in->nrecords; r++) {
        const char *v[LI_NFIELDS];
        for (size_t f = 0; f < LI_NFIELDS; f++)
            v[f] = field[f] >= 0 ? in->values[r * in->nfields + (size_t)field[f]] : NULL;
        link_ident_from_values(v[LI_NHS], v[LI_FORENAME], v[LI_SURNAME], v[LI_DOB], v[LI_SEX],
                               v[LI_POSTCODE], &ids[r]);
    }
    link_params_t def, p;
    link_params_default(&def);
    p = def;
    char err[256];
    if (link_train(ids, in->nrecords, in->nrecords, seed, &def, &p, err, sizeof err) != 0) {
        fprintf(stderr, "ncap link: %s: the default parameters are used\n", err);
        p = def;
    }
    link_memory_t *index = link_memory_new(&p);
    int rc = index ? 0 : -1;
    for (size_t r = 0; r < in->nrecords && rc == 0; r++) {
        int64_t patient;
        rc = link_memory_assign(index, &ids[r], &patient);
        cluster[r] = (size_t)patient;
    }
    /* patients merged after a record joined them */
    for (size_t r = 0; r < in->nrecords && rc == 0; r++)
        cluster[r] = (size_t)link_memory_patient(index, (int64_t)cluster[r]);
    link_memory_destroy(&index);
    free(ids);
    return rc;
}

/* Replaces each record's cluster (a record index) by a number from 1, in order of first
 * appearance. Returns 0, or -1 when out of memory. */
static int number_clusters(size_t *cluster, size_t nrecords)
{
    size_t *number = calloc(nrecords + 1, sizeof *number);
    if (!number)
        return -1;
    size_t next = 0;
    for (size_t r = 0; r < nrecords; r++) {
        if (!number[cluster[r]])
            number[cluster[r]] = ++next;
        cluster[r] = number[cluster[r]];
    }
    free(number);
    return 0;
}

int cmd_link(int argc, char **argv)
{
    static const struct option options[] = {
        {"map", required_argument, NULL, 'm'},     {"threshold", required_argument, NULL, 't'},
        {"pairs", required_argument, NULL, 'p'},   {"seed", required_argument, NULL, 's'},
        {"one-to-one", no_argument, NULL, 'o'},    {"components", no_argument, NULL, 'c'},
        {"explain", required_argument, NULL, 'x'}, {"incremental", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    input_t in;
    memset(&in, 0, sizeof in);
    double threshold = 0.5;
    uint64_t seed = 1;
    const char *pairs_path = NULL, *explain_id = NULL, *explain_id2 = NULL;
    fs_clustering_t clustering = FS_CLUSTER_COHESIVE;
    bool incremental = false;
    int rc = 0, opt;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'm':
            rc = add_map(&in, optarg);
            break;
        case 't':
            errno = 0;
            threshold = strtod(optarg, &end);
            if (errno || *end || !*optarg || !(threshold >= 0 && threshold <= 1))
                rc = usage_error("link", "--threshold takes a probability from 0 to 1, not \"%s\"",
                                 optarg);
            break;
        case 'p':
            pairs_path = optarg;
            break;
        case 's':
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || *end || *optarg < '0' || *optarg > '9')
                rc = usage_error("link", "--seed takes a whole number, not \"%s\"", optarg);
            break;
        case 'o':
            clustering = FS_CLUSTER_ONE_TO_ONE;
            break;
        case 'c':
            clustering = FS_CLUSTER_COMPONENTS;
            break;
        case 'x':
            explain_id = optarg;
            break;
        case 'i':
            incremental = true;
            break;
        case 'h':
            usage(stdout);
            input_free(&in);
            return 0;
        default:
            rc = usage_error("link", "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (rc == 0 && explain_id) {
        if (optind >= argc)
            rc = usage_error("link", "--explain takes two record ids, got one");
        else
            explain_id2 = argv[optind++];
    }
    size_t nfiles = argc > optind ? (size_t)(argc - optind) : 0;
    size_t nid = 0;
    if (rc == 0 && (nfiles < 1 || nfiles > 2))
        rc = usage_error("link", "expected one or two files, got %zu", nfiles);
    for (size_t m = 0; rc == 0 && m < in.nmaps; m++) {
        if (in.maps[m].is_id)
            nid++;
        else if (!in.maps[m].ignore)
            in.maps[m].field = in.nfields++;
    }
    if (rc == 0 && nid != 1)
        rc = usage_error("link", "exactly one column must be mapped to id, got %zu", nid);
    if (rc == 0 && in.nfields == 0)
        rc = usage_error("link", "no column to compare: map at least one to a kind other than id");
    if (rc == 0 && in.nfields > FS_MAX_FIELDS)
        rc = usage_error("link", "too many columns to compare (at most %d)", FS_MAX_FIELDS);
    char **files = argv + optind;
    for (size_t f = 0; rc == 0 && f < nfiles; f++) {
        rc = read_file(&in, files[f], f);
        if (f == 0)
            in.nleft = in.nrecords;
    }
    if (rc == 0 && nfiles == 2 && (in.nleft == 0 || in.nleft == in.nrecords))
        rc = fail("nothing to link: \"%s\" has no records", files[in.nleft == 0 ? 0 : 1]);
    if (rc != 0) {
        input_free(&in);
        return rc;
    }
    report_unparsed(&in, files, nfiles);

    fs_data_t data = {.nrecords = in.nrecords,
                      .nfields = in.nfields,
                      .values = (const char *const *)in.values,
                      .nleft = nfiles == 2 ? in.nleft : 0};
    for (size_t m = 0; m < in.nmaps; m++)
        if (!in.maps[m].is_id && !in.maps[m].ignore)
            data.kinds[in.maps[m].field] = in.maps[m].kind;
    if (explain_id) {
        rc = explain(&in, &data, seed, threshold, files, nfiles, explain_id, explain_id2);
        input_free(&in);
        return rc;
    }
    fs_result_t res;
    memset(&res, 0, sizeof res);
    if (incremental) {
        res.cluster = malloc((in.nrecords + 1) * sizeof *res.cluster);
        if (!res.cluster || link_incremental(&in, seed, res.cluster) != 0)
            rc = fail("out of memory");
    } else if (in.nrecords > 0 &&
               (fs_link_clustered(&data, seed, threshold, clustering, &res) != 0 ||
                number_clusters(res.cluster, in.nrecords) != 0))
        rc = fail("out of memory");
    if (rc == 0) {
        fputs("file,record_id,cluster_id\n", stdout);
        for (size_t r = 0; r < in.nrecords; r++) {
            char file[4], cluster[32];
            snprintf(file, sizeof file, "%d", nfiles == 2 && r >= in.nleft ? 2 : 1);
            snprintf(cluster, sizeof cluster, "%zu", res.cluster[r]);
            const char *fields[3] = {file, in.ids[r], cluster};
            csv_write_row(stdout, fields, 3);
        }
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = fail("could not write the output: %s", strerror(errno));
    }
    if (rc == 0 && pairs_path && !incremental)
        rc = write_pairs(pairs_path, &in, &res);
    fs_result_free(&res);
    input_free(&in);
    return rc;
}
