/* linkage_stage.c - ncap-linkd's work on a batch: patients, deaths, deprivation, the opt-out and
 * the pseudonymised records; the death sweep */
#include "linkage_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "death_coverage.h"
#include "death_link.h"
#include "death_sweep.h"
#include "daemon.h"
#include "follow_up.h"
#include "link_record.h"
#include "log.h"
#include "message.h"
#include "optout.h"
#include "patient_index.h"
#include "patient_merge.h"
#include "quality_store.h"
#include "rekey_sweep.h"
#include "registry.h"
#include "stage_record.h"
#include "strbuf.h"

/* A row of ingest.raw_record as linkage takes it, and what decide makes of it. */
typedef struct {
    stage_record_t r; /* audit, trust, site, the record as received, definition */
    char *local_id;
    char submission_id[24], row_number[16];
    link_outcome_t outcome;
    char follow_up_due[11]; /* linkage.pseudo_record.follow_up_due, "" for none (follow_up.h) */
} input_t;

/* One record in store's hands: its own working state, so that a second call for a sub-batch
 * starts afresh. */
typedef struct {
    stage_item_t *it;
    input_t *in;
    patient_match_t match;
    /* the batch created its patient (match.method "new" or "unlinked"), and no patient was merged
     * into it (patient_index_assign merges a patient one of its earlier groups created into a
     * held one: the record's method stays "new", its patient is held) */
    bool created;
    bool death; /* its patient is linked to a death */
    int skip;   /* already processed (1), deferred (2: defer_busy), or withheld under the opt-out */
} work_t;

/* Columns of load_sql and backlog_sql: the key first (a raw record has link revision 0). Each raw
 * record's ingest.record by a probe of its primary key (LATERAL, OFFSET 0): as a join, the
 * planner hashed the whole of ingest.record whenever its statistics made that look cheaper. */
#define SOURCE_COLUMNS                                                                             \
    "SELECT r.record_id, r.version, 0, rec.audit, rec.trust, r.site, r.payload::text,"             \
    " rec.local_id, r.submission_id, r.row_number"                                                 \
    " FROM ingest.raw_record r CROSS JOIN LATERAL (SELECT rec.audit, rec.trust, rec.local_id"      \
    "   FROM ingest.record rec WHERE rec.record_id = r.record_id OFFSET 0) rec"
/* Not yet linked or withheld, and not quarantined. */
#define NOT_TAKEN                                                                                  \
    " NOT EXISTS (SELECT 1 FROM linkage.link l"                                                    \
    "   WHERE l.record_id = r.record_id AND l.version = r.version)"                                \
    " AND NOT EXISTS (SELECT 1 FROM linkage.optout_withheld w"                                     \
    "   WHERE w.record_id = r.record_id AND w.version = r.version)" STAGE_NOT_QUARANTINED(         \
        "linkage", "r", "0")

static const char load_sql[] = STAGE_LOAD_SQL(SOURCE_COLUMNS, "r", NOT_TAKEN);
/* After the watermark: O(rows after it) over ingest.raw_record's index on (write_xid, record_id,
 * version), never O(table) (migration 0018). */
static const char backlog_sql[] =
    STAGE_BACKLOG_SQL("linkage", SOURCE_COLUMNS, "r", "ingested_at", NOT_TAKEN);
static const char advance_sql[] = STAGE_ADVANCE_SQL("linkage", "ingest.raw_record", "r", NOT_TAKEN);
static const char backlog_count_sql[] =
    STAGE_BACKLOG_COUNT_SQL("linkage", "ingest.raw_record", "r", NOT_TAKEN);

static void free_input(void *state, void *p)
{
    (void)state;
    input_t *in = p;
    if (!in)
        return;
    stage_record_clear(&in->r);
    free(in->local_id);
    link_outcome_clear(&in->outcome);
    free(in);
}

static void *read_row(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen)
{
    linkage_t *lk = state;
    input_t *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (stage_record_read(&in->r, lk->audits, r, row, class_out, err, errlen) != 0) {
        free_input(state, in);
        return NULL;
    }
    const int c = STAGE_RECORD_COLUMNS;
    if (!(in->local_id = strdup(PQgetvalue(r, row, c)))) {
        snprintf(err, errlen, "out of memory");
        free_input(state, in);
        return NULL;
    }
    snprintf(in->submission_id, sizeof in->submission_id, "%s", PQgetvalue(r, row, c + 1));
    snprintf(in->row_number, sizeof in->row_number, "%s", PQgetvalue(r, row, c + 2));
    return in;
}

