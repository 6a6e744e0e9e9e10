/* patient_index.c - records to patients against the index in PostgreSQL */
#include "patient_index.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "patient_merge.h"
#include "pg_columns.h"
#include "str_map.h"
#include "strbuf.h"

int patient_index_store_params(PGconn *db, const link_params_t *p, bool replace, char *err,
                               size_t errlen)
{
    assert(p);
    pg_columns_t a;
    pg_columns_open(&a, 4);
    for (size_t f = 0; f < LI_NFIELDS; f++)
        for (size_t l = 1; l < link_field_levels(f); l++) {
            char lv[24], m[32], u[32];
            snprintf(lv, sizeof lv, "%zu", l);
            snprintf(m, sizeof m, "%.17g", p->m[f][l]);
            snprintf(u, sizeof u, "%.17g", p->u[f][l]);
            const char *v[4] = {link_field_name(f), lv, m, u};
            pg_columns_row(&a, v);
        }
    pg_columns_close(&a);
    char prior[32], thr[32];
    snprintf(prior, sizeof prior, "%.17g", p->log2_prior_odds);
    snprintf(thr, sizeof thr, "%.17g", p->threshold);
    const char *pv[] = {a.params[0], a.params[1], a.params[2], a.params[3], prior, thr};
    int rc =
        replace ? db_execp(db,
                           "WITH a AS (INSERT INTO linkage.match_param (field, level, m, u)"
                           " SELECT * FROM unnest($1::text[], $2::smallint[], $3::float8[],"
                           " $4::float8[]) ON CONFLICT (field, level) DO UPDATE SET m = excluded.m,"
                           " u = excluded.u)"
                           " INSERT INTO linkage.match_setting (name, value) VALUES"
                           " ('log2_prior_odds', $5::float8), ('threshold', $6::float8),"
                           " ('params_version', coalesce((SELECT value FROM linkage.match_setting"
                           " WHERE name = 'params_version'), 0) + 1)"
                           " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                           6, pv, err, errlen)
                : db_execp(db,
                           "WITH a AS (INSERT INTO linkage.match_param (field, level, m, u)"
                           " SELECT * FROM unnest($1::text[], $2::smallint[], $3::float8[],"
                           " $4::float8[]) ON CONFLICT DO NOTHING)"
                           " INSERT INTO linkage.match_setting (name, value) VALUES"
                           " ('log2_prior_odds', $5::float8), ('threshold', $6::float8)"
                           " ON CONFLICT DO NOTHING",
                           6, pv, err, errlen);
    pg_columns_free(&a);
    return rc;
}

int patient_index_params_version(PGconn *db, double *version, char *err, size_t errlen)
{
    PGresult *r =
        db_query(db, "SELECT value FROM linkage.match_setting WHERE name = 'params_version'", 0,
                 NULL, err, errlen);
    if (!r)
        return -1;
    *version = PQntuples(r) > 0 ? strtod(PQgetvalue(r, 0, 0), NULL) : 0;
    PQclear(r);
    return 0;
}

int patient_index_load_params(PGconn *db, link_params_t *p, char *err, size_t errlen)
{
    link_params_default(p);
    if (patient_index_store_params(db, p, false, err, errlen) != 0)
        return -1;
    PGresult *r = db_query(db,
                           "SELECT field, level, m, u FROM linkage.match_param UNION ALL"
                           " SELECT name, 0, value, 0 FROM linkage.match_setting",
                           0, NULL, err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        size_t level = (size_t)atoi(PQgetvalue(r, i, 1));
        double m = strtod(PQgetvalue(r, i, 2), NULL), u = strtod(PQgetvalue(r, i, 3), NULL);
        if (strcmp(name, "log2_prior_odds") == 0)
            p->log2_prior_odds = m;
        else if (strcmp(name, "threshold") == 0)
            p->threshold = m;
        for (size_t f = 0; f < LI_NFIELDS; f++)
            if (strcmp(name, link_field_name(f)) == 0 && level >= 1 &&
                level < link_field_levels(f)) {
                p->m[f][level] = m;
                p->u[f][level] = u;
            }
    }
    PQclear(r);
    link_params_update(p);
    return 0;
}

int patient_index_store_term_freqs(PGconn *db, const term_freq_t *tf, char *err, size_t errlen)
{
    assert(tf);
    pg_columns_t a;
    pg_columns_open(&a, 3);
    for (size_t k = 0; k < term_freq_size(tf); k++) {
        size_t f;
        const char *value;
        double freq;
        term_freq_entry(tf, k, &f, &value, &freq);
        char fr[32];
        snprintf(fr, sizeof fr, "%.17g", freq);
        const char *v[3] = {link_field_name(f), value, fr};
        pg_columns_row(&a, v);
    }
    int rc = -1;
    if (pg_columns_close(&a) != 0)
        snprintf(err, errlen, "out of memory");
    else if (db_exec(db, "DELETE FROM linkage.match_term_freq", err, errlen) == 0)
        rc = db_execp(db,
                      "INSERT INTO linkage.match_term_freq (field, value, frequency)"
                      " SELECT * FROM unnest($1::text[], $2::text[], $3::float8[])",
                      3, a.params, err, errlen);
    pg_columns_free(&a);
    return rc;
}

int patient_index_load_term_freqs(PGconn *db, term_freq_t **tf, char *err, size_t errlen)
{
    *tf = NULL;
    PGresult *r = db_query(db, "SELECT field, value, frequency FROM linkage.match_term_freq", 0,
                           NULL, err, errlen);
    if (!r)
        return -1;
    int rc = (*tf = term_freq_new()) ? 0 : -1;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        for (size_t f = 0; f < LI_NFIELDS && rc == 0; f++)
            if (link_field_tf(f) && strcmp(name, link_field_name(f)) == 0)
                rc = term_freq_add(*tf, f, PQgetvalue(r, i, 1), strtod(PQgetvalue(r, i, 2), NULL));
    }
    PQclear(r);
    if (rc != 0) {
        term_freq_destroy(tf);
        snprintf(err, errlen, "out of memory");
    }
    return rc;
}

