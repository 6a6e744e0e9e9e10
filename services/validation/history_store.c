/* history_store.c - a patient's other records of an audit, under the patient's lock */
#include "history_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "message.h"
#include "pg_columns.h"
#include "strbuf.h"

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int history_store_lock(PGconn *db, const char **keys, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    qsort(keys, n, sizeof *keys, by_text);
    strbuf_t arr;
    strbuf_init(&arr);
    strbuf_pg_array_open(&arr);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
            strbuf_pg_array_elem(&arr, keys[i]);
    strbuf_pg_array_close(&arr);
    const char *p[] = {arr.s};
    /* the two-key form: its key space never meets linkage's one-key locks; unnest keeps the
     * sorted order, so locks are taken in it */
    int rc = db_execp(db,
                      "SELECT pg_advisory_xact_lock(hashtext('ncap.validation.history'),"
                      " hashtext(k)) FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i)"
                      " ORDER BY i",
                      1, p, err, errlen);
    strbuf_free(&arr);
    return rc;
}

int history_store_load(PGconn *db, const char *const *audits, const char *const *pseudonyms,
                       const int64_t *record_ids, size_t n, stored_records_t *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    pg_columns_t u;
    pg_columns_open(&u, 4);
    for (size_t i = 0; i < n; i++) {
        if (!audits[i])
            continue;
        char at[24], rid[24];
        snprintf(at, sizeof at, "%zu", i);
        snprintf(rid, sizeof rid, "%lld", (long long)record_ids[i]);
        const char *v[4] = {at, audits[i], pseudonyms[i], rid};
        pg_columns_row(&u, v);
    }
    if (pg_columns_close(&u) != 0) {
        pg_columns_free(&u);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (u.nrows == 0) {
        pg_columns_free(&u);
        return 0;
    }
    /* Per record asked, an index probe of its patient's records (the hash index on the pseudonym,
     * migration 0054; the audit and the record checked on the rows found) and, for each, one of
     * its latest version: written so that no plan can do otherwise (a lateral subquery kept apart
     * by OFFSET 0, a correlated max()). As a join with NOT EXISTS, the planner, on tables
     * autovacuum had not analysed yet, hashed the whole of validation.record each batch (spilling
     * to temporary files; building the hash was the top of validation's PostgreSQL profile under
     * the steady load of tests/bench/latency.sh). */
    PGresult *r = db_query(db,
                           "SELECT u.i, v.record_id, v.version, v.payload::text"
                           " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])"
                           " AS u(i, audit, pseudonym, record_id)"
                           " CROSS JOIN LATERAL (SELECT v.record_id, v.version, v.payload"
                           "   FROM validation.record v WHERE v.audit = u.audit"
                           "   AND v.pseudonym = u.pseudonym AND v.record_id <> u.record_id"
                           "   AND v.version = (SELECT max(x.version) FROM validation.record x"
                           "     WHERE x.record_id = v.record_id) OFFSET 0) v"
                           " ORDER BY u.i, v.record_id",
                           4, u.params, err, errlen);
    pg_columns_free(&u);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    out->items = calloc((size_t)rows + 1, sizeof *out->items);
    int rc = out->items ? 0 : -1;
    for (int i = 0; rc == 0 && i < rows; i++) {
        stored_record_t *s = &out->items[out->n];
        s->of = (size_t)strtoull(PQgetvalue(r, i, 0), NULL, 10);
        s->record_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        s->version = atoi(PQgetvalue(r, i, 2));
        s->rec = ncap_record_new();
        if (!s->rec || message_record_from_json(PQgetvalue(r, i, 3), s->rec) != 0) {
            ncap_record_destroy(&s->rec);
            continue; /* an unreadable payload has no history to give */
        }
        out->n++;
    }
    PQclear(r);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

void stored_records_clear(stored_records_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        ncap_record_destroy(&r->items[i].rec);
    free(r->items);
    memset(r, 0, sizeof *r);
}