/* Each record's identifiers checked and normalised, derived fields, the record without its
 * identifiers (pure: link_record.h). */
static void decide(void *state, stage_batch_t *b)
{
    (void)state;
    for (size_t i = 0; i < b->n; i++) {
        stage_item_t *it = &b->items[i];
        input_t *in = it->input;
        if (it->error != STAGE_OK)
            continue;
        if (link_record_prepare(in->r.def, it->key.record_id, in->r.rec, &in->outcome) != 0)
            stage_item_fail(it, STAGE_ERR_EVALUATION, "out of memory preparing the record");
    }
}

/* Columns of a linkage problem: record_id, version, field, rule, severity, message. */
#define NPROB 6

static void ids_array(strbuf_t *rid, strbuf_t *ver, const work_t *items, size_t n)
{
    strbuf_init(rid);
    strbuf_init(ver);
    strbuf_pg_array_open(rid);
    strbuf_pg_array_open(ver);
    for (size_t i = 0; i < n; i++) {
        char a[24], b[16];
        snprintf(a, sizeof a, "%lld", (long long)items[i].it->key.record_id);
        snprintf(b, sizeof b, "%d", items[i].it->key.version);
        strbuf_pg_array_elem(rid, a);
        strbuf_pg_array_elem(ver, b);
    }
    strbuf_pg_array_close(rid);
    strbuf_pg_array_close(ver);
}

/* Marks the records processed before (linked, or withheld), so that a message seen twice has the
 * effect of one. Two primary-key probes per record at most, whatever the statistics: written as
 * "EXISTS (link) OR EXISTS (withheld)" the planner hashed the whole of linkage.link per batch
 * (O(table): 36 ms a batch at 100,000 records, and growing); a LATERAL subquery with LIMIT is
 * never flattened into a join, so it stays a probe per record. */
static int skip_processed(PGconn *db, work_t *items, size_t n, char *err, size_t errlen)
{
    strbuf_t rid, ver;
    ids_array(&rid, &ver, items, n);
    const char *pv[] = {rid.s, ver.s};
    PGresult *r = db_query(db,
                           "SELECT u.i FROM unnest($1::bigint[], $2::int[]) WITH ORDINALITY"
                           " AS u(record_id, version, i) CROSS JOIN LATERAL (SELECT 1 FROM"
                           " linkage.link l WHERE l.record_id = u.record_id AND l.version ="
                           " u.version UNION ALL SELECT 1 FROM linkage.optout_withheld w"
                           " WHERE w.record_id = u.record_id AND w.version = u.version LIMIT 1) x",
                           2, pv, err, errlen);
    strbuf_free(&rid);
    strbuf_free(&ver);
    if (!r)
        return -1;
    for (int k = 0; k < PQntuples(r); k++) {
        long i = strtol(PQgetvalue(r, k, 0), NULL, 10) - 1;
        if (i >= 0 && (size_t)i < n)
            items[i].skip = 1;
    }
    PQclear(r);
    return 0;
}

/* The national data opt-out (optout.h), after linking: a record is withheld when its patient is
 * opted out, by the NHS number it carries or by one another record of the patient gave. */
static int apply_optout(PGconn *db, work_t *items, size_t n, char *err, size_t errlen)
{
    optout_record_t *recs = calloc(n + 1, sizeof *recs);
    bool *withheld = calloc(n + 1, sizeof *withheld);
    int rc = -1;
    if (!recs || !withheld) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].skip)
            continue;
        const input_t *in = items[i].in;
        recs[m++] = (optout_record_t){items[i].it->key.record_id,
                                      items[i].it->key.version,
                                      in->r.audit,
                                      in->r.trust,
                                      strtoll(in->submission_id, NULL, 10),
                                      in->outcome.ident.nhs_valid ? in->outcome.ident.nhs : "",
                                      items[i].match.patient_id,
                                      in->r.def->opt_out_applies};
    }
    if (optout_withhold(db, recs, m, withheld, err, errlen) != 0)
        goto done;
    for (size_t i = 0, k = 0; i < n; i++)
        if (!items[i].skip)
            items[i].skip = withheld[k++];
    rc = 0;
