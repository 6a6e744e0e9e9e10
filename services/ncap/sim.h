/* sim.h - simulated trusts: realistic NHFD-like records as trusts would submit them, with a known
 * truth (who is who, which rows are invalid and why) to score the pipeline against.
 *
 * Generation is a pure function of the options: sim_new builds every record in memory from its
 * own seeded generator, and the writers only format them, so the same options always give the
 * same bytes. */
#ifndef NCAP_SIM_H
#define NCAP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_MAX_TRUSTS 500
#define SIM_MAX_RECORDS 5000000u
#define SIM_NCOLUMNS 27

typedef struct {
    const char *audit;   /* only "nhfd" so far */
    unsigned trusts;     /* 1..SIM_MAX_TRUSTS */
    unsigned records;    /* 0..SIM_MAX_RECORDS, spread over the trusts by their size */
    uint64_t seed;       /* fixes the trusts (codes, sites, sizes, date style, performance) */
    unsigned round;      /* 0 for one run; R > 0 for submit round R: records come from seed + R
                          * and their local ids carry the round, the trusts stay the same */
    double invalid_rate; /* 0..1; exactly round(rate * records) rows carry one error */
    int64_t start_day;   /* first arrival day, days since 1970-01-01 */
    unsigned days;       /* arrivals fall in [start_day, start_day + days), 1..36600 */
} sim_opts_t;

typedef enum {
    SIM_VALID = 0,
    SIM_MISSING_REQUIRED, /* arrival_datetime, fracture_type or residence_at_fracture blank */
    SIM_BAD_DATETIME,     /* arrival_datetime is not a calendar date, e.g. 2025-02-30T10:00 */
    SIM_BAD_CODE          /* fracture_type XX, asa_grade 7 or pre_fracture_mobility 8 */
} sim_invalid_t;

typedef enum { SIM_NHS_OK = 0, SIM_NHS_MISTYPED, SIM_NHS_MISSING } sim_nhs_issue_t;

typedef struct {
    size_t records;
    size_t invalid;      /* rows with one error */
    size_t repeats;      /* rows made another visit of a patient who has another row */
    size_t nhs_mistyped; /* NHS number fails the check digit */
    size_t nhs_missing;  /* NHS number blank */
    size_t patients;     /* distinct people */
} sim_stats_t;

typedef struct sim_t sim_t;

/* The defaults of `ncap sim`: nhfd, 20 trusts, 1000 records, seed 1, invalid rate 0.02, start
 * 2025-04-01, 365 days, round 0. */
void sim_opts_default(sim_opts_t *opts);

/* Builds the trusts and all records. Returns NULL with a message in err when an option is out of
 * range (or memory runs out). */
sim_t *sim_new(const sim_opts_t *opts, char *err, size_t errlen);
void sim_destroy(sim_t **self_p);

/* The columns, in the order written. */
const char *sim_column(size_t i);

size_t sim_ntrusts(const sim_t *self);
const char *sim_trust_code(const sim_t *self, size_t t);
size_t sim_trust_nsites(const sim_t *self, size_t t);
size_t sim_trust_nrecords(const sim_t *self, size_t t);
/* The trust writes DD/MM/YYYY and "DD/MM/YYYY HH:MM" instead of ISO 8601. */
bool sim_trust_uk_dates(const sim_t *self, size_t t);
/* The trust really performs worse: longer delays to surgery and orthogeriatric assessment. */
bool sim_trust_poor(const sim_t *self, size_t t);
void sim_stats(const sim_t *self, sim_stats_t *stats);

/* Writes the header line. Returns 0, or -1 on a write error. */
int sim_write_header(FILE *out);
/* Writes trust t's rows (no header), in order of arrival. Returns 0, or -1 on a write error. */
int sim_write_trust(const sim_t *self, size_t t, FILE *out);
/* Writes trust t's file (header and rows) to a new buffer the caller frees. Returns 0, or -1. */
int sim_trust_buffer(const sim_t *self, size_t t, char **buf, size_t *len);
/* Writes the truth CSV: local_record_id,trust_code,row,patient_id,invalid,reason,
 * nhs_number_issue, one row per record in the order written. row is the line in the file the
 * record went to (header is line 1): one_file when every trust's rows follow one header in trust
 * order, else one file per trust. Returns 0, or -1 on a write error. */
int sim_write_truth(const sim_t *self, FILE *out, bool one_file);
/* Writes a short human summary (records, trusts, invalid, repeat patients, poorer trusts). */
void sim_write_summary(const sim_t *self, FILE *out);

const char *sim_invalid_text(sim_invalid_t kind);      /* "" or "missing_required", ... */
const char *sim_nhs_issue_text(sim_nhs_issue_t issue); /* "", "mistyped" or "missing" */

#endif
