/* problems.c - which rows get a problem on purpose, and what that changes in the record: patients
 * seen once, otherwise clean, one problem each; a probable duplicate episode takes two rows. */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#include "datetime.h"

/* Rows the problems of opts take: one each, two for a probable duplicate. */
static size_t problem_rows(const sim_opts_t *opts)
{
    size_t n = 0;
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        n += opts->problems[k];
    return n + opts->problems[SIM_P_PROBABLE_DUPLICATE];
}

size_t sim_min_records(const sim_opts_t *opts)
{
    /* about 80% of rows can take a problem (not a repeat patient, no other problem): ask for
     * 10 rows for each 7 problem rows, plus a few per trust to pair duplicates in */
    size_t n = problem_rows(opts);
    return n ? (10 * n + 6) / 7 + 4 * (size_t)opts->trusts + 20 : 0;
}

/* Gives rec (a patient's only row, otherwise clean) the problem kind. placeholders: a set of
 * (digit, date of birth) already used, so that no two placeholder rows look like one patient. */
static void inject(sim_t *self, rng_t *r, rec_t *rec, sim_problem_kind_t kind, uint64_t *used,
                   size_t used_cap)
{
    rec->problem = (uint8_t)kind;
    rec->problem_variant = (uint8_t)rng_below(r, sim_problem_info(kind)->variants);
    patient_t *p = &self->patients[rec->patient];
    int v = rec->problem_variant;
    switch (kind) {
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK:
        if (sim_problem_column(rec) == SIM_C_WARD && rec->ward < 0)
            rec->ward = rng_range(r, 60, 600);
        if (sim_problem_column(rec) == SIM_C_SURGERY)
            sim_ensure_operated(r, rec);
        break;
    case SIM_P_NHS_CHECKSUM:
        rec->nhs_issue = SIM_NHS_MISTYPED;
        sim_mistype(r, rec->nhs);
        break;
    case SIM_P_NHS_MISSING:
        rec->nhs_issue = SIM_NHS_MISSING;
        rec->nhs[0] = '\0';
        break;
    case SIM_P_NHS_TEST:
        rec->nhs_issue = SIM_NHS_TEST;
        sim_new_test_number(self, r, rec->nhs);
        break;
    case SIM_P_NHS_PLACEHOLDER: {
        rec->nhs_issue = SIM_NHS_PLACEHOLDER;
        size_t mask = used_cap - 1;
        for (;;) {
            uint64_t key = ((uint64_t)(uint32_t)rec->dob << 4 | (uint64_t)v) + 1;
            size_t h = (size_t)((key * 0x9e3779b97f4a7c15u) >> 24) & mask;
            while (used[h] && used[h] != key)
                h = (h + 1) & mask;
            if (!used[h]) {
                used[h] = key;
                break;
            }
            rec->dob--; /* taken: the patient was born a day earlier */
        }
        p->dob = rec->dob;
        memset(rec->nhs, '0' + v, 10);
        rec->nhs[10] = '\0';
        break;
    }
    case SIM_P_SURGERY_BEFORE_ARRIVAL:
        sim_ensure_operated(r, rec);
        rec->surgery = -rng_range(r, 120, 48 * 60);
        break;
    case SIM_P_ORTHO_BEFORE_ARRIVAL:
        rec->ortho = -rng_range(r, 120, 72 * 60);
        break;
    case SIM_P_DISCHARGE_BEFORE_ARRIVAL:
        rec->los = -rng_range(r, 1, 10);
        break;
    case SIM_P_WARD_NEVER_ADMITTED:
        if (rec->ward < 0)
            rec->ward = rng_range(r, 60, 600);
        break;
    case SIM_P_AGE_OVER_110: {
        int y, m, d;
        ncap_civil_from_days(rec->arrival / 1440, &y, &m, &d);
        rec->dob = (int32_t)ncap_days_from_civil(y - rng_range(r, 112, 118), rng_range(r, 1, 12),
                                                 rng_range(r, 1, 28));
        break;
    }
    case SIM_P_SURGERY_AFTER_30_DAYS: {
        sim_ensure_operated(r, rec);
        rec->surgery = rng_range(r, 31 * 1440, 90 * 1440);
        int64_t arrival_day = rec->arrival / 1440;
        int64_t surgery_day = (rec->arrival + rec->surgery) / 1440;
        rec->los = (int32_t)(surgery_day - arrival_day) + rng_range(r, 2, 20);
        break;
    }
    case SIM_P_OPERATION_WITHOUT_SURGERY:
        sim_ensure_operated(r, rec);
        if (v == 0)
            rec->operation = OP_NOP; /* "no operation" with a surgery time */
        else
            rec->surgery = NO_SURGERY; /* an operation without one */
        break;
    default: /* written wrong by write_record; nothing else changes */
        break;
    }
}

