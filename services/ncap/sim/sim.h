/* sim.h - simulated trusts: realistic NHFD-like (hip fracture) or NELA-like (emergency laparotomy)
 * records as trusts would submit them, with a known truth (who is who, which rows are invalid and
 * why; for NELA each record's true risk of death and each trust's true excess risk and case mix)
 * to score the pipeline against.
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
/* The NHFD columns by index, in the order written (sim_column names them). */
typedef enum {
    SIM_C_ID,
    SIM_C_TRUST,
    SIM_C_SITE,
    SIM_C_NHS,
    SIM_C_FORENAME,
    SIM_C_SURNAME,
    SIM_C_DOB,
    SIM_C_SEX,
    SIM_C_POSTCODE,
    SIM_C_LSOA,
    SIM_C_ETHNIC,
    SIM_C_ARRIVAL,
    SIM_C_WARD,
    SIM_C_NEVER_ADMITTED,
    SIM_C_RESIDENCE,
    SIM_C_MOBILITY,
    SIM_C_AMTS_PRE,
    SIM_C_FTYPE,
    SIM_C_SIDE,
    SIM_C_PATHO,
    SIM_C_ASA,
    SIM_C_ORTHO,
    SIM_C_SURGERY,
    SIM_C_OPERATION,
    SIM_C_AMTS_POST,
    SIM_C_DISCHARGE_DEST,
    SIM_C_DISCHARGE_DATE,
    SIM_NCOLUMNS
} sim_col_t;

/* Problems the simulator can inject on purpose, one per chosen row, each reported by `ncap
 * validate` with the field, rule and severity problem_kinds.c gives. */
typedef enum {
    SIM_P_NONE = 0,
    SIM_P_REQUIRED,          /* a required field left empty (the field varies) */
    SIM_P_TYPE_INTEGER,      /* asa_grade not a whole number */
    SIM_P_TYPE_DATE,         /* discharge_date not a calendar date, ISO or UK layout */
    SIM_P_TYPE_DATETIME_ISO, /* a date-time field wrong in the YYYY-MM-DDTHH:MM layout */
    SIM_P_TYPE_DATETIME_UK,  /* ... in the DD/MM/YYYY HH:MM layout */
    SIM_P_TYPE_BOOLEAN,      /* never_admitted_to_ward not Y/N */
    SIM_P_TYPE_POSTCODE,     /* postcode not a UK postcode */
    SIM_P_TYPE_ODS,          /* site_code not an ODS site code (ingest's site_trust) */
    SIM_P_TYPE_LSOA,         /* lsoa not an LSOA code */
    SIM_P_CODE,              /* a clinical code field outside its list (the field varies) */
    SIM_P_CODE_SEX,          /* sex outside 1, 2, 9, X */
    SIM_P_CODE_ETHNIC,       /* ethnic_category outside the NHS list */
    SIM_P_RANGE,             /* asa_grade outside 1-5 */
    SIM_P_PATTERN,           /* local_record_id with characters outside its pattern */
    SIM_P_NHS_CHECKSUM,      /* NHS number fails its check digit */
    SIM_P_NHS_PLACEHOLDER,   /* one repeated digit */
    SIM_P_NHS_TEST,          /* test range, starting 9 */
    SIM_P_NHS_MISSING,       /* NHS number blank */
    SIM_P_DOB_INVALID,       /* date of birth not a calendar date */
    SIM_P_DOB_MISSING,       /* date of birth blank */
    SIM_P_SURGERY_BEFORE_ARRIVAL,
    SIM_P_ORTHO_BEFORE_ARRIVAL,
    SIM_P_DISCHARGE_BEFORE_ARRIVAL,
    SIM_P_WARD_NEVER_ADMITTED, /* ward admission given with never_admitted_to_ward Y */
    SIM_P_AGE_OVER_110,
    SIM_P_SURGERY_AFTER_30_DAYS,
    SIM_P_OPERATION_WITHOUT_SURGERY, /* NOP with a surgery time, or an operation without one */
    SIM_P_PROBABLE_DUPLICATE,        /* a second episode, same patient and side, within 30 days */
    SIM_NPROBLEM_KINDS
} sim_problem_kind_t;

