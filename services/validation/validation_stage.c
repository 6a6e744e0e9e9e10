/* validation_stage.c - ncap-validated's work on a batch: rules, history rules, storage */
#include "validation_stage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "db.h"
#include "log.h"
#include "message.h"
#include "ncap/v1/records.pb-c.h"
#include "pg_columns.h"
#include "stage.h"
#include "strbuf.h"
#include "history_rule.h"
#include "history_store.h"
#include "validate_record.h"

enum {
    C_RID,
    C_VER,
    C_AUDIT,
    C_TRUST,
    C_SITE,
    C_LOCAL,
    C_SUB,
    C_ROW,
    C_PSEUD,
    C_VALID,
    C_PAYLOAD,
    C_LREV,
    NCOL
};
/* P_LREV: the link revision of the message whose own problem it is; -1 for a problem a history
 * rule finds in another record of the patient. */
enum { P_RID, P_VER, P_LREV, P_FIELD, P_RULE, P_SEV, P_VALUE, P_MSG, NPCOL };

static void push_problem(strbuf_t *p, int64_t record_id, int version, int link_revision,
                         const validation_problem_t *vp)
{
    char rid[32], ver[16], lrev[16];
    snprintf(rid, sizeof rid, "%lld", (long long)record_id);
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(lrev, sizeof lrev, "%d", link_revision);
    const char *pv[NPCOL] = {rid,      ver,          lrev,      vp->field,
                             vp->rule, vp->severity, vp->value, vp->message};
    for (int k = 0; k < NPCOL; k++)
        strbuf_pg_array_elem(&p[k], pv[k]);
}

static bool same_patient(const Ncap__V1__PseudoRecord *a, const Ncap__V1__PseudoRecord *b)
{
    return strcmp(a->envelope->audit, b->envelope->audit) == 0 &&
           strcmp(a->pseudonym, b->pseudonym) == 0;
}

/* History rules for m (record rec): its warnings go to res; a record of the patient that m makes
 * a probable duplicate (m being the earlier) gets its warning added to p. The patient's other
 * records are those stored (unless a newer version is in this batch: batch_ids) and those
 * earlier in this batch (batch[0..n_batch)). Returns 0, or -1 with err. */
static int check_history(PGconn *db, const audit_def_t *def, Ncap__V1__PseudoRecord *const *batch,
                         ncap_record_t *const *batch_recs, size_t n_batch, const int64_t *batch_ids,
                         size_t n_ids, const Ncap__V1__PseudoRecord *m, const ncap_record_t *rec,
                         validation_result_t *res, strbuf_t *p, char *err, size_t errlen)
{
    const Ncap__V1__Envelope *e = m->envelope;
    stored_records_t st;
    if (history_store_load(db, e->audit, m->pseudonym, e->record_id, &st, err, errlen) != 0)
        return -1;
    history_record_t *others = calloc(st.n + n_batch + 1, sizeof *others);
    int *versions = calloc(st.n + n_batch + 1, sizeof *versions);
    int rc = others && versions ? 0 : -1;
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < st.n; i++) {
        bool in_batch = false; /* its newer version is in this batch */
        for (size_t j = 0; j < n_ids && !in_batch; j++)
            in_batch = batch_ids[j] == st.items[i].record_id;
        if (in_batch)
            continue;
        others[k] = (history_record_t){st.items[i].rec, st.items[i].record_id};
        versions[k++] = st.items[i].version;
    }
    for (size_t j = 0; rc == 0 && j < n_batch; j++) {
        if (!same_patient(batch[j], m) || batch[j]->envelope->record_id == e->record_id)
            continue;
        others[k] = (history_record_t){batch_recs[j], batch[j]->envelope->record_id};
        versions[k++] = batch[j]->envelope->version;
    }
    history_record_t me = {rec, e->record_id};
    if (rc == 0 && k > 0)
        rc = validate_history(def, &me, others, k, res);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        validation_result_t theirs = {.valid = 1};
        rc = validate_history(def, &others[i], &me, 1, &theirs);
        for (size_t j = 0; rc == 0 && j < theirs.n; j++)
            push_problem(p, others[i].order, versions[i], -1, &theirs.problems[j]);
        validation_result_free(&theirs);
    }
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    free(others);
    free(versions);
    stored_records_clear(&st);
    return rc;
}

