/* optout.c - records withheld under the national data opt-out, counted */
#include "optout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"

int optout_withhold(PGconn *db, const optout_record_t *recs, size_t n, bool *withheld, char *err,
                    size_t errlen)
{
    memset(withheld, 0, n * sizeof *withheld);
    pg_columns_t q;
    pg_columns_open(&q, 3);
    for (size_t i = 0; i < n; i++)
        if (optout_asked(&recs[i])) {
            char idx[24], pid[24];
            snprintf(idx, sizeof idx, "%zu", i);
            snprintf(pid, sizeof pid, "%lld", (long long)recs[i].patient_id);
            const char *v[3] = {idx, recs[i].nhs_number ? recs[i].nhs_number : "", pid};
            pg_columns_row(&q, v);
        }
    pg_columns_close(&q);
    if (q.nrows == 0) {
        pg_columns_free(&q);
        return 0;
    }
    /* Whether the record's own number is listed, and whether any number seen for its patient
     * is; optout_withholds decides. */
    PGresult *r = db_query(db,
                           "SELECT u.i, EXISTS (SELECT 1 FROM linkage.optout o"
                           " WHERE o.nhs_number = u.nhs AND u.nhs <> ''),"
                           " EXISTS (SELECT 1 FROM linkage.block b"
                           " JOIN linkage.optout o ON o.nhs_number = b.nhs_number"
                           " WHERE b.patient_id = u.pid AND u.pid > 0 AND b.nhs_number <> '')"
                           " FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(i, nhs, pid)",
                           3, q.params, err, errlen);
    pg_columns_free(&q);
    if (!r)
        return -1;
    for (int k = 0; k < PQntuples(r); k++) {
        size_t i = (size_t)strtoull(PQgetvalue(r, k, 0), NULL, 10);
        if (i < n)
            withheld[i] = optout_withholds(&recs[i], PQgetvalue(r, k, 1)[0] == 't',
                                           PQgetvalue(r, k, 2)[0] == 't');
    }
    PQclear(r);
    pg_columns_t a;
    pg_columns_open(&a, 5);
    size_t nwithheld = 0;
    for (size_t i = 0; i < n; i++) {
        if (!withheld[i])
            continue;
        char rid[24], ver[16], sid[24];
        snprintf(rid, sizeof rid, "%lld", (long long)recs[i].record_id);
        snprintf(ver, sizeof ver, "%d", recs[i].version);
        snprintf(sid, sizeof sid, "%lld", (long long)recs[i].submission_id);
        const char *v[5] = {rid, ver, recs[i].audit, recs[i].trust, sid};
        pg_columns_row(&a, v);
        nwithheld++;
    }
    pg_columns_close(&a);
    int rc =
        nwithheld == 0
            ? 0
            : db_execp(db,
                       "WITH src AS (SELECT DISTINCT ON (record_id, version) * FROM"
                       " unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::bigint[])"
                       " AS s(record_id, version, audit, trust, submission_id)),"
                       " w AS (INSERT INTO linkage.optout_withheld (record_id, version)"
                       " SELECT record_id, version FROM src ON CONFLICT DO NOTHING"
                       " RETURNING record_id, version)"
                       " INSERT INTO linkage.optout_count (audit, trust, submission_id, records)"
                       " SELECT audit, trust, submission_id, count(*) FROM src JOIN w"
                       " USING (record_id, version) GROUP BY 1, 2, 3"
                       " ON CONFLICT (audit, trust, submission_id) DO UPDATE"
                       " SET records = linkage.optout_count.records + excluded.records",
                       5, a.params, err, errlen);
    pg_columns_free(&a);
    return rc;
}
