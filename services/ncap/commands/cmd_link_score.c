/* cmd_cluster_score.c - `ncap link-score`: a linkage's clusters scored against the truth (or
 * against another linkage's), pairwise and B-cubed (cluster_score.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "csv.h"
#include "file_read.h"
#include "cluster_score.h"
#include "str_map.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap link-score --truth FILE [--truth-column C] [--id-column C]\n"
          "                       [--result-column C] [--result-id-column C] RESULT.csv\n"
          "\n"
          "Scores the clusters of a record linkage (RESULT.csv, as `ncap link` writes it) against\n"
          "the truth: which records are the same person. Prints, one \"name value\" a line:\n"
          "records, the clusters and the pairs within a cluster of each side (truth_pairs,\n"
          "result_pairs) and those they share (agreeing_pairs); pairwise_precision (the share\n"
          "of the result's pairs the truth has too), pairwise_recall (the share of the truth's\n"
          "pairs the result found) and pairwise_f1; bcubed_precision, bcubed_recall and\n"
          "bcubed_f1 (B-cubed: for each record, the share of its result cluster that is its\n"
          "truth cluster and the reverse, averaged over records). Pairs are counted from the\n"
          "cluster sizes and never listed, so millions of records take a second. A ratio of\n"
          "no pairs to no pairs counts as 1.\n"
          "\n"
          "Two linkages of the same records compare the same way: give one as --truth (with\n"
          "--truth-column cluster_id --id-column record_id) to see how far they agree.\n"
          "\n"
          "  --truth FILE           CSV with a header holding each record's id and cluster\n"
          "  --truth-column C       its cluster column (default cluster); an empty value is a\n"
          "                         cluster of its own\n"
          "  --id-column C          its id column (default unique_id)\n"
          "  --result-column C      RESULT's cluster column (default cluster_id)\n"
          "  --result-id-column C   RESULT's id column (default record_id)\n"
          "  --help                 show this help\n"
          "\n"
          "Every id must be in both files, once. Exit status 0, or 2 for usage, input or I/O\n"
          "trouble.\n",
          out);
}

/* an input or I/O error: "ncap link-score: ...", exit status 2 */
#define fail(...) command_error("link-score", __VA_ARGS__)

typedef struct {
    str_map_t *ids;   /* the truth's ids, numbered in order */
    uint32_t *truth;  /* by id number: the truth's cluster, numbered */
    uint32_t *result; /* ... RESULT's, UINT32_MAX until seen */
    size_t cap;
    str_map_t *labels[2]; /* cluster names of each file */
} score_input_t;

static void score_input_free(score_input_t *in)
{
    str_map_destroy(&in->ids);
    str_map_destroy(&in->labels[0]);
    str_map_destroy(&in->labels[1]);
    free(in->truth);
    free(in->result);
}

/* The number of a cluster name in file side's labels; an empty name gets a number of its own. */
static int label_number(score_input_t *in, int side, const char *label, size_t row, uint32_t *out)
{
    char own[32];
    if (!*label) {
        snprintf(own, sizeof own, "\x01%zu", row);
        label = own;
    }
    size_t k;
    if (str_map_put(in->labels[side], label, &k) < 0)
        return -1;
    *out = (uint32_t)k;
    return 0;
}

/* Reads path's id and cluster columns: side 0 the truth (every id new), side 1 the result
 * (every id one of the truth's, once). */
