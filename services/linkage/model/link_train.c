/* link_train.c - ncap-linkd's parameters learned from the identifiers of the patient index */
#include "link_train.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"

/* link_incremental's fields and the fs_model kinds that compare them alike (link_ident_compare
 * uses the same kinds; test_link_train checks the levels agree). */
static const fs_kind_t kinds[LI_NFIELDS] = {
    [LI_NHS] = FS_KIND_NHS_NUMBER,  [LI_FORENAME] = FS_KIND_FORENAME,
    [LI_SURNAME] = FS_KIND_SURNAME, [LI_DOB] = FS_KIND_DOB,
    [LI_SEX] = FS_KIND_SEX,         [LI_POSTCODE] = FS_KIND_POSTCODE,
};

fs_kind_t link_train_kind(size_t field)
{
    assert(field < LI_NFIELDS);
    return kinds[field];
}

static const char *value_of(const link_ident_t *id, size_t f)
{
    const char *v[LI_NFIELDS] = {id->nhs, id->forename, id->surname,
                                 id->dob, id->sex,      id->postcode};
    return v[f][0] ? v[f] : NULL;
}

static double floored(double x)
{
    return x < LINK_TRAIN_MIN_PROB || !isfinite(x) ? LINK_TRAIN_MIN_PROB : x > 1 ? 1 : x;
}

int link_train(const link_ident_t *ids, size_t n, size_t total_patients, uint64_t seed,
               const link_params_t *current, link_params_t *out, char *err, size_t errlen)
{
    assert(current && out);
    if (n < 2 || total_patients < 1) {
        snprintf(err, errlen, "too few identifiers to train on: %zu", n);
        return -1;
    }
    const char **values = malloc(n * LI_NFIELDS * sizeof *values);
    if (!values) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t r = 0; r < n; r++)
        for (size_t f = 0; f < LI_NFIELDS; f++)
            values[r * LI_NFIELDS + f] = value_of(&ids[r], f);
    fs_data_t data = {.nrecords = n, .nfields = LI_NFIELDS, .values = values};
    for (size_t f = 0; f < LI_NFIELDS; f++)
        data.kinds[f] = kinds[f];
    uint64_t *pairs = NULL;
    size_t npairs = 0;
    fs_model_t *model = fs_model_new(&data);
    int rc = model && blocking_candidates(&data, &pairs, &npairs, NULL) == 0 &&
                     fs_model_train(model, pairs, npairs, seed) == 0
                 ? 0
                 : -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    else {
        memset(out, 0, sizeof *out);
        for (size_t f = 0; f < LI_NFIELDS; f++)
            for (size_t l = 1; l < link_field_levels(f); l++) {
                out->m[f][l] = floored(fs_model_m(model, f, l));
                out->u[f][l] = floored(fs_model_u(model, f, l));
            }
        /* fs_model floors its prior at 1e-12: no matches found at all */
        double pair_prior = fs_model_prior(model);
        double prior = pair_prior * (double)(n - 1) / (double)total_patients;
        out->log2_prior_odds = pair_prior > 1e-12 && prior < 1 ? log2(prior / (1 - prior)) : NAN;
        out->threshold = current->threshold;
        link_params_update(out);
        rc = link_train_check(out, err, errlen);
    }
    fs_model_destroy(&model);
    free(pairs);
    free(values);
    return rc;
}

/* Counts, per field, each value once per patient into counts, and the patients with a value into
 * holders. */
static int count_values(const link_ident_t *ids, const int64_t *patient, size_t n,
                        term_freq_t *counts, double *holders)
{
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && patient[e] == patient[s];)
            e++;
        for (size_t f = 0; f < LI_NFIELDS; f++) {
            if (!link_field_tf(f))
                continue;
            bool any = false;
            for (size_t i = s; i < e; i++) {
                const char *v = value_of(&ids[i], f);
                if (!v)
                    continue;
                any = true;
                bool seen = false;
                for (size_t j = s; j < i && !seen; j++)
                    seen = value_of(&ids[j], f) && strcmp(value_of(&ids[j], f), v) == 0;
                if (!seen && term_freq_add(counts, f, v, 1) != 0)
                    return -1;
            }
            holders[f] += any;
        }
    }
    return 0;
}

int link_train_term_freqs(const link_ident_t *ids, const int64_t *patient, size_t n,
                          const link_params_t *learned, term_freq_t **out, char *err, size_t errlen)
{
    assert(learned && out);
    double holders[LI_NFIELDS] = {0};
    term_freq_t *counts = term_freq_new();
    *out = term_freq_new();
    int rc = counts && *out ? count_values(ids, patient, n, counts, holders) : -1;
    for (size_t k = 0; rc == 0 && k < term_freq_size(counts); k++) {
        size_t f;
        const char *v;
        double count;
        term_freq_entry(counts, k, &f, &v, &count);
        double freq = count / holders[f];
        if (count >= LINK_TRAIN_TF_MIN_PATIENTS && freq > learned->u[f][1])
            rc = term_freq_add(*out, f, v, freq);
    }
    term_freq_destroy(&counts);
    if (rc != 0) {
        term_freq_destroy(out);
        snprintf(err, errlen, "out of memory");
    }
    return rc;
}

int link_train_check(const link_params_t *p, char *err, size_t errlen)
{
    assert(p);
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        const char *name = link_field_name(f);
        double msum = 0, usum = 0;
        for (size_t l = 1; l < link_field_levels(f); l++) {
            double m = p->m[f][l], u = p->u[f][l];
            if (!(m > 0 && m <= 1) || !(u > 0 && u <= 1)) {
                snprintf(err, errlen,
                         "degenerate model: field \"%s\" level %zu has m %g and u %g, expected"
                         " both in (0, 1]",
                         name, l, m, u);
                return -1;
            }
            msum += m, usum += u;
        }
        if (fabs(msum - 1) > 0.01 || fabs(usum - 1) > 0.01) {
            snprintf(err, errlen,
                     "degenerate model: field \"%s\" has m summing to %g and u to %g, expected 1",
                     name, msum, usum);
            return -1;
        }
        if (!(p->m[f][1] > p->u[f][1])) {
            snprintf(err, errlen,
                     "degenerate model: field \"%s\" agrees no more often among matches (m %g)"
                     " than among non-matches (u %g)",
                     name, p->m[f][1], p->u[f][1]);
            return -1;
        }
    }
    if (!isfinite(p->log2_prior_odds) || p->log2_prior_odds >= 0 || p->log2_prior_odds < -40) {
        snprintf(err, errlen, "degenerate model: log2 prior odds %g, expected in [-40, 0)",
                 p->log2_prior_odds);
        return -1;
    }
    return 0;
}
