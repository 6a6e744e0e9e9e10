/* outlier_store.h - outlier cases in PostgreSQL (publish.outlier_case, migration 0020): opened,
 * updated and cleared from a release's funnel flags, moved on past their deadlines, listed for the
 * audit team (outliers.csv, `ncap outliers list`) and shown (`ncap outliers show`). The states and
 * deadlines are outlier_process.h's; every change of state is kept in publish.outlier_transition
 * by the table's trigger, in the writer's transaction. */
#ifndef NCAP_OUTLIER_STORE_H
#define NCAP_OUTLIER_STORE_H

#include <libpq-fe.h>
#include <stdio.h>

#include "audit_cache.h"
#include "benchmark.h"
#include "outlier_gate.h"

/* The flag that shortens a working day for tests and demonstrations: a day is this many seconds
 * (1 to 86400), weekends not skipped (outlier_due). Read by publish and by `ncap outliers`. */
#define OUTLIER_DAY_SECONDS_ENV "NCAP_OUTLIER_DAY_SECONDS"
/* The audit team's folder (outliers.csv), apart from the public releases. */
#define OUTLIER_TEAM_OUT_ENV "NCAP_TEAM_OUT"

/* The day length of OUTLIER_DAY_SECONDS_ENV: 0 (working days of the calendar) when unset, or -1
 * with err for a value that is not a whole number from 1 to 86400. */
long long outlier_day_seconds(char *err, size_t errlen);
/* The audit team's folder: $NCAP_TEAM_OUT, else "team" beside the releases folder out_dir
 * (releases/ -> team/). */
void outlier_team_dir(const char *out_dir, char *buf, size_t len);

/* Opens a case (detected) for each unit row (outlier_gate_unit_row) of rel flagged alert or alarm,
 * and opens again a closed one; updates the figures of every case of the period's units; closes
 * an unclosed case whose unit is in control (corrected data cleared it). One statement. Returns 0
 * or -1 with err. */
int outlier_store_release(PGconn *db, const char *audit, const char *period,
                          const benchmark_release_t *rel, char *err, size_t errlen);

/* The units of the period's published cases into *units (n of them; strings in the result, which
 * the caller clears after using them), or NULL with err. */
PGresult *outlier_store_published(PGconn *db, const char *audit, const char *period,
                                  outlier_unit_t **units, size_t *n, char *err, size_t errlen);

/* Moves every open case past its deadline (its audit's `outliers:` days from when it entered its
 * state, day_seconds as outlier_due) one stage on. Returns the (audit, period) pairs where a case
 * was published (their releases must be rebuilt to show its alarm), or NULL with err; *moved the
 * cases moved. Cost: O(open cases) and one UPDATE per case moved. */
PGresult *outlier_store_advance(PGconn *db, audit_cache_t *audits, long long day_seconds,
                                int *moved, char *err, size_t errlen);

/* Which cases a list shows; NULL members match all. */
typedef struct {
    const char *audit, *period, *trust, *state;
} outlier_filter_t;

/* The header of outliers.csv and `ncap outliers list --csv`. */
#define OUTLIER_CSV_HEADER                                                                         \
    "case_id,audit,period,metric,level,area_code,trust,state,since,due,flag,public_flag,"          \
    "numerator,denominator,expected,value,england_value,funnel_lower998,funnel_upper998,"          \
    "notified_at,responses,detected_seconds,trust_notified_seconds,trust_responded_seconds"

/* The cases matching f as CSV (OUTLIER_CSV_HEADER, one line per case by audit, period, metric,
 * level, area; times ISO 8601 UTC, `due` empty for a case without a deadline or of an audit whose
 * definition does not load; the last three the seconds the case spent in each stage it has left,
 * from publish.outlier_transition, empty for a stage it has not left (its time so far is `since`'s)
 * or never entered), in *csv (malloc'd). Returns the cases, or -1 with err. */
int outlier_store_csv(PGconn *db, audit_cache_t *audits, long long day_seconds,
                      const outlier_filter_t *f, char **csv, char *err, size_t errlen);

/* Writes the outliers.csv of every audit period with cases whose content changed since it was
 * last written, to team_dir/<audit>/<period>/outliers.csv. The file is written before the
 * transaction commits: after a rollback the next call writes it again. A file that cannot be
 * written is logged and tried again on the next call, never failing the caller (a release is not
 * held back by the team's folder). Cost: O(cases). Returns the files written, or -1 with err (a
 * database error). */
int outlier_store_export(PGconn *db, audit_cache_t *audits, long long day_seconds,
                         const char *team_dir, char *err, size_t errlen);

/* `ncap outliers show ID`: the case, its transitions and responses, as text to out. Returns 1, 0
 * when there is no such case, -1 with err. */
int outlier_store_show(PGconn *db, audit_cache_t *audits, long long day_seconds, long long case_id,
                       FILE *out, char *err, size_t errlen);

#endif
