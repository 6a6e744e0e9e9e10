/* release_diff.c - `ncap release diff`: the cells that changed between two revisions of a period,
 * and why, from the releases' rows and the counts publish keeps per revision (migration 0025) */
#include "release_diff.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_db.h"
#include "db.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs("usage: ncap release diff --audit A --period P rX rY\n"
          "\n"
          "Lists, as CSV, every cell (level, area, metric, breakdown, category) whose numerator,\n"
          "denominator, value, outlier flag or note differs between revisions rX and rY of audit\n"
          "A's period P (a provisional or final revision still kept; r3 or 3), with the old and\n"
          "new figures and why, as far as the database can tell: the records of the cell's trusts\n"
          "(a site's trust, a region's trusts, every trust for England) that the revisions after\n"
          "rX up to rY took in, counted by publish as it made them: added (new to the period),\n"
          "corrected (a new version), relinked (a new link revision of the same version): deaths\n"
          "loaded (a death loaded or removed, the register's coverage reaching the follow-up) or\n"
          "re-keyed (a new pseudonym, nothing else: a new pseudonymisation key, or the patient\n"
          "merged with another that a record showed to be the same person), and withdrawn\n"
          "(moved to another period or none). A cell whose trusts' records did not change moved\n"
          "with the others (England's value, the funnel limits, disclosure control). Connects\n"
          "through $NCAP_PG as the administrator.\n"
          "\n"
          "Exit status: 0 listed (also when nothing changed), 1 a revision not kept or PostgreSQL\n"
          "trouble, 2 usage.\n",
          out);
}

/* The changed cells ($1, $2 the old and new release ids) with the records changed meanwhile
 * among their trusts ($3-$6: audit, period, old and new revision). Cost: O(rows of the two
 * revisions) plus, per region row, its trusts. */
static const char diff_sql[] =
    "WITH a AS (SELECT * FROM publish.output WHERE release_id = $1::bigint),"
    " b AS (SELECT * FROM publish.output WHERE release_id = $2::bigint),"
    " ch AS (SELECT c.trust, sum(c.added) AS added, sum(c.corrected) AS corrected,"
    "   sum(c.relinked) AS relinked, sum(c.rekeyed) AS rekeyed, sum(c.withdrawn) AS withdrawn"
    "   FROM publish.release_change c"
    "   JOIN publish.release r USING (release_id) WHERE r.audit = $3 AND r.period = $4"
    "   AND r.revision > $5::int AND r.revision <= $6::int GROUP BY c.trust),"
    " d AS (SELECT coalesce(b.level, a.level) AS level, coalesce(b.area_code, a.area_code) AS area,"
    "   coalesce(b.parent_code, a.parent_code) AS parent, coalesce(b.metric_id, a.metric_id) AS m,"
    "   coalesce(b.breakdown, a.breakdown) AS bd, coalesce(b.category, a.category) AS cat,"
    "   a.numerator AS n0, a.denominator AS d0, a.value AS v0, a.outlier AS f0, a.note AS t0,"
    "   b.numerator AS n1, b.denominator AS d1, b.value AS v1, b.outlier AS f1, b.note AS t1,"
    "   coalesce(b.ordinal, a.ordinal) AS ord FROM a FULL JOIN b ON a.level = b.level"
    "   AND a.area_code = b.area_code AND a.metric_id = b.metric_id"
    "   AND a.breakdown = b.breakdown AND a.category = b.category"
    "   WHERE a.release_id IS NULL OR b.release_id IS NULL"
    "   OR a.numerator IS DISTINCT FROM b.numerator OR a.denominator IS DISTINCT FROM b.denominator"
    "   OR a.value IS DISTINCT FROM b.value OR a.outlier IS DISTINCT FROM b.outlier"
    "   OR a.note IS DISTINCT FROM b.note)"
    " SELECT d.level, d.area, d.m, d.bd, d.cat, d.n0, d.d0, d.v0, d.f0, d.t0, d.n1, d.d1, d.v1,"
    "   d.f1, d.t1, coalesce(w.added, 0), coalesce(w.corrected, 0), coalesce(w.relinked, 0),"
    "   coalesce(w.rekeyed, 0), coalesce(w.withdrawn, 0) FROM d LEFT JOIN LATERAL (SELECT"
    "   sum(added) AS added, sum(corrected) AS corrected, sum(relinked) AS relinked,"
    "   sum(rekeyed) AS rekeyed, sum(withdrawn) AS withdrawn"
    "   FROM ch WHERE CASE d.level WHEN 'trust' THEN ch.trust = d.area"
    "   WHEN 'site' THEN ch.trust = d.parent WHEN 'region' THEN ch.trust IN (SELECT o.area_code"
    "   FROM publish.output o WHERE o.release_id IN ($1::bigint, $2::bigint)"
    "   AND o.level = 'trust' AND o.parent_code = d.area) ELSE true END) w ON true"
    " ORDER BY d.ord";

/* A revision argument (r3, r0003 or 3) as its number, or 0 when it is not one. */
static int revision_arg(const char *s)
{
    if (*s == 'r' || *s == 'R')
        s++;
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v < 1000000 ? (int)v : 0;
}

