/* patient_merge.c - two held patients merged into one, in SQL (patient_merge.h) */
#include "patient_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "death_sweep.h"
#include "patient_index.h"
#include "pg_columns.h"

/* Columns of the sets query. */
enum { S_NHS, S_FORENAME, S_SURNAME, S_DOB, S_SEX, S_POSTCODE, S_LOCKED };

int patient_merge_sets(void *ctx, int64_t patient_id, link_ident_t **sets, size_t *n)
{
    patient_merge_reader_t *rd = ctx;
    *sets = NULL;
    *n = 0;
    char pid[24];
    snprintf(pid, sizeof pid, "%lld", (long long)patient_id);
    const char *pv[] = {pid};
    /* Every row's key locked, whatever the order: a lock not taken is not waited for. */
    /* clang-format off */
    PGresult *r = db_query(rd->db,
                           "SELECT b.nhs_number, b.forename, b.surname, b.dob, b.sex, b.postcode,"
                           " pg_try_advisory_xact_lock(" PATIENT_KEY_LOCK_ID("b.key") ")"
                           " FROM linkage.block b WHERE b.patient_id = $1::bigint",
                           1, pv, rd->err, sizeof rd->err);
    /* clang-format on */
    if (!r)
        return -1;
    int rows = PQntuples(r), rc = 0;
    for (int row = 0; row < rows && rc == 0; row++)
        if (strcmp(PQgetvalue(r, row, S_LOCKED), "t") != 0)
            rc = 1;
    if (rc == 0 && !(*sets = calloc((size_t)rows + 1, sizeof **sets))) {
        snprintf(rd->err, sizeof rd->err, "out of memory");
        rc = -1;
    }
    for (int row = 0; row < rows && rc == 0; row++) {
        link_ident_t id;
        link_ident_from_values(PQgetvalue(r, row, S_NHS), PQgetvalue(r, row, S_FORENAME),
                               PQgetvalue(r, row, S_SURNAME), PQgetvalue(r, row, S_DOB),
                               PQgetvalue(r, row, S_SEX), PQgetvalue(r, row, S_POSTCODE), &id);
        bool seen = false; /* a set is held once per key */
        for (size_t k = 0; k < *n && !seen; k++)
            seen = link_ident_same(&(*sets)[k], &id);
        if (!seen)
            (*sets)[(*n)++] = id;
    }
    PQclear(r);
    if (rc != 0) {
        free(*sets);
        *sets = NULL;
        *n = 0;
    }
    return rc;
}

/* The merges as two bigint[] literals ($1 from, $2 into), and a third column per merge when
 * extra is not NULL (extra[k]). Returns 0, or -1 when out of memory. */
static int merge_columns(const link_merge_t *merges, size_t n, char (*extra)[65], pg_columns_t *c)
{
    pg_columns_open(c, extra ? 3 : 2);
    for (size_t k = 0; k < n; k++) {
        char from[24], into[24];
        snprintf(from, sizeof from, "%lld", (long long)merges[k].from);
        snprintf(into, sizeof into, "%lld", (long long)merges[k].into);
        const char *v[3] = {from, into, extra ? extra[k] : NULL};
        pg_columns_row(c, v);
    }
    return pg_columns_close(c);
}

