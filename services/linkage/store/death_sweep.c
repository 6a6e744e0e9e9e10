/* death_sweep.c - deaths loaded after records: link them to patients held, revise their records */
#include "death_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "death_assign.h"
#include "death_link.h"
#include "follow_up.h"
#include "link_record.h"
#include "message.h"
#include "patient_index.h"
#include "pg_columns.h"
#include "quality_store.h"
#include "strbuf.h"

/* Up to limit deaths not considered yet: death_id and identifiers. */
static PGresult *unconsidered_deaths(PGconn *db, int limit, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *pv[] = {lim};
    return db_query(db,
                    "SELECT death_id, nhs_number, forename, surname,"
                    " coalesce(date_of_birth::text, ''), sex, postcode FROM linkage.death"
                    " WHERE considered_at IS NULL ORDER BY death_id LIMIT $1::int",
                    1, pv, err, errlen);
}

/* Scores the patients sharing a key "n:" or "d:" (link_ident_dob_key) with death i (keys in cols:
 * death index, key) into cand; returns how many, or -1 with err. */
static long score_candidates(PGconn *db, const link_params_t *p, const link_ident_t *deaths,
                             const int64_t *death_ids, pg_columns_t *keys, death_pair_t **cand,
                             char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", PATIENT_INDEX_MAX_BLOCK);
    const char *pv[] = {keys->params[0], keys->params[1], lim};
    PGresult *r = db_query(
        db,
        "SELECT k.i, b.patient_id, b.nhs_number, b.forename, b.surname, b.dob, b.sex, b.postcode"
        " FROM unnest($1::int[], $2::text[]) AS k(i, key) CROSS JOIN LATERAL (SELECT * FROM"
        " linkage.block bl WHERE bl.key = k.key ORDER BY bl.patient_id LIMIT $3::int) b",
        3, pv, err, errlen);
    if (!r)
        return -1;
    size_t nrows = (size_t)PQntuples(r), n = 0;
    *cand = calloc(nrows + 1, sizeof **cand);
    if (!*cand) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t row = 0; row < nrows; row++) {
        int k = (int)row;
        size_t i = (size_t)atoi(PQgetvalue(r, k, 0));
        /* stored values are already normalised; normalising again keeps them */
        link_ident_t patient;
        link_ident_from_values(PQgetvalue(r, k, 2), PQgetvalue(r, k, 3), PQgetvalue(r, k, 4),
                               PQgetvalue(r, k, 5), PQgetvalue(r, k, 6), PQgetvalue(r, k, 7),
                               &patient);
        double w;
        if (!death_link_weight(p, &patient, &deaths[i], &w))
            continue;
        death_pair_keep_best(
            *cand, &n, (death_pair_t){death_ids[i], strtoll(PQgetvalue(r, k, 1), NULL, 10), w});
    }
    PQclear(r);
    return (long)n;
}

/* The links now of the deaths and patients among cand. */
static long current_links(PGconn *db, const death_pair_t *cand, size_t n, death_pair_t **linked,
                          char *err, size_t errlen)
{
    pg_columns_t ids;
    pg_columns_open(&ids, 2);
    for (size_t i = 0; i < n; i++) {
        char d[24], p[24];
        snprintf(d, sizeof d, "%lld", (long long)cand[i].death_id);
        snprintf(p, sizeof p, "%lld", (long long)cand[i].patient_id);
        const char *v[] = {d, p};
        pg_columns_row(&ids, v);
    }
    pg_columns_close(&ids);
    PGresult *r = db_query(db,
                           "SELECT death_id, patient_id, weight FROM linkage.death_link"
                           " WHERE death_id = ANY($1::bigint[]) OR patient_id = ANY($2::bigint[])",
                           2, ids.params, err, errlen);
    pg_columns_free(&ids);
    if (!r)
        return -1;
    size_t m = (size_t)PQntuples(r);
    *linked = calloc(m + 1, sizeof **linked);
    if (!*linked) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m; i++)
        (*linked)[i] = (death_pair_t){strtoll(PQgetvalue(r, (int)i, 0), NULL, 10),
                                      strtoll(PQgetvalue(r, (int)i, 1), NULL, 10),
                                      strtod(PQgetvalue(r, (int)i, 2), NULL)};
    PQclear(r);
    return (long)m;
}

