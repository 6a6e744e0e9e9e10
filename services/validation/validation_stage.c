/* validation_stage.c - ncap-validated's work on a batch: rules, history rules, storage */
#include "validation_stage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "history_rule.h"
#include "history_store.h"
#include "pg_columns.h"
#include "stage_record.h"
#include "strbuf.h"
#include "validate_record.h"

/* A row of linkage.pseudo_record as validation takes it, and the decision on it (the columns
 * validation stores as linkage holds them, e.g. local_id, are copied in the database). */
typedef struct {
    stage_record_t r; /* audit, trust, site, payload, definition */
    char *pseudonym;
    validation_result_t res;
} input_t;

/* Columns of load_sql and backlog_sql: the key first, as the contract asks. */
#define SOURCE_COLUMNS                                                                             \
    "SELECT l.record_id, l.version, l.revision, l.audit, l.trust, l.site, l.payload::text,"        \
    " l.pseudonym FROM linkage.pseudo_record l"
/* Not yet validated at this link revision, and not quarantined. */
#define NOT_TAKEN                                                                                  \
    " NOT EXISTS (SELECT 1 FROM validation.record v WHERE v.record_id = l.record_id"               \
    "   AND v.version = l.version AND v.link_revision >= l.revision)" STAGE_NOT_QUARANTINED(       \
        "validation", "l", "l.revision")

static const char load_sql[] = STAGE_LOAD_SQL(SOURCE_COLUMNS, "l", NOT_TAKEN);
/* After the watermark: O(rows after it) over linkage.pseudo_record's index on (write_xid,
 * record_id, version), never O(table) (migration 0018). */
static const char backlog_sql[] =
    STAGE_BACKLOG_SQL("validation", SOURCE_COLUMNS, "l", "linked_at", NOT_TAKEN);
static const char advance_sql[] =
    STAGE_ADVANCE_SQL("validation", "linkage.pseudo_record", "l", NOT_TAKEN);
static const char backlog_count_sql[] =
    STAGE_BACKLOG_COUNT_SQL("validation", "linkage.pseudo_record", "l", NOT_TAKEN);

static void free_input(void *state, void *p)
{
    (void)state;
    input_t *in = p;
    if (!in)
        return;
    stage_record_clear(&in->r);
    free(in->pseudonym);
    validation_result_free(&in->res);
    free(in);
}

static void *read_row(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen)
{
    validation_t *vs = state;
    input_t *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (stage_record_read(&in->r, vs->audits, r, row, class_out, err, errlen) != 0) {
        free_input(state, in);
        return NULL;
    }
    const int c = STAGE_RECORD_COLUMNS;
    if (!(in->pseudonym = strdup(PQgetvalue(r, row, c)))) {
        snprintf(err, errlen, "out of memory");
        free_input(state, in);
        return NULL;
    }
    in->res.valid = 1;
    return in;
}

/* The dataset rules on each record (pure): its outcome and problems, but for history rules. */
static void decide(void *state, stage_batch_t *b)
{
    (void)state;
    for (size_t i = 0; i < b->n; i++) {
        stage_item_t *it = &b->items[i];
        input_t *in = it->input;
        if (it->error != STAGE_OK)
            continue;
        validation_result_reset(&in->res);
        if (validate_record(in->r.def, in->r.rec, &in->res) != 0)
            stage_item_fail(it, STAGE_ERR_EVALUATION, "out of memory validating the record");
    }
}

/* P_LREV: the link revision of the record whose own problem it is; -1 for a problem a history
 * rule finds in another record of the patient. */
enum { P_RID, P_VER, P_LREV, P_FIELD, P_RULE, P_SEV, P_VALUE, P_MSG, NPCOL };

static void push_problem(pg_columns_t *p, int64_t record_id, int version, int link_revision,
                         const validation_problem_t *vp)
{
    char rid[32], ver[16], lrev[16];
    snprintf(rid, sizeof rid, "%lld", (long long)record_id);
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(lrev, sizeof lrev, "%d", link_revision);
    const char *pv[NPCOL] = {rid,      ver,          lrev,      vp->field,
                             vp->rule, vp->severity, vp->value, vp->message};
    pg_columns_row(p, pv);
}

