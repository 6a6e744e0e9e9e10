/* sim.c - simulated trusts submitting NHFD-like or NELA-like records, with a known truth: the
 * options, the steps that build the world in order, and what the caller may ask of it. */
#include "sim.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "nela_internal.h"
#include "sim_internal.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void sim_opts_default(sim_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->audit = "nhfd";
    opts->trusts = 20;
    opts->records = 1000;
    opts->seed = 1;
    opts->round = 0;
    opts->invalid_rate = 0.02;
    opts->start_day = ncap_days_from_civil(2025, 4, 1);
    opts->days = 365;
}

const char *sim_column(size_t i)
{
    return i < SIM_NCOLUMNS ? sim_columns[i] : NULL;
}

typedef struct {
    uint32_t trust, index;
    int64_t arrival;
} sort_key_t;

static int cmp_key(const void *a, const void *b)
{
    const sort_key_t *ka = a, *kb = b;
    if (ka->trust != kb->trust)
        return ka->trust < kb->trust ? -1 : 1;
    if (ka->arrival != kb->arrival)
        return ka->arrival < kb->arrival ? -1 : 1;
    return ka->index < kb->index ? -1 : ka->index > kb->index;
}

/* keys: nrecs slots of scratch */
static void put_in_order(sim_t *self, sort_key_t *keys)
{
    for (size_t i = 0; i < self->nrecs; i++)
        keys[i] = (sort_key_t){self->recs[i].trust, (uint32_t)i, self->recs[i].arrival};
    qsort(keys, self->nrecs, sizeof *keys, cmp_key);
    for (size_t i = 0; i < self->nrecs; i++)
        self->order[i] = keys[i].index;
    size_t pos = 0;
    for (size_t t = 0; t < self->ntrusts; t++) {
        trust_t *tr = &self->trusts[t];
        tr->first = pos;
        while (pos < self->nrecs && self->recs[self->order[pos]].trust == t) {
            self->recs[self->order[pos]].seq = (uint32_t)(pos - tr->first + 1);
            pos++;
        }
        tr->n = pos - tr->first;
    }
    uint32_t next_id = 1;
    for (size_t i = 0; i < self->nrecs; i++) {
        patient_t *p = &self->patients[self->recs[self->order[i]].patient];
        if (p->id == 0)
            p->id = next_id++;
    }
    self->stats.patients = next_id - 1;
}

static void count_nhs_issues(sim_t *self)
{
    for (size_t i = 0; i < self->nrecs; i++) {
        self->stats.nhs_mistyped += self->recs[i].nhs_issue == SIM_NHS_MISTYPED;
        self->stats.nhs_missing += self->recs[i].nhs_issue == SIM_NHS_MISSING;
    }
}

