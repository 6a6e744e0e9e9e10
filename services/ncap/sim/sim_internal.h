/* sim_internal.h - what the files of the simulator share, and nothing outside sim/ should use:
 * the simulated world (trusts, patients, records, the register of deaths) and, file by file, the
 * steps sim_new runs and the pieces the writers use. The public interface is sim.h. */
#ifndef NCAP_SIM_INTERNAL_H
#define NCAP_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "sim_rng.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

enum { OP_CS, OP_HA, OP_THR, OP_SHS, OP_IMN, OP_OTH, OP_NOP };

enum { AMTS_ND = 11 };

#define NO_SURGERY INT32_MIN /* rec_t.surgery of a patient not operated on */

/* what add_repeats made of a record: a patient seen once, the first of two visits, the second */
enum { ROLE_FREE, ROLE_SOURCE, ROLE_REPEAT };

/* ---------- the simulated world ---------- */

typedef struct {
    char code[8];
    size_t area;
    unsigned nsites;
    unsigned site_w[3];
    unsigned size_w;
    bool uk_dates;
    bool poor;
    bool upper_surname; /* the trust's system writes surnames in capitals */
    int nhs_style;      /* 0 "9434765919", 1 "943 476 5919", 2 "943-476-5919" */
    size_t first, n;    /* its records: order[first .. first + n) */
} trust_t;

typedef struct {
    char sex;
    bool male_name;
    uint16_t forename, surname;
    int32_t dob; /* days since 1970-01-01 */
    char nhs[11];
    char postcode[9];
    uint32_t lsoa; /* the six digits after E01 */
    uint8_t ethnic;
    bool opted_out; /* national data opt-out */
    uint32_t id;    /* numbered from 1 in order of first appearance in the output */
} patient_t;

/* A row of the register of deaths: an audit patient's death, or someone else's. */
typedef struct {
    uint32_t person; /* index in patients, or in others when other */
    bool other;
    int32_t day; /* date of death, days since 1970-01-01 */
} death_t;

typedef struct {
    uint32_t trust, patient, seq;
    int64_t arrival;                /* minutes since 1970-01-01T00:00 */
    int32_t ward, ortho, surgery;   /* minutes after arrival; ward -1: never admitted,
                                     * surgery NO_SURGERY: no operation */
    int32_t los;                    /* days from arrival to discharge */
    int32_t dob;                    /* as written (a repeat may carry a typo) */
    char forename[24], surname[32]; /* as written */
    char postcode[9];
    uint32_t lsoa; /* the patient's, or where they live now after a move */
    char nhs[11];  /* digits as written, "" when missing */
    uint8_t site, residence, mobility, amts_pre, amts_post, ftype, side, patho, asa, operation,
        discharge;
    uint8_t invalid, invalid_variant, nhs_issue;
    uint8_t problem, problem_variant; /* sim_problem_kind_t injected on purpose, and how */
    bool repeat;
    bool in_pair; /* one of a probable duplicate episode's two rows (not to be touched again) */
} rec_t;

struct sim_t {
    sim_opts_t opts;
    rng_t rng;
    trust_t *trusts;
    size_t ntrusts;
    patient_t *patients;
    size_t npatients;
    rec_t *recs;
    size_t nrecs;
    uint32_t *order; /* records in output order: by trust, then arrival */
    uint64_t *nhs_set;
    size_t nhs_cap;
    patient_t *others; /* people not in the audit: in the register of deaths or opted out */
    size_t nothers;
    death_t *deaths; /* the register of deaths, in the order written */
    size_t ndeaths;
    size_t noptout_others; /* others[0 .. noptout_others) opted out, the rest died */
    sim_stats_t stats;
    /* --audit nela (nela_internal.h): each record's clinical values and outcome, in recs' order,
     * and each trust's truth; NULL for nhfd */
    struct nela_rec *nela;
    struct nela_trust *nela_trusts;
};

/* ---------- nhfd_fields.c: the NHFD columns and value sets, with the weights drawn with ----------
 */