int patient_index_load_model(PGconn *db, link_params_t *p, term_freq_t **tf, char *err,
                             size_t errlen)
{
    assert(p && tf);
    link_params_t loaded;
    if (patient_index_load_params(db, &loaded, err, errlen) != 0 ||
        patient_index_load_term_freqs(db, tf, err, errlen) != 0)
        return -1;
    *p = loaded;
    p->tf = term_freq_size(*tf) > 0 ? *tf : NULL;
    return 0;
}

/* The batch's keys sorted as a PostgreSQL array literal into lit. Returns 0, or -1 when out of
 * memory. */
static int keys_literal(const link_batch_keys_t *bk, strbuf_t *lit)
{
    strbuf_pg_array_open(lit);
    for (size_t k = 0; k < bk->nsorted; k++)
        strbuf_pg_array_elem(lit, bk->sorted[k]);
    strbuf_pg_array_close(lit);
    return lit->oom ? -1 : 0;
}

int patient_index_lock_keys(PGconn *db, const char *keys, char *err, size_t errlen)
{
    const char *pk[] = {keys};
    /* clang-format off */
    return db_execp(db,
                    "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT "
                    PATIENT_KEY_LOCK_ID("k") " AS h FROM unnest($1::text[]) k) s ORDER BY h",
                    1, pk, err, errlen);
    /* clang-format on */
}