sim_t *sim_new(const sim_opts_t *opts, char *err, size_t errlen)
{
    assert(opts);
    bool nela = opts->audit && strcmp(opts->audit, "nela") == 0;
    if (!opts->audit || (!nela && strcmp(opts->audit, "nhfd") != 0)) {
        set_err(err, errlen,
                "audit \"%s\" is not supported by the simulator, only \"nhfd\" and \"nela\"",
                opts->audit ? opts->audit : "");
        return NULL;
    }
    if (nela && sim_min_records(opts) > 0) {
        set_err(err, errlen, "%s", "problems on purpose are simulated for nhfd only, not nela");
        return NULL;
    }
    if (opts->trusts < 1 || opts->trusts > SIM_MAX_TRUSTS) {
        set_err(err, errlen, "number of trusts %u is out of range, expected 1-%d", opts->trusts,
                SIM_MAX_TRUSTS);
        return NULL;
    }
    if (opts->records > SIM_MAX_RECORDS) {
        set_err(err, errlen, "number of records %u is out of range, expected 0-%u", opts->records,
                SIM_MAX_RECORDS);
        return NULL;
    }
    if (!(opts->invalid_rate >= 0.0 && opts->invalid_rate <= 1.0)) {
        set_err(err, errlen, "invalid rate %g is out of range, expected 0-1", opts->invalid_rate);
        return NULL;
    }
    if (opts->days < 1 || opts->days > 36600) {
        set_err(err, errlen, "number of days %u is out of range, expected 1-36600", opts->days);
        return NULL;
    }
    sim_t *self = calloc(1, sizeof *self);
    if (!self) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    self->opts.audit = nela ? "nela" : "nhfd";
    self->ntrusts = opts->trusts;
    self->nrecs = opts->records;
    size_t nslots = self->nrecs ? self->nrecs : 1;
    self->nhs_cap = 64;
    while (self->nhs_cap < 2 * nslots)
        self->nhs_cap *= 2;
    self->trusts = calloc(self->ntrusts, sizeof *self->trusts);
    self->patients = calloc(nslots, sizeof *self->patients);
    self->recs = calloc(nslots, sizeof *self->recs);
    self->order = calloc(nslots, sizeof *self->order);
    self->nhs_set = calloc(self->nhs_cap, sizeof *self->nhs_set);
    /* scratch for the steps below */
    size_t nscratch = nslots > self->ntrusts ? nslots : self->ntrusts;
    size_t *count = calloc(self->ntrusts, sizeof *count);
    uint64_t *rem = calloc(self->ntrusts, sizeof *rem);
    uint32_t *perm = calloc(nscratch, sizeof *perm);
    uint8_t *role = calloc(nslots, 1);
    sort_key_t *keys = calloc(nslots, sizeof *keys);
    bool ok = self->trusts && self->patients && self->recs && self->order && self->nhs_set &&
              count && rem && perm && role && keys;
    bool bad_opts = false;
    if (ok && nela) {
        self->nela = calloc(nslots, sizeof *self->nela);
        self->nela_trusts = calloc(self->ntrusts, sizeof *self->nela_trusts);
        ok = self->nela && self->nela_trusts;
        if (ok) { /* one record a patient: no repeat visits, no problems on purpose */
            sim_build_trusts(self, perm);
            sim_split_records(self, count, rem);
            rng_seed(&self->rng, opts->seed + opts->round, 2);
            ok = nela_new_records(self, count) == 0;
        }
        if (ok) {
            sim_add_nhs_issues(self, perm);
            sim_add_invalid(self, perm);
        }
    } else if (ok) {
        sim_build_trusts(self, perm);
        sim_split_records(self, count, rem);
        rng_seed(&self->rng, opts->seed + opts->round, 2);
        size_t i = 0;
        for (uint32_t t = 0; t < self->ntrusts; t++)
            for (size_t j = 0; j < count[t]; j++, i++)
                sim_new_record(self, t, &self->recs[i]);
        sim_add_repeats(self, perm, role);
        sim_add_nhs_issues(self, perm);
        sim_add_invalid(self, perm);
        int prc = sim_add_problems(self, perm, role);
        if (prc == -1) {
            set_err(err, errlen,
                    "%u records are too few for the problems asked for: give at least %zu",
                    opts->records, sim_min_records(opts));
            bad_opts = true;
        }
        ok = prc != -2;
    }
    if (ok && !bad_opts) {
        put_in_order(self, keys);
        count_nhs_issues(self);
        ok = sim_add_optouts(self) == 0 &&
             (nela ? nela_add_deaths(self) : sim_add_deaths(self)) == 0;
        self->stats.records = self->nrecs;
    }
    free(count);
    free(rem);
    free(perm);
    free(role);
    free(keys);
    if (!ok || bad_opts) {
        sim_destroy(&self);
        if (!bad_opts)
            set_err(err, errlen, "out of memory");
    }
    return self;
}

void sim_destroy(sim_t **self_p)
{
    assert(self_p);
    sim_t *self = *self_p;
    if (!self)
        return;
    free(self->trusts);
    free(self->patients);
    free(self->recs);
    free(self->order);
    free(self->nhs_set);
    free(self->others);
    free(self->deaths);
    free(self->nela);
    free(self->nela_trusts);
    free(self);
    *self_p = NULL;
}

