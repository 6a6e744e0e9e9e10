/* bench_validate.c - how fast offline validation is (issue 3 asks for 200,000 rows/s or more on
 * one core): 1,000,000 simulated NHFD rows, made in memory, put through what `ncap validate` does
 * to a file (submission parse, link_record_prepare, the other identifiers' checks,
 * validate_record), one trust's file at a time. Prints rows/s against the goal and peak memory;
 * asserts nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "audit_def.h"
#include "link_record.h"
#include "record.h"
#include "sim.h"
#include "submission.h"
#include "validate_record.h"

#define ROWS 1000000u
#define TRUSTS 50u
#define GOAL 200000.0

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

typedef struct {
    size_t rows, errors, warnings;
    double parse_s, check_s;
} tally_t;

static void count(tally_t *t, const char *severity)
{
    if (strcmp(severity, "error") == 0)
        t->errors++;
    else
        t->warnings++;
}

/* As cmd_validate.c: the identifier fields linkage does not check itself. */
static void check_other_identifiers(const audit_def_t *def, const ncap_record_t *rec, tally_t *t)
{
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        if (!f->identifier || ncap_record_missing(rec, f->name) ||
            (f->link_as &&
             (strcmp(f->link_as, "nhs_number") == 0 || strcmp(f->link_as, "dob") == 0)))
            continue;
        char rule[32], msg[320];
        if (audit_field_check(f, ncap_record_get(rec, f->name), rule, sizeof rule, msg,
                              sizeof msg) != 0)
            t->warnings++;
    }
}

/* One trust's file, as cmd_validate's validate_file. Returns 0, or -1. */
static int validate_buffer(const audit_def_t *def, const char *trust, const char *data, size_t len,
                           tally_t *t)
{
    double t0 = now();
    submission_t *s = submission_parse_csv(def, trust, data, len);
    if (!s)
        return -1;
    double t1 = now();
    if (s->file_error[0]) {
        fprintf(stderr, "bench_validate: trust %s refused: %s\n", trust, s->file_error);
        submission_destroy(&s);
        return -1;
    }
    for (size_t i = 0; i < s->n_problems; i++)
        count(t, s->problems[i].severity);
    int rc = 0;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        const submission_row_t *sr = &s->rows[i];
        link_outcome_t lo;
        if (link_record_prepare(def, sr->row, sr->rec, &lo) != 0) {
            link_outcome_clear(&lo);
            rc = -1;
            break;
        }
        for (int p = 0; p < lo.n_problems; p++)
            count(t, lo.problems[p].severity);
        check_other_identifiers(def, sr->rec, t);
        validation_result_t res;
        rc = validate_record(def, lo.pseudo, &res);
        for (size_t p = 0; rc == 0 && p < res.n; p++)
            count(t, res.problems[p].severity);
        validation_result_free(&res);
        link_outcome_clear(&lo);
    }
    t->rows += s->data_rows;
    submission_destroy(&s);
    t->parse_s += t1 - t0;
    t->check_s += now() - t1;
    return rc;
}

int main(void)
{
    char err[512];
    audit_def_t *def =
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "nhfd", err, sizeof err);
    if (!def) {
        fprintf(stderr, "bench_validate: %s\n", err);
        return 1;
    }
    sim_opts_t opts;
    sim_opts_default(&opts);
    opts.records = ROWS;
    opts.trusts = TRUSTS;
    double g0 = now();
    sim_t *sim = sim_new(&opts, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "bench_validate: %s\n", err);
        audit_def_destroy(&def);
        return 1;
    }
    size_t nt = sim_ntrusts(sim);
    char **buf = calloc(nt, sizeof *buf);
    size_t *len = calloc(nt, sizeof *len), bytes = 0;
    if (!buf || !len) {
        fprintf(stderr, "bench_validate: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nt; i++) {
        if (sim_trust_buffer(sim, i, &buf[i], &len[i]) != 0) {
            fprintf(stderr, "bench_validate: could not write trust %zu's file\n", i);
            return 1;
        }
        bytes += len[i];
    }
    sim_stats_t st;
    sim_stats(sim, &st);
    printf("generated %zu rows of %zu trusts (%.1f MiB of CSV, %zu invalid) in %.2f s; "
           "peak memory so far %.0f MiB\n",
           st.records, nt, (double)bytes / 1048576.0, st.invalid, now() - g0, peak_mib());

    tally_t t = {0};
    double t0 = now();
    for (size_t i = 0; i < nt; i++)
        if (validate_buffer(def, sim_trust_code(sim, i), buf[i], len[i], &t) != 0) {
            fprintf(stderr, "bench_validate: validation failed on trust %zu\n", i);
            return 1;
        }
    double secs = now() - t0;
    double rate = (double)t.rows / secs;
    printf("validated %zu rows in %.2f s on one core: %.0f rows/s (parse %.2f s, checks %.2f s); "
           "%zu errors, %zu warnings\n",
           t.rows, secs, rate, t.parse_s, t.check_s, t.errors, t.warnings);
    printf("goal (issue 3) >= %.0f rows/s: %s (%.2fx)\n", GOAL, rate >= GOAL ? "met" : "NOT met",
           rate / GOAL);
    printf("peak memory (ru_maxrss) %.0f MiB\n", peak_mib());

    for (size_t i = 0; i < nt; i++)
        free(buf[i]);
    free(buf);
    free(len);
    sim_destroy(&sim);
    audit_def_destroy(&def);
    return 0;
}
