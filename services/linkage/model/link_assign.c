/* link_assign.c - records of a batch to held patients or new ones, best match first; two patients
 * a record bridges merged when they match each other */
#include "link_assign.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"

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

static int by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

size_t link_batch_key_index(const link_batch_keys_t *bk, const char *key)
{
    size_t lo = 0, hi = bk->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bk->sorted[mid] == key ? 0 : strcmp(bk->sorted[mid], key);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Items (candidates, or the batch's records) grouped by the batch key they come with, by its
 * position in bk->sorted: group k is item[start[k] .. start[k + 1]), in ascending order of item (a
 * counting sort: a key's position found once per item, compared as a number from then on; sorting
 * the references by their keys' text took a tenth of linkage's processor time). */
typedef struct {
    size_t *start; /* nsorted + 1 */
    size_t *item;
} key_groups_t;

/* Groups the n items whose keys' positions are at[0..n) (SIZE_MAX: none), in ascending order of
 * item. Returns 0, or -1 when out of memory. */
static int key_groups_build(key_groups_t *g, size_t nsorted, const size_t *at, size_t n)
{
    g->start = calloc(nsorted + 2, sizeof *g->start);
    g->item = calloc(n + 1, sizeof *g->item);
    if (!g->start || !g->item)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (at[i] != SIZE_MAX)
            g->start[at[i] + 2]++;
    for (size_t k = 2; k < nsorted + 2; k++)
        g->start[k] += g->start[k - 1];
    /* start[k + 1] is now where group k begins; filling moves it to where group k ends */
    for (size_t i = 0; i < n; i++)
        if (at[i] != SIZE_MAX)
            g->item[g->start[at[i] + 1]++] = i;
    return 0;
}

static void key_groups_free(key_groups_t *g)
{
    free(g->start);
    free(g->item);
}

/* How many items of g share one of record i's keys (their positions keys[0..nkeys)), an item
 * counted per key. */
static size_t sharing_count(const key_groups_t *g, const size_t *keys, size_t nkeys)
{
    size_t m = 0;
    for (size_t k = 0; k < nkeys; k++)
        if (keys[k] != SIZE_MAX)
            m += g->start[keys[k] + 1] - g->start[keys[k]];
    return m;
}

/* Into out, ascending and distinct: every item of g below limit sharing one of a record's keys
 * (their positions keys[0..nkeys)). Returns how many. out has room for sharing_count. */
static size_t sharing(const key_groups_t *g, const size_t *keys, size_t nkeys, size_t limit,
                      size_t *out)
{
    size_t m = 0;
    for (size_t k = 0; k < nkeys; k++)
        for (size_t r = keys[k] == SIZE_MAX ? 0 : g->start[keys[k]];
             keys[k] != SIZE_MAX && r < g->start[keys[k] + 1] && g->item[r] < limit; r++)
            out[m++] = g->item[r];
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

/* The record a scored against set b of patient_id, into sc. A set apart from the record rules
 * its patient out whatever the probability (matched_patients): it is not scored. */
static void score_set(const link_params_t *p, const link_ident_t *a, const link_ident_t *b,
                      int64_t patient_id, scored_t *sc)
{
    *sc = (scored_t){.patient_id = patient_id, .id = b, .apart = link_ident_apart(a, b)};
    if (sc->apart)
        return;
    link_score(p, a, b, &sc->probability);
    sc->deterministic = link_ident_deterministic(a, b);
}

static int by_patient(const void *a, const void *b)
{
    const scored_t *x = a, *y = b;
    return x->patient_id < y->patient_id ? -1 : x->patient_id > y->patient_id;
}

/* A patient a record matches as a whole. */
typedef struct {
    int64_t patient_id;
    double probability; /* the mean over its sets scored */
    bool deterministic;
} matched_t;

static int by_better(const void *a, const void *b)
{
    const matched_t *x = a, *y = b;
    if (x->patient_id == y->patient_id)
        return 0;
    return better(x->probability, x->patient_id, y->probability, y->patient_id) ? -1 : 1;
}

/* The patients that the record scored against sets[0..n) matches, best first (better()), into
 * out (room for n): per patient, the mean match probability over its distinct sets of
 * identifiers scored (a set found by two keys counts once) at or above threshold, none of them
 * apart. Sorts sets. Returns how many. */
static size_t matched_patients(const link_params_t *p, scored_t *sets, size_t n, matched_t *out)
{
    qsort(sets, n, sizeof *sets, by_patient);
    size_t m = 0;
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
        if (mean >= p->threshold && !any_apart)
            out[m++] = (matched_t){sets[s].patient_id, mean, any_det};
    }
    qsort(out, m, sizeof *out, by_better);
    return m;
}

/* ---------------------------------------------------------------- merges */

/* What link_assign knows of the patients while it works: which patients were merged into which
 * (a patient's id resolves to the one that holds its records now), and the sets of identifiers
 * of the held patients it asked for. */
typedef struct {
    const link_held_t *held;
    link_merge_t *merged; /* from -> into, in the order made */
    size_t nmerged, cap_merged;
    struct held_sets {
        int64_t patient_id;
        link_ident_t *sets;
        size_t n;
        int unavailable; /* 1: it cannot be merged now */
    } * cache;
    size_t ncache, cap_cache;
} state_t;

/* The patient that holds id's records now. O(merges made in the batch): few. */
static int64_t resolve(const state_t *st, int64_t id)
{
    for (bool moved = true; moved;) {
        moved = false;
        for (size_t k = 0; k < st->nmerged; k++)
            if (st->merged[k].from == id) {
                id = st->merged[k].into;
                moved = true;
                break;
            }
    }
    return id;
}

/* The sets of identifiers held for a held patient, asked of st->held once, into *out. Returns
 * 0, 1 when the patient cannot be merged now (link_held_t), or -1. */
static int held_sets(state_t *st, int64_t patient_id, const struct held_sets **out)
{
    for (size_t c = 0; c < st->ncache; c++)
        if (st->cache[c].patient_id == patient_id) {
            *out = &st->cache[c];
            return st->cache[c].unavailable;
        }
    if (array_grow((void **)&st->cache, &st->cap_cache, st->ncache + 1, sizeof *st->cache) != 0)
        return -1;
    struct held_sets *h = &st->cache[st->ncache];
    *h = (struct held_sets){.patient_id = patient_id};
    int rc = st->held->sets(st->held->ctx, patient_id, &h->sets, &h->n);
    if (rc < 0) {
        free(h->sets);
        return -1;
    }
    h->unavailable = rc;
    st->ncache++;
    *out = h;
    return rc;
}

/* A patient as a whole: its distinct sets of identifiers (those held for it and for the patients
 * merged into it, and the batch's records assigned to it so far). */
typedef struct {
    const link_ident_t **sets;
    size_t n, cap;
    bool held; /* holds a patient held before the batch */
} group_t;

static int group_add(group_t *g, const link_ident_t *id)
{
    for (size_t k = 0; k < g->n; k++)
        if (link_ident_same(g->sets[k], id))
            return 0;
    if (array_grow((void **)&g->sets, &g->cap, g->n + 1, sizeof *g->sets) != 0)
        return -1;
    g->sets[g->n++] = id;
    return 0;
}

/* The group of patient (resolved) after records [0, upto] of the batch were assigned. Returns 0,
 * 1 when a held patient of it cannot be merged now, or -1. */
static int group_of(state_t *st, int64_t patient, const link_ident_t *ids,
                    const patient_match_t *out, size_t upto, group_t *g)
{
    g->n = 0;
    g->held = false;
    for (size_t k = 0; k <= st->nmerged; k++) {
        int64_t member = k < st->nmerged ? st->merged[k].from : patient;
        if (member <= 0 || resolve(st, member) != patient)
            continue;
        const struct held_sets *h;
        int rc = held_sets(st, member, &h);
        if (rc != 0)
            return rc;
        g->held = true;
        for (size_t s = 0; s < h->n; s++)
            if (group_add(g, &h->sets[s]) != 0)
                return -1;
    }
    for (size_t j = 0; j <= upto; j++)
        if (resolve(st, out[j].patient_id) == patient && group_add(g, &ids[j]) != 0)
            return -1;
    return 0;
}

/* True when two sets of identifiers share a blocking key: a pair some key puts together. */
static bool share_key(const link_ident_t *a, const link_ident_t *b)
{
    char ka[LINK_MAX_KEYS][LINK_KEY_LEN], kb[LINK_MAX_KEYS][LINK_KEY_LEN];
    size_t na = link_ident_keys(a, ka), nb = link_ident_keys(b, kb);
    for (size_t x = 0; x < na; x++)
        for (size_t y = 0; y < nb; y++)
            if (strcmp(ka[x], kb[y]) == 0)
                return true;
    return false;
}

/* True when groups a and b are one person: the mean match probability over every pair of their
 * sets (|a| x |b|; a pair sharing no blocking key counts 0, as clustering_cohesive counts a pair
 * no rule scored) at or above threshold, and no pair apart. O(|a| x |b|). */
static bool groups_match(const link_params_t *p, const group_t *a, const group_t *b)
{
    double sum = 0;
    for (size_t x = 0; x < a->n; x++)
        for (size_t y = 0; y < b->n; y++) {
            if (link_ident_apart(a->sets[x], b->sets[y]))
                return false;
            double pr = 0;
            if (share_key(a->sets[x], b->sets[y]))
                link_score(p, a->sets[x], b->sets[y], &pr);
            sum += pr;
        }
    return a->n > 0 && b->n > 0 && sum / ((double)a->n * (double)b->n) >= p->threshold;
}

/* The patient of two merging that keeps its id: a held one before one new in the batch (its
 * records are passed on already), then the one with more distinct sets of identifiers (most often
 * the one with more records: fewer records revised), then the lower id. */
static bool keeps_id(int64_t a, const group_t *ga, int64_t b, const group_t *gb)
{
    if (ga->held != gb->held)
        return ga->held;
    if (ga->n != gb->n)
        return ga->n > gb->n;
    return a > 0 ? a < b : a > b;
}

/* Record i matched the patients m[0..n) (best first) and joined m[0]: each other one that the
 * patient it joined, as it has grown, matches as a whole is merged with it. */
static int merge_bridged(state_t *st, const link_params_t *p, const link_ident_t *ids,
                         patient_match_t *out, size_t i, const matched_t *m, size_t n)
{
    group_t a = {0}, b = {0};
    int rc = 0;
    for (size_t k = 1; k < n && rc == 0; k++) {
        int64_t x = resolve(st, out[i].patient_id), y = resolve(st, m[k].patient_id);
        if (x == y)
            continue;
        int ga = group_of(st, x, ids, out, i, &a),
            gb = ga == 0 ? group_of(st, y, ids, out, i, &b) : 0;
        if (ga < 0 || gb < 0) {
            rc = -1;
            break;
        }
        if (ga > 0 || gb > 0 || !groups_match(p, &a, &b))
            continue;
        if (array_grow((void **)&st->merged, &st->cap_merged, st->nmerged + 1,
                       sizeof *st->merged) != 0) {
            rc = -1;
            break;
        }
        st->merged[st->nmerged++] =
            keeps_id(x, &a, y, &b) ? (link_merge_t){y, x} : (link_merge_t){x, y};
    }
    free(a.sets);
    free(b.sets);
    return rc;
}

/* After the batch: every record's patient resolved, the new patients numbered -1, -2, ... again
 * in record order, and the merges of held patients, each into the held patient that holds its
 * records now. */
static int finish(state_t *st, patient_match_t *out, size_t n, link_merge_t **merges,
                  size_t *nmerges)
{
    int64_t next_new = -1;
    int64_t *renum = calloc(n + 1, sizeof *renum); /* new patient -k: renum[k - 1] */
    if (!renum)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t id = resolve(st, out[i].patient_id);
        if (id < 0) {
            size_t k = (size_t)(-id) - 1;
            if (renum[k] == 0)
                renum[k] = next_new--;
            id = renum[k];
        }
        out[i].patient_id = id;
    }
    free(renum);
    size_t m = 0;
    for (size_t k = 0; k < st->nmerged; k++)
        if (st->merged[k].from > 0)
            st->merged[m++] = (link_merge_t){st->merged[k].from, resolve(st, st->merged[k].from)};
    *merges = st->merged;
    *nmerges = m;
    st->merged = NULL;
    return 0;
}

int link_assign(const link_params_t *p, const link_ident_t *ids, size_t n,
                const link_batch_keys_t *bk, const link_candidate_t *cand, size_t ncand,
                const link_held_t *held, patient_match_t *out, link_merge_t **merges,
                size_t *nmerges)
{
    if (merges) {
        *merges = NULL;
        *nmerges = 0;
    }
    /* The candidates and the batch's records by key, so that a record meets only those sharing
     * one of its keys: O(records x keys x log) instead of O(records x (candidates + records)). */
    size_t *cand_key = calloc(ncand + 1, sizeof *cand_key);
    /* record i's keys' positions at i x LINK_MAX_KEYS, SIZE_MAX past its last key */
    size_t *rec_keys = calloc(n * LINK_MAX_KEYS + 1, sizeof *rec_keys);
    key_groups_t by_cand = {0}, by_rec = {0};
    size_t *found = NULL;
    scored_t *sets = NULL;
    matched_t *matched = NULL;
    state_t st = {.held = held && merges ? held : NULL};
    int rc = -1;
    if (!cand_key || !rec_keys)
        goto done;
    /* candidates come grouped by key (patient_index reads them so): a key's position is looked
     * up when it changes */
    for (size_t c = 0; c < ncand; c++)
        cand_key[c] = c > 0 && cand[c].key == cand[c - 1].key
                          ? cand_key[c - 1]
                          : link_batch_key_index(bk, cand[c].key);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < LINK_MAX_KEYS; k++)
            rec_keys[i * LINK_MAX_KEYS + k] =
                k < bk->nkeys[i] ? link_batch_key_index(bk, bk->keys[i][k]) : SIZE_MAX;
    if (key_groups_build(&by_cand, bk->nsorted, cand_key, ncand) != 0 ||
        key_groups_build(&by_rec, bk->nsorted, rec_keys, n * LINK_MAX_KEYS) != 0)
        goto done;
    /* the records' groups hold their keys' slots: their records instead (still ascending: a
     * record's slots are consecutive) */
    for (size_t r = 0; r < by_rec.start[bk->nsorted]; r++)
        by_rec.item[r] /= LINK_MAX_KEYS;
    /* Room for the most one record meets (its keys' candidates and batch records), not for all
     * of them: with blocks bounded (LINK_MAX_BLOCK), O(keys x LINK_MAX_BLOCK + batch). */
    size_t most = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t *keys = &rec_keys[i * LINK_MAX_KEYS];
        size_t c = sharing_count(&by_cand, keys, bk->nkeys[i]),
               r = sharing_count(&by_rec, keys, bk->nkeys[i]);
        most = c + r > most ? c + r : most;
    }
    found = calloc(most + 1, sizeof *found);
    sets = calloc(most + 1, sizeof *sets);
    matched = calloc(most + 1, sizeof *matched);
    if (!found || !sets || !matched)
        goto done;
    int64_t next_new = -1;
    for (size_t i = 0; i < n; i++) {
        size_t nsets = 0;
        /* candidates in their order, then the records before it in the batch in theirs */
        const size_t *keys = &rec_keys[i * LINK_MAX_KEYS];
        size_t m = sharing(&by_cand, keys, bk->nkeys[i], ncand, found);
        for (size_t f = 0; f < m; f++) {
            const link_candidate_t *c = &cand[found[f]];
            score_set(p, &ids[i], &c->id, resolve(&st, c->patient_id), &sets[nsets++]);
        }
        m = sharing(&by_rec, keys, bk->nkeys[i], i, found);
        for (size_t f = 0; f < m; f++) {
            size_t j = found[f];
            score_set(p, &ids[i], &ids[j], resolve(&st, out[j].patient_id), &sets[nsets++]);
        }
        size_t nm = matched_patients(p, sets, nsets, matched);
        patient_match_t *pm = &out[i];
        if (nm > 0) {
            pm->patient_id = matched[0].patient_id;
            pm->probability = matched[0].probability;
            snprintf(pm->method, sizeof pm->method, "%s",
                     matched[0].deterministic ? "nhs_dob" : "probabilistic");
            if (st.held && nm > 1 && merge_bridged(&st, p, ids, out, i, matched, nm) != 0)
                goto done;
        } else {
            pm->patient_id = next_new--;
            pm->probability = 0;
            snprintf(pm->method, sizeof pm->method, "%s",
                     link_ident_empty(&ids[i]) ? "unlinked" : "new");
        }
    }
    if (st.held && finish(&st, out, n, merges, nmerges) != 0)
        goto done;
    rc = 0;
done:
    free(cand_key);
    free(rec_keys);
    key_groups_free(&by_cand);
    key_groups_free(&by_rec);
    free(found);
    free(sets);
    free(matched);
    free(st.merged);
    for (size_t c = 0; c < st.ncache; c++)
        free(st.cache[c].sets);
    free(st.cache);
    return rc;
}