int death_sweep_link(PGconn *db, const link_params_t *p, int limit, death_sweep_counts_t *c,
                     char *err, size_t errlen)
{
    PGresult *r = unconsidered_deaths(db, limit, err, errlen);
    if (!r)
        return -1;
    size_t nd = (size_t)PQntuples(r);
    if (nd == 0) {
        PQclear(r);
        return 0;
    }
    int rc = -1;
    link_ident_t *deaths = calloc(nd, sizeof *deaths);
    int64_t *death_ids = calloc(nd, sizeof *death_ids);
    death_pair_t *cand = NULL, *linked = NULL, *chosen = NULL;
    pg_columns_t keys, ids;
    pg_columns_open(&keys, 2);
    pg_columns_open(&ids, 1);
    if (!deaths || !death_ids) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nd; i++) {
        int k = (int)i;
        death_ids[i] = strtoll(PQgetvalue(r, k, 0), NULL, 10);
        link_ident_from_values(PQgetvalue(r, k, 1), PQgetvalue(r, k, 2), PQgetvalue(r, k, 3),
                               PQgetvalue(r, k, 4), PQgetvalue(r, k, 5), PQgetvalue(r, k, 6),
                               &deaths[i]);
        pg_columns_row(&ids, (const char *[]){PQgetvalue(r, k, 0)});
        char idx[24], key[LINK_KEY_LEN];
        snprintf(idx, sizeof idx, "%zu", i);
        if (deaths[i].nhs[0]) {
            snprintf(key, sizeof key, "n:%s", deaths[i].nhs);
            pg_columns_row(&keys, (const char *[]){idx, key});
        }
        if (link_ident_dob_key(&deaths[i], key))
            pg_columns_row(&keys, (const char *[]){idx, key});
    }
    if (pg_columns_close(&keys) != 0 || pg_columns_close(&ids) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* Records with these keys being linked now wait, or are waited for: either way, whichever
     * commits second sees the other's patient or death. */
    if (keys.nrows > 0 && patient_index_lock_keys(db, keys.params[1], err, errlen) != 0)
        goto done;
    long ncand =
        keys.nrows > 0 ? score_candidates(db, p, deaths, death_ids, &keys, &cand, err, errlen) : 0;
    if (ncand < 0)
        goto done;
    long nlinked = ncand > 0 ? current_links(db, cand, (size_t)ncand, &linked, err, errlen) : 0;
    if (nlinked < 0)
        goto done;
    size_t nchosen = 0;
    if (ncand > 0) {
        if (!(chosen = calloc((size_t)ncand, sizeof *chosen))) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        nchosen = death_assign(cand, (size_t)ncand, linked, (size_t)nlinked, chosen);
    }
    /* the trigger on linkage.death_link queues the patients that gain or lose a death */
    if (death_link_replace(db, chosen, nchosen, err, errlen) != 0 ||
        db_execp(db,
                 "UPDATE linkage.death SET considered_at = now()"
                 " WHERE death_id = ANY($1::bigint[])",
                 1, ids.params, err, errlen) != 0)
        goto done;
    c->deaths += nd;
    c->links += nchosen;
    rc = 0;
done:
    PQclear(r);
    pg_columns_free(&keys);
    pg_columns_free(&ids);
    free(deaths);
    free(death_ids);
    free(cand);
    free(linked);
    free(chosen);
    return rc;
}

/* Takes up to limit patients off the queue (their ids as a bigint[] literal into ids, how many
 * into *n) and locks their blocking keys, so that a record of theirs being linked now is
 * committed before their records are read. Returns 0, or -1 with err. */