typedef struct {
    const char *audit;   /* "nhfd" or "nela" */
    unsigned trusts;     /* 1..SIM_MAX_TRUSTS */
    unsigned records;    /* 0..SIM_MAX_RECORDS, spread over the trusts by their size */
    uint64_t seed;       /* fixes the trusts (codes, sites, sizes, date style, performance) */
    unsigned round;      /* 0 for one run; R > 0 for submit round R: records come from seed + R
                          * and their local ids carry the round, the trusts stay the same */
    double invalid_rate; /* 0..1; exactly round(rate * records) rows carry one error */
    int64_t start_day;   /* first arrival day, days since 1970-01-01 */
    unsigned days;       /* arrivals fall in [start_day, start_day + days), 1..36600 */
    /* rows to give each kind of problem on purpose (0 for none), on top of invalid_rate; rows are
     * drawn from the records, which must number at least sim_min_records (nhfd only) */
    unsigned problems[SIM_NPROBLEM_KINDS];
} sim_opts_t;

typedef enum {
    SIM_VALID = 0,
    SIM_MISSING_REQUIRED, /* arrival_datetime, fracture_type or residence_at_fracture blank */
    SIM_BAD_DATETIME,     /* arrival_datetime is not a calendar date, e.g. 2025-02-30T10:00 */
    SIM_BAD_CODE          /* fracture_type XX, asa_grade 7 or pre_fracture_mobility 8 */
} sim_invalid_t;

typedef enum {
    SIM_NHS_OK = 0,
    SIM_NHS_MISTYPED,    /* fails the check digit */
    SIM_NHS_MISSING,     /* blank */
    SIM_NHS_PLACEHOLDER, /* one repeated digit (a problem injected on purpose) */
    SIM_NHS_TEST         /* test range, starting 9 (a problem injected on purpose) */
} sim_nhs_issue_t;

typedef struct {
    size_t records;
    size_t invalid;      /* rows with one error */
    size_t repeats;      /* rows made another visit of a patient who has another row */
    size_t nhs_mistyped; /* NHS number fails the check digit */
    size_t nhs_missing;  /* NHS number blank */
    size_t patients;     /* distinct people */
    size_t problems;     /* rows given a problem on purpose (SIM_P_...) */
    size_t opted_out;    /* patients who opted out (national data opt-out) */
} sim_stats_t;

typedef struct sim_t sim_t;

/* The defaults of `ncap sim`: nhfd, 20 trusts, 1000 records, seed 1, invalid rate 0.02, start
 * 2025-04-01, 365 days, round 0. */
void sim_opts_default(sim_opts_t *opts);

/* The records that hold opts->problems with room to spare (about 10 rows for 7 problems). */
size_t sim_min_records(const sim_opts_t *opts);

/* Builds the trusts and all records. Returns NULL with a message in err when an option is out of
 * range (or memory runs out). */
sim_t *sim_new(const sim_opts_t *opts, char *err, size_t errlen);
void sim_destroy(sim_t **self_p);

/* The NHFD columns, in the order written. */
const char *sim_column(size_t i);
/* "nhfd" or "nela" */
const char *sim_audit(const sim_t *self);

size_t sim_ntrusts(const sim_t *self);
const char *sim_trust_code(const sim_t *self, size_t t);
/* The codes of the first k trusts (k <= SIM_MAX_TRUSTS) into out[0..k): the same whatever the
 * seed, so these are every trust code `ncap sim --trusts k` can produce (`ncap keys trusts`
 * issues their keys). */
void sim_trust_codes(size_t k, char (*out)[8]);
size_t sim_trust_nsites(const sim_t *self, size_t t);
size_t sim_trust_nrecords(const sim_t *self, size_t t);
/* The trust writes DD/MM/YYYY and "DD/MM/YYYY HH:MM" instead of ISO 8601. */
bool sim_trust_uk_dates(const sim_t *self, size_t t);
/* The trust really performs worse: longer delays to surgery and orthogeriatric assessment. */
bool sim_trust_poor(const sim_t *self, size_t t);
void sim_stats(const sim_t *self, sim_stats_t *stats);

