/* quality_store.c - the linkage quality facts, in SQL */
#include "quality_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"
#include "strbuf.h"

#define NCOLS 15

/* The newest version of each record of the batch ($1..$15, pg_columns), in record order (two
 * instances lock the rows, and the cells the triggers update, in one order), inserted; then the
 * conflict clause. method ($15) is the one decided here for a new patient's record; '' asks for
 * linkage.quality_methods' rule (migration 0030) over the facts this statement sees: the
 * record's patient's facts held before (but its own record's) and the batch's, a probe of
 * record_quality_patient_idx per record. It is the method linkage.quality_methods then finds
 * unless another transaction adds a record of the patient meanwhile, so that its UPDATE (and the
 * counts' second statement trigger) has only the held records whose method the batch changed,
 * not every record of a held patient the batch brought (before, each was inserted as a
 * singleton and updated at once). An update keeps the row's method (linkage.quality_methods
 * sets it). */
#define UPSERT                                                                                     \
    "INSERT INTO linkage.record_quality AS q (record_id, version, patient_id, audit, trust, site," \
    " period, method, death_matched, withheld, imd_quintile, ethnicity, sex, age, nhs_key)"        \
    " SELECT DISTINCT ON (record_id) record_id, version, patient_id, audit, trust, site, period,"  \
    " CASE WHEN u.method <> '' THEN u.method"                                                      \
    "   WHEN h.same_audit + count(*) OVER (PARTITION BY patient_id, audit) = 1 THEN 'singleton'"   \
    "   WHEN nhs_key <> '' AND h.same_key + count(*) OVER (PARTITION BY patient_id, audit,"        \
    "   nhs_key) > 1 THEN 'nhs_number' ELSE 'probabilistic' END,"                                  \
    " death_matched, withheld, imd_quintile, ethnicity, sex, age, nhs_key"                         \
    " FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[],"      \
    " $7::text[], $8::bool[], $9::bool[], $10::text[], $11::text[], $12::text[], $13::text[],"     \
    " $14::text[], $15::text[]) AS u(record_id, version, patient_id, audit, trust, site, period,"  \
    " death_matched, withheld, imd_quintile, ethnicity, sex, age, nhs_key, method)"                \
    " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE e.audit = u.audit) AS same_audit,"         \
    "   count(*) FILTER (WHERE e.audit = u.audit AND e.nhs_key = u.nhs_key) AS same_key"           \
    "   FROM linkage.record_quality e WHERE u.method = '' AND e.patient_id = u.patient_id"         \
    "   AND e.record_id <> u.record_id) h"                                                         \
    " ORDER BY record_id, version DESC ON CONFLICT (record_id) "

/* Appends the patient ids of r's first column to the bigint[] literal being built in ids. */
static void add_patients(strbuf_t *ids, PGresult *r)
{
    for (int k = 0; k < PQntuples(r); k++)
        strbuf_pg_array_elem(ids, PQgetvalue(r, k, 0));
}

static const quality_fact_t *sort_facts; /* qsort's context (one thread per process) */

static int by_record(const void *a, const void *b)
{
    int64_t x = sort_facts[*(const size_t *)a].record_id,
            y = sort_facts[*(const size_t *)b].record_id;
    return x < y ? -1 : x > y;
}

static int by_patient(const void *a, const void *b)
{
    int64_t x = sort_facts[*(const size_t *)a].patient_id,
            y = sort_facts[*(const size_t *)b].patient_id;
    return x < y ? -1 : x > y;
}

/* Into method[i]: the method of each fact of a new patient by linkage.quality_methods' rule
 * (migration 0030) over its patient's facts, which are all its records; "" for the others (UPSERT
 * decides them in SQL). Returns true when every fact is of another record (else the
 * facts of one record are left to SQL's choice of its newest version, and the methods to
 * linkage.quality_methods), false also when out of memory. */
static bool decide_methods(const quality_fact_t *facts, size_t n, const char **method)
{
    for (size_t i = 0; i < n; i++)
        method[i] = "";
    size_t *at = calloc(n + 1, sizeof *at);
    if (!at)
        return false;
    sort_facts = facts;
    for (size_t i = 0; i < n; i++)
        at[i] = i;
    qsort(at, n, sizeof *at, by_record);
    bool distinct = true;
    for (size_t k = 1; k < n && distinct; k++)
        distinct = facts[at[k]].record_id != facts[at[k - 1]].record_id;
    size_t m = 0;
    for (size_t i = 0; i < n && distinct; i++)
        if (facts[i].new_patient)
            at[m++] = i;
    qsort(at, m, sizeof *at, by_patient);
    for (size_t s = 0, e; s < m; s = e) {
        for (e = s; e < m && facts[at[e]].patient_id == facts[at[s]].patient_id; e++)
            ;
        for (size_t k = s; k < e; k++) {
            const quality_fact_t *f = &facts[at[k]];
            size_t audit = 0, key = 0;
            for (size_t o = s; o < e; o++) {
                const quality_fact_t *g = &facts[at[o]];
                if (strcmp(g->audit, f->audit) != 0)
                    continue;
                audit++;
                key += strcmp(g->q->nhs_key, f->q->nhs_key) == 0;
            }
            method[at[k]] = audit == 1                            ? "singleton"
                            : f->q->nhs_key[0] != '\0' && key > 1 ? "nhs_number"
                                                                  : "probabilistic";
        }
    }
    free(at);
    return distinct;
}

