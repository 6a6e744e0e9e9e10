/* rekey_sweep.c - records pseudonymised under another key: pseudonymised again (rekey_sweep.h) */
#include "rekey_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "death_sweep.h"
#include "pg_columns.h"

int rekey_sweep_register(PGconn *db, const char *holder, const char *key_id, char *err,
                         size_t errlen)
{
    const char *pv[] = {holder, key_id};
    return db_execp(db,
                    "INSERT INTO linkage.key_in_use (holder, key_id) VALUES ($1, $2)"
                    " ON CONFLICT (holder) DO UPDATE SET key_id = EXCLUDED.key_id,"
                    " heard_at = now()",
                    2, pv, err, errlen);
}

int rekey_sweep_conflict(PGconn *db, const char *holder, const char *key_id,
                         char other[PSEUDONYM_KEY_ID_LEN + 1], char *other_holder, size_t holderlen,
                         char *err, size_t errlen)
{
    if (db_execp(db, "DELETE FROM linkage.key_in_use WHERE heard_at < now() - interval '1 day'", 0,
                 NULL, err, errlen) != 0)
        return -1;
    /* Since this process started: one stopped before it (the key file replaced in between) is
     * the rotation itself, not a second key at once. */
    const char *pv[] = {holder, key_id};
    PGresult *r = db_query(db,
                           "SELECT k.key_id, k.holder FROM linkage.key_in_use k,"
                           " linkage.key_in_use me WHERE me.holder = $1 AND k.key_id <> $2"
                           " AND k.heard_at > greatest(me.started_at, now() - interval '1 minute')"
                           " ORDER BY k.heard_at DESC LIMIT 1",
                           2, pv, err, errlen);
    if (!r)
        return -1;
    int found = PQntuples(r) > 0;
    if (found) {
        snprintf(other, PSEUDONYM_KEY_ID_LEN + 1, "%s", PQgetvalue(r, 0, 0));
        snprintf(other_holder, holderlen, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return found;
}

/* The record versions under another key id than $1, both index ranges of 0024 (below and above
 * it; NULL reads as '', below every id). */
#define OTHER_KEY(p) "(coalesce(" p ".key_id, '') < $1 OR coalesce(" p ".key_id, '') > $1)"

long long rekey_sweep_remaining(PGconn *db, const char *key_id, long long bound, char *err,
                                size_t errlen)
{
    char most[24];
    snprintf(most, sizeof most, "%lld", bound);
    const char *pv[] = {key_id, bound > 0 ? most : NULL}; /* LIMIT NULL: no limit */
    PGresult *r =
        db_query(db,
                 "SELECT count(*) FROM (SELECT 1 FROM linkage.pseudo_record p WHERE " OTHER_KEY(
                     "p") " LIMIT $2::bigint) x",
                 2, pv, err, errlen);
    if (!r)
        return -1;
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* Columns: record_id, version, patient_id, the pseudonym stored, and whether the row is its
 * record's latest version. */
enum { K_RID, K_VER, K_PATIENT, K_PSEUDONYM, K_LATEST };

/* Up to limit record versions under another key id: each range read in index order and cut at
 * limit, so that a batch costs O(limit) however many rows are left. */
static PGresult *other_key_records(PGconn *db, const char *key_id, int limit, char *err,
                                   size_t errlen)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *pv[] = {key_id, lim};
    return db_query(
        db,
        "SELECT p.record_id, p.version, l.patient_id, p.pseudonym,"
        " NOT EXISTS (SELECT 1 FROM linkage.pseudo_record x"
        "   WHERE x.record_id = p.record_id AND x.version > p.version)"
        " FROM ((SELECT record_id, version FROM linkage.pseudo_record"
        "     WHERE coalesce(key_id, '') < $1 ORDER BY coalesce(key_id, '') LIMIT $2::int)"
        "   UNION ALL (SELECT record_id, version FROM linkage.pseudo_record"
        "     WHERE coalesce(key_id, '') > $1 ORDER BY coalesce(key_id, '') LIMIT $2::int)"
        "   LIMIT $2::int) s"
        " JOIN linkage.pseudo_record p USING (record_id, version)"
        " JOIN linkage.link l USING (record_id, version)"
        " ORDER BY p.record_id, p.version",
        2, pv, err, errlen);
}

int rekey_sweep_run(PGconn *db, const unsigned char key[PSEUDONYM_KEY_BYTES], const char *key_id,
                    int limit, stage_keys_t *out, rekey_sweep_counts_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    PGresult *r = other_key_records(db, key_id, limit, err, errlen), *u = NULL;
    if (!r)
        return -1;
    pg_columns_t cols;
    pg_columns_open(&cols, 4);
    for (int row = 0; row < PQntuples(r); row++) {
        char pseud[65];
        pseudonym_of(key, strtoll(PQgetvalue(r, row, K_PATIENT), NULL, 10), pseud);
        /* a new pseudonym of the latest version is a revision; anything else only a stamp */
        int revise = strcmp(pseud, PQgetvalue(r, row, K_PSEUDONYM)) != 0 &&
                     strcmp(PQgetvalue(r, row, K_LATEST), "t") == 0;
        const char *v[4] = {PQgetvalue(r, row, K_RID), PQgetvalue(r, row, K_VER), pseud,
                            revise ? "t" : "f"};
        pg_columns_row(&cols, v);
    }
    int rc = 0;
    if (pg_columns_close(&cols) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (cols.nrows > 0) {
        const char *pv[5] = {cols.params[0], cols.params[1], cols.params[2], cols.params[3],
                             key_id};
        u = db_query(db,
                     "WITH u AS (UPDATE linkage.pseudo_record p SET pseudonym = u.pseudonym,"
                     "   key_id = $5, revision = p.revision + u.revise::int,"
                     "   linked_at = CASE WHEN u.revise THEN now() ELSE p.linked_at END"
                     "   FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bool[])"
                     "   AS u(record_id, version, pseudonym, revise)"
                     "   WHERE p.record_id = u.record_id AND p.version = u.version"
                     "   RETURNING p.record_id, p.version, p.revision, u.revise)"
                     " SELECT record_id, version, revision FROM u WHERE revise",
                     5, pv, err, errlen);
        if (!u)
            rc = -1;
        else if (death_sweep_pass_on(u, out) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        c->taken = cols.nrows;
        c->revised = u ? (size_t)PQntuples(u) : 0;
    }
    pg_columns_free(&cols);
    PQclear(r);
    PQclear(u);
    return rc;
}