int patient_merge_index(PGconn *db, const link_merge_t *merges, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    pg_columns_t c;
    if (merge_columns(merges, n, NULL, &c) != 0) {
        pg_columns_free(&c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* copied first, then deleted: one statement sees the rows as they were before it */
    int rc = db_execp(
        db,
        "WITH m AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS m(from_id, into_id)),"
        " c AS (INSERT INTO linkage.block (key, patient_id, nhs_number, forename, surname, dob,"
        "   sex, postcode) SELECT b.key, m.into_id, b.nhs_number, b.forename, b.surname, b.dob,"
        "   b.sex, b.postcode FROM linkage.block b JOIN m ON b.patient_id = m.from_id"
        "   ON CONFLICT DO NOTHING),"
        " d AS (DELETE FROM linkage.block b USING m WHERE b.patient_id = m.from_id)"
        " UPDATE linkage.patient p SET merged_into = m.into_id FROM m"
        " WHERE p.patient_id = m.from_id",
        2, c.params, err, errlen);
    pg_columns_free(&c);
    return rc;
}

/* The CTE of the merges ($1 from, $2 into), numbered k in their order. */
#define MERGES                                                                                     \
    "WITH m AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY"                  \
    " AS m(from_id, into_id, k))"

/* The death links of the patients merged: each moved to the patient it was merged into when that
 * has none (the first merged into it, in order, when two had one), else removed. linkage may
 * insert and delete death links, not update them; the trigger of 0008 queues both patients for
 * the death sweep. Returns 0, or -1 with err. */
static int move_deaths(PGconn *db, const char *const *pv, char *err, size_t errlen)
{
    PGresult *r =
        db_query(db,
                 MERGES " SELECT DISTINCT ON (m.into_id) dl.death_id, m.into_id, dl.weight"
                        " FROM linkage.death_link dl JOIN m ON dl.patient_id = m.from_id"
                        " WHERE NOT EXISTS (SELECT 1 FROM linkage.death_link x"
                        "   WHERE x.patient_id = m.into_id) ORDER BY m.into_id, m.k",
                 2, pv, err, errlen);
    if (!r)
        return -1;
    pg_columns_t c;
    pg_columns_open(&c, 3);
    for (int row = 0; row < PQntuples(r); row++) {
        const char *v[3] = {PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2)};
        pg_columns_row(&c, v);
    }
    int rc = -1;
    if (pg_columns_close(&c) != 0)
        snprintf(err, errlen, "out of memory");
    else if (db_execp(db,
                      MERGES " DELETE FROM linkage.death_link dl USING m"
                             " WHERE dl.patient_id = m.from_id",
                      2, pv, err, errlen) == 0 &&
             (c.nrows == 0 ||
              db_execp(db,
                       "INSERT INTO linkage.death_link (death_id, patient_id, weight)"
                       " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[])",
                       3, c.params, err, errlen) == 0))
        rc = 0;
    pg_columns_free(&c);
    PQclear(r);
    return rc;
}

int patient_merge_records(PGconn *db, const link_merge_t *merges, size_t n,
                          const unsigned char key[PSEUDONYM_KEY_BYTES], const char *key_id,
                          stage_keys_t *revised, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    char(*pseud)[65] = calloc(n, sizeof *pseud);
    if (!pseud) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        pseudonym_of(key, merges[k].into, pseud[k]);
    pg_columns_t c;
    PGresult *u = NULL;
    int rc = -1;
    if (merge_columns(merges, n, pseud, &c) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    const char *pv[] = {c.params[0], c.params[1], c.params[2], key_id};
    /* 1. the pseudonymised records, by their links before they move: the latest version of each
     *    record revised, a superseded one stamped (as rekey_sweep_run does);
     * 2. the links, then the quality facts (locked in record order first, as quality_store does)
     *    and the methods of the records of the patients merged into;
     * 3. the patient merged into queued for the death sweep when either has a death (its records
     *    take its date of death), then the death links. */
    if (!(u = db_query(
              db,
              "WITH m AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])"
              "   AS m(from_id, into_id, pseudonym)),"
              " r AS (SELECT p.record_id, p.version, m.pseudonym, NOT EXISTS (SELECT 1 FROM"
              "   linkage.pseudo_record x WHERE x.record_id = p.record_id AND x.version > "
              "p.version)"
              "   AS latest FROM m JOIN linkage.link l ON l.patient_id = m.from_id"
              "   JOIN linkage.pseudo_record p ON p.record_id = l.record_id"
              "   AND p.version = l.version),"
              " u AS (UPDATE linkage.pseudo_record p SET pseudonym = r.pseudonym, key_id = $4,"
              "   revision = p.revision + r.latest::int,"
              "   linked_at = CASE WHEN r.latest THEN now() ELSE p.linked_at END FROM r"
              "   WHERE p.record_id = r.record_id AND p.version = r.version"
              "   RETURNING p.record_id, p.version, p.revision, r.latest)"
              " SELECT record_id, version, revision FROM u WHERE latest ORDER BY record_id",
              4, pv, err, errlen)) ||
        db_execp(db,
                 MERGES " UPDATE linkage.link l SET patient_id = m.into_id FROM m"
                        " WHERE l.patient_id = m.from_id",
                 2, pv, err, errlen) != 0 ||
        db_execp(db,
                 "SELECT 1 FROM linkage.record_quality q WHERE q.patient_id = ANY($1::bigint[])"
                 " ORDER BY q.record_id FOR UPDATE",
                 1, pv, err, errlen) != 0 ||
        db_execp(db,
                 MERGES " UPDATE linkage.record_quality q SET patient_id = m.into_id FROM m"
                        " WHERE q.patient_id = m.from_id",
                 2, pv, err, errlen) != 0 ||
        db_execp(db, "SELECT linkage.quality_methods($1::bigint[])", 1, pv + 1, err, errlen) != 0 ||
        db_execp(db,
                 MERGES " INSERT INTO linkage.death_recheck (patient_id) SELECT DISTINCT m.into_id"
                        " FROM m WHERE EXISTS (SELECT 1 FROM linkage.death_link dl"
                        "   WHERE dl.patient_id IN (m.from_id, m.into_id)) ON CONFLICT DO NOTHING",
                 2, pv, err, errlen) != 0 ||
        move_deaths(db, pv, err, errlen) != 0)
        goto done;
    if (death_sweep_pass_on(u, revised) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    PQclear(u);
    pg_columns_free(&c);
    free(pseud);
    return rc;
}
