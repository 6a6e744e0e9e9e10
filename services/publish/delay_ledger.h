/* delay_ledger.h - the delay ledger of each period (README.md, "delays.csv"): per trust and for
 * England, how many record versions were published and the median and 90th percentile of their
 * delay from the clinical event (the period field) to submission, in days, and from submission to
 * publication, in seconds; from the histograms publish.delay keeps (migration 0026), never a
 * record. Written as delays.csv beside each period's latest release. */
#ifndef NCAP_DELAY_LEDGER_H
#define NCAP_DELAY_LEDGER_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_cache.h"

/* delays.csv's header. */
#define DELAY_LEDGER_HEADER "audit,period,level,area_code,stage,records,median,p90,unit"

/* The text of audit period's delays.csv (malloc'd, into *out): a row per area (England first,
 * then trusts by code) and stage; median and p90 empty where fewer than min_count record versions
 * (the definition's disclosure) were published. Returns the number of rows, or -1 with err. */
int delay_ledger_csv(PGconn *db, const char *audit, const char *period, long long min_count,
                     char **out, char *err, size_t errlen);
/* Writes delays.csv into out_dir/<audit>/<period>/ for every period whose ledger changed since it
 * was last written (publish.delay_export keeps each file's hash). A folder that cannot be written
 * is logged and tried again next time. Returns the number of files written, or -1 with err. */
int delay_ledger_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                        size_t errlen);

#endif