/* The release id of revision rev (text) of audit's period, or NULL after saying why. */
static char *release_id(PGconn *db, const char *audit, const char *period, const char *rev)
{
    char err[1024];
    const char *p[] = {audit, period, rev};
    PGresult *r = db_query(db,
                           "SELECT release_id, status FROM publish.release WHERE audit = $1"
                           " AND period = $2 AND revision = $3::int",
                           3, p, err, sizeof err);
    if (!r) {
        fprintf(stderr, "ncap release diff: %s\n", err);
        return NULL;
    }
    char *id = PQntuples(r) == 1 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    if (PQntuples(r) != 1)
        fprintf(stderr,
                "ncap release diff: %s %s has no revision r%04d: it was never made or was pruned "
                "(publish keeps a period's newest --keep provisional revisions and every final)\n",
                audit, period, atoi(rev));
    PQclear(r);
    return id;
}

/* The reasons of a changed cell from its trusts' counts (columns 15-19 of row i): each "N <kind>
 * records", a link revision as relinked "(deaths loaded)" (its linked values re-derived: a death
 * loaded or removed, the register's coverage reaching its follow-up) or "re-keyed" (a new pseudonym,
 * nothing else: under a new key, or the patient's after a merge; migration 0028). */
static void why(const PGresult *r, int i, char *out, size_t len)
{
    static const char *const kind[] = {"added", "corrected", "relinked", "re-keyed", "withdrawn"};
    static const char *const detail[] = {"", "", " (deaths loaded)", " (new pseudonym: a new key, or patients merged)",
                                         ""};
    size_t at = 0;
    out[0] = '\0';
    for (int k = 0; k < 5; k++) {
        const char *n = PQgetvalue(r, i, 15 + k);
        if (strcmp(n, "0") != 0 && at < len)
            at += (size_t)snprintf(out + at, len - at, "%s%s %s records%s", at ? "; " : "", n,
                                   kind[k], detail[k]);
    }
    if (!out[0])
        snprintf(out, len, "%s",
                 strcmp(PQgetvalue(r, i, 0), "england") == 0 ||
                         strcmp(PQgetvalue(r, i, 0), "region") == 0
                     ? "no record change recorded between these revisions"
                     : "its trust's records unchanged: moved with the others (England's value, "
                       "funnel limits, disclosure control)");
}

int release_diff(int argc, char **argv)
{
    enum { O_AUDIT = 1000, O_PERIOD, O_HELP };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"period", required_argument, NULL, O_PERIOD},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *audit = NULL, *period = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            audit = optarg;
            break;
        case O_PERIOD:
            period = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error_option("release diff", c, argv);
        }
    }
    if (!audit || !*audit)
        return usage_error("release diff", "missing --audit");
    if (!period || !*period)
        return usage_error("release diff", "missing --period, e.g. --period 2025Q3");
    if (argc - optind != 2)
        return usage_error("release diff", "expected two revisions, e.g. r3 r5; got %d",
                           argc - optind);
    int rev[2];
    for (int k = 0; k < 2; k++)
        if (!(rev[k] = revision_arg(argv[optind + k])))
            return usage_error("release diff",
                               "invalid revision \"%s\", expected r<N> or <N>, e.g. r3",
                               argv[optind + k]);
    if (rev[0] == rev[1])
        return usage_error("release diff", "the two revisions are the same (r%d)", rev[0]);
    char revs[2][16];
    for (int k = 0; k < 2; k++)
        snprintf(revs[k], sizeof revs[k], "%d", rev[k]);
    PGconn *db = command_db_connect("release diff");
    if (!db)
        return 1;
    char *id0 = release_id(db, audit, period, revs[0]), *id1 = NULL;
    int rc = 1;
    if (id0 && (id1 = release_id(db, audit, period, revs[1]))) {
        /* the counts are of the revisions after the older one, up to the newer */
        int older = rev[0] < rev[1] ? 0 : 1;
        const char *p[] = {id0, id1, audit, period, revs[older], revs[1 - older]};
        char err[1024];
        PGresult *r = db_query(db, diff_sql, 6, p, err, sizeof err);
        if (!r)
            fprintf(stderr, "ncap release diff: %s\n", err);
        else {
            printf("level,area_code,metric,breakdown,category,old_numerator,old_denominator,"
                   "old_value,old_outlier,old_note,new_numerator,new_denominator,new_value,"
                   "new_outlier,new_note,why\n");
            for (int i = 0; i < PQntuples(r); i++) {
                for (int k = 0; k < 15; k++)
                    printf("%s,", PQgetvalue(r, i, k));
                char text[300];
                why(r, i, text, sizeof text);
                printf("%s\n", text);
            }
            fprintf(stderr, "%s %s: %d cells changed from r%04d to r%04d\n", audit, period,
                    PQntuples(r), rev[0], rev[1]);
            PQclear(r);
            rc = 0;
        }
    }
    free(id0);
    free(id1);
    PQfinish(db);
    return rc;
}
