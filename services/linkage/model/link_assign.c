/* link_assign.c - records of a batch to held patients or new ones, best match first */
#include "link_assign.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int link_batch_keys_build(const link_ident_t *ids, size_t n, link_batch_keys_t *bk)
{
    memset(bk, 0, sizeof *bk);
    bk->keys = calloc(n + 1, sizeof *bk->keys);
    bk->nkeys = calloc(n + 1, sizeof *bk->nkeys);
    bk->sorted = calloc(n * LINK_MAX_KEYS + 1, sizeof *bk->sorted);
    if (!bk->keys || !bk->nkeys || !bk->sorted)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        bk->nkeys[i] = link_ident_keys(&ids[i], bk->keys[i]);
        for (size_t k = 0; k < bk->nkeys[i]; k++)
            bk->sorted[total++] = bk->keys[i][k];
    }
    qsort(bk->sorted, total, sizeof *bk->sorted, by_string);
    size_t d = 0;
    for (size_t k = 0; k < total; k++)
        if (d == 0 || strcmp(bk->sorted[d - 1], bk->sorted[k]) != 0)
            bk->sorted[d++] = bk->sorted[k];
    bk->nsorted = d;
    return 0;
}

void link_batch_keys_free(link_batch_keys_t *bk)
{
    free(bk->keys);
    free(bk->nkeys);
    free(bk->sorted);
    memset(bk, 0, sizeof *bk);
}

/* A blocking key and where it comes from: a candidate's index, or a record's in the batch. */
typedef struct {
    const char *key;
    size_t at;
} key_ref_t;

