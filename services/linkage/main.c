/* ncap-linkd - links each raw record to a patient, checks its identifiers, derives what analysis
 * needs, and passes it on with a pseudonym in place of every identifier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cache.h"
#include "daemon.h"
#include "db.h"
#include "link_record.h"
#include "log.h"
#include "message.h"
#include "ncap/v1/records.pb-c.h"
#include "optout.h"
#include "patient_index.h"
#include "pseudonym.h"
#include "death_link.h"
#include "death_sweep.h"
#include "stage.h"
#include "strbuf.h"

typedef struct {
    audit_cache_t *audits;
    unsigned char key[PSEUDONYM_KEY_BYTES];
    link_params_t params;
    term_freq_t *tf; /* params.tf */
    int params_loaded;
    double params_version; /* the setting params_version when params were loaded */
} linkage_t;

/* Columns of a linkage problem: record_id, version, field, rule, severity, message. */
#define NPROB 6

typedef struct {
    Ncap__V1__RawRecord *msg;
    const audit_def_t *def;
    link_outcome_t outcome;
    patient_match_t match;
    int skip; /* already processed, or withheld under the opt-out */
    int is_new;
} item_t;

static void ids_array(strbuf_t *rid, strbuf_t *ver, const item_t *items, size_t n)
{
    strbuf_init(rid);
    strbuf_init(ver);
    strbuf_pg_array_open(rid);
    strbuf_pg_array_open(ver);
    for (size_t i = 0; i < n; i++) {
        char a[24], b[16];
        snprintf(a, sizeof a, "%lld", (long long)items[i].msg->envelope->record_id);
        snprintf(b, sizeof b, "%d", items[i].msg->envelope->version);
        strbuf_pg_array_elem(rid, a);
        strbuf_pg_array_elem(ver, b);
    }
    strbuf_pg_array_close(rid);
    strbuf_pg_array_close(ver);
}

/* Marks the records processed before (linked, or withheld), so that a message seen twice has the
 * effect of one. */
static int skip_processed(PGconn *db, item_t *items, size_t n, char *err, size_t errlen)
{
    strbuf_t rid, ver;
    ids_array(&rid, &ver, items, n);
    const char *pv[] = {rid.s, ver.s};
    PGresult *r = db_query(db,
                           "SELECT u.i FROM unnest($1::bigint[], $2::int[]) WITH ORDINALITY"
                           " AS u(record_id, version, i) WHERE EXISTS (SELECT 1 FROM linkage.link l"
                           " WHERE l.record_id = u.record_id AND l.version = u.version)"
                           " OR EXISTS (SELECT 1 FROM linkage.optout_withheld w"
                           " WHERE w.record_id = u.record_id AND w.version = u.version)",
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
static int apply_optout(PGconn *db, item_t *items, size_t n, char *err, size_t errlen)
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
        const Ncap__V1__Envelope *e = items[i].msg->envelope;
        recs[m++] =
            (optout_record_t){e->record_id,
                              e->version,
                              e->audit,
                              e->trust,
                              e->submission_id,
                              items[i].outcome.ident.nhs_valid ? items[i].outcome.ident.nhs : "",
                              items[i].match.patient_id,
                              items[i].def->opt_out_applies};
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

/* Deprivation of each record's LSOA, where the definition lists it and linkage.imd knows it. */
static int lookup_imd(PGconn *db, item_t *items, size_t n, int (*imd)[2], char *err, size_t errlen)
{
    strbuf_t arr;
    strbuf_init(&arr);
    strbuf_pg_array_open(&arr);
    for (size_t i = 0; i < n; i++)
        strbuf_pg_array_elem(&arr, items[i].outcome.lsoa);
    strbuf_pg_array_close(&arr);
    const char *pv[] = {arr.s};
    PGresult *r = db_query(db,
                           "SELECT lsoa, imd_decile, imd_quintile FROM linkage.imd"
                           " WHERE lsoa = ANY($1::text[])",
                           1, pv, err, errlen);
    strbuf_free(&arr);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++) {
        imd[i][0] = imd[i][1] = 0;
        for (int k = 0; k < PQntuples(r) && items[i].outcome.lsoa[0]; k++)
            if (strcmp(PQgetvalue(r, k, 0), items[i].outcome.lsoa) == 0) {
                imd[i][0] = atoi(PQgetvalue(r, k, 1));
                imd[i][1] = atoi(PQgetvalue(r, k, 2));
            }
    }
    PQclear(r);
    return 0;
}

/* Drops the items skipped (freeing them), keeping the others in order. */
static void drop_skipped(item_t *items, size_t *n)
{
    size_t m = 0;
    for (size_t i = 0; i < *n; i++) {
        if (items[i].skip) {
            link_outcome_clear(&items[i].outcome);
            ncap__v1__raw_record__free_unpacked(items[i].msg, NULL);
            continue;
        }
        items[m++] = items[i];
    }
    *n = m;
}

/* Patients, deaths and deprivation for the records not skipped; compacts items to them. */
static int link_items(linkage_t *lk, PGconn *db, item_t *items, size_t *n, char *err, size_t errlen)
{
    drop_skipped(items, n);
    size_t m = *n;
    if (m == 0)
        return 0;
    int rc = -1;
    link_ident_t *ids = calloc(m, sizeof *ids);
    patient_match_t *match = calloc(m, sizeof *match);
    int64_t *pids = calloc(m, sizeof *pids);
    char(*dod)[11] = calloc(m, sizeof *dod);
    int(*imd)[2] = calloc(m, sizeof *imd);
    if (!ids || !match || !pids || !dod || !imd) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++)
        ids[i] = items[i].outcome.ident;
    if (patient_index_assign(db, &lk->params, ids, m, match, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < m; i++) {
        items[i].match = match[i];
        pids[i] = match[i].patient_id;
    }
    if (death_link_patients(db, &lk->params, ids, pids, m, dod, err, errlen) != 0 ||
        lookup_imd(db, items, m, imd, err, errlen) != 0)
        goto done;
    for (size_t i = 0; i < m; i++)
        if (link_record_add_linked(items[i].def, &items[i].outcome, dod[i], imd[i][0], imd[i][1]) !=
            0) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    rc = 0;
done:
    free(ids);
    free(match);
    free(pids);
    free(dod);
    free(imd);
    return rc;
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
        lk->params_loaded = 1;
        lk->params_version = version;
    }
    return 0;
}