/* Writes the NHFD header line. Returns 0, or -1 on a write error. */
int sim_write_header(FILE *out);
/* Writes the header line of the simulated audit's files. Returns 0, or -1 on a write error. */
int sim_write_file_header(const sim_t *self, FILE *out);
/* Writes trust t's rows (no header), in order of arrival. Returns 0, or -1 on a write error. */
int sim_write_trust(const sim_t *self, size_t t, FILE *out);
/* Writes trust t's file (header and rows) to a new buffer the caller frees. Returns 0, or -1. */
int sim_trust_buffer(const sim_t *self, size_t t, char **buf, size_t *len);
/* Writes the truth CSV: local_record_id,trust_code,row,patient_id,invalid,reason,
 * nhs_number_issue,opted_out, one row per record (invalid 1 when the row has an error, reason
 * the kind of its injected problem) in the order written; for nela also risk (the true model's
 * probability of death within 30 days of the day of arrival), true_risk (with the trust's odds
 * ratio: what the death was drawn from), died_30d (1/0) and date_of_death (empty while alive a
 * year after surgery). row is the line in the file the
 * record went to (header is line 1): one_file when every trust's rows follow one header in trust
 * order, else one file per trust. Returns 0, or -1 on a write error. */
int sim_write_truth(const sim_t *self, FILE *out, bool one_file);
/* Writes the truth about each trust of a nela simulation: trust_code,role (excess_risk,
 * sicker_patients or ordinary),odds_ratio (of death, on top of the model),frailty_shift (of its
 * patients, in population SDs),poor_times (1: slower to theatre, fewer risks documented),records,
 * valid_records (without an error),expected_30d (the model's sum of risk over the valid records),
 * deaths_30d (of the valid records). Returns 0, or -1 on a write error or for nhfd. */
int sim_write_trusts_truth(const sim_t *self, FILE *out);
/* Writes every problem `ncap validate` reports on the files written (nhfd only: -1 for nela), one
 * CSV line each:
 * row,field,rule,severity,trust_code (row as in sim_write_truth; one trust per file is what
 * `ncap validate` reads, so use one file per trust or one trust). Rows not listed are clean.
 * Returns 0, or -1 on a write error. */
int sim_write_problems_truth(const sim_t *self, FILE *out, bool one_file);
/* Writes a register-of-deaths extract (header nhs_number,forename,surname,date_of_birth,sex,
 * postcode,date_of_death) to deaths and, to truth, row,patient_id for each of its rows (row is the
 * line in the deaths file, header line 1; patient_id empty for people not in the audit). Either
 * may be NULL. Returns 0, or -1 on a write error or when out of memory. */
int sim_write_deaths(const sim_t *self, FILE *deaths, FILE *truth);
/* The same register row by row, for a register that grows round after round (sim_register.h):
 * its header line; how many rows; the date of death of row k (days since 1970-01-01); row k alone.
 * The writers return 0, or -1 on a write error. */
int sim_write_deaths_header(FILE *out);
size_t sim_ndeaths(const sim_t *self);
int64_t sim_death_day(const sim_t *self, size_t k);
int sim_write_death(const sim_t *self, size_t k, FILE *out);
/* Writes the national data opt-out list (header nhs_number): opted-out patients of the audit
 * and people not in it. Returns 0, or -1 on a write error or when out of memory. */
int sim_write_optouts(const sim_t *self, FILE *out);
/* Writes a short human summary (records, trusts, invalid, repeat patients, poorer trusts). */
void sim_write_summary(const sim_t *self, FILE *out);

const char *sim_invalid_text(sim_invalid_t kind); /* "" or "missing_required", ... */
/* "", "mistyped", "missing", "placeholder" or "test" */
const char *sim_nhs_issue_text(sim_nhs_issue_t issue);
/* The name of a kind ("required", "type_date", ..., the rule id for definition rules), as used by
 * `ncap sim --problems KIND=N`; sim_problem_kind_parse returns SIM_P_NONE for an unknown name. */
const char *sim_problem_kind_name(sim_problem_kind_t kind);
sim_problem_kind_t sim_problem_kind_parse(const char *name);

#endif