done:
    free(recs);
    free(withheld);
    return rc;
}

/* Deprivation of each record's LSOA, where the definition lists it and linkage.imd knows it: a
 * row per record, in the records' order (a probe of linkage.imd's key each), so that each finds
 * its own without a search (comparing every record's LSOA with every row found was about a
 * quarter of a million string comparisons a batch of 500). */
static int lookup_imd(PGconn *db, const work_t *items, size_t n, int (*imd)[2], char *err,
                      size_t errlen)
{
    strbuf_t arr;
    strbuf_init(&arr);
    strbuf_pg_array_open(&arr);
    for (size_t i = 0; i < n; i++)
        strbuf_pg_array_elem(&arr, items[i].in->outcome.lsoa);
    strbuf_pg_array_close(&arr);
    const char *pv[] = {arr.s};
    PGresult *r = db_query(db,
                           "SELECT m.imd_decile, m.imd_quintile FROM unnest($1::text[])"
                           " WITH ORDINALITY AS u(lsoa, ord) LEFT JOIN LATERAL (SELECT"
                           " i.imd_decile, i.imd_quintile FROM linkage.imd i"
                           " WHERE i.lsoa = u.lsoa OFFSET 0) m ON true ORDER BY u.ord",
                           1, pv, err, errlen);
    strbuf_free(&arr);
    if (!r)
        return -1;
    if ((size_t)PQntuples(r) != n) {
        snprintf(err, errlen, "deprivation: %d rows for %zu records", PQntuples(r), n);
        PQclear(r);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        bool known = items[i].in->outcome.lsoa[0] && !PQgetisnull(r, (int)i, 0);
        imd[i][0] = known ? atoi(PQgetvalue(r, (int)i, 0)) : 0;
        imd[i][1] = known ? atoi(PQgetvalue(r, (int)i, 1)) : 0;
    }
    PQclear(r);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The linkage quality facts of the n records linked now (quality_store.h), those withheld under
 * the opt-out (skip set) among them: each one's patient, NHS number key, period and categories,
 * and whether the batch created the patient (work_t's created). */
static int store_quality(PGconn *db, const work_t *items, size_t n, char *err, size_t errlen)
{
    quality_fact_t *f = calloc(n + 1, sizeof *f);
    link_quality_t *q = calloc(n + 1, sizeof *q);
    int64_t *created = calloc(n + 1, sizeof *created);
    int rc = -1;
    if (!f || !q || !created) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t ncreated = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].created)
            created[ncreated++] = items[i].match.patient_id;
    qsort(created, ncreated, sizeof *created, by_id);
    for (size_t i = 0; i < n; i++) {
        const input_t *in = items[i].in;
        link_quality_of(in->r.def, in->outcome.pseudo, &in->outcome.ident, &q[i]);
        f[i] = (quality_fact_t){
            items[i].it->key.record_id,
            items[i].it->key.version,
            items[i].match.patient_id,
            in->r.audit,
            in->r.trust,
            in->r.site,
            &q[i],
            items[i].death,
            items[i].skip != 0,
            bsearch(&items[i].match.patient_id, created, ncreated, sizeof *created, by_id) != NULL};
    }
    rc = quality_store_facts(db, f, n, err, errlen);
done:
    free(f);
    free(q);
    free(created);
    return rc;
}

/* How many batches in a row before this one deferred the record of key (0: the last did not). */
static int times_deferred(const linkage_t *lk, stage_key_t key)
{
    for (size_t d = 0; d < lk->ndeferred; d++)
        if (lk->deferred[d].record_id == key.record_id && lk->deferred[d].version == key.version)
            return lk->deferred[d].times;
    return 0;
}

/* Two linkage instances at once (DESIGN.md invariant 4): the records of the n items not skipped
 * whose blocking keys another instance's batch holds are deferred (skip 2, the item's deferred
 * set), to the next batch of this process, rather than waited for: two batches of 500 share about
 * ten date-of-birth keys, and a batch that waited for every key of its own held (in sorted order)
 * waited for the whole of the other's transaction (tests/bench/README.md, cedc09d). The others' keys
 * are then all this transaction's (*locked true). A record deferred LINKAGE_DEFER_MAX batches in
 * a row makes its batch wait for its locks instead (*locked false: patient_index_assign takes
 * them). Returns 0, or -1 with err. */
