/* ncap-validated - applies each audit's dataset rules to pseudonymised records; errors reject a
 * record, warnings annotate it; every problem is kept for the trust's feedback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cache.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "message.h"
#include "ncap/v1/records.pb-c.h"
#include "stage.h"
#include "strbuf.h"
#include "validate_record.h"

typedef struct {
    audit_cache_t *audits;
} validation_t;

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
    NCOL
};
enum { P_RID, P_VER, P_FIELD, P_RULE, P_SEV, P_VALUE, P_MSG, NPCOL };

static int process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out, char *err,
                   size_t errlen)
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
    int *valid = calloc(in->n + 1, sizeof *valid);
    ncap_record_t *rec = ncap_record_new();
    size_t n = 0;
    int rc = -1;
    if (!msgs || !valid || !rec) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n; i++) {
        Ncap__V1__PseudoRecord *m =
            ncap__v1__pseudo_record__unpack(NULL, in->items[i].len, in->items[i].data);
        if (!m || !m->envelope) {
            ncap_log(LOG_ERROR, "dropped a message that is not an ncap.v1.PseudoRecord", NULL);
            if (m)
                ncap__v1__pseudo_record__free_unpacked(m, NULL);
            continue;
        }
        char aerr[512];
        const audit_def_t *def = audit_cache_get(vs->audits, m->envelope->audit, aerr, sizeof aerr);
        validation_result_t res;
        if (!def || message_fields_to_record(m->fields, m->n_fields, rec) != 0 ||
            validate_record(def, rec, &res) != 0) {
            ncap_log(LOG_ERROR, "could not validate record", "error", def ? "out of memory" : aerr,
                     NULL);
            ncap__v1__pseudo_record__free_unpacked(m, NULL);
            continue;
        }
        const Ncap__V1__Envelope *e = m->envelope;
        char rid[32], ver[16], sid[32], row[16];
        snprintf(rid, sizeof rid, "%lld", (long long)e->record_id);
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
                                  json ? json : "{}"};
        for (int k = 0; k < NCOL; k++)
            strbuf_pg_array_elem(&c[k], vals[k]);
        free(json);
        for (size_t j = 0; j < res.n; j++) {
            const validation_problem_t *vp = &res.problems[j];
            const char *pv[NPCOL] = {rid,          ver,       vp->field,  vp->rule,
                                     vp->severity, vp->value, vp->message};
            for (int k = 0; k < NPCOL; k++)
                strbuf_pg_array_elem(&p[k], pv[k]);
        }
        valid[n] = res.valid;
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
    PGresult *ins = db_query(
        db,
        "INSERT INTO validation.record (record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, valid, payload)"
        " SELECT DISTINCT ON (record_id, version) * FROM unnest($1::bigint[], $2::int[],"
        " $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::text[],"
        " $10::bool[], $11::jsonb[]) AS s(record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, valid, payload)"
        " ON CONFLICT DO NOTHING RETURNING record_id, version",
        NCOL, pr, err, errlen);
    if (!ins)
        goto done;
    if (p[0].len > 2) {
        const char *pp[NPCOL];
        for (int k = 0; k < NPCOL; k++)
            pp[k] = p[k].s;
        if (db_execp(
                db,
                "INSERT INTO validation.problem (record_id, version, submission_id, row_number,"
                " field, rule, severity, value, message)"
                " SELECT u.record_id, u.version, r.submission_id, r.row_number, u.field,"
                " u.rule, u.severity, u.value, u.message FROM unnest($1::bigint[], $2::int[],"
                " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(record_id,"
                " version, field, rule, severity, value, message)"
                " JOIN validation.record r USING (record_id, version) ON CONFLICT DO NOTHING",
                NPCOL, pp, err, errlen) != 0) {
            PQclear(ins);
            goto done;
        }
    }
    long long now = daemon_wall_us();
    for (int r = 0; r < PQntuples(ins); r++) {
        int64_t rid = strtoll(PQgetvalue(ins, r, 0), NULL, 10);
        int ver = atoi(PQgetvalue(ins, r, 1));
        for (size_t i = 0; i < n; i++) {
            if (!msgs[i] || msgs[i]->envelope->record_id != rid ||
                msgs[i]->envelope->version != ver)
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
    for (size_t i = 0; msgs && i < n; i++)
        ncap__v1__pseudo_record__free_unpacked(msgs[i], NULL);
    free(msgs);
    free(valid);
    ncap_record_destroy(&rec);
    for (int k = 0; k < NCOL; k++)
        strbuf_free(&c[k]);
    for (int k = 0; k < NPCOL; k++)
        strbuf_free(&p[k]);
    return rc;
}

static int backlog(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in, char *err,
                   size_t errlen)
{
    (void)state;
    char lim[16], grace[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(grace, sizeof grace, "%d", grace_ms);
    const char *p[] = {lim, grace};
    PGresult *r = db_query(
        db,
        "SELECT l.record_id, l.version, l.audit, l.trust, l.site, l.local_id, l.submission_id,"
        " l.row_number, l.pseudonym, l.payload::text FROM linkage.pseudo_record l"
        " WHERE l.linked_at < now() - make_interval(secs => $2::double precision / 1000)"
        " AND NOT EXISTS (SELECT 1 FROM validation.record v"
        "   WHERE v.record_id = l.record_id AND v.version = l.version)"
        " ORDER BY l.linked_at, l.record_id LIMIT $1::int",
        2, p, err, errlen);
    if (!r)
        return -1;
    ncap_record_t *rec = ncap_record_new();
    for (int i = 0; rec && i < PQntuples(r); i++) {
        Ncap__V1__Envelope env;
        char id[33];
        stage_envelope_from_row(r, i, &env, id);
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

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    int rc =
        daemon_config_parse(&cfg, "ncap-validated", "validation",
                            "Applies each audit's dataset rules (from its definition file) to "
                            "pseudonymised records: errors reject\na record, warnings annotate "
                            "it. Every problem is kept for the trust's feedback; outcomes go "
                            "to metric.",
                            argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    validation_t vs = {audit_cache_new(cfg.audit_dir)};
    stage_ops_t ops = {.downstream = "metric",
                       .state = &vs,
                       .process = process,
                       .backlog = backlog,
                       .gather_ms = 5};
    rc = stage_run(&ops, &cfg);
    audit_cache_destroy(&vs.audits);
    return rc;
}