static int dequeue_patients(PGconn *db, int limit, strbuf_t *ids, size_t *n, char *err,
                            size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *pv[] = {lim};
    PGresult *r = db_query(db,
                           "DELETE FROM linkage.death_recheck WHERE patient_id IN (SELECT"
                           " patient_id FROM linkage.death_recheck ORDER BY queued_at, patient_id"
                           " LIMIT $1::int) RETURNING patient_id",
                           1, pv, err, errlen);
    if (!r)
        return -1;
    *n = (size_t)PQntuples(r);
    strbuf_pg_array_open(ids);
    for (size_t i = 0; i < *n; i++)
        strbuf_pg_array_elem(ids, PQgetvalue(r, (int)i, 0));
    strbuf_pg_array_close(ids);
    PQclear(r);
    if (ids->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (*n == 0)
        return 0;
    const char *pk[] = {ids->s};
    PGresult *k = db_query(db,
                           "SELECT coalesce(array_agg(DISTINCT key), '{}')::text FROM linkage.block"
                           " WHERE patient_id = ANY($1::bigint[])",
                           1, pk, err, errlen);
    if (!k)
        return -1;
    int rc = patient_index_lock_keys(db, PQgetvalue(k, 0, 0), err, errlen);
    PQclear(k);
    return rc;
}

/* Columns: record_id, version, audit, payload and the patient's date of death now ("" when
 * none). */
enum { R_AUDIT = 2, R_PAYLOAD, R_DOD };

static PGresult *latest_records(PGconn *db, const char *patient_ids, char *err, size_t errlen)
{
    const char *pv[] = {patient_ids};
    return db_query(
        db,
        "SELECT p.record_id, p.version, p.audit, p.payload::text,"
        " coalesce((SELECT d.date_of_death::text FROM linkage.death_link dl JOIN linkage.death d"
        "   USING (death_id) WHERE dl.patient_id = q.patient_id), '')"
        " FROM unnest($1::bigint[]) AS q(patient_id)"
        " JOIN linkage.link l ON l.patient_id = q.patient_id"
        " JOIN linkage.pseudo_record p ON p.record_id = l.record_id AND p.version = l.version"
        " WHERE NOT EXISTS (SELECT 1 FROM linkage.pseudo_record x"
        "   WHERE x.record_id = p.record_id AND x.version > p.version)"
        " ORDER BY p.record_id",
        1, pv, err, errlen);
}

/* The records of r (by row) whose date_of_death differs from the patient's now: each payload
 * corrected in recs[row] (NULL for the others). Returns how many, or -1 when out of memory. */
static long rederive(audit_cache_t *audits, const PGresult *r, ncap_record_t **recs)
{
    long changed = 0;
    for (int row = 0; row < PQntuples(r); row++) {
        char aerr[256];
        const audit_def_t *def =
            audit_cache_get(audits, PQgetvalue(r, row, R_AUDIT), aerr, sizeof aerr);
        if (!def || !link_record_wants_linked(def, "date_of_death"))
            continue;
        ncap_record_t *rec = ncap_record_new();
        if (!rec || message_record_from_json(PQgetvalue(r, row, R_PAYLOAD), rec) != 0) {
            ncap_record_destroy(&rec);
            return -1;
        }
        int rc = link_record_revise_date_of_death(rec, PQgetvalue(r, row, R_DOD));
        if (rc <= 0) {
            ncap_record_destroy(&rec);
            if (rc < 0)
                return -1;
            continue;
        }
        recs[row] = rec;
        changed++;
    }
    return changed;
}

/* Stores the corrected payloads as the next revision; returns (record_id, version, revision) of
 * each, or NULL with err. */
static PGresult *store_revisions(PGconn *db, const PGresult *r, ncap_record_t *const *recs,
                                 char *err, size_t errlen)
{
    pg_columns_t cols;
    pg_columns_open(&cols, 3);
    for (int row = 0; row < PQntuples(r); row++) {
        if (!recs[row])
            continue;
        char *json = message_record_to_json(recs[row]);
        const char *v[] = {PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), json ? json : "{}"};
        pg_columns_row(&cols, v);
        free(json);
    }
    PGresult *u = NULL;
    if (pg_columns_close(&cols) != 0)
        snprintf(err, errlen, "out of memory");
    else
        u = db_query(db,
                     "UPDATE linkage.pseudo_record p SET payload = u.payload,"
                     " revision = p.revision + 1, linked_at = now()"
                     " FROM unnest($1::bigint[], $2::int[], $3::json[])"
                     " AS u(record_id, version, payload)"
                     " WHERE p.record_id = u.record_id AND p.version = u.version"
                     " RETURNING p.record_id, p.version, p.revision",
                     3, cols.params, err, errlen);
    pg_columns_free(&cols);
    return u;
}

