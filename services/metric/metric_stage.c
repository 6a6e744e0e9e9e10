/* metric_stage.c - ncap-metricd's work on a batch: contributions of the latest versions */
#include "metric_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contribution.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "message.h"
#include "ncap/v1/records.pb-c.h"
#include "stage.h"
#include "strbuf.h"

typedef struct {
    Ncap__V1__ValidatedRecord *msg;
    char period[8];
    contribution_t contrib[AUDIT_MAX_METRICS];
    int n_contrib;
} item_t;

enum { S_RID, S_VER, S_AUDIT, S_TRUST, S_PERIOD, S_VALID, S_LREV, NS };
enum { K_RID, K_METRIC, K_AUDIT, K_TRUST, K_SITE, K_PERIOD, K_NUM, K_DEN, NK };

int metric_process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out, char *err,
                   size_t errlen)
{
    metric_t *ms = state;
    item_t *items = calloc(in->n + 1, sizeof *items);
    ncap_record_t *rec = ncap_record_new();
    strbuf_t s[NS], k[NK];
    for (int j = 0; j < NS; j++) {
        strbuf_init(&s[j]);
        strbuf_pg_array_open(&s[j]);
    }
    for (int j = 0; j < NK; j++) {
        strbuf_init(&k[j]);
        strbuf_pg_array_open(&k[j]);
    }
    size_t n = 0;
    int rc = -1;
    PGresult *applied = NULL;
    if (!items || !rec) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n; i++) {
        Ncap__V1__ValidatedRecord *m =
            ncap__v1__validated_record__unpack(NULL, in->items[i].len, in->items[i].data);
        if (!m || !m->envelope) {
            ncap_log(LOG_ERROR, "dropped a message that is not an ncap.v1.ValidatedRecord", NULL);
            if (m)
                ncap__v1__validated_record__free_unpacked(m, NULL);
            continue;
        }
        char aerr[512];
        const audit_def_t *def = audit_cache_get(ms->audits, m->envelope->audit, aerr, sizeof aerr);
        item_t *it = &items[n];
        if (!def || def->n_metrics > AUDIT_MAX_METRICS ||
            message_fields_to_record(m->fields, m->n_fields, rec) != 0) {
            ncap_log(LOG_ERROR, "could not compute contributions", "error",
                     def ? "bad record" : aerr, NULL);
            ncap__v1__validated_record__free_unpacked(m, NULL);
            continue;
        }
        int nc = contribution_compute(def, rec, it->period, it->contrib, aerr, sizeof aerr);
        if (nc < 0) {
            ncap_log(LOG_ERROR, "a metric of the audit definition failed on a record", "audit",
                     def->audit, "error", aerr, NULL);
            nc = 0;
        }
        it->n_contrib = m->valid && it->period[0] ? nc : 0;
        it->msg = m;
        const Ncap__V1__Envelope *e = m->envelope;
        char rid[32], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)e->record_id);
        snprintf(ver, sizeof ver, "%d", e->version);
        snprintf(lrev, sizeof lrev, "%d", e->link_revision);
        const char *sv[NS] = {
            rid, ver, e->audit, e->trust, it->period[0] ? it->period : NULL, m->valid ? "t" : "f",
            lrev};
        for (int j = 0; j < NS; j++)
            strbuf_pg_array_elem(&s[j], sv[j]);
        n++;
    }
    for (int j = 0; j < NS; j++)
        strbuf_pg_array_close(&s[j]);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    /* Take in every version; apply a version (at a link revision) only if it is the newest seen
     * for its record: a higher version, or the same version at a higher link revision. */
    const char *ps[NS];
    for (int j = 0; j < NS; j++)
        ps[j] = s[j].s;
    applied = db_query(
        db,
        "WITH src AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[],"
        "   $5::text[], $6::bool[], $7::int[]) AS s(record_id, version, audit, trust, period,"
        "   valid, link_revision)),"
        " pr AS (INSERT INTO metric.processed AS m (record_id, version, link_revision)"
        "   SELECT DISTINCT ON (record_id, version) record_id, version, link_revision FROM src"
        "   ORDER BY record_id, version, link_revision DESC"
        "   ON CONFLICT (record_id, version) DO UPDATE SET link_revision = EXCLUDED.link_revision,"
        "   processed_at = now() WHERE m.link_revision < EXCLUDED.link_revision)"
        " INSERT INTO metric.record_state AS st (record_id, version, audit, trust, period, valid,"
        "   link_revision)"
        " SELECT DISTINCT ON (record_id) record_id, version, audit, trust, period, valid,"
        "   link_revision FROM src ORDER BY record_id, version DESC, link_revision DESC"
        " ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
        "   trust = EXCLUDED.trust, period = EXCLUDED.period, valid = EXCLUDED.valid,"
        "   link_revision = EXCLUDED.link_revision, updated_at = now()"
        "   WHERE (st.version, st.link_revision) < (EXCLUDED.version, EXCLUDED.link_revision)"
        " RETURNING record_id, version, link_revision",
        NS, ps, err, errlen);
    if (!applied)
        goto done;
    strbuf_t ids;
    strbuf_init(&ids);
    strbuf_pg_array_open(&ids);
    for (int r = 0; r < PQntuples(applied); r++) {
        int64_t rid = strtoll(PQgetvalue(applied, r, 0), NULL, 10);
        int ver = atoi(PQgetvalue(applied, r, 1));
        int lrev = atoi(PQgetvalue(applied, r, 2));
        strbuf_pg_array_elem(&ids, PQgetvalue(applied, r, 0));
        for (size_t i = 0; i < n; i++) {
            const Ncap__V1__Envelope *e = items[i].msg->envelope;
            if (e->record_id != rid || e->version != ver || e->link_revision != lrev)
                continue;
            for (int c = 0; c < items[i].n_contrib; c++) {
                char num[4], den[4];
                snprintf(num, sizeof num, "%d", items[i].contrib[c].numerator);
                snprintf(den, sizeof den, "%d", items[i].contrib[c].denominator);
                const char *kv[NK] = {PQgetvalue(applied, r, 0),
                                      items[i].contrib[c].metric_id,
                                      e->audit,
                                      e->trust,
                                      e->site,
                                      items[i].period,
                                      num,
                                      den};
                for (int j = 0; j < NK; j++)
                    strbuf_pg_array_elem(&k[j], kv[j]);
            }
            break;
        }
    }
    strbuf_pg_array_close(&ids);
    for (int j = 0; j < NK; j++)
        strbuf_pg_array_close(&k[j]);
    int ok = 1;
    if (PQntuples(applied) > 0) {
        const char *pd[] = {ids.s};
        ok = db_execp(db, "DELETE FROM metric.contribution WHERE record_id = ANY($1::bigint[])", 1,
                      pd, err, errlen) == 0;
        if (ok && k[0].len > 2) {
            const char *pk[NK];
            for (int j = 0; j < NK; j++)
                pk[j] = k[j].s;
            ok = db_execp(
                     db,
                     "INSERT INTO metric.contribution (record_id, metric_id, audit, trust, site,"
                     " period, numerator, denominator) SELECT * FROM unnest($1::bigint[],"
                     " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],"
                     " $8::int[])",
                     NK, pk, err, errlen) == 0;
        }
    }
    strbuf_free(&ids);
    if (!ok)
        goto done;
    if (PQntuples(applied) > 0) {
        /* One nudge per batch: publish works out what changed from PostgreSQL. */
        Ncap__V1__MetricChange mc = NCAP__V1__METRIC_CHANGE__INIT;
        Ncap__V1__Envelope env = NCAP__V1__ENVELOPE__INIT;
        char id[33];
        message_new_id(id);
        env.message_id = id;
        env.audit = items[0].msg->envelope->audit;
        env.metric_at_us = daemon_wall_us();
        mc.envelope = &env;
        stage_batch_push_msg(out, &mc.base);
    }
    rc = 0;