static int defer_busy(linkage_t *lk, PGconn *db, work_t *items, size_t n, bool *locked, char *err,
                      size_t errlen)
{
    link_ident_t *ids = calloc(n + 1, sizeof *ids);
    size_t *at = calloc(n + 1, sizeof *at);
    bool *held = calloc(n + 1, sizeof *held);
    linkage_deferral_t *next = calloc(n + 1, sizeof *next);
    int rc = -1;
    if (!ids || !at || !held || !next) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t m = 0, nnext = 0;
    bool wait = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i].skip)
            continue;
        wait = wait || times_deferred(lk, items[i].it->key) >= LINKAGE_DEFER_MAX;
        ids[m] = items[i].in->outcome.ident;
        at[m++] = i;
    }
    *locked = !wait;
    if (wait) {
        for (size_t j = 0; j < m; j++)
            held[j] = true; /* patient_index_assign waits for them */
    } else if (patient_index_try_keys(db, ids, m, held, err, errlen) != 0)
        goto done;
    for (size_t j = 0; j < m; j++) {
        if (held[j])
            continue;
        work_t *w = &items[at[j]];
        w->skip = 2;
        w->it->deferred = true;
        next[nnext++] = (linkage_deferral_t){w->it->key.record_id, w->it->key.version,
                                             times_deferred(lk, w->it->key) + 1};
    }
    free(lk->deferred);
    lk->deferred = next;
    lk->ndeferred = nnext;
    next = NULL;
    rc = 0;
done:
    free(ids);
    free(at);
    free(held);
    free(next);
    return rc;
}

/* Keeps the items not skipped, in order. */
static void drop_skipped(work_t *items, size_t *n)
{
    size_t m = 0;
    for (size_t i = 0; i < *n; i++)
        if (!items[i].skip)
            items[m++] = items[i];
    *n = m;
}

/* Patients (two a record bridges merged: patient_merge.h, the keys of the other records revised
 * appended to also), deaths, deprivation and the register's coverage for the records not skipped;
 * compacts items to them. locked: defer_busy took their blocking keys' locks. */