static int by_key_then_at(const void *a, const void *b)
{
    const key_ref_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The first of refs[0..n) (sorted by key) whose key is not below key. */
static size_t lower_bound(const key_ref_t *refs, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(refs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Into out, ascending and distinct: the at of every ref sharing one of record i's keys, below
 * limit. Returns how many. out has room for LINK_MAX_KEYS x n. */
static size_t sharing(const key_ref_t *refs, size_t n, const link_batch_keys_t *bk, size_t i,
                      size_t limit, size_t *out)
{
    size_t m = 0;
    for (size_t k = 0; k < bk->nkeys[i]; k++)
        for (size_t r = lower_bound(refs, n, bk->keys[i][k]);
             r < n && refs[r].at < limit && strcmp(refs[r].key, bk->keys[i][k]) == 0; r++)
            out[m++] = refs[r].at;
    if (m > 1)
        qsort(out, m, sizeof *out, by_index);
    size_t d = 0;
    for (size_t k = 0; k < m; k++)
        if (d == 0 || out[d - 1] != out[k])
            out[d++] = out[k];
    return d;
}

/* The better of two matches: higher probability, then the lower patient id (held patients have
 * positive ids, patients new in this batch negative ones, so held patients come first). */
static bool better(double p, int64_t id, double best_p, int64_t best_id)
{
    if (p != best_p)
        return p > best_p;
    if ((id > 0) != (best_id > 0))
        return id > 0;
    return id > 0 ? id < best_id : id > best_id;
}

/* One set of identifiers of a patient that a record was scored against. */
typedef struct {
    int64_t patient_id;
    const link_ident_t *id;
    double probability;
    bool deterministic;
    bool apart; /* link_ident_apart */
} scored_t;

static int by_patient(const void *a, const void *b)
{
    const scored_t *x = a, *y = b;
    return x->patient_id < y->patient_id ? -1 : x->patient_id > y->patient_id;
}

/* The patient that the record scored against sets[0..n) joins: per patient, the mean match
 * probability over its distinct sets of identifiers scored (a set found by two keys counts once),
 * the best patient at or above threshold (better()). Sorts sets. Returns the patient id, or 0. */
static int64_t best_patient(const link_params_t *p, scored_t *sets, size_t n, double *prob,
                            bool *det)
{
    qsort(sets, n, sizeof *sets, by_patient);
    double best_p = -1;
    int64_t best = 0;
    for (size_t s = 0, e; s < n; s = e) {
        double sum = 0;
        size_t count = 0;
        bool any_det = false, any_apart = false;
        for (e = s; e < n && sets[e].patient_id == sets[s].patient_id; e++) {
            bool seen = false;
            for (size_t k = s; k < e && !seen; k++)
                seen = link_ident_same(sets[k].id, sets[e].id);
            if (seen)
                continue;
            sum += sets[e].probability;
            count++;
            any_det |= sets[e].deterministic;
            any_apart |= sets[e].apart;
        }
        double mean = sum / (double)count;
        if (mean >= p->threshold && !any_apart && better(mean, sets[s].patient_id, best_p, best)) {
            best_p = mean, best = sets[s].patient_id;
            *det = any_det;
        }
    }
    *prob = best_p;
    return best;
}

int link_assign(const link_params_t *p, const link_ident_t *ids, size_t n,
                const link_batch_keys_t *bk, const link_candidate_t *cand, size_t ncand,
                patient_match_t *out)
{
    /* The candidates and the batch's records by key, so that a record meets only those sharing
     * one of its keys: O(records x keys x log) instead of O(records x (candidates + records)). */
    size_t nrec = 0;
    for (size_t i = 0; i < n; i++)
        nrec += bk->nkeys[i];
    size_t most = LINK_MAX_KEYS * (ncand > nrec ? ncand : nrec);
    key_ref_t *by_cand = calloc(ncand + 1, sizeof *by_cand);
    key_ref_t *by_rec = calloc(nrec + 1, sizeof *by_rec);
    /* a record's keys each match at most all of one side's refs */
    size_t *found = calloc(most + 1, sizeof *found);
    scored_t *sets = calloc(2 * most + 1, sizeof *sets);
    if (!by_cand || !by_rec || !found || !sets) {
        free(by_cand);
        free(by_rec);
        free(found);
        free(sets);
        return -1;
    }
    for (size_t c = 0; c < ncand; c++)
        by_cand[c] = (key_ref_t){cand[c].key, c};
    for (size_t i = 0, r = 0; i < n; i++)
        for (size_t k = 0; k < bk->nkeys[i]; k++)
            by_rec[r++] = (key_ref_t){bk->keys[i][k], i};
    qsort(by_cand, ncand, sizeof *by_cand, by_key_then_at);
    qsort(by_rec, nrec, sizeof *by_rec, by_key_then_at);
    int64_t next_new = -1;
    for (size_t i = 0; i < n; i++) {
        size_t nsets = 0;
        /* candidates in their order, then the records before it in the batch in theirs */
        size_t m = sharing(by_cand, ncand, bk, i, ncand, found);
        for (size_t f = 0; f < m; f++) {
            const link_candidate_t *c = &cand[found[f]];
            scored_t *sc = &sets[nsets++];
            link_score(p, &ids[i], &c->id, &sc->probability);
            sc->patient_id = c->patient_id;
            sc->id = &c->id;
            sc->deterministic = link_ident_deterministic(&ids[i], &c->id);
            sc->apart = link_ident_apart(&ids[i], &c->id);
        }
        m = sharing(by_rec, nrec, bk, i, i, found);
        for (size_t f = 0; f < m; f++) {
            size_t j = found[f];
            scored_t *sc = &sets[nsets++];
            link_score(p, &ids[i], &ids[j], &sc->probability);
            sc->patient_id = out[j].patient_id;
            sc->id = &ids[j];
            sc->deterministic = link_ident_deterministic(&ids[i], &ids[j]);
            sc->apart = link_ident_apart(&ids[i], &ids[j]);
        }
        double best_p = 0;
        bool det = false;
        int64_t best = best_patient(p, sets, nsets, &best_p, &det);
        patient_match_t *pm = &out[i];
        if (best != 0) {
            pm->patient_id = best;
            pm->probability = best_p;
            snprintf(pm->method, sizeof pm->method, "%s", det ? "nhs_dob" : "probabilistic");
        } else {
            pm->patient_id = next_new--;
            pm->probability = 0;
            snprintf(pm->method, sizeof pm->method, "%s",
                     link_ident_empty(&ids[i]) ? "unlinked" : "new");
        }
    }
    free(by_cand);
    free(by_rec);
    free(found);
    free(sets);
    return 0;
}