/* Locks every patient of the batch whose audit has history rules. Returns 0, or -1 with err. */
static int lock_patients(validation_t *vs, PGconn *db, Ncap__V1__PseudoRecord *const *all, size_t n,
                         char *err, size_t errlen)
{
    char **keys = calloc(n + 1, sizeof *keys);
    if (!keys) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char aerr[256];
        const audit_def_t *def =
            all[i] ? audit_cache_get(vs->audits, all[i]->envelope->audit, aerr, sizeof aerr) : NULL;
        if (!def || !audit_has_history_rules(def))
            continue;
        size_t len = strlen(all[i]->envelope->audit) + strlen(all[i]->pseudonym) + 2;
        if (!(keys[k] = malloc(len))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        snprintf(keys[k++], len, "%s:%s", all[i]->envelope->audit, all[i]->pseudonym);
    }
    if (rc == 0)
        rc = history_store_lock(db, (const char **)keys, k, err, errlen);
    for (size_t i = 0; i < k; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

int validation_process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out,
                       char *err, size_t errlen)
{
    validation_t *vs = state;
    strbuf_t c[NCOL], p[NPCOL];
    for (int k = 0; k < NCOL; k++) {
        strbuf_init(&c[k]);
        strbuf_pg_array_open(&c[k]);
    }
    for (int k = 0; k < NPCOL; k++) {
        strbuf_init(&p[k]);
        strbuf_pg_array_open(&p[k]);
    }
    Ncap__V1__PseudoRecord **msgs = calloc(in->n + 1, sizeof *msgs);
    Ncap__V1__PseudoRecord **all = calloc(in->n + 1, sizeof *all);
    ncap_record_t **recs = calloc(in->n + 1, sizeof *recs);
    int *valid = calloc(in->n + 1, sizeof *valid);
    int64_t *batch_ids = calloc(in->n + 1, sizeof *batch_ids);
    size_t n = 0, n_ids = 0;
    int rc = -1;
    if (!msgs || !all || !recs || !valid || !batch_ids) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n; i++) {
        Ncap__V1__PseudoRecord *m =
            ncap__v1__pseudo_record__unpack(NULL, in->items[i].len, in->items[i].data);
        if (!m || !m->envelope || !m->pseudonym) {
            ncap_log(LOG_ERROR, "dropped a message that is not an ncap.v1.PseudoRecord", NULL);
            if (m)
                ncap__v1__pseudo_record__free_unpacked(m, NULL);
            continue;
        }
        all[i] = m;
    }
    /* one instance at a time per patient: history rules must see each other's records */
    if (lock_patients(vs, db, all, in->n, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < in->n; i++)
        if (all[i])
            batch_ids[n_ids++] = all[i]->envelope->record_id;
    for (size_t i = 0; i < in->n; i++) {
        Ncap__V1__PseudoRecord *m = all[i];
        if (!m)
            continue;
        all[i] = NULL;
        char aerr[512];
        const audit_def_t *def = audit_cache_get(vs->audits, m->envelope->audit, aerr, sizeof aerr);
        validation_result_t res;
        ncap_record_t *rec = ncap_record_new();
        if (!def || !rec || message_fields_to_record(m->fields, m->n_fields, rec) != 0 ||
            validate_record(def, rec, &res) != 0) {
            ncap_log(LOG_ERROR, "could not validate record", "error", def ? "out of memory" : aerr,
                     NULL);
            ncap_record_destroy(&rec);
            ncap__v1__pseudo_record__free_unpacked(m, NULL);
            continue;
        }
        if (audit_has_history_rules(def) && check_history(db, def, msgs, recs, n, batch_ids, n_ids,
                                                          m, rec, &res, p, err, errlen) != 0) {
            validation_result_free(&res);
            ncap_record_destroy(&rec);
            ncap__v1__pseudo_record__free_unpacked(m, NULL);
            goto done;
        }
        const Ncap__V1__Envelope *e = m->envelope;
        char rid[32], ver[16], sid[32], row[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)e->record_id);
        snprintf(lrev, sizeof lrev, "%d", e->link_revision);
        snprintf(ver, sizeof ver, "%d", e->version);
        snprintf(sid, sizeof sid, "%lld", (long long)e->submission_id);
        snprintf(row, sizeof row, "%d", e->row_number);
        char *json = message_record_to_json(rec);
        const char *vals[NCOL] = {rid,
                                  ver,
                                  e->audit,
                                  e->trust,
                                  e->site,
                                  e->local_record_id,
                                  sid,
                                  row,
                                  m->pseudonym,
                                  res.valid ? "t" : "f",
                                  json ? json : "{}",
                                  lrev};
        for (int k = 0; k < NCOL; k++)
            strbuf_pg_array_elem(&c[k], vals[k]);
        free(json);
        for (size_t j = 0; j < res.n; j++)
            push_problem(p, e->record_id, e->version, e->link_revision, &res.problems[j]);
        valid[n] = res.valid;
        recs[n] = rec;
        msgs[n++] = m;
        validation_result_free(&res);
    }
    for (int k = 0; k < NCOL; k++)
        strbuf_pg_array_close(&c[k]);
    for (int k = 0; k < NPCOL; k++)
        strbuf_pg_array_close(&p[k]);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    const char *pr[NCOL];
    for (int k = 0; k < NCOL; k++)
        pr[k] = c[k].s;
    /* A record version is taken when validation holds none of it, or an older link revision of
     * it: then its row is replaced and its own problems with it (DESIGN.md invariant 3: the same
     * revision twice is taken once). */
    PGresult *ins = db_query(
        db,
        "INSERT INTO validation.record AS v (record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, valid, payload, link_revision)"
        " SELECT DISTINCT ON (record_id, version) * FROM unnest($1::bigint[], $2::int[],"
        " $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::text[],"
        " $10::bool[], $11::jsonb[], $12::int[]) AS s(record_id, version, audit, trust, site,"
        " local_id, submission_id, row_number, pseudonym, valid, payload, link_revision)"
        " ORDER BY record_id, version, link_revision DESC"
        " ON CONFLICT (record_id, version) DO UPDATE SET pseudonym = EXCLUDED.pseudonym,"
        "   valid = EXCLUDED.valid, payload = EXCLUDED.payload,"
        "   link_revision = EXCLUDED.link_revision, validated_at = now()"
        "   WHERE v.link_revision < EXCLUDED.link_revision"
        " RETURNING record_id, version, link_revision",
        NCOL, pr, err, errlen);
    if (!ins)
        goto done;
    pg_columns_t taken;
    pg_columns_open(&taken, 3);
    for (int r = 0; r < PQntuples(ins); r++) {
        const char *v[3] = {PQgetvalue(ins, r, 0), PQgetvalue(ins, r, 1), PQgetvalue(ins, r, 2)};
        pg_columns_row(&taken, v);
    }
    int ok = pg_columns_close(&taken) == 0;
    if (!ok)
        snprintf(err, errlen, "out of memory");
    if (ok && PQntuples(ins) > 0)
        ok = db_execp(db,
                      "DELETE FROM validation.problem p USING unnest($1::bigint[], $2::int[])"
                      " AS t(record_id, version)"
                      " WHERE p.record_id = t.record_id AND p.version = t.version",
                      2, taken.params, err, errlen) == 0;
    /* A record's own problems only from the revision taken; those a history rule finds in the
     * patient's other records (link revision -1) whenever that record is held. */
    if (ok && p[0].len > 2) {
        const char *pp[NPCOL + 3];
        for (int k = 0; k < NPCOL; k++)
            pp[k] = p[k].s;
        for (int k = 0; k < 3; k++)
            pp[NPCOL + k] = taken.params[k];
        ok = db_execp(
                 db,
                 "INSERT INTO validation.problem (record_id, version, submission_id, row_number,"
                 " field, rule, severity, value, message)"
                 " SELECT u.record_id, u.version, r.submission_id, r.row_number, u.field,"
                 " u.rule, u.severity, u.value, u.message FROM unnest($1::bigint[], $2::int[],"
                 " $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
                 " AS u(record_id, version, link_revision, field, rule, severity, value, message)"
                 " JOIN validation.record r USING (record_id, version)"
                 " WHERE u.link_revision < 0 OR (u.record_id, u.version, u.link_revision) IN"
                 "   (SELECT * FROM unnest($9::bigint[], $10::int[], $11::int[]))"
                 " ON CONFLICT DO NOTHING",
                 NPCOL + 3, pp, err, errlen) == 0;
    }
    pg_columns_free(&taken);
    if (!ok) {
        PQclear(ins);
        goto done;
    }
    long long now = daemon_wall_us();
    for (int r = 0; r < PQntuples(ins); r++) {
        int64_t rid = strtoll(PQgetvalue(ins, r, 0), NULL, 10);
        int ver = atoi(PQgetvalue(ins, r, 1));
        int lrev = atoi(PQgetvalue(ins, r, 2));
        for (size_t i = 0; i < n; i++) {
            if (!msgs[i] || msgs[i]->envelope->record_id != rid ||
                msgs[i]->envelope->version != ver || msgs[i]->envelope->link_revision != lrev)
                continue;
            Ncap__V1__ValidatedRecord vm = NCAP__V1__VALIDATED_RECORD__INIT;
            Ncap__V1__Envelope env = *msgs[i]->envelope;
            char id[33];
            message_new_id(id);
            env.message_id = id;
            env.validated_at_us = now;
            vm.envelope = &env;
            vm.pseudonym = msgs[i]->pseudonym;
            vm.valid = valid[i];
            vm.fields = msgs[i]->fields;
            vm.n_fields = msgs[i]->n_fields;
            stage_batch_push_msg(out, &vm.base);
            break;
        }
    }
    PQclear(ins);
    rc = 0;
done:
    for (size_t i = 0; msgs && i < n; i++) {
        ncap__v1__pseudo_record__free_unpacked(msgs[i], NULL);
        ncap_record_destroy(&recs[i]);
    }
    for (size_t i = 0; all && i < in->n; i++)
        if (all[i])
            ncap__v1__pseudo_record__free_unpacked(all[i], NULL);
    free(msgs);
    free(all);
    free(recs);
    free(batch_ids);
    free(valid);
    for (int k = 0; k < NCOL; k++)
        strbuf_free(&c[k]);
    for (int k = 0; k < NPCOL; k++)
        strbuf_free(&p[k]);
    return rc;
}