static int link_items(linkage_t *lk, PGconn *db, work_t *items, size_t *n, bool locked,
                      stage_keys_t *also, char *err, size_t errlen)
{
    drop_skipped(items, n);
    size_t m = *n;
    if (m == 0)
        return 0;
    /* the coverage before the deaths: they are at least those it covers (death_coverage.h) */
    char covers_to[11];
    if (death_coverage_read(db, covers_to, err, errlen) != 0)
        return -1;
    int rc = -1;
    link_ident_t *ids = calloc(m, sizeof *ids);
    patient_match_t *match = calloc(m, sizeof *match);
    int64_t *pids = calloc(m, sizeof *pids);
    char(*dod)[11] = calloc(m, sizeof *dod);
    int(*imd)[2] = calloc(m, sizeof *imd);
    link_merge_t *merges = NULL;
    size_t nmerges = 0;
    if (!ids || !match || !pids || !dod || !imd) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++)
        ids[i] = items[i].in->outcome.ident;
    /* lk->key_id is known: store heard the key first */
    if (patient_index_assign(db, &lk->params, ids, m, locked, match, &merges, &nmerges, err,
                             errlen) != 0 ||
        patient_merge_records(db, merges, nmerges, lk->key, lk->key_id, also, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < m; i++) {
        items[i].match = match[i];
        items[i].created =
            strcmp(match[i].method, "new") == 0 || strcmp(match[i].method, "unlinked") == 0;
        for (size_t k = 0; k < nmerges && items[i].created; k++)
            items[i].created = merges[k].into != match[i].patient_id;
        pids[i] = match[i].patient_id;
    }
    if (death_link_patients(db, &lk->params, ids, pids, m, dod, err, errlen) != 0 ||
        lookup_imd(db, items, m, imd, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < m; i++) {
        input_t *in = items[i].in;
        items[i].death = dod[i][0] != '\0';
        if (link_record_add_linked(in->r.def, &in->outcome, dod[i], imd[i][0], imd[i][1]) != 0 ||
            follow_up_stamp(in->r.def, in->outcome.pseudo, covers_to) < 0) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        if (!follow_up_due(in->r.def, in->outcome.pseudo, covers_to, in->follow_up_due))
            in->follow_up_due[0] = '\0';
    }
    rc = 0;
done:
    free(ids);
    free(match);
    free(pids);
    free(dod);
    free(imd);
    free(merges);
    return rc;
}

/* The key's id and this process's name in linkage.key_in_use, the first time they are needed. */
static void know_key(linkage_t *lk)
{
    if (!lk->key_id[0])
        pseudonym_key_id(lk->key, lk->key_id);
    if (!lk->holder[0])
        registry_make_instance_id(lk->holder, sizeof lk->holder);
}

/* This process's key id in linkage.key_in_use, at most every 10 s: from every batch and sweep, so
 * that the sweep of a process with another key does not re-key (rekey_sweep.h). Returns 0, or -1
 * with err. */
static int hear_key(linkage_t *lk, PGconn *db, char *err, size_t errlen)
{
    know_key(lk);
    long long now = daemon_now_ms();
    if (lk->key_heard_ms != 0 && now - lk->key_heard_ms < 10000)
        return 0;
    if (rekey_sweep_register(db, lk->holder, lk->key_id, err, errlen) != 0)
        return -1;
    lk->key_heard_ms = now;
    return 0;
}

/* Parameters and term frequencies replaced (`ncap link-train`) are loaded again at the next batch,
 * so that every instance scores alike: one primary-key lookup per batch. Returns 0, or -1 with err.
 */
static int load_params(linkage_t *lk, PGconn *db, char *err, size_t errlen)
{
    double version;
    if (patient_index_params_version(db, &version, err, errlen) != 0)
        return -1;
    if (!lk->params_loaded || version != lk->params_version) {
        link_params_t params;
        term_freq_t *tf;
        if (patient_index_load_model(db, &params, &tf, err, errlen) != 0)
            return -1;
        term_freq_destroy(&lk->tf);
        lk->tf = tf;
        lk->params = params;
        if (lk->params_loaded)
            ncap_log(LOG_INFO, "linkage parameters loaded again", NULL);
        lk->params_loaded = true;
        lk->params_version = version;
    }
    return 0;
}

/* Links the records of the batch not linked before, applies the opt-out, and stores links,
 * pseudonymised records and identifier problems; marks the records stored to pass on. */
static int store(void *state, PGconn *db, stage_batch_t *b, char *err, size_t errlen)
{
    linkage_t *lk = state;
    lk->unfolded = true; /* its facts' triggers append changes to the counts */
    work_t *items = calloc(b->n + 1, sizeof *items);
    if (!items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].error == STAGE_OK)
            items[n++] = (work_t){.it = &b->items[i], .in = b->items[i].input};
    int rc = -1;
    bool locked = false;
    if (hear_key(lk, db, err, errlen) != 0)
        goto done;
    if (load_params(lk, db, err, errlen) != 0 || skip_processed(db, items, n, err, errlen) != 0 ||
        defer_busy(lk, db, items, n, &locked, err, errlen) != 0 ||
        link_items(lk, db, items, &n, locked, &b->also, err, errlen) != 0 ||
        apply_optout(db, items, n, err, errlen) != 0 ||
        store_quality(db, items, n, err, errlen) != 0)
        goto done;
    drop_skipped(items, &n);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    /* Links and the pseudonymised records, idempotently: a link already held (a batch taken twice,
     * by two instances at once) is skipped by its conflict clause, and a pseudonymised record is
     * written only with the link this statement inserted, so it is new (both are only ever
     * inserted here, together) and needs no conflict clause: none of its speculative insertion
     * (a probe of the primary key and a WAL record a row). The payloads go as one JSON array
     * ($12), read once (json: checked, kept as text, migration 0051); a jsonb[] literal, before,
     * escaped each quote for the array and had each payload read twice (the array, the jsonb). */
    strbuf_t a[11];
    for (int k = 0; k < 11; k++) {
        strbuf_init(&a[k]);
        strbuf_pg_array_open(&a[k]);
    }
    strbuf_t pr[NPROB];
    for (int k = 0; k < NPROB; k++) {
        strbuf_init(&pr[k]);
        strbuf_pg_array_open(&pr[k]);
    }
    for (size_t i = 0; i < n; i++) {
        const input_t *in = items[i].in;
        char rid[32], ver[16], pid[32], pseud[65];
        snprintf(rid, sizeof rid, "%lld", (long long)items[i].it->key.record_id);
        snprintf(ver, sizeof ver, "%d", items[i].it->key.version);
        snprintf(pid, sizeof pid, "%lld", (long long)items[i].match.patient_id);
        pseudonym_of(lk->key, items[i].match.patient_id, pseud);
        const char *vals[11] = {
            rid,         ver,        pid,          items[i].match.method, in->r.audit,
            in->r.trust, in->r.site, in->local_id, in->submission_id,     in->row_number,
            pseud};
        for (int k = 0; k < 11; k++)
            strbuf_pg_array_elem(&a[k], vals[k]);
        for (int p = 0; p < in->outcome.n_problems; p++) {
            const link_problem_t *lp = &in->outcome.problems[p];
            const char *pv[NPROB] = {rid, ver, lp->field, lp->rule, lp->severity, lp->message};
            for (int k = 0; k < NPROB; k++)
                strbuf_pg_array_elem(&pr[k], pv[k]);
        }
    }
    strbuf_t payloads, due;
    strbuf_init(&payloads);
    strbuf_init(&due);
    strbuf_append(&payloads, "[");
    strbuf_pg_array_open(&due);
    for (size_t i = 0; i < n; i++) {
        char *json = message_record_to_json(items[i].in->outcome.pseudo);
        if (i > 0)
            strbuf_append(&payloads, ",");
        strbuf_append(&payloads, json ? json : "{}");
        free(json);
        const char *d = items[i].in->follow_up_due;
        strbuf_pg_array_elem(&due, d[0] ? d : NULL);
    }
    strbuf_append(&payloads, "]");
    strbuf_pg_array_close(&due);
    for (int k = 0; k < 11; k++)
        strbuf_pg_array_close(&a[k]);
    for (int k = 0; k < NPROB; k++)
        strbuf_pg_array_close(&pr[k]);
    const char *pl[] = {a[0].s, a[1].s, a[2].s, a[3].s,  a[4].s,     a[5].s, a[6].s,
                        a[7].s, a[8].s, a[9].s, a[10].s, payloads.s, due.s,  lk->key_id};
    PGresult *ins = db_query(
        db,
        "WITH src AS (SELECT * FROM ROWS FROM (unnest($1::bigint[]), unnest($2::int[]),"
        "   unnest($3::bigint[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]),"
        "   unnest($7::text[]), unnest($8::text[]), unnest($9::bigint[]), unnest($10::int[]),"
        "   unnest($11::text[]), json_array_elements($12::json), unnest($13::date[]))"
        "   AS s(record_id, version, patient_id, method, audit, trust, site, local_id,"
        "   submission_id, row_number, pseudonym, payload, follow_up_due)),"
        " l AS (INSERT INTO linkage.link (record_id, version, patient_id, method)"
        "   SELECT DISTINCT ON (record_id, version) record_id, version, patient_id, method FROM src"
        "   ON CONFLICT DO NOTHING RETURNING record_id, version),"
        " p AS (INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
        "   local_id, submission_id, row_number, pseudonym, payload, follow_up_due, key_id)"
        "   SELECT DISTINCT ON (record_id, version) s.record_id, s.version, audit, trust, site,"
        "   local_id, submission_id, row_number, pseudonym, payload, follow_up_due, $14 FROM src s"
        "   JOIN l USING (record_id, version) RETURNING record_id, version)"
        " SELECT record_id, version FROM p",
        14, pl, err, errlen);
    int ok = ins != NULL;
    if (ok && pr[0].len > 2) {
        const char *pp[] = {pr[0].s, pr[1].s, pr[2].s, pr[3].s, pr[4].s, pr[5].s};
        ok = db_execp(db,
                      "INSERT INTO linkage.problem (record_id, version, submission_id, row_number,"
                      " field, rule, severity, message)"
                      " SELECT u.record_id, u.version, p.submission_id, p.row_number, u.field,"
                      " u.rule, u.severity, u.message FROM unnest($1::bigint[], $2::int[],"
                      " $3::text[], $4::text[], $5::text[], $6::text[]) AS u(record_id, version,"
                      " field, rule, severity, message)"
                      " JOIN linkage.pseudo_record p USING (record_id, version)"
                      " ON CONFLICT DO NOTHING",
                      6, pp, err, errlen) == 0;
    }
    for (int k = 0; k < 11; k++)
        strbuf_free(&a[k]);
    for (int k = 0; k < NPROB; k++)
        strbuf_free(&pr[k]);
    strbuf_free(&payloads);
    strbuf_free(&due);
    if (!ok) {
        PQclear(ins);
        goto done;
    }
    /* Those newly stored go on to validation, at link revision 0. */
    for (int r = 0; r < PQntuples(ins); r++) {
        int64_t rid = strtoll(PQgetvalue(ins, r, 0), NULL, 10);
        int ver = atoi(PQgetvalue(ins, r, 1));
        for (size_t i = 0; i < n; i++)
            if (items[i].it->key.record_id == rid && items[i].it->key.version == ver) {
                items[i].it->forward = true;
                items[i].it->out_key = (stage_key_t){rid, ver, 0};
                break;
            }
    }
    PQclear(ins);

    rc = 0;
done:
    free(items);
    return rc;
}