static int read_side(score_input_t *in, int side, const char *path, const char *id_col,
                     const char *label_col)
{
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len) != 0)
        return fail("could not read \"%s\": %s", path, strerror(errno));
    csv_reader_t *csv = csv_reader_new(text, len, true); /* skips a byte order mark */
    if (!csv) {
        free(text);
        return fail("out of memory");
    }
    int rc = 0, got = csv_reader_next(csv);
    long id = -1, label = -1;
    size_t ncols = 0, rows = 0;
    if (got != 1) {
        rc = got == 0 ? fail("\"%s\" is empty: expected a header", path)
                      : fail("could not read \"%s\" line %zu: %s", path, csv_reader_line(csv),
                             csv_reader_error(csv));
    } else {
        ncols = csv_reader_nfields(csv);
        for (size_t c = 0; c < ncols; c++) {
            if (strcmp(csv_reader_field(csv, c), id_col) == 0)
                id = (long)c;
            if (strcmp(csv_reader_field(csv, c), label_col) == 0)
                label = (long)c;
        }
        if (id < 0)
            rc = fail("\"%s\" has no column \"%s\" (the id column)", path, id_col);
        else if (label < 0)
            rc = fail("\"%s\" has no column \"%s\" (the cluster column)", path, label_col);
    }
    while (rc == 0 && (got = csv_reader_next(csv)) != 0) {
        size_t line = csv_reader_line(csv);
        if (got < 0) {
            rc = fail("could not read \"%s\" line %zu: %s", path, line, csv_reader_error(csv));
            break;
        }
        if (csv_reader_nfields(csv) == 1 && csv_reader_field(csv, 0)[0] == '\0')
            continue; /* a blank line */
        if (csv_reader_nfields(csv) != ncols) {
            rc = fail("could not read \"%s\" line %zu: %zu fields, expected %zu as in the header",
                      path, line, csv_reader_nfields(csv), ncols);
            break;
        }
        const char *key = csv_reader_field(csv, (size_t)id);
        if (!*key) {
            rc = fail("\"%s\" line %zu: the id (column \"%s\") is empty", path, line, id_col);
            break;
        }
        uint32_t cluster;
        size_t k;
        if (label_number(in, side, csv_reader_field(csv, (size_t)label), rows++, &cluster) != 0) {
            rc = fail("out of memory");
            break;
        }
        if (side == 0) {
            int put = str_map_put(in->ids, key, &k);
            if (put < 0) {
                rc = fail("out of memory");
                break;
            }
            if (put == 0) {
                rc = fail("\"%s\" line %zu: id \"%s\" again (ids must be unique)", path, line, key);
                break;
            }
            if (k == in->cap) {
                size_t cap = in->cap ? in->cap * 2 : 1024;
                uint32_t *t = realloc(in->truth, cap * sizeof *t);
                if (t)
                    in->truth = t;
                if (!t) {
                    rc = fail("out of memory");
                    break;
                }
                in->cap = cap;
            }
            in->truth[k] = cluster;
        } else {
            k = str_map_get(in->ids, key);
            if (k == STR_MAP_MISSING) {
                rc = fail("\"%s\" line %zu: id \"%s\" is not in the truth", path, line, key);
                break;
            }
            if (in->result[k] != UINT32_MAX) {
                rc = fail("\"%s\" line %zu: id \"%s\" again (ids must be unique)", path, line, key);
                break;
            }
            in->result[k] = cluster;
        }
    }
    csv_reader_destroy(&csv);
    free(text);
    return rc;
}

int cmd_link_score(int argc, char **argv)
{
    static const struct option options[] = {{"truth", required_argument, NULL, 't'},
                                            {"truth-column", required_argument, NULL, 'c'},
                                            {"id-column", required_argument, NULL, 'i'},
                                            {"result-column", required_argument, NULL, 'r'},
                                            {"result-id-column", required_argument, NULL, 'R'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *truth_path = NULL, *truth_col = "cluster", *id_col = "unique_id",
               *result_col = "cluster_id", *result_id_col = "record_id";
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (opt) {
        case 't':
            truth_path = optarg;
            break;
        case 'c':
            truth_col = optarg;
            break;
        case 'i':
            id_col = optarg;
            break;
        case 'r':
            result_col = optarg;
            break;
        case 'R':
            result_id_col = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error_option("link-score", opt, argv);
        }
    }
    if (!truth_path)
        return usage_error("link-score", "%s", "option --truth is required");
    if (argc - optind != 1)
        return usage_error("link-score", "expected one result file, got %d", argc - optind);
    const char *result_path = argv[optind];

    score_input_t in;
    memset(&in, 0, sizeof in);
    int rc = 0;
    if (!(in.ids = str_map_new(0)) || !(in.labels[0] = str_map_new(0)) ||
        !(in.labels[1] = str_map_new(0)))
        rc = fail("out of memory");
    if (rc == 0)
        rc = read_side(&in, 0, truth_path, id_col, truth_col);
    size_t n = in.ids ? str_map_size(in.ids) : 0;
    if (rc == 0 && !(in.result = malloc((n ? n : 1) * sizeof *in.result)))
        rc = fail("out of memory");
    if (rc == 0) {
        memset(in.result, 0xff, n * sizeof *in.result);
        rc = read_side(&in, 1, result_path, result_id_col, result_col);
    }
    size_t missing = 0, first = 0;
    for (size_t k = 0; rc == 0 && k < n; k++)
        if (in.result[k] == UINT32_MAX && missing++ == 0)
            first = k;
    if (rc == 0 && missing)
        rc = fail("%zu record%s of the truth %s not in \"%s\" (the first: id \"%s\")", missing,
                  missing == 1 ? "" : "s", missing == 1 ? "is" : "are", result_path,
                  str_map_key(in.ids, first));
    cluster_score_t s;
    if (rc == 0 && cluster_score(in.truth, in.result, n, &s) != 0)
        rc = fail("out of memory");
    if (rc == 0) {
        printf("records %zu\n"
               "truth_clusters %zu\n"
               "result_clusters %zu\n"
               "truth_pairs %llu\n"
               "result_pairs %llu\n"
               "agreeing_pairs %llu\n"
               "pairwise_precision %.6f\n"
               "pairwise_recall %.6f\n"
               "pairwise_f1 %.6f\n"
               "bcubed_precision %.6f\n"
               "bcubed_recall %.6f\n"
               "bcubed_f1 %.6f\n",
               s.records, s.truth_clusters, s.result_clusters, (unsigned long long)s.truth_pairs,
               (unsigned long long)s.result_pairs, (unsigned long long)s.agreeing_pairs,
               s.precision, s.recall, s.f1, s.bcubed_precision, s.bcubed_recall, s.bcubed_f1);
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = fail("could not write the output: %s", strerror(errno));
    }
    score_input_free(&in);
    return rc;
}