static const input_t *ok_input(const stage_batch_t *b, size_t i)
{
    return b->items[i].error == STAGE_OK ? b->items[i].input : NULL;
}

/* The batch as history rules see it, built once a batch: for each item with history rules, the
 * item of the same patient before it in the batch (prev, or NONE), and the record ids of the
 * batch's items sorted (ids), so that neither question costs a pass over the batch. */
#define NONE ((size_t)-1)
typedef struct {
    size_t *prev;
    int64_t *ids;
    size_t n_ids;
} batch_index_t;

typedef struct {
    const input_t *in;
    size_t at;
} patient_item_t;

static int patient_cmp(const input_t *x, const input_t *y)
{
    int c = strcmp(x->r.audit, y->r.audit);
    return c != 0 ? c : strcmp(x->pseudonym, y->pseudonym);
}

/* By patient, then batch order. */
static int by_patient(const void *a, const void *b)
{
    const patient_item_t *x = a, *y = b;
    int c = patient_cmp(x->in, y->in);
    return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

static int by_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void batch_index_free(batch_index_t *x)
{
    free(x->prev);
    free(x->ids);
    memset(x, 0, sizeof *x);
}

/* Returns 0, or -1 with err. */
static int batch_index_build(const stage_batch_t *b, batch_index_t *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    patient_item_t *order = calloc(b->n + 1, sizeof *order);
    x->prev = calloc(b->n + 1, sizeof *x->prev);
    x->ids = calloc(b->n + 1, sizeof *x->ids);
    if (!order || !x->prev || !x->ids) {
        free(order);
        batch_index_free(x);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++) {
        const input_t *in = ok_input(b, i);
        x->prev[i] = NONE;
        if (!in)
            continue;
        x->ids[x->n_ids++] = b->items[i].key.record_id;
        if (audit_has_history_rules(in->r.def))
            order[k++] = (patient_item_t){in, i};
    }
    qsort(order, k, sizeof *order, by_patient);
    for (size_t i = 1; i < k; i++)
        if (patient_cmp(order[i - 1].in, order[i].in) == 0)
            x->prev[order[i].at] = order[i - 1].at;
    qsort(x->ids, x->n_ids, sizeof *x->ids, by_id);
    free(order);
    return 0;
}

/* History rules for item `at` of b (x its index): its own warnings go to mine; a record of the
 * patient that it makes a probable duplicate (it being the earlier) gets its warning added to p.
 * The patient's other records are those stored (st[0..nst), unless a version of it is in this
 * batch) and those earlier in this batch. Returns 0, or -1 with err. */
static int check_history(const stage_batch_t *b, const batch_index_t *x, size_t at,
                         const stored_record_t *st, size_t nst, validation_result_t *mine,
                         pg_columns_t *p, char *err, size_t errlen)
{
    const stage_item_t *me_item = &b->items[at];
    const input_t *m = me_item->input;
    size_t n_earlier = 0;
    for (size_t j = x->prev[at]; j != NONE; j = x->prev[j])
        n_earlier++;
    history_record_t *others = calloc(nst + n_earlier + 1, sizeof *others);
    int *versions = calloc(nst + n_earlier + 1, sizeof *versions);
    size_t *earlier = calloc(n_earlier + 1, sizeof *earlier); /* the chain, latest first */
    int rc = others && versions && earlier ? 0 : -1;
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < nst; i++) {
        /* a version of it is in this batch */
        if (bsearch(&st[i].record_id, x->ids, x->n_ids, sizeof *x->ids, by_id))
            continue;
        others[k] = (history_record_t){st[i].rec, st[i].record_id};
        versions[k++] = st[i].version;
    }
    size_t e = 0;
    for (size_t j = x->prev[at]; rc == 0 && j != NONE; j = x->prev[j])
        earlier[e++] = j;
    while (rc == 0 && e > 0) { /* in batch order */
        const stage_item_t *o = &b->items[earlier[--e]];
        if (o->key.record_id == me_item->key.record_id)
            continue;
        others[k] = (history_record_t){((const input_t *)o->input)->r.rec, o->key.record_id};
        versions[k++] = o->key.version;
    }
    history_record_t me = {m->r.rec, me_item->key.record_id};
    if (rc == 0 && k > 0)
        rc = validate_history(m->r.def, &me, others, k, mine);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        validation_result_t theirs = {.valid = 1};
        rc = validate_history(m->r.def, &others[i], &me, 1, &theirs);
        for (size_t j = 0; rc == 0 && j < theirs.n; j++)
            push_problem(p, others[i].order, versions[i], -1, &theirs.problems[j]);
        validation_result_free(&theirs);
    }
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    free(others);
    free(versions);
    free(earlier);
    return rc;
}