int patient_index_try_keys(PGconn *db, const link_ident_t *ids, size_t n, bool *held, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        held[i] = true;
    if (n == 0)
        return 0;
    link_batch_keys_t bk;
    strbuf_t keys;
    strbuf_init(&keys);
    bool *busy = NULL;
    PGresult *r = NULL;
    int rc = -1;
    if (link_batch_keys_build(ids, n, &bk) != 0 || keys_literal(&bk, &keys) != 0 ||
        !(busy = calloc(bk.nsorted + 1, sizeof *busy))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (bk.nsorted == 0) {
        rc = 0;
        goto done;
    }
    /* each key's lock tried once (no order is needed: nothing waits); the keys not taken back */
    const char *pk[] = {keys.s};
    if (!(r = db_query(db,
                       "SELECT k.i FROM unnest($1::text[]) WITH ORDINALITY AS k(key, i)"
                       " WHERE NOT pg_try_advisory_xact_lock(" PATIENT_KEY_LOCK_ID("k.key") ")",
                       1, pk, err, errlen)))
        goto done;
    for (int row = 0; row < PQntuples(r); row++) {
        long long k = strtoll(PQgetvalue(r, row, 0), NULL, 10) - 1;
        if (k >= 0 && (size_t)k < bk.nsorted)
            busy[k] = true;
    }
    if (PQntuples(r) > 0)
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < bk.nkeys[i] && held[i]; k++) {
                size_t at = link_batch_key_index(&bk, bk.keys[i][k]);
                held[i] = at == SIZE_MAX || !busy[at];
            }
    rc = 0;
done:
    PQclear(r);
    free(busy);
    link_batch_keys_free(&bk);
    strbuf_free(&keys);
    return rc;
}

/* The keys this process has seen hold more than LINK_MAX_BLOCK rows: a hint, never a decision
 * (find_candidates counts their blocks again). A block seldom shrinks (a merge can join two of its
 * rows into one), so a key once too large is counted (at most LINK_MAX_BLOCK + 1 index entries)
 * rather than read and sent (LINK_MAX_BLOCK + 1 rows) at every batch. At most one key per
 * LINK_MAX_BLOCK + 1 rows of the index (40,000 keys at 1,000,000 patients: about 2 MB). One thread
 * per process. */
static str_map_t *large_keys;

/* The rows of linkage.block under keys (a text[] literal, sorted), up to LINK_MAX_BLOCK + 1 a
 * key: one index range scan a key (index-only), walked in the keys' order; for a key in
 * large_keys (large[k] "t"), its block counted first up to one past the bound, and its rows read
 * only when it holds at most LINK_MAX_BLOCK. The caller drops the other keys that return more than
 * LINK_MAX_BLOCK (usable_candidates). One row per key and candidate (a patient found by two keys
 * comes twice): grouping here would sort text, which costs more than scoring a few rows twice. The
 * key as its position in keys (1, 2, ...), not its text. Counting every key's block first (before)
 * walked each key's index entries twice (the keys of 480 patients of a 100,000-record benchmark,
 * 1,911 keys and 18,103 rows, none of a block too large: 29.5 ms with the count, 16.5 ms
 * without); a window count over the rows (before that) stored each block in a tuplestore. */
static PGresult *find_candidates(PGconn *db, const char *keys, const char *large, char *err,
                                 size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", LINK_MAX_BLOCK + 1);
    const char *pk[] = {keys, lim, large};
    return db_query(db,
                    "SELECT b.patient_id, k.i, b.nhs_number, b.forename, b.surname, b.dob, b.sex,"
                    " b.postcode FROM unnest($1::text[], $3::bool[]) WITH ORDINALITY AS"
                    " k(key, large, i) CROSS JOIN LATERAL (SELECT * FROM linkage.block bl"
                    " WHERE bl.key = k.key LIMIT $2::int) b WHERE NOT k.large OR (SELECT count(*)"
                    " FROM (SELECT FROM linkage.block c WHERE c.key = k.key LIMIT $2::int) c)"
                    " < $2::int",
                    3, pk, err, errlen);
}

/* Into lit, a bool[] literal: per key of bk (sorted), whether large_keys holds it. Returns 0, or
 * -1 when out of memory. */
static int large_literal(const link_batch_keys_t *bk, strbuf_t *lit)
{
    if (!large_keys && !(large_keys = str_map_new(0)))
        return -1;
    strbuf_pg_array_open(lit);
    for (size_t k = 0; k < bk->nsorted; k++)
        strbuf_pg_array_elem(lit,
                             str_map_get(large_keys, bk->sorted[k]) != STR_MAP_MISSING ? "t" : "f");
    strbuf_pg_array_close(lit);
    return lit->oom ? -1 : 0;
}

