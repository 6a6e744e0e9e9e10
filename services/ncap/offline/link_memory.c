/* link_memory.c - linkage's batch against an index held in memory (see link_memory.h) */
#include "link_memory.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "death_assign.h"
#include "follow_up.h"
#include "link_assign.h"
#include "optout_rule.h"
#include "array_grow.h"
#include "str_map.h"

/* A growing array of indexes. */
typedef struct {
    size_t *v;
    size_t n, cap;
} index_list_t;

static int index_list_push(index_list_t *l, size_t x)
{
    if (array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) != 0)
        return -1;
    l->v[l->n++] = x;
    return 0;
}

/* A map from strings to lists of indexes (deaths by NHS number, by date of birth). */
typedef struct {
    str_map_t *map;
    index_list_t *lists;
    size_t cap;
} multi_map_t;

static int multi_map_add(multi_map_t *m, const char *key, size_t x)
{
    size_t at;
    if (str_map_put(m->map, key, &at) < 0 ||
        array_grow((void **)&m->lists, &m->cap, at + 1, sizeof *m->lists) != 0)
        return -1;
    return index_list_push(&m->lists[at], x);
}

static const index_list_t *multi_map_get(const multi_map_t *m, const char *key)
{
    size_t at = str_map_get(m->map, key);
    return at == STR_MAP_MISSING ? NULL : &m->lists[at];
}

static void multi_map_free(multi_map_t *m)
{
    for (size_t i = 0; m->lists && i < str_map_size(m->map); i++)
        free(m->lists[i].v);
    free(m->lists);
    str_map_destroy(&m->map);
}

/* A row of linkage.block: a patient and one set of identifiers seen for it, under a key. */
typedef struct {
    int64_t patient_id;
    size_t ident; /* in idents */
} block_row_t;

typedef struct {
    block_row_t *rows; /* by patient id, ascending */
    size_t n, cap;
} block_list_t;

typedef struct {
    link_ident_t id;
    char date_of_death[11];
    int64_t patient_id; /* linked to, or 0 */
    double weight;
} death_t;

typedef struct {
    link_ident_t id;
    size_t next; /* the patient's next set, in idents, + 1; 0: none */
} ident_t;

typedef struct {
    size_t first_ident;  /* in idents, + 1; 0: none */
    size_t death;        /* in deaths, + 1; 0: none */
    bool opted_out;      /* a number given for the patient is on the opt-out list */
    int64_t merged_into; /* the patient it was merged into (link_assign.h), or 0 */
} patient_t;

struct link_memory_t {
    link_params_t params;
    /* the patient index */
    str_map_t *keys;
    block_list_t *blocks; /* by key index */
    size_t cap_blocks;
    ident_t *idents; /* each patient's distinct identifier sets */
    size_t n_idents, cap_idents;
    patient_t *patients; /* patient id - 1 */
    int64_t n_patients, n_merged;
    size_t cap_patients;
    /* reference data */
    death_t *deaths; /* death id - 1 */
    size_t n_deaths, cap_deaths;
    str_map_t *death_hashes;
    multi_map_t deaths_by_nhs, deaths_by_dob;
    char latest_death[11]; /* the latest date of death held, or "" */
    char covers_to[11];    /* the register's coverage (link_memory_set_coverage), or "" */
    str_map_t *optouts;
    str_map_t *imd;
    int (*imd_values)[2];
    size_t cap_imd;
};

link_memory_t *link_memory_new(const link_params_t *p)
{
    assert(p);
    link_memory_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->params = *p;
    self->keys = str_map_new(0);
    self->death_hashes = str_map_new(0);
    self->deaths_by_nhs.map = str_map_new(0);
    self->deaths_by_dob.map = str_map_new(0);
    self->optouts = str_map_new(0);
    self->imd = str_map_new(0);
    if (!self->keys || !self->death_hashes || !self->deaths_by_nhs.map ||
        !self->deaths_by_dob.map || !self->optouts || !self->imd)
        link_memory_destroy(&self);
    return self;
}