extern const char *const sim_columns[SIM_NCOLUMNS];
extern const char *const sim_sex_codes[4];
extern const unsigned sim_sex_w[4];
extern const char *const sim_ethnic_codes[18];
extern const unsigned sim_ethnic_w[18];
extern const char *const sim_residence_codes[6];
extern const unsigned sim_residence_w[6];
extern const char *const sim_mobility_codes[6];
extern const unsigned sim_mobility_w[6];
extern const char *const sim_ftype_codes[4];
extern const unsigned sim_ftype_w[4];
extern const char *const sim_side_codes[2];
extern const char *const sim_patho_codes[3];
extern const unsigned sim_patho_w[3];
extern const char *const sim_asa_codes[5];
extern const unsigned sim_asa_w[5];
extern const char *const sim_op_codes[7];
extern const unsigned sim_op_w[4][6];
extern const char *const sim_discharge_codes[7];
extern const unsigned sim_discharge_w[7];

/* ---------- trusts.c: the trusts, and the postcode areas they serve ---------- */

/* Fills self->trusts from the seed alone (stream 1). perm: ntrusts slots of scratch. */
void sim_build_trusts(sim_t *self, uint32_t *perm);
/* Splits opts.records over the trusts in proportion to their size, into count (ntrusts slots);
 * rem: ntrusts slots of scratch. */
void sim_split_records(sim_t *self, size_t *count, uint64_t *rem);
/* A postcode area drawn uniformly (one draw). */
size_t sim_random_area(rng_t *r);
/* A postcode in the area, e.g. "LS12 4AB". */
void sim_new_postcode(rng_t *r, size_t area, char out[9]);
/* The area of a postcode written by sim_new_postcode, or otherwise when none matches. */
size_t sim_postcode_area(const char *postcode, size_t otherwise);
/* The post town of an area ("Leeds" for LS; "London" for its several areas). */
const char *sim_area_town(size_t area);

/* ---------- people.c: who the patients are, and their identifiers as clerks write them ----------
 */

/* A new patient of trust t arriving on arrival_day (self->rng); returns its index. */
uint32_t sim_new_patient(sim_t *self, const trust_t *t, int64_t arrival_day);
/* ... of the age given, with sex drawn by the weights of sim_sex_codes (NELA's patients). */
uint32_t sim_new_patient_aged(sim_t *self, const trust_t *t, int64_t arrival_day, int age,
                              const unsigned sex_w[4]);
const char *sim_patient_forename(const patient_t *p);
const char *sim_patient_surname(const patient_t *p);
/* The built-in name tables, most common first (roughly, among people born 1920-1960): forenames
 * by sex, each with a nickname or NULL, and surnames. i below the count. */
size_t sim_forename_count(bool male);
const char *sim_forename_at(bool male, size_t i);
const char *sim_forename_nick(bool male, size_t i);
size_t sim_surname_count(void);
const char *sim_surname_at(size_t i);
/* A unique valid NHS number in the test range (starting 9). */
void sim_new_test_number(sim_t *self, rng_t *r, char out[11]);
/* Sets rec's names as written at a repeat visit of its patient (self->rng). */
void sim_names_at_repeat(sim_t *self, rec_t *rec);
/* One typo in s (size bytes): two letters swapped, one dropped or one doubled. */
void sim_typo_any(rng_t *r, char *s, size_t size);
/* The date of birth with a clerk's typo, still a real date. */
int32_t sim_typo_dob(rng_t *r, int32_t dob);
/* Another surname for p: married, or double-barrelled. */
void sim_change_surname(rng_t *r, const patient_t *p, char *s, size_t size);
/* The NHS number with one digit or two neighbours wrong, so that it fails its check digit. */
void sim_mistype(rng_t *r, char nhs[11]);
/* Someone not in the audit, alive around day; with twin's name and area when twin. */
void sim_new_other(sim_t *self, rng_t *r, patient_t *o, const patient_t *twin, int64_t day);

/* ---------- records.c: the records, repeat visits, NHS number issues and invalid rows ----------
 */

/* A new record of trust for a new patient (self->rng). */
void sim_new_record(sim_t *self, uint32_t trust, rec_t *rec);
/* An arrival time (minutes since 1970-01-01) in the days of o, more by day than by night. */
int64_t sim_random_arrival(rng_t *r, const sim_opts_t *o);
/* rec's names, date of birth, postcode, LSOA and NHS number: its patient's. */
void sim_copy_identity(const sim_t *self, rec_t *rec);
/* The record's ward, orthogeriatric, surgery times and length of stay, from its arrival. */
void sim_gen_times(rng_t *r, rec_t *rec, bool poor);
/* The record is operated on, with a surgery time the next day. */
void sim_ensure_operated(rng_t *r, rec_t *rec);
/* Steps of sim_new, in this order; perm: nrecs slots of scratch, role: nrecs bytes. */
void sim_add_repeats(sim_t *self, uint32_t *perm, uint8_t *role);
void sim_add_nhs_issues(sim_t *self, uint32_t *perm);
void sim_add_invalid(sim_t *self, uint32_t *perm);

