/* final_late.c - a final release's late.csv from publish.final_late */
#include "final_late.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "period_export.h"

long long final_late_csv(PGconn *db, const char *audit, int year, char **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    char y[16];
    snprintf(y, sizeof y, "%d", year);
    const char *p[] = {audit, y};
    /* O(the year's late records), after a round that published some */
    PGresult *r = db_query(db,
                           "SELECT trust, period, count(*) FILTER (WHERE NOT corrected),"
                           " count(*) FILTER (WHERE corrected) FROM publish.final_late"
                           " WHERE audit = $1 AND year = $2::int GROUP BY 1, 2"
                           " ORDER BY trust COLLATE \"C\", period COLLATE \"C\"",
                           2, p, err, errlen);
    if (!r)
        return -1;
    char *buf;
    size_t len = 0;
    FILE *f = period_text_open(&buf, &len, FINAL_LATE_HEADER);
    long long records = 0;
    for (int i = 0; f && i < PQntuples(r); i++) {
        const char *cols[] = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                              PQgetvalue(r, i, 3)};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
        records += strtoll(cols[2], NULL, 10) + strtoll(cols[3], NULL, 10);
    }
    PQclear(r);
    return (*out = period_text_close(f, &buf, err, errlen)) ? records : -1;
}

/* period_export's text of a final: its "period" is final/<year>, the folder under the audit's. */
static int export_text(void *ctx, PGconn *db, const audit_def_t *def, const char *audit,
                       const char *period, char **text, char *err, size_t errlen)
{
    (void)ctx;
    (void)def; /* a final's late records are counted whatever its definition now says */
    int year = atoi(period + strlen("final/"));
    return final_late_csv(db, audit, year, text, err, errlen) < 0 ? -1 : 0;
}

int final_late_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                      size_t errlen)
{
    return period_export(db, audits,
                         "SELECT f.audit, 'final/' || f.year, e.content_hash FROM publish.final f"
                         " LEFT JOIN publish.final_late_export e ON e.audit = f.audit"
                         " AND e.period = 'final/' || f.year ORDER BY 1, 2",
                         "publish.final_late_export", out_dir, "late.csv", export_text, NULL, err,
                         errlen);
}