/* Into *cand (a new array, the caller frees it) and *ncand: the rows of r (find_candidates) of the
 * keys whose block holds at most LINK_MAX_BLOCK rows (link_block_usable), each with its key in bk.
 * Returns 0, or -1 with err. */
static int usable_candidates(PGresult *r, const link_batch_keys_t *bk, link_candidate_t **cand,
                             size_t *ncand, char *err, size_t errlen)
{
    size_t nrows = (size_t)PQntuples(r), m = 0;
    size_t *rows = calloc(bk->nsorted + 1, sizeof *rows);
    size_t *key = calloc(nrows + 1, sizeof *key);
    *cand = calloc(nrows + 1, sizeof **cand);
    *ncand = 0;
    if (!rows || !key || !*cand) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t c = 0; c < nrows; c++) {
        long k = strtol(PQgetvalue(r, (int)c, 1), NULL, 10);
        if (k < 1 || (size_t)k > bk->nsorted) {
            snprintf(err, errlen, "a candidate's key is number %ld of %zu", k, bk->nsorted);
            goto fail;
        }
        key[c] = (size_t)k - 1;
        rows[key[c]]++;
    }
    for (size_t k = 0; k < bk->nsorted; k++)
        if (!link_block_usable(rows[k]) && str_map_put(large_keys, bk->sorted[k], NULL) < 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    for (size_t c = 0; c < nrows; c++) {
        if (!link_block_usable(rows[key[c]]))
            continue;
        int row = (int)c;
        link_candidate_t *to = &(*cand)[m++];
        to->patient_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        to->key = bk->sorted[key[c]];
        link_ident_from_stored(PQgetvalue(r, row, 2), PQgetvalue(r, row, 3), PQgetvalue(r, row, 4),
                               PQgetvalue(r, row, 5), PQgetvalue(r, row, 6), PQgetvalue(r, row, 7),
                               &to->id);
    }
    free(rows);
    free(key);
    *ncand = m;
    return 0;
fail:
    free(rows);
    free(key);
    free(*cand);
    *cand = NULL;
    return -1;
}

/* In one statement: creates the batch's new patients, stores every record's blocking keys with
 * its identifiers (under the new patient's id for the placeholders -1, -2, ...), and returns the
 * new ids by placeholder, which then replace the placeholders in out. A new patient's rows are
 * new (its id is): inserted once each (a record with the identifiers of one before it of its
 * patient adds none) without a conflict clause; a held patient's rows go with ON CONFLICT DO
 * NOTHING (held already, or stored by another instance). */
