/* death_assign.c - deaths to patients already held, one to one, best weight first */
#include "death_assign.h"

#include <stdbool.h>
#include <stdlib.h>

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
