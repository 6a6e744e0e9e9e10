/* ingest_store.c - the rows COPYed into a temporary table as they are parsed, then versioned
 * set-wise */
#include "ingest_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "strbuf.h"

int ingest_rows_begin(ingest_rows_t *rs, PGconn *db, char *err, size_t errlen)
{
    rs->n = 0;
    if (db_exec(db,
                "CREATE TEMP TABLE IF NOT EXISTS sub_rows (idx integer, row_number integer, "
                "local_id text, site text, payload json, hash text) ON COMMIT DELETE ROWS",
                err, errlen) != 0)
        return -1;
    return store_copy_begin(&rs->copy, db, "COPY sub_rows FROM STDIN", err, errlen);
}

int ingest_rows_put(void *ctx, const submission_row_t *row)
{
    ingest_rows_t *rs = ctx;
    if (rs->copy.failed)
        return -1;
    strbuf_t *b = &rs->copy.buf;
    strbuf_appendf(b, "%zu\t%d\t", rs->n++, row->row);
    strbuf_copy_field(b, row->local_id);
    strbuf_append(b, "\t");
    strbuf_copy_field(b, row->site);
    strbuf_append(b, "\t");
    strbuf_copy_field(b, row->json);
    strbuf_appendf(b, "\t%s\n", row->hash);
    return store_copy_sent(&rs->copy);
}

int ingest_rows_end(ingest_rows_t *rs, int ok, char *err, size_t errlen)
{
    return store_copy_end(&rs->copy, ok, "rows", err, errlen);
}

int ingest_store_begin(PGconn *db, const char *audit, const char *trust, const char *filename,
                       size_t bytes, int64_t *submission_id, char *err, size_t errlen)
{
    char nbytes[32];
    snprintf(nbytes, sizeof nbytes, "%zu", bytes);
    const char *p[] = {audit, trust, filename, nbytes};
    PGresult *r = db_query(db,
                           "INSERT INTO ingest.submission (audit, trust, filename, bytes) "
                           "VALUES ($1, $2, $3, $4::bigint) RETURNING submission_id",
                           4, p, err, errlen);
    if (!r)
        return -1;
    *submission_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

int ingest_store(PGconn *db, int64_t submission_id, const char *audit, const char *trust,
                 const submission_t *sub, size_t n_rows, ingest_result_t *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->submission_id = submission_id;
    PGresult *r;
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)submission_id);
    if (n_rows > 0) {
        /* A fresh temporary table has no statistics: without them the planner may scan
         * ingest.record once per row. Its row count and local_id's are all the statements below
         * plan on; the others' (the payloads' above all, as jsonb then: compared and sorted)
         * took four fifths of the ANALYZE (80-105 -> 12-20 ms a 5,000-row file). */
        if (db_exec(db, "ANALYZE sub_rows (local_id)", err, errlen) != 0)
            return -1;
        /* A new record is made with the version this submission gives it (1), so that it is
         * written once: setting latest_version after its raw row, as for a known record, would be
         * an update of a row on a full page, so a new tuple and three index entries again (about
         * 200 of 550-650 ms for 3,205 new records under EXPLAIN ANALYZE, hardly any heap-only). */
        const char *p2[] = {audit, trust};
        if (db_execp(
                db,
                "INSERT INTO ingest.record (audit, trust, local_id, latest_version) SELECT $1, "
                "$2, local_id, 1 FROM sub_rows ORDER BY local_id ON CONFLICT DO NOTHING",
                2, p2, err, errlen) != 0)
            return -1;
        /* Lock the records in a fixed order so that two ingest instances never deadlock. */
        if (db_execp(db,
                     "SELECT 1 FROM ingest.record r JOIN sub_rows s ON r.audit = $1 AND r.trust = "
                     "$2 AND r.local_id = s.local_id ORDER BY r.record_id FOR UPDATE OF r",
                     2, p2, err, errlen) != 0)
            return -1;
        /* The latest hash by a subquery on the primary key, not a join: the planner takes the
         * trust's records as about one row when the statistics were gathered before the trust's
         * first file (just inserted above), and a join then rescans raw_record, pages this very
         * statement is writing included, once per row: quadratic (100,000 rows took over 10
         * minutes). The subquery is an index probe per row whatever the estimate. A record with
         * no raw row at its latest version is one made just above (every record gets its first
         * version in the transaction that makes it): that version is the one to write, and its
         * latest_version is already right. */
        const char *p3[] = {audit, trust, sid};
        r = db_query(
            db,
            "WITH src AS ("
            "  SELECT s.idx, s.row_number, s.site, s.payload, s.hash, r.record_id, "
            "         r.latest_version,"
            "         (SELECT x.content_hash FROM ingest.raw_record x"
            "          WHERE x.record_id = r.record_id AND x.version = r.latest_version)"
            "           AS latest_hash"
            "  FROM sub_rows s JOIN ingest.record r"
            "    ON r.audit = $1 AND r.trust = $2 AND r.local_id = s.local_id),"
            " ins AS ("
            "  INSERT INTO ingest.raw_record (record_id, version, submission_id, row_number, site,"
            "    payload, content_hash)"
            "  SELECT record_id, latest_version + (latest_hash IS NOT NULL)::int, $3::bigint,"
            "    row_number, site, payload, hash"
            "  FROM src WHERE latest_hash IS DISTINCT FROM hash"
            "  RETURNING record_id, version, row_number),"
            " upd AS ("
            "  UPDATE ingest.record r SET latest_version = ins.version FROM ins"
            "  WHERE r.record_id = ins.record_id AND r.latest_version <> ins.version)"
            " SELECT record_id, version FROM ins ORDER BY row_number",
            3, p3, err, errlen);
        if (!r)
            return -1;
        int n = PQntuples(r);
        out->stored = calloc((size_t)n + 1, sizeof *out->stored);
        if (!out->stored) {
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            out->stored[i].record_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            out->stored[i].version = atoi(PQgetvalue(r, i, 1));
        }
        out->n_stored = (size_t)n;
        PQclear(r);
    }
    out->accepted = (unsigned)out->n_stored;
    out->unchanged = (unsigned)(n_rows - out->n_stored);
    char rows[16], acc[16], unch[16], rej[16];
    snprintf(rows, sizeof rows, "%u", sub->data_rows);
    snprintf(acc, sizeof acc, "%u", out->accepted);
    snprintf(unch, sizeof unch, "%u", out->unchanged);
    snprintf(rej, sizeof rej, "%u", sub->rejected);
    const char *p4[] = {sid, rows, acc, unch, rej};
    return db_execp(db,
                    "UPDATE ingest.submission SET rows = $2::int, accepted = $3::int, "
                    "unchanged = $4::int, rejected = $5::int WHERE submission_id = $1::bigint",
                    5, p4, err, errlen);
}

void ingest_result_free(ingest_result_t *r)
{
    free(r->stored);
    memset(r, 0, sizeof *r);
}
