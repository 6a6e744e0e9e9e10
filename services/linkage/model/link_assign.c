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

static bool shares_key(const link_batch_keys_t *bk, size_t i, size_t j)
{
    for (size_t a = 0; a < bk->nkeys[i]; a++)
        for (size_t b = 0; b < bk->nkeys[j]; b++)
            if (strcmp(bk->keys[i][a], bk->keys[j][b]) == 0)
                return true;
    return false;
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

void link_assign(const link_params_t *p, const link_ident_t *ids, size_t n,
                 const link_batch_keys_t *bk, const link_candidate_t *cand, size_t ncand,
                 patient_match_t *out)
{
    int64_t next_new = -1;
    for (size_t i = 0; i < n; i++) {
        double best_p = -1;
        int64_t best = 0;
        bool det = false;
        if (bk->nkeys[i] > 0) {
            for (size_t c = 0; c < ncand; c++) {
                bool found = false;
                for (size_t k = 0; k < bk->nkeys[i] && !found; k++)
                    found = strcmp(cand[c].key, bk->keys[i][k]) == 0;
                if (!found)
                    continue;
                double prob;
                link_score(p, &ids[i], &cand[c].id, &prob);
                if (prob >= p->threshold && better(prob, cand[c].patient_id, best_p, best)) {
                    best_p = prob, best = cand[c].patient_id;
                    det = link_ident_deterministic(&ids[i], &cand[c].id);
                }
            }
            for (size_t j = 0; j < i; j++) {
                if (!shares_key(bk, i, j))
                    continue;
                double prob;
                link_score(p, &ids[i], &ids[j], &prob);
                if (prob >= p->threshold && better(prob, out[j].patient_id, best_p, best)) {
                    best_p = prob, best = out[j].patient_id;
                    det = link_ident_deterministic(&ids[i], &ids[j]);
                }
            }
        }
        patient_match_t *m = &out[i];
        if (best != 0) {
            m->patient_id = best;
            m->probability = best_p;
            snprintf(m->method, sizeof m->method, "%s", det ? "nhs_dob" : "probabilistic");
        } else {
            m->patient_id = next_new--;
            m->probability = 0;
            snprintf(m->method, sizeof m->method, "%s",
                     link_ident_empty(&ids[i]) ? "unlinked" : "new");
        }
    }
}