size_t sim_ntrusts(const sim_t *self)
{
    assert(self);
    return self->ntrusts;
}

const char *sim_trust_code(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].code : NULL;
}

size_t sim_trust_nsites(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].nsites : 0;
}

size_t sim_trust_nrecords(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].n : 0;
}

bool sim_trust_uk_dates(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts && self->trusts[t].uk_dates;
}

bool sim_trust_poor(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts && self->trusts[t].poor;
}

void sim_stats(const sim_t *self, sim_stats_t *stats)
{
    assert(self);
    *stats = self->stats;
}

const char *sim_invalid_text(sim_invalid_t kind)
{
    switch (kind) {
    case SIM_VALID:
        return "";
    case SIM_MISSING_REQUIRED:
        return "missing_required";
    case SIM_BAD_DATETIME:
        return "bad_datetime";
    case SIM_BAD_CODE:
        return "bad_code";
    }
    return "";
}

const char *sim_nhs_issue_text(sim_nhs_issue_t issue)
{
    switch (issue) {
    case SIM_NHS_OK:
        return "";
    case SIM_NHS_MISTYPED:
        return "mistyped";
    case SIM_NHS_MISSING:
        return "missing";
    case SIM_NHS_PLACEHOLDER:
        return "placeholder";
    case SIM_NHS_TEST:
        return "test";
    }
    return "";
}

static void write_trust_list(const sim_t *self, FILE *out, bool poor)
{
    size_t n = 0;
    for (size_t t = 0; t < self->ntrusts; t++) {
        if (poor ? self->trusts[t].poor : self->trusts[t].uk_dates) {
            fprintf(out, " %s", self->trusts[t].code);
            n++;
        }
    }
    if (n == 0)
        fputs(" none", out);
    fputc('\n', out);
}

void sim_write_summary(const sim_t *self, FILE *out)
{
    assert(self);
    const sim_stats_t *s = &self->stats;
    size_t kinds[4] = {0};
    for (size_t i = 0; i < self->nrecs; i++)
        kinds[self->recs[i].invalid]++;
    fprintf(out, "sim: %zu records from %zu trusts (seed %llu%s), %zu patients\n", s->records,
            self->ntrusts, (unsigned long long)self->opts.seed,
            self->opts.round ? ", submit round" : "", s->patients);
    fprintf(out, "sim: invalid rows: %zu (%zu missing_required, %zu bad_datetime, %zu bad_code)\n",
            s->invalid, kinds[SIM_MISSING_REQUIRED], kinds[SIM_BAD_DATETIME], kinds[SIM_BAD_CODE]);
    if (!self->nela)
        fprintf(out, "sim: repeat patients (rows of a patient seen in another row): %zu\n",
                s->repeats);
    fprintf(out, "sim: NHS numbers mistyped: %zu, missing: %zu\n", s->nhs_mistyped, s->nhs_missing);
    if (s->problems) {
        fprintf(out, "sim: rows with a problem on purpose: %zu (", s->problems);
        bool first = true;
        for (int k = 1; k < SIM_NPROBLEM_KINDS; k++) {
            if (!self->opts.problems[k])
                continue;
            fprintf(out, "%s%u %s", first ? "" : ", ", self->opts.problems[k],
                    sim_problem_kind_name((sim_problem_kind_t)k));
            first = false;
        }
        fputs(")\n", out);
    }
    fprintf(out,
            "sim: deaths in the register: %zu (%zu not in the audit), opted out: %zu patients\n",
            self->ndeaths, self->nothers - self->noptout_others, s->opted_out);
    if (self->nela)
        nela_write_summary(self, out);
    fputs("sim: poorer-performing trusts:", out);
    write_trust_list(self, out, true);
    fputs("sim: trusts writing UK-style dates:", out);
    write_trust_list(self, out, false);
}

const char *sim_audit(const sim_t *self)
{
    assert(self);
    return self->opts.audit;
}