/* Step 4 (rekey_sweep.h), unless another key id is in use at the same time: the records
 * pseudonymised under another key than this process's; how many it took into *taken. Returns 0,
 * or -1 with err. */
static int rekey_step(linkage_t *lk, PGconn *db, int limit, stage_keys_t *out, size_t *taken,
                      char *err, size_t errlen)
{
    if (hear_key(lk, db, err, errlen) != 0)
        return -1;
    char other[PSEUDONYM_KEY_ID_LEN + 1], other_holder[160];
    int conflict = rekey_sweep_conflict(db, lk->holder, lk->key_id, other, other_holder,
                                        sizeof other_holder, err, errlen);
    if (conflict < 0)
        return -1;
    if (conflict) {
        long long now = daemon_now_ms();
        if (lk->conflict_log_ms == 0 || now - lk->conflict_log_ms >= 60000) {
            ncap_log(LOG_ERROR,
                     "another ncap-linkd runs with another pseudonymisation key: records are not"
                     " re-pseudonymised while two keys are in use (they would turn back and"
                     " forth); give every linkage instance the same key file",
                     "key_id", lk->key_id, "other_key_id", other, "other_instance", other_holder,
                     NULL);
            lk->conflict_log_ms = now;
        }
        return 0;
    }
    rekey_sweep_counts_t c;
    if (rekey_sweep_run(db, lk->key, lk->key_id, limit, out, &c, err, errlen) != 0)
        return -1;
    if (c.taken > 0) {
        /* what is left, for the log: counted after every batch, a rotation of N versions in
         * batches of limit counted O(N) rows N / limit times. Counted whole again when the
         * estimate runs out (the end of a rotation, where little is left; or a new rotation
         * within the minute after the last count) */
        lk->rekey_taken += (long long)c.taken;
        long long now = daemon_now_ms();
        if (recount_due(&lk->rekey_left, now, LINKAGE_REKEY_COUNT_MS, 0) ||
            recount_estimate(&lk->rekey_left, lk->rekey_taken, 0) <= 0) {
            long long n = rekey_sweep_remaining(db, lk->key_id, 0, err, errlen);
            if (n < 0)
                return -1;
            recount_made(&lk->rekey_left, n, lk->rekey_taken, now, daemon_now_ms());
        }
        char a[24], d[24], left[24];
        snprintf(a, sizeof a, "%zu", c.taken);
        snprintf(d, sizeof d, "%zu", c.revised);
        snprintf(left, sizeof left, "%lld", recount_estimate(&lk->rekey_left, lk->rekey_taken, 0));
        ncap_log(LOG_INFO,
                 "rekey sweep pseudonymised again record versions made under another key; the"
                 " latest of each record passed on as a link revision",
                 "key_id", lk->key_id, "versions", a, "records", d, "remaining", left, NULL);
    }
    *taken = c.taken;
    return 0;
}