/* Makes rec a second episode of src's patient at src's trust: same identifiers and side, arriving
 * 1 hour to 28 days apart. The later of the two carries the problem. */
static void make_duplicate(sim_t *self, rng_t *r, rec_t *rec, rec_t *src)
{
    const sim_opts_t *o = &self->opts;
    int64_t lo = o->start_day * 1440, hi = (o->start_day + o->days) * 1440;
    rec->patient = src->patient;
    memcpy(rec->forename, src->forename, sizeof rec->forename);
    memcpy(rec->surname, src->surname, sizeof rec->surname);
    memcpy(rec->nhs, src->nhs, sizeof rec->nhs);
    memcpy(rec->postcode, src->postcode, sizeof rec->postcode);
    rec->lsoa = src->lsoa;
    rec->dob = src->dob;
    rec->side = src->side;
    int64_t d = rng_range(r, 60, 28 * 1440);
    rec_t *later = rec;
    rec->arrival = src->arrival + d;
    if (rec->arrival >= hi && src->arrival - d >= lo) {
        rec->arrival = src->arrival - d;
        later = src;
    }
    sim_gen_times(r, rec, self->trusts[rec->trust].poor);
    later->problem = SIM_P_PROBABLE_DUPLICATE;
    rec->in_pair = src->in_pair = true;
}

static bool can_take_problem(const rec_t *rec, const uint8_t *role, size_t i)
{
    return role[i] == ROLE_FREE && !rec->in_pair && rec->nhs_issue == SIM_NHS_OK &&
           rec->invalid == SIM_VALID && rec->problem == SIM_P_NONE;
}

/* Gives opts.problems[k] rows each kind k, drawn from the rows of patients seen once with no
 * other problem. perm: nrecs slots of scratch; role: from add_repeats. Returns 0, -1 when the
 * records are too few, -2 when out of memory. */
int sim_add_problems(sim_t *self, uint32_t *perm, const uint8_t *role)
{
    const unsigned *want = self->opts.problems;
    if (problem_rows(&self->opts) == 0)
        return 0;
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 3);
    size_t n = self->nrecs;
    size_t used_cap = 64;
    while (used_cap < 2 * (size_t)want[SIM_P_NHS_PLACEHOLDER])
        used_cap *= 2;
    uint64_t *used = calloc(used_cap, sizeof *used);
    uint32_t *pending = malloc(self->ntrusts * sizeof *pending);
    if (!used || !pending) {
        free(used);
        free(pending);
        return -2;
    }
    rng_choose(&r, perm, n, n);
    /* probable duplicates first: two free rows of one trust make a pair */
    for (size_t t = 0; t < self->ntrusts; t++)
        pending[t] = UINT32_MAX;
    size_t pairs = 0;
    for (size_t i = 0; i < n && pairs < want[SIM_P_PROBABLE_DUPLICATE]; i++) {
        rec_t *rec = &self->recs[perm[i]];
        if (!can_take_problem(rec, role, perm[i]))
            continue;
        if (pending[rec->trust] == UINT32_MAX) {
            pending[rec->trust] = perm[i];
            continue;
        }
        make_duplicate(self, &r, rec, &self->recs[pending[rec->trust]]);
        pending[rec->trust] = UINT32_MAX;
        pairs++;
    }
    size_t next = 0, done = pairs;
    int rc = pairs == want[SIM_P_PROBABLE_DUPLICATE] ? 0 : -1;
    for (int k = 1; rc == 0 && k < SIM_NPROBLEM_KINDS; k++) {
        if (k == SIM_P_PROBABLE_DUPLICATE)
            continue;
        for (unsigned j = 0; rc == 0 && j < want[k]; j++) {
            while (next < n && !can_take_problem(&self->recs[perm[next]], role, perm[next]))
                next++;
            if (next == n) {
                rc = -1;
                break;
            }
            inject(self, &r, &self->recs[perm[next++]], (sim_problem_kind_t)k, used, used_cap);
            done++;
        }
    }
    self->stats.problems = done;
    free(used);
    free(pending);
    return rc;
}
