/* pipeline_status.c - counts per stage */
#include "pipeline_status.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"

/* One statement: processed, backlog, last-minute count and quarantined records for each stage. A
 * stage's backlog counts link revisions it has not taken yet like records, and leaves out what it
 * holds in quarantine; linkage's also counts what its death sweep has still to look at (deaths not
 * yet considered, patients whose death link changed, record versions whose follow-up the register
 * now covers: an index range scan, migration 0017). */
static const char *status_sql =
    "SELECT"
    " (SELECT count(*) FROM ingest.raw_record),"
    " 0,"
    " (SELECT count(*) FROM ingest.raw_record WHERE ingested_at > now() - interval '60 s'),"
    " 0,"
    " (SELECT count(*) FROM linkage.link) + (SELECT count(*) FROM linkage.optout_withheld),"
    " (SELECT count(*) FROM ingest.raw_record r WHERE NOT EXISTS (SELECT 1 FROM linkage.link l"
    "   WHERE l.record_id = r.record_id AND l.version = r.version) AND NOT EXISTS (SELECT 1"
    "   FROM linkage.optout_withheld w WHERE w.record_id = r.record_id"
    "   AND w.version = r.version) AND NOT EXISTS (SELECT 1 FROM linkage.quarantine q"
    "   WHERE q.record_id = r.record_id AND q.version = r.version AND q.held))"
    " + (SELECT count(*) FROM linkage.death WHERE considered_at IS NULL)"
    " + (SELECT count(*) FROM linkage.death_recheck)"
    " + (SELECT count(*) FROM linkage.death_coverage c JOIN linkage.pseudo_record p"
    "   ON p.follow_up_due <= c.covers_to),"
    " (SELECT count(*) FROM linkage.link WHERE linked_at > now() - interval '60 s'),"
    " (SELECT count(*) FROM linkage.quarantine WHERE held),"
    " (SELECT count(*) FROM validation.record),"
    " (SELECT count(*) FROM linkage.pseudo_record p WHERE NOT EXISTS (SELECT 1 FROM"
    "   validation.record v WHERE v.record_id = p.record_id AND v.version = p.version"
    "   AND v.link_revision >= p.revision) AND NOT EXISTS (SELECT 1 FROM validation.quarantine q"
    "   WHERE q.record_id = p.record_id AND q.version = p.version"
    "   AND q.link_revision >= p.revision AND q.held)),"
    " (SELECT count(*) FROM validation.record WHERE validated_at > now() - interval '60 s'),"
    " (SELECT count(*) FROM validation.quarantine WHERE held),"
    " (SELECT count(*) FROM metric.processed),"
    " (SELECT count(*) FROM validation.record v WHERE NOT EXISTS (SELECT 1 FROM metric.processed"
    "   m WHERE m.record_id = v.record_id AND m.version = v.version"
    "   AND m.link_revision >= v.link_revision) AND NOT EXISTS (SELECT 1 FROM metric.quarantine q"
    "   WHERE q.record_id = v.record_id AND q.version = v.version"
    "   AND q.link_revision >= v.link_revision AND q.held)),"
    " (SELECT count(*) FROM metric.processed WHERE processed_at > now() - interval '60 s'),"
    " (SELECT count(*) FROM metric.quarantine WHERE held),"
    " (SELECT count(*) FROM publish.seen),"
    " (SELECT count(*) FROM metric.record_state r LEFT JOIN publish.seen s USING (record_id)"
    "   WHERE s.record_id IS NULL OR s.version <> r.version"
    "   OR s.link_revision <> r.link_revision),"
    " (SELECT count(*) FROM publish.seen WHERE published_at > now() - interval '60 s'),"
    " 0";

const char *const pipeline_stage_names[PIPELINE_STAGES] = {"ingest", "linkage", "validation",
                                                           "metric", "publish"};

int pipeline_status_read(PGconn *db, stage_status_t out[PIPELINE_STAGES], char *err, size_t errlen)
{
    const char *const *names = pipeline_stage_names;
    PGresult *r = db_query(db, status_sql, 0, NULL, err, errlen);
    if (!r)
        return -1;
    for (int s = 0; s < PIPELINE_STAGES; s++) {
        out[s].name = names[s];
        out[s].processed = strtoll(PQgetvalue(r, 0, 4 * s), NULL, 10);
        out[s].backlog = strtoll(PQgetvalue(r, 0, 4 * s + 1), NULL, 10);
        out[s].rate = (double)strtoll(PQgetvalue(r, 0, 4 * s + 2), NULL, 10) / 60.0;
        out[s].quarantined = strtoll(PQgetvalue(r, 0, 4 * s + 3), NULL, 10);
        out[s].instances = 0;
    }
    PQclear(r);
    r = db_query(db,
                 "SELECT stage, count(*) FROM ops.instance WHERE heartbeat_at > now() - "
                 "interval '5 seconds' GROUP BY stage",
                 0, NULL, err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        for (int s = 0; s < PIPELINE_STAGES; s++)
            if (strcmp(PQgetvalue(r, i, 0), names[s]) == 0)
                out[s].instances = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    PQclear(r);
    return 0;
}