/* The death sweep (death_sweep.h): deaths loaded after the records of their patients; then the
 * re-keying sweep (rekey_sweep.h) once it has nothing left. (The quality counts' changes are
 * folded after its commit: after_commit.) */
static int periodic(void *state, PGconn *db, int limit, stage_keys_t *out, char *err, size_t errlen)
{
    linkage_t *lk = state;
    death_sweep_counts_t c = {0};
    /* The first two steps in transactions of their own: each takes advisory locks on blocking
     * keys (sorted, as patient_index does), and two sets in one transaction could deadlock with a
     * record being linked. The third (the register's coverage) only once they have nothing left,
     * so that a record is derived again with the deaths loaded with the coverage. */
    if (load_params(lk, db, err, errlen) != 0 ||
        death_sweep_link(db, &lk->params, limit, &c, err, errlen) != 0 ||
        (c.deaths == 0 && death_sweep_revise(db, lk->audits, limit, out, &c, err, errlen) != 0) ||
        (c.deaths + c.patients == 0 &&
         death_sweep_coverage(db, lk->audits, limit, out, &c, err, errlen) != 0))
        return -1;
    char a[24], d[24];
    if (c.links > 0) {
        snprintf(a, sizeof a, "%zu", c.deaths);
        snprintf(d, sizeof d, "%zu", c.links);
        ncap_log(LOG_INFO, "death sweep linked deaths to patients already held", "deaths", a,
                 "links", d, NULL);
    }
    if (c.revised > 0) {
        snprintf(a, sizeof a, "%zu", c.patients);
        snprintf(d, sizeof d, "%zu", c.revised);
        ncap_log(LOG_INFO, "death sweep passed on revisions of records whose date of death changed",
                 "patients", a, "records", d, NULL);
    }
    if (c.covered > 0) {
        snprintf(a, sizeof a, "%zu", c.due);
        snprintf(d, sizeof d, "%zu", c.covered);
        ncap_log(LOG_INFO,
                 "death sweep passed on revisions of records whose follow-up the register of deaths"
                 " now covers",
                 "due", a, "records", d, NULL);
    }
    size_t rekeyed = 0;
    if (c.deaths + c.patients + c.due == 0 &&
        rekey_step(lk, db, limit, out, &rekeyed, err, errlen) != 0)
        return -1;
    size_t did = c.deaths + c.patients + c.due + rekeyed;
    lk->unfolded |= did > 0; /* a death linked or a record revised changes the counts */
    return (int)did;
}