done:
    PQclear(applied);
    for (size_t i = 0; items && i < n; i++)
        ncap__v1__validated_record__free_unpacked(items[i].msg, NULL);
    free(items);
    ncap_record_destroy(&rec);
    for (int j = 0; j < NS; j++)
        strbuf_free(&s[j]);
    for (int j = 0; j < NK; j++)
        strbuf_free(&k[j]);
    return rc;
}

int metric_backlog(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in, char *err,
                   size_t errlen)
{
    (void)state;
    char lim[16], grace[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(grace, sizeof grace, "%d", grace_ms);
    const char *p[] = {lim, grace};
    PGresult *r = db_query(
        db,
        "SELECT v.record_id, v.version, v.audit, v.trust, v.site, v.local_id, v.submission_id,"
        " v.row_number, v.pseudonym, v.valid, v.payload::text, v.link_revision"
        " FROM validation.record v"
        " WHERE v.validated_at < now() - make_interval(secs => $2::double precision / 1000)"
        " AND NOT EXISTS (SELECT 1 FROM metric.processed m WHERE m.record_id = v.record_id"
        "   AND m.version = v.version AND m.link_revision >= v.link_revision)"
        " ORDER BY v.validated_at, v.record_id LIMIT $1::int",
        2, p, err, errlen);
    if (!r)
        return -1;
    ncap_record_t *rec = ncap_record_new();
    for (int i = 0; rec && i < PQntuples(r); i++) {
        Ncap__V1__Envelope env;
        char id[33];
        stage_envelope_from_row(r, i, &env, id);
        env.link_revision = atoi(PQgetvalue(r, i, 11));
        if (message_record_from_json(PQgetvalue(r, i, 10), rec) != 0)
            continue;
        Ncap__V1__ValidatedRecord m = NCAP__V1__VALIDATED_RECORD__INIT;
        m.envelope = &env;
        m.pseudonym = PQgetvalue(r, i, 8);
        m.valid = PQgetvalue(r, i, 9)[0] == 't';
        if (message_fields_from_record(rec, &m.fields, &m.n_fields) != 0)
            continue;
        stage_batch_push_msg(in, &m.base);
        message_fields_free(m.fields, m.n_fields);
    }
    ncap_record_destroy(&rec);
    PQclear(r);
    return 0;
}