static int process(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out, char *err,
                   size_t errlen)
{
    linkage_t *lk = state;
    item_t *items = calloc(in->n + 1, sizeof *items);
    if (!items) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    int rc = -1;
    ncap_record_t *raw = ncap_record_new();
    for (size_t i = 0; i < in->n; i++) {
        Ncap__V1__RawRecord *m =
            ncap__v1__raw_record__unpack(NULL, in->items[i].len, in->items[i].data);
        if (!m || !m->envelope) {
            ncap_log(LOG_ERROR, "dropped a message that is not an ncap.v1.RawRecord", NULL);
            if (m)
                ncap__v1__raw_record__free_unpacked(m, NULL);
            continue;
        }
        char aerr[512];
        const audit_def_t *def = audit_cache_get(lk->audits, m->envelope->audit, aerr, sizeof aerr);
        if (!def || message_fields_to_record(m->fields, m->n_fields, raw) != 0 ||
            link_record_prepare(def, m->envelope->record_id, raw, &items[n].outcome) != 0) {
            ncap_log(LOG_ERROR, "could not prepare record for linkage", "error",
                     def ? "out of memory" : aerr, NULL);
            link_outcome_clear(&items[n].outcome);
            ncap__v1__raw_record__free_unpacked(m, NULL);
            continue;
        }
        items[n].msg = m;
        items[n].def = def;
        n++;
    }
    if (n == 0) {
        rc = 0;
        goto done;
    }
    if (load_params(lk, db, err, errlen) != 0 || skip_processed(db, items, n, err, errlen) != 0 ||
        link_items(lk, db, items, &n, err, errlen) != 0 ||
        apply_optout(db, items, n, err, errlen) != 0)
        goto done;
    drop_skipped(items, &n);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    /* Links and the pseudonymised records, idempotently. */
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
        const Ncap__V1__Envelope *e = items[i].msg->envelope;
        char rid[32], ver[16], pid[32], sid[32], row[16], pseud[65];
        snprintf(rid, sizeof rid, "%lld", (long long)e->record_id);
        snprintf(ver, sizeof ver, "%d", e->version);
        snprintf(pid, sizeof pid, "%lld", (long long)items[i].match.patient_id);
        snprintf(sid, sizeof sid, "%lld", (long long)e->submission_id);
        snprintf(row, sizeof row, "%d", e->row_number);
        pseudonym_of(lk->key, items[i].match.patient_id, pseud);
        const char *vals[11] = {rid,      ver,      pid,     items[i].match.method,
                                e->audit, e->trust, e->site, e->local_record_id,
                                sid,      row,      pseud};
        for (int k = 0; k < 11; k++)
            strbuf_pg_array_elem(&a[k], vals[k]);
        for (int p = 0; p < items[i].outcome.n_problems; p++) {
            const link_problem_t *lp = &items[i].outcome.problems[p];
            const char *pv[NPROB] = {rid, ver, lp->field, lp->rule, lp->severity, lp->message};
            for (int k = 0; k < NPROB; k++)
                strbuf_pg_array_elem(&pr[k], pv[k]);
        }
    }
    strbuf_t payloads;
    strbuf_init(&payloads);
    strbuf_pg_array_open(&payloads);
    for (size_t i = 0; i < n; i++) {
        char *json = message_record_to_json(items[i].outcome.pseudo);
        strbuf_pg_array_elem(&payloads, json ? json : "{}");
        free(json);
    }
    strbuf_pg_array_close(&payloads);
    for (int k = 0; k < 11; k++)
        strbuf_pg_array_close(&a[k]);
    for (int k = 0; k < NPROB; k++)
        strbuf_pg_array_close(&pr[k]);
    const char *pl[] = {a[0].s, a[1].s, a[2].s, a[3].s, a[4].s,  a[5].s,
                        a[6].s, a[7].s, a[8].s, a[9].s, a[10].s, payloads.s};
    PGresult *ins = db_query(
        db,
        "WITH src AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[],"
        "   $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::int[], $11::text[],"
        "   $12::jsonb[]) AS s(record_id, version, patient_id, method, audit, trust, site, "
        "local_id,"
        "   submission_id, row_number, pseudonym, payload)),"
        " l AS (INSERT INTO linkage.link (record_id, version, patient_id, method)"
        "   SELECT DISTINCT ON (record_id, version) record_id, version, patient_id, method FROM src"
        "   ON CONFLICT DO NOTHING RETURNING record_id, version),"
        " p AS (INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
        "   local_id, submission_id, row_number, pseudonym, payload)"
        "   SELECT DISTINCT ON (record_id, version) s.record_id, s.version, audit, trust, site,"
        "   local_id, submission_id, row_number, pseudonym, payload FROM src s"
        "   JOIN l USING (record_id, version) ON CONFLICT DO NOTHING RETURNING record_id, version)"
        " SELECT record_id, version FROM p",
        12, pl, err, errlen);
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
    if (!ok) {
        PQclear(ins);
        goto done;
    }
    for (int r = 0; r < PQntuples(ins); r++) {
        int64_t rid = strtoll(PQgetvalue(ins, r, 0), NULL, 10);
        int ver = atoi(PQgetvalue(ins, r, 1));
        for (size_t i = 0; i < n; i++)
            if (!items[i].is_new && items[i].msg->envelope->record_id == rid &&
                items[i].msg->envelope->version == ver) {
                items[i].is_new = 1;
                break;
            }
    }
    PQclear(ins);
    long long now = daemon_wall_us();
    for (size_t i = 0; i < n; i++) {
        if (!items[i].is_new)
            continue;
        Ncap__V1__PseudoRecord pm = NCAP__V1__PSEUDO_RECORD__INIT;
        Ncap__V1__Envelope env = *items[i].msg->envelope;
        char id[33], pseud[65];
        message_new_id(id);
        env.message_id = id;
        env.linked_at_us = now;
        pseudonym_of(lk->key, items[i].match.patient_id, pseud);
        pm.envelope = &env;
        pm.pseudonym = pseud;
        if (message_fields_from_record(items[i].outcome.pseudo, &pm.fields, &pm.n_fields) != 0)
            continue;
        stage_batch_push_msg(out, &pm.base);
        message_fields_free(pm.fields, pm.n_fields);
    }
    rc = 0;