int death_sweep_pass_on(const PGresult *u, stage_keys_t *out)
{
    for (int k = 0; k < PQntuples(u); k++) {
        stage_key_t key = {strtoll(PQgetvalue(u, k, 0), NULL, 10), atoi(PQgetvalue(u, k, 1)),
                           atoi(PQgetvalue(u, k, 2))};
        if (stage_keys_push(out, key) != 0)
            return -1;
    }
    return 0;
}

int death_sweep_revise(PGconn *db, audit_cache_t *audits, int limit, stage_keys_t *out,
                       death_sweep_counts_t *c, char *err, size_t errlen)
{
    strbuf_t ids;
    strbuf_init(&ids);
    size_t npatients = 0;
    PGresult *r = NULL, *u = NULL;
    ncap_record_t **recs = NULL;
    int rc = -1;
    if (dequeue_patients(db, limit, &ids, &npatients, err, errlen) != 0)
        goto done;
    if (npatients == 0) {
        rc = 0;
        goto done;
    }
    /* the linkage quality report's death_matched, withheld versions too */
    if (quality_store_deaths(db, ids.s, err, errlen) < 0 ||
        !(r = latest_records(db, ids.s, err, errlen)))
        goto done;
    recs = calloc((size_t)PQntuples(r) + 1, sizeof *recs);
    long changed = recs ? rederive(audits, r, recs) : -1;
    if (changed < 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (changed > 0 &&
        (!(u = store_revisions(db, r, recs, err, errlen)) || death_sweep_pass_on(u, out) != 0)) {
        if (u)
            snprintf(err, errlen, "out of memory");
        goto done;
    }
    c->patients += npatients;
    c->revised += u ? (size_t)PQntuples(u) : 0;
    rc = 0;
done:
    for (int row = 0; recs && r && row < PQntuples(r); row++)
        ncap_record_destroy(&recs[row]);
    free(recs);
    PQclear(r);
    PQclear(u);
    strbuf_free(&ids);
    return rc;
}

/* Columns: record_id, version, audit, payload, the patient's date of death now ("" when none), the
 * coverage now, and whether the row is its record's latest version. */
enum { C_AUDIT = 2, C_PAYLOAD, C_DOD, C_COVERS_TO, C_LATEST };

/* Up to limit record versions whose follow-up the register now covers, the earliest due first:
 * an index range scan over linkage.pseudo_record's follow_up_due (migration 0017) up to the
 * coverage (its one row's, as a value: none without a register loaded; joined, the planner,
 * guessing the empty table's rows, walked the whole index and sorted it at every idle sweep). */
static PGresult *due_records(PGconn *db, int limit, char *err, size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *pv[] = {lim};
    return db_query(
        db,
        "SELECT p.record_id, p.version, p.audit, p.payload::text,"
        " coalesce((SELECT to_char(d.date_of_death, 'YYYY-MM-DD') FROM linkage.link l"
        "   JOIN linkage.death_link dl USING (patient_id) JOIN linkage.death d USING (death_id)"
        "   WHERE l.record_id = p.record_id AND l.version = p.version), ''),"
        " (SELECT to_char(covers_to, 'YYYY-MM-DD') FROM linkage.death_coverage),"
        " NOT EXISTS (SELECT 1 FROM linkage.pseudo_record x"
        "   WHERE x.record_id = p.record_id AND x.version > p.version)"
        " FROM (SELECT d.record_id, d.version, d.audit, d.payload, d.follow_up_due"
        "   FROM linkage.pseudo_record d"
        "   WHERE d.follow_up_due <= (SELECT covers_to FROM linkage.death_coverage)"
        "   ORDER BY d.follow_up_due, d.record_id, d.version LIMIT $1::int) p"
        " ORDER BY p.follow_up_due, p.record_id, p.version",
        1, pv, err, errlen);
}

/* Row row of r derived again under the coverage now: its new payload into cols' third column
 * (NULL when unchanged) and its next due date into the fourth (NULL for none). Returns 1 when the
 * row is to be updated, 0 when its definition cannot be had (it stays due), -1 when out of
 * memory. */
static int rederive_coverage(audit_cache_t *audits, const PGresult *r, int row, pg_columns_t *cols)
{
    const char *v[4] = {PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), NULL, NULL};
    if (strcmp(PQgetvalue(r, row, C_LATEST), "t") != 0) { /* superseded: nothing waits for it */
        pg_columns_row(cols, v);
        return 1;
    }
    char aerr[256];
    const audit_def_t *def =
        audit_cache_get(audits, PQgetvalue(r, row, C_AUDIT), aerr, sizeof aerr);
    if (!def)
        return 0;
    ncap_record_t *rec = ncap_record_new();
    if (!rec || message_record_from_json(PQgetvalue(r, row, C_PAYLOAD), rec) != 0) {
        ncap_record_destroy(&rec);
        return -1;
    }
    const char *covers_to = PQgetvalue(r, row, C_COVERS_TO);
    int dod = link_record_wants_linked(def, "date_of_death")
                  ? link_record_revise_date_of_death(rec, PQgetvalue(r, row, C_DOD))
                  : 0;
    int stamp = dod < 0 ? -1 : follow_up_stamp(def, rec, covers_to);
    char due[11], *json = NULL;
    if (stamp >= 0 && (dod > 0 || stamp > 0) && !(json = message_record_to_json(rec)))
        stamp = -1;
    if (stamp >= 0) {
        v[2] = json;
        v[3] = follow_up_due(def, rec, covers_to, due) ? due : NULL;
        pg_columns_row(cols, v);
    }
    free(json);
    ncap_record_destroy(&rec);
    return stamp < 0 ? -1 : 1;
}