bool linkage_fold_due(const linkage_t *lk, long long now_ms)
{
    if (lk->folded_ms == 0)
        return true;
    long long since = now_ms - lk->folded_ms;
    return since >= LINKAGE_FOLD_MS && (lk->unfolded || since >= LINKAGE_FOLD_IDLE_MS);
}

/* After a batch's commit (and the sweep's), at most every LINKAGE_FOLD_MS, and while this process
 * writes nothing only every LINKAGE_FOLD_IDLE_MS (linkage_fold_due): the quality counts' changes
 * folded in a transaction of its own (quality_store_fold), so that a batch never waits for
 * another instance's cells, and the changes publish's view adds stay few (a sweep alone comes
 * every few seconds under load: tens of thousands of rows, read whole by each of publish's reads
 * of a period's counts). A failure is logged and the changes wait for the next fold. */
static void after_commit(void *state, PGconn *db)
{
    linkage_t *lk = state;
    long long now = daemon_now_ms();
    if (!linkage_fold_due(lk, now))
        return;
    lk->folded_ms = now;
    char err[1024];
    if (quality_store_fold(db, err, sizeof err) < 0)
        ncap_log(LOG_WARN, "could not fold the linkage quality counts; folded again later", "error",
                 err, NULL);
    else
        lk->unfolded = false;
}

stage_ops_t linkage_stage_ops(linkage_t *lk)
{
    return (stage_ops_t){.upstream = "ingest",
                         .downstream = "validation",
                         .state = lk,
                         .load_sql = load_sql,
                         .backlog_sql = backlog_sql,
                         .advance_sql = advance_sql,
                         .backlog_count_sql = backlog_count_sql,
                         .read_row = read_row,
                         .free_input = free_input,
                         .decide = decide,
                         .store = store,
                         .periodic = periodic,
                         .after_commit = after_commit,
                         .gather_ms = 5};
}

void linkage_stage_clear(linkage_t *lk)
{
    term_freq_destroy(&lk->tf);
    free(lk->deferred);
    lk->deferred = NULL;
    lk->ndeferred = 0;
    lk->params_loaded = false;
}