done:
    for (size_t i = 0; i < n; i++) {
        link_outcome_clear(&items[i].outcome);
        ncap__v1__raw_record__free_unpacked(items[i].msg, NULL);
    }
    free(items);
    ncap_record_destroy(&raw);
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
    PGresult *r =
        db_query(db,
                 "SELECT r.record_id, r.version, rec.audit, rec.trust, r.site, rec.local_id,"
                 " r.submission_id, r.row_number, r.payload::text"
                 " FROM ingest.raw_record r JOIN ingest.record rec USING (record_id)"
                 " WHERE r.ingested_at < now() - make_interval(secs => $2::double precision / 1000)"
                 " AND NOT EXISTS (SELECT 1 FROM linkage.link l"
                 "   WHERE l.record_id = r.record_id AND l.version = r.version)"
                 " AND NOT EXISTS (SELECT 1 FROM linkage.optout_withheld w"
                 "   WHERE w.record_id = r.record_id AND w.version = r.version)"
                 " ORDER BY r.ingested_at, r.record_id LIMIT $1::int",
                 2, p, err, errlen);
    if (!r)
        return -1;
    ncap_record_t *rec = ncap_record_new();
    for (int i = 0; rec && i < PQntuples(r); i++) {
        Ncap__V1__Envelope env;
        char id[33];
        stage_envelope_from_row(r, i, &env, id);
        if (message_record_from_json(PQgetvalue(r, i, 8), rec) != 0)
            continue;
        Ncap__V1__RawRecord m = NCAP__V1__RAW_RECORD__INIT;
        m.envelope = &env;
        if (message_fields_from_record(rec, &m.fields, &m.n_fields) != 0)
            continue;
        stage_batch_push_msg(in, &m.base);
        message_fields_free(m.fields, m.n_fields);
    }
    ncap_record_destroy(&rec);
    PQclear(r);
    return 0;
}