int death_sweep_coverage(PGconn *db, audit_cache_t *audits, int limit, stage_keys_t *out,
                         death_sweep_counts_t *c, char *err, size_t errlen)
{
    PGresult *r = due_records(db, limit, err, errlen), *u = NULL;
    if (!r)
        return -1;
    pg_columns_t cols;
    pg_columns_open(&cols, 4);
    int rc = 0;
    for (int row = 0; rc == 0 && row < PQntuples(r); row++)
        if (rederive_coverage(audits, r, row, &cols) < 0)
            rc = -1;
    if (rc == 0 && pg_columns_close(&cols) != 0)
        rc = -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    else if (cols.nrows > 0 &&
             !(u = db_query(db,
                            "WITH u AS (UPDATE linkage.pseudo_record p SET follow_up_due = u.due,"
                            "   payload = coalesce(u.payload, p.payload),"
                            "   revision = p.revision + (u.payload IS NOT NULL)::int,"
                            "   linked_at = CASE WHEN u.payload IS NULL THEN p.linked_at"
                            "     ELSE now() END"
                            "   FROM unnest($1::bigint[], $2::int[], $3::json[], $4::date[])"
                            "   AS u(record_id, version, payload, due)"
                            "   WHERE p.record_id = u.record_id AND p.version = u.version"
                            "   RETURNING p.record_id, p.version, p.revision,"
                            "   u.payload IS NOT NULL AS revised)"
                            " SELECT record_id, version, revision FROM u WHERE revised",
                            4, cols.params, err, errlen)))
        rc = -1;
    if (rc == 0 && u && death_sweep_pass_on(u, out) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        c->due += cols.nrows;
        c->covered += u ? (size_t)PQntuples(u) : 0;
    }
    pg_columns_free(&cols);
    PQclear(r);
    PQclear(u);
    return rc;
}