/* The stored histories of the batch's records whose audit has history rules, in one query
 * (history_store_load), under the patients' locks. Returns 0, or -1 with err. */
static int load_histories(PGconn *db, const stage_batch_t *b, stored_records_t *st, char *err,
                          size_t errlen)
{
    const char **audits = calloc(b->n + 1, sizeof *audits);
    const char **pseudonyms = calloc(b->n + 1, sizeof *pseudonyms);
    int64_t *ids = calloc(b->n + 1, sizeof *ids);
    int rc = -1;
    memset(st, 0, sizeof *st);
    if (!audits || !pseudonyms || !ids) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < b->n; i++) {
        const input_t *in = ok_input(b, i);
        if (!in || !audit_has_history_rules(in->r.def))
            continue;
        audits[i] = in->r.audit;
        pseudonyms[i] = in->pseudonym;
        ids[i] = b->items[i].key.record_id;
    }
    rc = history_store_load(db, audits, pseudonyms, ids, b->n, st, err, errlen);
done:
    free(audits);
    free(pseudonyms);
    free(ids);
    return rc;
}

/* Locks every patient of the batch whose audit has history rules. Returns 0, or -1 with err. */
static int lock_patients(PGconn *db, const stage_batch_t *b, char *err, size_t errlen)
{
    char **keys = calloc(b->n + 1, sizeof *keys);
    if (!keys) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const input_t *in = ok_input(b, i);
        if (!in || !audit_has_history_rules(in->r.def))
            continue;
        size_t len = strlen(in->r.audit) + strlen(in->pseudonym) + 2;
        if (!(keys[k] = malloc(len))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        snprintf(keys[k++], len, "%s:%s", in->r.audit, in->pseudonym);
    }
    if (rc == 0)
        rc = history_store_lock(db, (const char **)keys, k, err, errlen);
    for (size_t i = 0; i < k; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

enum { C_RID, C_VER, C_PSEUD, C_VALID, C_LREV, NCOL };

/* Stores the outcome and problems of each record taken (history rules first, under the patients'
 * locks); marks those to pass on to metric. */
static int store(void *state, PGconn *db, stage_batch_t *b, char *err, size_t errlen)
{
    (void)state;
    pg_columns_t c, p, taken;
    pg_columns_open(&c, NCOL);
    pg_columns_open(&p, NPCOL);
    pg_columns_open(&taken, 3);
    pg_columns_t revs; /* the link revisions: record_id, version, pseudonym, link_revision */
    pg_columns_open(&revs, 4);
    PGresult *ins = NULL;
    stored_records_t st = {0};
    batch_index_t x = {0};
    size_t next_st = 0; /* st's items are by batch index */
    int rc = -1;
    /* one instance at a time per patient: history rules must see each other's records */
    if (lock_patients(db, b, err, errlen) != 0 || load_histories(db, b, &st, err, errlen) != 0 ||
        batch_index_build(b, &x, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < b->n; i++) {
        const input_t *in = ok_input(b, i);
        size_t first_st = next_st;
        while (next_st < st.n && st.items[next_st].of == i)
            next_st++;
        if (!in)
            continue;
        const stage_key_t *key = &b->items[i].key;
        validation_result_t hist = {.valid = 1};
        if (audit_has_history_rules(in->r.def) &&
            check_history(b, &x, i, st.items ? st.items + first_st : NULL, next_st - first_st,
                          &hist, &p, err, errlen) != 0) {
            validation_result_free(&hist);
            goto done;
        }
        char rid[32], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)key->record_id);
        snprintf(ver, sizeof ver, "%d", key->version);
        snprintf(lrev, sizeof lrev, "%d", key->link_revision);
        const char *vals[NCOL] = {rid, ver, in->pseudonym, in->res.valid ? "t" : "f", lrev};
        pg_columns_row(&c, vals);
        if (key->link_revision > 0) {
            const char *rv[4] = {rid, ver, in->pseudonym, lrev};
            pg_columns_row(&revs, rv);
        }
        for (size_t j = 0; j < in->res.n; j++)
            push_problem(&p, key->record_id, key->version, key->link_revision,
                         &in->res.problems[j]);
        for (size_t j = 0; j < hist.n; j++)
            push_problem(&p, key->record_id, key->version, key->link_revision, &hist.problems[j]);
        validation_result_free(&hist);
    }
    if (pg_columns_close(&c) != 0 || pg_columns_close(&p) != 0 || pg_columns_close(&revs) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (c.nrows == 0) {
        rc = 0;
        goto done;
    }
    /* A revision with another pseudonym than the one held for its version is the patient's under
     * a rotated key (a link revision keeps the version's patient, rekey_sweep.h): the record's
     * superseded versions of the same patient take it too, so that no old pseudonym is left. */
    if (revs.nrows > 0 &&
        db_execp(db,
                 "UPDATE validation.record o SET pseudonym = s.pseudonym"
                 " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[])"
                 " AS s(record_id, version, pseudonym, link_revision)"
                 " JOIN validation.record cur ON cur.record_id = s.record_id"
                 "   AND cur.version = s.version AND cur.link_revision < s.link_revision"
                 "   AND cur.pseudonym <> s.pseudonym"
                 " WHERE o.record_id = s.record_id AND o.version < s.version"
                 " AND o.pseudonym = cur.pseudonym",
                 4, revs.params, err, errlen) != 0)
        goto done;
    /* A record version is taken when validation holds none of it, or an older link revision of
     * it: then its row is replaced and its own problems with it (DESIGN.md invariant 3: the same
     * revision twice is taken once). Where the record belongs and its payload are linkage's at
     * the revision validated, copied in the database, not sent back and parsed again: linkage
     * writes a version's payload with a new revision only (and as the JSON object of strings
     * that the rules read), and its audit, trust, site, local id and submission row never. A
     * revision linkage has moved past meanwhile is not stored; validation takes the newer one.
     * Each version's row of linkage.pseudo_record by a probe of its primary key (LATERAL,
     * OFFSET 0), never a join the planner could make a hash of the whole table. */
    ins = db_query(
        db,
        "INSERT INTO validation.record AS v (record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, valid, payload, link_revision)"
        " SELECT DISTINCT ON (s.record_id, s.version) s.record_id, s.version, l.audit, l.trust,"
        " l.site, l.local_id, l.submission_id, l.row_number, s.pseudonym, s.valid, l.payload,"
        " s.link_revision FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bool[],"
        " $5::int[]) AS s(record_id, version, pseudonym, valid, link_revision)"
        " CROSS JOIN LATERAL (SELECT l.audit, l.trust, l.site, l.local_id, l.submission_id,"
        "   l.row_number, l.payload FROM linkage.pseudo_record l WHERE l.record_id = s.record_id"
        "   AND l.version = s.version AND l.revision = s.link_revision OFFSET 0) l"
        " ORDER BY s.record_id, s.version, s.link_revision DESC"
        " ON CONFLICT (record_id, version) DO UPDATE SET pseudonym = EXCLUDED.pseudonym,"
        "   valid = EXCLUDED.valid, payload = EXCLUDED.payload,"
        "   link_revision = EXCLUDED.link_revision, validated_at = now()"
        "   WHERE v.link_revision < EXCLUDED.link_revision"
        " RETURNING record_id, version, link_revision",
        NCOL, c.params, err, errlen);
    if (!ins)
        goto done;
    for (int r = 0; r < PQntuples(ins); r++) {
        const char *v[3] = {PQgetvalue(ins, r, 0), PQgetvalue(ins, r, 1), PQgetvalue(ins, r, 2)};
        pg_columns_row(&taken, v);
    }
    if (pg_columns_close(&taken) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    /* The replaced versions' problems, found by a probe of the primary key each and deleted by
     * their ctid (rows only ever inserted and deleted, never updated): as a join with the
     * versions, the planner scanned every problem held (O(table) per batch). */
    if (PQntuples(ins) > 0 &&
        db_execp(db,
                 "DELETE FROM validation.problem WHERE ctid = ANY (ARRAY(SELECT x.tid FROM"
                 " unnest($1::bigint[], $2::int[]) AS t(record_id, version) CROSS JOIN LATERAL"
                 " (SELECT p.ctid AS tid FROM validation.problem p WHERE p.record_id ="
                 " t.record_id AND p.version = t.version OFFSET 0) x))",
                 2, taken.params, err, errlen) != 0)
        goto done;
    /* A record's own problems only from the revision taken; those a history rule finds in the
     * patient's other records (link revision -1) whenever that record is held. */
    if (p.nrows > 0) {
        const char *pp[NPCOL + 3];
        for (int k = 0; k < NPCOL; k++)
            pp[k] = p.params[k];
        for (int k = 0; k < 3; k++)
            pp[NPCOL + k] = taken.params[k];
        if (db_execp(db,
                     "INSERT INTO validation.problem (record_id, version, submission_id,"
                     " row_number, field, rule, severity, value, message)"
                     " SELECT u.record_id, u.version, r.submission_id, r.row_number, u.field,"
                     " u.rule, u.severity, u.value, u.message FROM unnest($1::bigint[], $2::int[],"
                     " $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
                     " AS u(record_id, version, link_revision, field, rule, severity, value,"
                     " message) JOIN validation.record r USING (record_id, version)"
                     " WHERE u.link_revision < 0 OR (u.record_id, u.version, u.link_revision) IN"
                     "   (SELECT * FROM unnest($9::bigint[], $10::int[], $11::int[]))"
                     " ON CONFLICT DO NOTHING",
                     NPCOL + 3, pp, err, errlen) != 0)
            goto done;
    }
    for (int r = 0; r < PQntuples(ins); r++) {
        stage_key_t k = {strtoll(PQgetvalue(ins, r, 0), NULL, 10), atoi(PQgetvalue(ins, r, 1)),
                         atoi(PQgetvalue(ins, r, 2))};
        for (size_t i = 0; i < b->n; i++)
            if (ok_input(b, i) && b->items[i].key.record_id == k.record_id &&
                b->items[i].key.version == k.version) {
                b->items[i].forward = true;
                b->items[i].out_key = k;
            }
    }
    rc = 0;
done:
    PQclear(ins);
    stored_records_clear(&st);
    batch_index_free(&x);
    pg_columns_free(&c);
    pg_columns_free(&p);
    pg_columns_free(&taken);
    pg_columns_free(&revs);
    return rc;
}

stage_ops_t validation_stage_ops(validation_t *vs)
{
    return (stage_ops_t){.upstream = "linkage",
                         .downstream = "metric",
                         .state = vs,
                         .load_sql = load_sql,
                         .backlog_sql = backlog_sql,
                         .advance_sql = advance_sql,
                         .backlog_count_sql = backlog_count_sql,
                         .read_row = read_row,
                         .free_input = free_input,
                         .decide = decide,
                         .store = store,
                         .gather_ms = 5};
}