/* The death sweep (death_sweep.h): deaths loaded after the records of their patients. */
static int revise(void *state, PGconn *db, int limit, stage_batch_t *out, char *err, size_t errlen)
{
    linkage_t *lk = state;
    death_sweep_counts_t c = {0};
    /* The two steps in transactions of their own: each takes advisory locks on blocking keys
     * (sorted, as patient_index does), and two sets in one transaction could deadlock with a
     * record being linked. */
    if (load_params(lk, db, err, errlen) != 0 ||
        death_sweep_link(db, &lk->params, limit, &c, err, errlen) != 0 ||
        (c.deaths == 0 && death_sweep_revise(db, lk->audits, limit, out, &c, err, errlen) != 0))
        return -1;
    char a[24], b[24];
    if (c.links > 0) {
        snprintf(a, sizeof a, "%zu", c.deaths);
        snprintf(b, sizeof b, "%zu", c.links);
        ncap_log(LOG_INFO, "death sweep linked deaths to patients already held", "deaths", a,
                 "links", b, NULL);
    }
    if (c.revised > 0) {
        snprintf(a, sizeof a, "%zu", c.patients);
        snprintf(b, sizeof b, "%zu", c.revised);
        ncap_log(LOG_INFO, "death sweep passed on revisions of records whose date of death changed",
                 "patients", a, "records", b, NULL);
    }
    return (int)(c.deaths + c.patients);
}

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    int rc = daemon_config_parse(&cfg, "ncap-linkd", "linkage",
                                 "Links each record to its patient: a valid NHS number with an "
                                 "agreeing date of birth links at once,\nelse the record is "
                                 "scored (Fellegi-Sunter) against the patients sharing a blocking "
                                 "key\n(linkage.block) and joins the best one above the "
                                 "threshold. Links patients to the register\nof deaths, "
                                 "withholds records under the opt-out, adds deprivation, checks "
                                 "identifiers,\nderives the audit's derived fields, and passes "
                                 "the record to validation with a keyed\npseudonym in place of "
                                 "every identifier. On the backlog timer, one instance links "
                                 "deaths\nloaded since to the patients already held and passes "
                                 "on again, as link revisions, the records\nwhose date of death "
                                 "changed.",
                                 argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    linkage_t lk = {0};
    char err[512];
    if (pseudonym_load_key(cfg.key_file, lk.key, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "cannot start without the pseudonymisation key", "error", err, NULL);
        fprintf(stderr, "ncap-linkd: %s\n", err);
        return 2;
    }
    lk.audits = audit_cache_new(cfg.audit_dir);
    stage_ops_t ops = {.downstream = "validation",
                       .state = &lk,
                       .process = process,
                       .backlog = backlog,
                       .revise = revise,
                       .gather_ms = 5};
    rc = stage_run(&ops, &cfg);
    audit_cache_destroy(&lk.audits);
    term_freq_destroy(&lk.tf);
    return rc;
}
