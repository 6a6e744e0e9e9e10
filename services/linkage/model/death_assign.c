/* death_assign.c - deaths to patients, one to one, best weight first */
#include "death_assign.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int by_weight_desc(const void *a, const void *b)
{
    const death_pair_t *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight < y->weight ? 1 : -1;
    if (x->death_id != y->death_id) /* ties: the earlier death, then the earlier patient */
        return x->death_id < y->death_id ? -1 : 1;
    return x->patient_id < y->patient_id ? -1 : x->patient_id > y->patient_id;
}

/* The link of death d among the links now or chosen, or NULL. */
static const death_pair_t *link_of_death(const death_pair_t *linked, size_t nlinked,
                                         const death_pair_t *out, size_t nout, int64_t d)
{
    for (size_t i = 0; i < nout; i++)
        if (out[i].death_id == d)
            return &out[i];
    for (size_t i = 0; i < nlinked; i++)
        if (linked[i].death_id == d)
            return &linked[i];
    return NULL;
}

/* True when patient p has a death among the links now (not taken over since) or chosen. */
static bool patient_has_death(const death_pair_t *linked, size_t nlinked, const death_pair_t *out,
                              size_t nout, int64_t p)
{
    for (size_t i = 0; i < nout; i++)
        if (out[i].patient_id == p)
            return true;
    for (size_t i = 0; i < nlinked; i++) {
        if (linked[i].patient_id != p)
            continue;
        const death_pair_t *now = link_of_death(linked, nlinked, out, nout, linked[i].death_id);
        if (now && now->patient_id == p)
            return true;
    }
    return false;
}

size_t death_assign(death_pair_t *cand, size_t ncand, const death_pair_t *linked, size_t nlinked,
                    death_pair_t *out)
{
    if (ncand == 0)
        return 0;
    qsort(cand, ncand, sizeof *cand, by_weight_desc);
    size_t nout = 0;
    for (size_t i = 0; i < ncand; i++) {
        const death_pair_t *c = &cand[i];
        if (patient_has_death(linked, nlinked, out, nout, c->patient_id))
            continue;
        const death_pair_t *now = link_of_death(linked, nlinked, out, nout, c->death_id);
        if (now && now->weight >= c->weight)
            continue;
        out[nout++] = *c; /* a death chosen already has a weight at least as high */
    }
    return nout;
}

void death_pair_keep_best(death_pair_t *cand, size_t *n, death_pair_t c)
{
    size_t j = 0;
    while (j < *n && (cand[j].death_id != c.death_id || cand[j].patient_id != c.patient_id))
        j++;
    if (j == *n)
        cand[(*n)++] = c;
    else if (c.weight > cand[j].weight)
        cand[j].weight = c.weight;
}

bool death_link_weight(const link_params_t *p, const link_ident_t *a, const link_ident_t *d,
                       double *weight)
{
    double prob;
    *weight = link_score(p, a, d, &prob);
    if (prob >= 1.0)
        *weight += 1000; /* a deterministic link outranks any probabilistic one */
    return prob >= p->threshold;
}

static bool contains(const int64_t *v, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

void death_choose(const link_params_t *p, const link_ident_t *ids, const int64_t *patient_ids,
                  size_t n, death_held_t *deaths, size_t ndeaths, int64_t *linked, size_t *nlinked)
{
    for (size_t i = 0; i < n; i++) {
        if (contains(linked, *nlinked, patient_ids[i]))
            continue;
        death_held_t *best = NULL;
        double best_w = 0;
        for (size_t d = 0; d < ndeaths; d++) {
            death_held_t *dt = &deaths[d];
            bool same_nhs = ids[i].nhs[0] && strcmp(ids[i].nhs, dt->id.nhs) == 0;
            bool same_dob = ids[i].dob[0] && strcmp(ids[i].dob, dt->id.dob) == 0;
            if (!same_nhs && !same_dob)
                continue;
            double w;
            if (!death_link_weight(p, &ids[i], &dt->id, &w))
                continue;
            if (dt->patient_id != 0 && dt->patient_id != patient_ids[i] && dt->weight >= w)
                continue;
            if (!best || w > best_w) {
                best = dt;
                best_w = w;
            }
        }
        if (best) {
            if (best->patient_id != 0) {
                /* taken over: the other patient no longer has this death */
                for (size_t k = 0; k < *nlinked; k++)
                    if (linked[k] == best->patient_id)
                        linked[k] = 0;
            }
            best->patient_id = patient_ids[i];
            best->weight = best_w;
            best->changed = true;
            linked[(*nlinked)++] = patient_ids[i];
        }
    }
}
