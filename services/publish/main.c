/* ncap-publishd - rebuilds the quarterly release of every audit period whose metrics changed:
 * values and 95% confidence intervals per trust and nationally, versioned, immutable, as files. */
#include <malloc.h>

#include "daemon.h"
#include "db.h"
#include "log.h"
#include "publish_gauge.h"
#include "publish_stage.h"
#include "release_files.h"
#include "site_build.h"

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    int rc = daemon_config_parse(&cfg, "ncap-publishd", "publish",
                                 "Rebuilds the provisional quarterly release of every audit period "
                                 "whose metrics changed: numerator,\ndenominator, value and 95% "
                                 "Wilson interval per trust and for England. Each change is a new\n"
                                 "immutable revision, written under --out as CSV and JSON.",
                                 argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    /* A round allocates and frees arrays of megabytes (a period's sums, sums_cache.h): each from
     * its own mapping, returned at free, so that the heap does not grow in holes between rounds
     * (glibc would otherwise raise the threshold past them after the first free). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    publish_t ps = {.out_dir = cfg.out_dir,
                    .audits = audit_cache_new(cfg.audit_dir),
                    .interval_s = cfg.interval_s,
                    .keep = cfg.keep};
    daemon_install_signals();
    PGconn *db = daemon_connect(&cfg);
    if (db) {
        char err[1024];
        if (release_files_export_missing(db, cfg.out_dir, err, sizeof err) < 0)
            ncap_log(LOG_WARN, "could not check release files", "error", err, NULL);
        if (release_files_remove_pruned(db, cfg.out_dir, err, sizeof err) < 0)
            ncap_log(LOG_WARN, "could not remove pruned revisions' files", "error", err, NULL);
        if (site_build(cfg.out_dir, NULL, err, sizeof err) < 0) /* the portal of what is there */
            ncap_log(LOG_WARN, "could not write the portal", "error", err, NULL);
        PQfinish(db);
    }
    stage_ops_t ops = publish_stage_ops(&ps);
    ops.gauge = PUBLISH_RELEASE_GAUGE;
    rc = stage_run(&ops, &cfg);
    publish_stage_finish(&ps);
    publish_stage_clear(&ps);
    audit_cache_destroy(&ps.audits);
    return rc;
}