int quality_store_facts(PGconn *db, const quality_fact_t *facts, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    const char **method = calloc(n, sizeof *method);
    if (!method) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool distinct = decide_methods(facts, n, method);
    pg_columns_t c;
    pg_columns_open(&c, NCOLS);
    for (size_t i = 0; i < n; i++) {
        const quality_fact_t *f = &facts[i];
        char rid[24], ver[16], pid[24];
        snprintf(rid, sizeof rid, "%lld", (long long)f->record_id);
        snprintf(ver, sizeof ver, "%d", f->version);
        snprintf(pid, sizeof pid, "%lld", (long long)f->patient_id);
        const char *v[NCOLS] = {rid,
                                ver,
                                pid,
                                f->audit,
                                f->trust,
                                f->site,
                                f->q->period,
                                f->death_matched ? "t" : "f",
                                f->withheld ? "t" : "f",
                                f->q->imd_quintile,
                                f->q->ethnicity,
                                f->q->sex,
                                f->q->age,
                                f->q->nhs_key,
                                method[i]};
        pg_columns_row(&c, v);
    }
    strbuf_t ids;
    strbuf_init(&ids);
    strbuf_pg_array_open(&ids);
    PGresult *inserted = NULL, *before = NULL, *after = NULL;
    int rc = -1;
    if (pg_columns_close(&c) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* 1. the records linkage holds no fact of yet (waiting for another instance inserting one of
     * them to end). When that was every record of the batch, the patients whose methods may change
     * are those held before (a new patient's were decided above); else 2. the patients of the
     * batch's records before this batch, every row now existing and locked; 3. the newer versions
     * in place of the older (an older or equal version changes nothing). 4. the methods of those
     * patients' records, as they are now. */
    const char *pv[] = {c.params[0]};
    if (!(inserted =
              db_query(db, UPSERT "DO NOTHING RETURNING record_id", NCOLS, c.params, err, errlen)))
        goto done;
    if (distinct && (size_t)PQntuples(inserted) == n) {
        for (size_t i = 0; i < n; i++)
            if (!facts[i].new_patient) {
                char pid[24];
                snprintf(pid, sizeof pid, "%lld", (long long)facts[i].patient_id);
                strbuf_pg_array_elem(&ids, pid);
            }
    } else {
        if (!(before = db_query(db,
                                "SELECT patient_id FROM linkage.record_quality WHERE record_id ="
                                " ANY($1::bigint[]) ORDER BY record_id FOR UPDATE",
                                1, pv, err, errlen)) ||
            !(after = db_query(
                  db,
                  UPSERT "DO UPDATE SET version = excluded.version, revision = 0,"
                         " patient_id = excluded.patient_id, audit = excluded.audit,"
                         " trust = excluded.trust, site = excluded.site,"
                         " period = excluded.period, death_matched = excluded.death_matched,"
                         " withheld = excluded.withheld, imd_quintile = excluded.imd_quintile,"
                         " ethnicity = excluded.ethnicity, sex = excluded.sex, age = excluded.age,"
                         " nhs_key = excluded.nhs_key WHERE q.version < excluded.version"
                         " RETURNING patient_id",
                  NCOLS, c.params, err, errlen)))
            goto done;
        add_patients(&ids, before);
        add_patients(&ids, after);
    }
    size_t nids = ids.len;
    strbuf_pg_array_close(&ids);
    if (ids.oom) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    const char *mv[] = {ids.s};
    rc = nids <= 1
             ? 0
             : db_execp(db, "SELECT linkage.quality_methods($1::bigint[])", 1, mv, err, errlen);
done:
    PQclear(inserted);
    PQclear(before);
    PQclear(after);
    strbuf_free(&ids);
    pg_columns_free(&c);
    free(method);
    return rc;
}

long quality_store_deaths(PGconn *db, const char *patient_ids, char *err, size_t errlen)
{
    const char *pv[] = {patient_ids};
    /* O(records of the patients), by linkage.record_quality's index on patient_id */
    PGresult *r =
        db_query(db,
                 "WITH now AS (SELECT q.record_id, EXISTS (SELECT 1 FROM linkage.death_link dl"
                 "   WHERE dl.patient_id = q.patient_id) AS matched FROM linkage.record_quality q"
                 "   WHERE q.patient_id = ANY($1::bigint[]))"
                 " UPDATE linkage.record_quality q SET death_matched = now.matched,"
                 " revision = q.revision + 1 FROM now"
                 " WHERE q.record_id = now.record_id AND q.death_matched <> now.matched"
                 " RETURNING q.record_id",
                 1, pv, err, errlen);
    if (!r)
        return -1;
    long n = PQntuples(r);
    PQclear(r);
    return n;
}

long quality_store_fold(PGconn *db, char *err, size_t errlen)
{
    PGresult *r = db_query(db, "SELECT linkage.quality_fold()", 0, NULL, err, errlen);
    if (!r)
        return -1;
    long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}