int validation_backlog(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in,
                       char *err, size_t errlen)
{
    (void)state;
    char lim[16], grace[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(grace, sizeof grace, "%d", grace_ms);
    const char *p[] = {lim, grace};
    PGresult *r = db_query(
        db,
        "SELECT l.record_id, l.version, l.audit, l.trust, l.site, l.local_id, l.submission_id,"
        " l.row_number, l.pseudonym, l.payload::text, l.revision FROM linkage.pseudo_record l"
        " WHERE l.linked_at < now() - make_interval(secs => $2::double precision / 1000)"
        " AND NOT EXISTS (SELECT 1 FROM validation.record v WHERE v.record_id = l.record_id"
        "   AND v.version = l.version AND v.link_revision >= l.revision)"
        " ORDER BY l.linked_at, l.record_id LIMIT $1::int",
        2, p, err, errlen);
    if (!r)
        return -1;
    ncap_record_t *rec = ncap_record_new();
    for (int i = 0; rec && i < PQntuples(r); i++) {
        Ncap__V1__Envelope env;
        char id[33];
        stage_envelope_from_row(r, i, &env, id);
        env.link_revision = atoi(PQgetvalue(r, i, 10));
        if (message_record_from_json(PQgetvalue(r, i, 9), rec) != 0)
            continue;
        Ncap__V1__PseudoRecord m = NCAP__V1__PSEUDO_RECORD__INIT;
        m.envelope = &env;
        m.pseudonym = PQgetvalue(r, i, 8);
        if (message_fields_from_record(rec, &m.fields, &m.n_fields) != 0)
            continue;
        stage_batch_push_msg(in, &m.base);
        message_fields_free(m.fields, m.n_fields);
    }
    ncap_record_destroy(&rec);
    PQclear(r);
    return 0;
}
