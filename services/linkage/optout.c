/* optout.c - records withheld under the national data opt-out, counted */
#include "optout.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"
#include "strbuf.h"

int optout_withhold(PGconn *db, const optout_record_t *recs, size_t n, bool *withheld, char *err,
                    size_t errlen)
{
    strbuf_t nhs;
    strbuf_init(&nhs);
    strbuf_pg_array_open(&nhs);
    size_t asked = 0;
    memset(withheld, 0, n * sizeof *withheld);
    for (size_t i = 0; i < n; i++)
        if (recs[i].applies && recs[i].nhs_number && recs[i].nhs_number[0]) {
            strbuf_pg_array_elem(&nhs, recs[i].nhs_number);
            asked++;
        }
    strbuf_pg_array_close(&nhs);
    if (asked == 0) {
        strbuf_free(&nhs);
        return 0;
    }
    const char *pn[] = {nhs.s};
    PGresult *r =
        db_query(db, "SELECT nhs_number FROM linkage.optout WHERE nhs_number = ANY($1::text[])", 1,
                 pn, err, errlen);
    strbuf_free(&nhs);
    if (!r)
        return -1;
    pg_columns_t a;
    pg_columns_open(&a, 5);
    size_t nwithheld = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].applies || !recs[i].nhs_number || !recs[i].nhs_number[0])
            continue;
        for (int k = 0; k < PQntuples(r); k++)
            if (strcmp(PQgetvalue(r, k, 0), recs[i].nhs_number) == 0) {
                char rid[24], ver[16], sid[24];
                snprintf(rid, sizeof rid, "%lld", (long long)recs[i].record_id);
                snprintf(ver, sizeof ver, "%d", recs[i].version);
                snprintf(sid, sizeof sid, "%lld", (long long)recs[i].submission_id);
                const char *v[5] = {rid, ver, recs[i].audit, recs[i].trust, sid};
                pg_columns_row(&a, v);
                withheld[i] = true;
                nwithheld++;
                break;
            }
    }
    PQclear(r);
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