/* ---------- problem_kinds.c: each kind of problem, how it is written, what validate says
 * ---------- */

/* What `ncap validate` reports for each kind: the field (NULL when the variant picks it), the rule
 * and the severity; and how many ways the simulator writes it. */
typedef struct {
    const char *name;
    const char *field;
    const char *rule;
    const char *severity;
    uint8_t variants;
} problem_kind_t;

/* kind's entry (kind < SIM_NPROBLEM_KINDS). */
const problem_kind_t *sim_problem_info(sim_problem_kind_t kind);
/* The column (SIM_C_...) of rec's problem when its variant picks the field (required, date-time,
 * code), else -1. */
int sim_problem_column(const rec_t *rec);
/* Writes rec's injected problem over the row's fields f; bad is room for a value. */
void sim_write_problem(const sim_t *self, const rec_t *rec, const char **f, char *bad, size_t size);

/* ---------- problems.c: which rows get a problem on purpose ---------- */

/* Gives opts.problems[k] rows each kind k. Returns 0, -1 when the records are too few, -2 when
 * out of memory. perm: nrecs slots of scratch; role: from sim_add_repeats. */
int sim_add_problems(sim_t *self, uint32_t *perm, const uint8_t *role);

/* ---------- register.c: opt-outs and the register of deaths ---------- */

/* Steps of sim_new once the records are in order. Return 0, or -1 when out of memory. */
int sim_add_optouts(sim_t *self);
int sim_add_deaths(sim_t *self);
/* The patients in order of id (first appearance), into list (npatients slots); returns how many. */
size_t sim_patients_by_id(const sim_t *self, uint32_t *list);
/* Once self->deaths (room for 2 * naudit) holds naudit deaths of audit patients: as many
 * people not in the audit die too, one in five with the name of an audit patient (ids: nids
 * patients by id); then the register is put in order of the date of death. Draws from r. Returns
 * 0, or -1 when out of memory. */
int sim_add_other_deaths(sim_t *self, rng_t *r, const uint32_t *ids, size_t nids, size_t naudit);

/* ---------- write.c: the files as trusts write them, and the truth ---------- */

/* A date from its parts, which need not make a real one: YYYY-MM-DD, or DD/MM/YYYY when uk. */
void sim_date_text(char *out, size_t size, int y, int m, int d, bool uk);
/* ... with the time: YYYY-MM-DDTHH:MM, or "DD/MM/YYYY HH:MM" when uk. */
void sim_datetime_text(char *out, size_t size, int y, int m, int d, int hh, int mm, bool uk);
/* The day (days since 1970-01-01) as sim_date_text writes it. */
void sim_format_date(char *out, size_t size, int64_t day, bool uk);
/* The time (minutes since 1970-01-01T00:00) as sim_datetime_text writes it. */
void sim_format_datetime(char *out, size_t size, int64_t minutes, bool uk);
/* minutes' year and time of day on a day that does not exist: 30 February or the 31st of a
 * 30-day month (variant 0-4). */
void sim_format_bad_datetime(char *out, size_t size, int64_t minutes, int variant, bool uk);
/* The NHS number in the trust's style: 0 "9434765919", 1 "943 476 5919", 2 "943-476-5919". */
void sim_format_nhs(char *out, size_t size, const char *nhs, int style);
/* The columns an invalid row's error (sim_add_invalid) goes to, by its variant (0-2): the column
 * left empty when a required field is missing, the column given a bad code and the code. */
typedef struct {
    int missing[3];
    int bad_code[3];
    const char *bad_value[3];
} sim_invalid_cols_t;
/* Writes rec's invalid-row error over the row's fields f; arrival (size bytes) is the buffer the
 * arrival field points to, rewritten as a day that does not exist. */
void sim_write_invalid(const rec_t *rec, const sim_invalid_cols_t *cols, const char **f,
                       char *arrival, size_t size, bool uk);
/* rec's local_record_id as written (with its injected problem, if any). */
void sim_local_record_id(const sim_t *self, const rec_t *rec, char *out, size_t size);

#endif