void link_memory_destroy(link_memory_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    link_memory_t *self = *self_p;
    for (size_t k = 0; self->blocks && k < str_map_size(self->keys); k++)
        free(self->blocks[k].rows);
    free(self->blocks);
    str_map_destroy(&self->keys);
    free(self->idents);
    free(self->patients);
    free(self->deaths);
    str_map_destroy(&self->death_hashes);
    multi_map_free(&self->deaths_by_nhs);
    multi_map_free(&self->deaths_by_dob);
    str_map_destroy(&self->optouts);
    str_map_destroy(&self->imd);
    free(self->imd_values);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- reference data */

int link_memory_add_death(link_memory_t *self, const refdata_row_t *row)
{
    assert(self && row);
    int added = str_map_put(self->death_hashes, row->row_hash, NULL);
    if (added <= 0)
        return added;
    if (array_grow((void **)&self->deaths, &self->cap_deaths, self->n_deaths + 1,
                   sizeof *self->deaths))
        return -1;
    size_t d = self->n_deaths++;
    death_t *dt = &self->deaths[d];
    /* as death_link.c reads linkage.death: the stored columns normalised for comparing */
    link_ident_from_values(row->nhs_number, row->forename, row->surname, row->date_of_birth,
                           row->sex, row->postcode, &dt->id);
    snprintf(dt->date_of_death, sizeof dt->date_of_death, "%s", row->date_of_death);
    if (strcmp(row->date_of_death, self->latest_death) > 0) /* ISO dates compare as text */
        snprintf(self->latest_death, sizeof self->latest_death, "%s", row->date_of_death);
    /* looked up by the columns as stored, as find_deaths does */
    char dob[9] = "";
    if (row->date_of_birth[0])
        snprintf(dob, sizeof dob, "%.4s%.2s%.2s", row->date_of_birth, row->date_of_birth + 5,
                 row->date_of_birth + 8);
    if ((row->nhs_number[0] && multi_map_add(&self->deaths_by_nhs, row->nhs_number, d) != 0) ||
        (dob[0] && multi_map_add(&self->deaths_by_dob, dob, d) != 0))
        return -1;
    return 1;
}

int link_memory_add_optout(link_memory_t *self, const char *nhs_number)
{
    return str_map_put(self->optouts, nhs_number, NULL);
}

int link_memory_add_imd(link_memory_t *self, const char *lsoa, int decile, int quintile)
{
    size_t at;
    int added = str_map_put(self->imd, lsoa, &at);
    if (added <= 0)
        return added;
    if (array_grow((void **)&self->imd_values, &self->cap_imd, at + 1, sizeof *self->imd_values))
        return -1;
    self->imd_values[at][0] = decile;
    self->imd_values[at][1] = quintile;
    return 1;
}

int link_memory_load(link_memory_t *self, refdata_kind_t kind, const char *data, size_t len,
                     link_memory_bad_row_fn bad_row, void *ctx, link_memory_load_counts_t *counts,
                     char *err, size_t errlen)
{
    link_memory_load_counts_t c = {0};
    refdata_reader_t *reader = refdata_reader_new(kind, data, len, err, errlen);
    if (!reader)
        return -1;
    refdata_row_t row;
    refdata_problem_t problem;
    int got, rc = 0;
    while (rc == 0 && (got = refdata_reader_next(reader, &row, &problem)) != 0) {
        c.read++;
        if (got < 0) {
            c.skipped++;
            if (bad_row)
                bad_row(ctx, refdata_reader_line(reader), &problem);
            continue;
        }
        int added = kind == REFDATA_DEATHS ? link_memory_add_death(self, &row)
                    : kind == REFDATA_OPTOUTS
                        ? link_memory_add_optout(self, row.nhs_number)
                        : link_memory_add_imd(self, row.lsoa, row.imd_decile, row.imd_quintile);
        if (added < 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else if (added)
            c.added++;
        else
            c.duplicates++;
    }
    refdata_reader_destroy(&reader);
    if (counts)
        *counts = c;
    return rc;
}

size_t link_memory_deaths(const link_memory_t *self)
{
    return self->n_deaths;
}

const char *link_memory_latest_death(const link_memory_t *self)
{
    return self->latest_death;
}

void link_memory_set_coverage(link_memory_t *self, const char *covers_to)
{
    snprintf(self->covers_to, sizeof self->covers_to, "%s", covers_to);
}

int64_t link_memory_patients(const link_memory_t *self)
{
    return self->n_patients - self->n_merged;
}

int64_t link_memory_patient(const link_memory_t *self, int64_t patient_id)
{
    while (patient_id >= 1 && patient_id <= self->n_patients &&
           self->patients[patient_id - 1].merged_into)
        patient_id = self->patients[patient_id - 1].merged_into;
    return patient_id;
}

const char *link_memory_date_of_death(const link_memory_t *self, int64_t patient_id)
{
    patient_id = link_memory_patient(self, patient_id);
    if (patient_id < 1 || patient_id > self->n_patients)
        return "";
    size_t d = self->patients[patient_id - 1].death;
    return d ? self->deaths[d - 1].date_of_death : "";
}

/* ---------------------------------------------------------------- the patient index */

/* The index of patient's set of identifiers equal to id, added when it has none. Returns 0 or -1.
 */
static int patient_ident(link_memory_t *self, int64_t patient_id, const link_ident_t *id,
                         size_t *out)
{
    patient_t *pt = &self->patients[patient_id - 1];
    for (size_t i = pt->first_ident; i; i = self->idents[i - 1].next)
        if (link_ident_same(&self->idents[i - 1].id, id)) {
            *out = i - 1;
            return 0;
        }
    if (array_grow((void **)&self->idents, &self->cap_idents, self->n_idents + 1,
                   sizeof *self->idents))
        return -1;
    size_t i = self->n_idents++;
    self->idents[i] = (ident_t){*id, pt->first_ident};
    pt->first_ident = i + 1;
    *out = i;
    return 0;
}

/* Adds the row (key, patient, ident) unless held: rows stay ordered by patient id. */
static int block_add(link_memory_t *self, const char *key, int64_t patient_id, size_t ident)
{
    size_t k;
    if (str_map_put(self->keys, key, &k) < 0 ||
        array_grow((void **)&self->blocks, &self->cap_blocks, k + 1, sizeof *self->blocks))
        return -1;
    block_list_t *b = &self->blocks[k];
    size_t at = b->n;
    while (at > 0 && b->rows[at - 1].patient_id > patient_id)
        at--;
    for (size_t j = at; j > 0 && b->rows[j - 1].patient_id == patient_id; j--)
        if (b->rows[j - 1].ident == ident)
            return 0;
    if (array_grow((void **)&b->rows, &b->cap, b->n + 1, sizeof *b->rows))
        return -1;
    memmove(b->rows + at + 1, b->rows + at, (b->n - at) * sizeof *b->rows);
    b->rows[at] = (block_row_t){patient_id, ident};
    b->n++;
    return 0;
}

/* The candidates of the batch's keys, as patient_index.c's find_candidates gives them: every row
 * of each key whose block holds at most LINK_MAX_BLOCK rows (link_assign.h), none of a larger
 * one. *cand is allocated. Returns how many, or -1. */
static long find_candidates(const link_memory_t *self, const link_batch_keys_t *bk,
                            link_candidate_t **cand)
{
    size_t n = 0;
    for (size_t k = 0; k < bk->nsorted; k++) {
        size_t at = str_map_get(self->keys, bk->sorted[k]);
        if (at != STR_MAP_MISSING && link_block_usable(self->blocks[at].n))
            n += self->blocks[at].n;
    }
    *cand = calloc(n + 1, sizeof **cand);
    if (!*cand)
        return -1;
    size_t c = 0;
    for (size_t k = 0; k < bk->nsorted; k++) {
        size_t at = str_map_get(self->keys, bk->sorted[k]);
        if (at == STR_MAP_MISSING || !link_block_usable(self->blocks[at].n))
            continue;
        const block_list_t *b = &self->blocks[at];
        for (size_t r = 0; r < b->n; r++)
            (*cand)[c++] = (link_candidate_t){b->rows[r].patient_id,
                                              self->idents[b->rows[r].ident].id, bk->sorted[k]};
    }
    return (long)c;
}

/* link_held_t's sets in memory: the patient's chain of distinct sets. */
static int held_sets(void *ctx, int64_t patient_id, link_ident_t **sets, size_t *n)
{
    const link_memory_t *self = ctx;
    const patient_t *pt = &self->patients[patient_id - 1];
    size_t count = 0;
    for (size_t i = pt->first_ident; i; i = self->idents[i - 1].next)
        count++;
    if (!(*sets = calloc(count + 1, sizeof **sets)))
        return -1;
    *n = 0;
    for (size_t i = pt->first_ident; i; i = self->idents[i - 1].next)
        (*sets)[(*n)++] = self->idents[i - 1].id;
    return 0;
}

/* Removes the row (key, patient, ident), held. */
static void block_remove(link_memory_t *self, const char *key, int64_t patient_id, size_t ident)
{
    size_t k = str_map_get(self->keys, key);
    if (k == STR_MAP_MISSING)
        return;
    block_list_t *b = &self->blocks[k];
    for (size_t r = 0; r < b->n; r++)
        if (b->rows[r].patient_id == patient_id && b->rows[r].ident == ident) {
            memmove(b->rows + r, b->rows + r + 1, (b->n - r - 1) * sizeof *b->rows);
            b->n--;
            return;
        }
}

/* patient_index's merge in memory: from's sets of identifiers and block rows move to into (a set
 * into holds already is kept once), its death moves there unless
 * into has one (then it is linked to no one), and into is opted out when either was. */
static int merge(link_memory_t *self, int64_t from, int64_t into)
{
    patient_t *pf = &self->patients[from - 1], *pi = &self->patients[into - 1];
    for (size_t i = pf->first_ident; i; i = self->idents[i - 1].next) {
        link_ident_t id = self->idents[i - 1].id;
        char keys[LINK_MAX_KEYS][LINK_KEY_LEN];
        size_t nkeys = link_ident_keys(&id, keys), to;
        if (patient_ident(self, into, &id, &to) != 0)
            return -1;
        pf = &self->patients[from - 1], pi = &self->patients[into - 1];
        for (size_t k = 0; k < nkeys; k++) {
            block_remove(self, keys[k], from, i - 1);
            if (block_add(self, keys[k], into, to) != 0)
                return -1;
        }
    }
    pf->first_ident = 0;
    pi->opted_out |= pf->opted_out;
    if (pf->death) {
        death_t *dt = &self->deaths[pf->death - 1];
        if (pi->death)
            dt->patient_id = 0, dt->weight = 0;
        else
            dt->patient_id = into, pi->death = pf->death;
        pf->death = 0;
    }
    pf->merged_into = into;
    self->n_merged++;
    return 0;
}

/* patient_index_assign in memory for one record: link_assign against the held patients of its
 * keys (merging two it bridges, reading their sets through held_sets), a new patient created when
 * none matches, its keys stored.
 *
 * A batch's records are assigned one after another, each stored before the next is scored, so
 * that the next finds it among the held patients of their shared keys: that is how link_assign
 * compares a record with those before it in its batch (ties go to the lower patient id either
 * way). It differs only where a key's block holds more than LINK_MAX_BLOCK rows, which gives no
 * candidates, and the daemon still compares the batch's own records sharing it. */
static int assign(link_memory_t *self, const link_ident_t *id, patient_match_t *match)
{
    link_batch_keys_t bk;
    link_candidate_t *cand = NULL;
    link_merge_t *merges = NULL;
    size_t nmerges = 0;
    const link_held_t held = {held_sets, self};
    int rc = -1;
    if (link_batch_keys_build(id, 1, &bk) != 0)
        goto done;
    long ncand = find_candidates(self, &bk, &cand);
    if (ncand < 0)
        goto done;
    if (link_assign(&self->params, id, 1, &bk, cand, (size_t)ncand, &held, match, &merges,
                    &nmerges) != 0)
        goto done;
    for (size_t k = 0; k < nmerges; k++)
        if (merge(self, merges[k].from, merges[k].into) != 0)
            goto done;
    if (match->patient_id < 0) {
        if (array_grow((void **)&self->patients, &self->cap_patients, (size_t)self->n_patients + 1,
                       sizeof *self->patients))
            goto done;
        match->patient_id = ++self->n_patients;
    }
    if (bk.nkeys[0] > 0) {
        size_t ident;
        if (patient_ident(self, match->patient_id, id, &ident) != 0)
            goto done;
        for (size_t k = 0; k < bk.nkeys[0]; k++)
            if (block_add(self, bk.keys[0][k], match->patient_id, ident) != 0)
                goto done;
        /* optout.c: a number in any block row of the patient */
        if (id->nhs[0] && str_map_get(self->optouts, id->nhs) != STR_MAP_MISSING)
            self->patients[match->patient_id - 1].opted_out = true;
    }
    rc = 0;
done:
    free(cand);
    free(merges);
    link_batch_keys_free(&bk);
    return rc;
}

int link_memory_assign(link_memory_t *self, const link_ident_t *id, int64_t *patient_id)
{
    assert(self && id && patient_id);
    patient_match_t match;
    if (assign(self, id, &match) != 0)
        return -1;
    *patient_id = match.patient_id;
    return 0;
}

/* ---------------------------------------------------------------- deaths */

static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* death_link_patients in memory: deaths for the patients of the n records without one. The
 * caller reads each patient's date of death after (link_memory_date_of_death). */
static int link_deaths(link_memory_t *self, const link_ident_t *ids, const int64_t *pids, size_t n)
{
    index_list_t found = {0};
    death_held_t *held = NULL;
    int64_t *linked = calloc(2 * n + 1, sizeof *linked);
    int rc = -1;
    if (!linked)
        goto done;
    /* the deaths sharing a record's NHS number or date of birth, by death id */
    for (size_t i = 0; i < n; i++) {
        const index_list_t *l[2] = {
            ids[i].nhs[0] ? multi_map_get(&self->deaths_by_nhs, ids[i].nhs) : NULL,
            ids[i].dob[0] ? multi_map_get(&self->deaths_by_dob, ids[i].dob) : NULL};
        for (int s = 0; s < 2; s++)
            for (size_t j = 0; l[s] && j < l[s]->n; j++)
                if (index_list_push(&found, l[s]->v[j]) != 0)
                    goto done;
    }
    if (found.n > 1)
        qsort(found.v, found.n, sizeof *found.v, by_size);
    size_t nheld = 0;
    held = calloc(found.n + 1, sizeof *held);
    if (!held)
        goto done;
    for (size_t j = 0; j < found.n; j++) {
        if (j > 0 && found.v[j] == found.v[j - 1])
            continue;
        const death_t *dt = &self->deaths[found.v[j]];
        held[nheld++] =
            (death_held_t){(int64_t)found.v[j] + 1, dt->id, dt->patient_id, dt->weight, false};
    }
    if (nheld > 0) {
        size_t nlinked = 0;
        for (size_t i = 0; i < n; i++) {
            bool seen = false;
            for (size_t k = 0; k < nlinked && !seen; k++)
                seen = linked[k] == pids[i];
            if (!seen && self->patients[pids[i] - 1].death)
                linked[nlinked++] = pids[i];
        }
        death_choose(&self->params, ids, pids, n, held, nheld, linked, &nlinked);
        /* death_link_replace: the changed deaths' links removed, then the new ones added unless
         * their patient has one (ON CONFLICT DO NOTHING) */
        for (size_t j = 0; j < nheld; j++) {
            if (!held[j].changed)
                continue;
            death_t *dt = &self->deaths[held[j].death_id - 1];
            if (dt->patient_id &&
                self->patients[dt->patient_id - 1].death == (size_t)held[j].death_id)
                self->patients[dt->patient_id - 1].death = 0;
            dt->patient_id = 0;
            dt->weight = 0;
        }
        for (size_t j = 0; j < nheld; j++) {
            if (!held[j].changed)
                continue;
            patient_t *pt = &self->patients[held[j].patient_id - 1];
            if (pt->death)
                continue;
            death_t *dt = &self->deaths[held[j].death_id - 1];
            dt->patient_id = held[j].patient_id;
            dt->weight = held[j].weight;
            pt->death = (size_t)held[j].death_id;
        }
    }
    rc = 0;
done:
    free(found.v);
    free(held);
    free(linked);
    return rc;
}

/* ---------------------------------------------------------------- a batch */

/* The date of death given, the deprivation of the record's LSOA and the register's coverage,
 * where def lists them. */
static int add_linked(const link_memory_t *self, const audit_def_t *def, link_outcome_t *out,
                      const char *date_of_death)
{
    int decile = 0, quintile = 0;
    size_t at = out->lsoa[0] ? str_map_get(self->imd, out->lsoa) : STR_MAP_MISSING;
    if (at != STR_MAP_MISSING) {
        decile = self->imd_values[at][0];
        quintile = self->imd_values[at][1];
    }
    if (link_record_add_linked(def, out, date_of_death, decile, quintile) != 0)
        return -1;
    return follow_up_stamp(def, out->pseudo, self->covers_to) < 0 ? -1 : 0;
}

int link_memory_final(const link_memory_t *self, const audit_def_t *def, const ncap_record_t *raw,
                      int64_t patient_id, link_outcome_t *out)
{
    if (link_record_prepare(def, 0, raw, out) != 0)
        return -1;
    return add_linked(self, def, out, link_memory_date_of_death(self, patient_id));
}

void link_memory_item_clear(link_memory_item_t *item)
{
    link_outcome_clear(&item->outcome);
    item->patient_id = 0;
    item->withheld = false;
}

int link_memory_link(link_memory_t *self, link_memory_item_t *items, size_t n)
{
    assert(self);
    if (n == 0)
        return 0;
    link_ident_t *ids = calloc(n, sizeof *ids);
    patient_match_t *match = calloc(n, sizeof *match);
    int64_t *pids = calloc(n, sizeof *pids);
    char(*dod)[11] = calloc(n, sizeof *dod);
    int rc = -1;
    if (!ids || !match || !pids || !dod)
        goto done;
    /* decide: each record on its own */
    for (size_t i = 0; i < n; i++) {
        if (link_record_prepare(items[i].def, 0, items[i].raw, &items[i].outcome) != 0)
            goto done;
        ids[i] = items[i].outcome.ident;
    }
    /* store: patients and deaths, record by record (see assign: the same as the batch at once,
     * and death_choose takes a batch's records one after another too), then each record's
     * patient's date of death once the batch is linked, and deprivation */
    for (size_t i = 0; i < n; i++) {
        if (assign(self, &ids[i], &match[i]) != 0)
            goto done;
        pids[i] = items[i].patient_id = match[i].patient_id;
        if (link_deaths(self, &ids[i], &pids[i], 1) != 0)
            goto done;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(dod[i], sizeof dod[i], "%s", link_memory_date_of_death(self, pids[i]));
    for (size_t i = 0; i < n; i++)
        if (add_linked(self, items[i].def, &items[i].outcome, dod[i]) != 0)
            goto done;
    /* then the opt-out, which sees every number the batch gave its patients */
    for (size_t i = 0; i < n; i++) {
        const link_ident_t *id = &items[i].outcome.ident;
        optout_record_t r = {.nhs_number = id->nhs_valid ? id->nhs : "",
                             .patient_id = pids[i],
                             .applies = items[i].def->opt_out_applies};
        bool own = r.nhs_number[0] && str_map_get(self->optouts, r.nhs_number) != STR_MAP_MISSING;
        items[i].withheld = optout_withholds(&r, own, self->patients[pids[i] - 1].opted_out);
    }
    rc = 0;
done:
    free(ids);
    free(match);
    free(pids);
    free(dod);
    return rc;
}