static int store(PGconn *db, const link_ident_t *ids, const link_batch_keys_t *bk,
                 patient_match_t *out, size_t n, char *err, size_t errlen)
{
    int64_t nnew = 0;
    for (size_t i = 0; i < n; i++)
        if (out[i].patient_id < 0 && -out[i].patient_id > nnew)
            nnew = -out[i].patient_id;
    pg_columns_t fresh, more;
    pg_columns_open(&fresh, 8);
    pg_columns_open(&more, 8);
    for (size_t i = 0; i < n; i++) {
        bool again = false;
        for (size_t j = 0; j < i && out[i].patient_id < 0 && !again; j++)
            again = out[j].patient_id == out[i].patient_id && link_ident_same(&ids[j], &ids[i]);
        if (again)
            continue;
        char pid[24];
        snprintf(pid, sizeof pid, "%lld", (long long)out[i].patient_id);
        for (size_t k = 0; k < bk->nkeys[i]; k++) {
            const char *v[8] = {bk->keys[i][k], pid,        ids[i].nhs, ids[i].forename,
                                ids[i].surname, ids[i].dob, ids[i].sex, ids[i].postcode};
            pg_columns_row(out[i].patient_id < 0 ? &fresh : &more, v);
        }
    }
    int rc = -1;
    PGresult *r = NULL;
    if (pg_columns_close(&fresh) != 0 || pg_columns_close(&more) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    char cnt[24];
    snprintf(cnt, sizeof cnt, "%lld", (long long)nnew);
    const char *pv[17] = {cnt};
    for (int k = 0; k < 8; k++) {
        pv[1 + k] = fresh.params[k];
        pv[9 + k] = more.params[k];
    }
    r = db_query(
        db,
        "WITH p AS (INSERT INTO linkage.patient (created_at) SELECT now() FROM"
        "   generate_series(1, $1::int) RETURNING patient_id),"
        " np AS (SELECT patient_id, row_number() OVER (ORDER BY patient_id) AS ord FROM p),"
        " f AS (INSERT INTO linkage.block (key, patient_id, nhs_number, forename, surname, dob,"
        "   sex, postcode) SELECT s.key, np.patient_id, s.nhs, s.fn, s.sn, s.dob, s.sex, s.pc"
        "   FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],"
        "   $8::text[], $9::text[]) AS s(key, pid, nhs, fn, sn, dob, sex, pc)"
        "   JOIN np ON np.ord = -s.pid),"
        " h AS (INSERT INTO linkage.block (key, patient_id, nhs_number, forename, surname, dob,"
        "   sex, postcode) SELECT * FROM unnest($10::text[], $11::bigint[], $12::text[],"
        "   $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])"
        "   ON CONFLICT DO NOTHING)"
        " SELECT ord, patient_id FROM np ORDER BY ord",
        17, pv, err, errlen);
    if (!r)
        goto done;
    if (PQntuples(r) != nnew) {
        snprintf(err, errlen, "could not create %lld patients", (long long)nnew);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (out[i].patient_id < 0)
            out[i].patient_id = strtoll(PQgetvalue(r, (int)(-out[i].patient_id - 1), 1), NULL, 10);
    rc = 0;
done:
    PQclear(r);
    pg_columns_free(&fresh);
    pg_columns_free(&more);
    return rc;
}

/* One group of a batch's records (patient_index_assign) against the index, its keys locked (bk,
 * and keys their text[] literal): candidates read, link_assign, new patients and identifiers
 * stored, merges made. *rows receives the candidate rows read (usable or not). As
 * patient_index_assign otherwise. */
static int assign_group(PGconn *db, const link_params_t *p, const link_ident_t *ids, size_t n,
                        const link_batch_keys_t *bk, const char *keys, patient_match_t *out,
                        link_merge_t **merges, size_t *nmerges, size_t *rows, char *err,
                        size_t errlen)
{
    strbuf_t large;
    strbuf_init(&large);
    link_candidate_t *cand = NULL;
    int rc = -1;
    size_t ncand = 0;
    *rows = 0;
    if (large_literal(bk, &large) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (bk->nsorted > 0) {
        PGresult *r = find_candidates(db, keys, large.s, err, errlen);
        if (!r)
            goto done;
        *rows = (size_t)PQntuples(r);
        int used = usable_candidates(r, bk, &cand, &ncand, err, errlen);
        /* the rows are copied: their result (as large as the candidates) is not held while the
         * group is scored and stored */
        PQclear(r);
        if (used != 0)
            goto done;
    }
    patient_merge_reader_t reader = {db, ""};
    const link_held_t held = {patient_merge_sets, &reader};
    if (link_assign(p, ids, n, bk, cand, ncand, &held, out, merges, nmerges) != 0) {
        snprintf(err, errlen, "%s", reader.err[0] ? reader.err : "out of memory");
        goto done;
    }
    if (store(db, ids, bk, out, n, err, errlen) != 0 ||
        (merges && patient_merge_index(db, *merges, *nmerges, err, errlen) != 0))
        goto done;
    rc = 0;
done:
    free(cand);
    strbuf_free(&large);
    if (rc != 0 && merges) {
        free(*merges);
        *merges = NULL;
        *nmerges = 0;
    }
    return rc;
}

/* Candidate rows read per record, as this process last saw them (a moving average over its
 * groups): the next batch's groups are sized by it. The rows a group holds at
 * most (patient_index_set_group_rows). One thread per process. */
static double rows_per_record = 1;
static size_t group_rows = PATIENT_INDEX_GROUP_ROWS;

void patient_index_set_group_rows(size_t rows)
{
    group_rows = rows > 0 ? rows : PATIENT_INDEX_GROUP_ROWS;
}

/* Into how many groups a batch of n records is read: about rows_per_record (at least 1) x n /
 * group_rows, at least 1, at most n. */
static size_t group_count(size_t n)
{
    double per = rows_per_record > 1 ? rows_per_record : 1;
    double want = (double)n * per / (double)group_rows;
    return want >= (double)n ? n : (size_t)want + 1;
}

/* After a later group merged merges[0..nm) (each into the patient holding its records now):
 * the earlier groups' records and merges that name a patient merged follow it. */
static void follow_merges(const link_merge_t *m, size_t nm, patient_match_t *out, size_t nout,
                          link_merge_t *earlier, size_t nearlier)
{
    for (size_t k = 0; k < nm; k++) {
        for (size_t i = 0; i < nout; i++)
            if (out[i].patient_id == m[k].from)
                out[i].patient_id = m[k].into;
        for (size_t e = 0; e < nearlier; e++)
            if (earlier[e].into == m[k].from)
                earlier[e].into = m[k].into;
    }
}

int patient_index_assign(PGconn *db, const link_params_t *p, const link_ident_t *ids, size_t n,
                         bool locked, patient_match_t *out, link_merge_t **merges, size_t *nmerges,
                         char *err, size_t errlen)
{
    assert(p);
    memset(out, 0, n * sizeof *out);
    if (merges) {
        *merges = NULL;
        *nmerges = 0;
    }
    if (n == 0)
        return 0;
    link_batch_keys_t bk, gbk = {0};
    strbuf_t keys, gkeys;
    strbuf_init(&keys);
    strbuf_init(&gkeys);
    link_merge_t *all = NULL;
    size_t nall = 0;
    int rc = -1;
    if (link_batch_keys_build(ids, n, &bk) != 0 || keys_literal(&bk, &keys) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* every key of the batch at once, in order, before any group: a batch never waits for a
     * lock while holding others out of order */
    if (!locked && bk.nsorted > 0 && patient_index_lock_keys(db, keys.s, err, errlen) != 0)
        goto done;
    size_t groups = group_count(n), from = 0;
    for (size_t g = 0; g < groups; g++) {
        size_t upto = n * (g + 1) / groups, rows = 0, ngm = 0;
        link_merge_t *gm = NULL;
        /* one group: the batch's keys; else the group's own */
        const link_batch_keys_t *gk = &bk;
        const char *glit = keys.s;
        if (groups > 1) {
            link_batch_keys_free(&gbk);
            strbuf_reset(&gkeys);
            if (link_batch_keys_build(ids + from, upto - from, &gbk) != 0 ||
                keys_literal(&gbk, &gkeys) != 0) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            gk = &gbk;
            glit = gkeys.s;
        }
        if (assign_group(db, p, ids + from, upto - from, gk, glit, out + from, merges ? &gm : NULL,
                         merges ? &ngm : NULL, &rows, err, errlen) != 0)
            goto done;
        double per = (double)rows / (double)(upto - from);
        rows_per_record = 0.7 * rows_per_record + 0.3 * per;
        if (ngm > 0) {
            follow_merges(gm, ngm, out, from, all, nall);
            link_merge_t *grown = realloc(all, (nall + ngm) * sizeof *grown);
            if (!grown) {
                free(gm);
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            all = grown;
            memcpy(all + nall, gm, ngm * sizeof *gm);
            nall += ngm;
        }
        free(gm);
        from = upto;
    }
    if (merges) {
        *merges = all;
        *nmerges = nall;
        all = NULL;
    }
    rc = 0;
done:
    link_batch_keys_free(&bk);
    link_batch_keys_free(&gbk);
    strbuf_free(&keys);
    strbuf_free(&gkeys);
    free(all);
    return rc;
}
