/* ncap-metricd - turns each validated record into its contribution to the audit's key metrics,
 * for its trust and quarter, always from the latest version of the record. */
#include "daemon.h"
#include "log.h"
#include "metric_stage.h"
#include "stage.h"

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    int rc = daemon_config_parse(&cfg, "ncap-metricd", "metric",
                                 "Computes each validated record's contribution (numerator, "
                                 "denominator) to its audit's key metrics,\nfor its trust and "
                                 "quarter, always from the latest version of the record; tells "
                                 "publish what changed.",
                                 argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    metric_t ms = {audit_cache_new(cfg.audit_dir)};
    stage_ops_t ops = metric_stage_ops(&ms);
    rc = stage_run(&ops, &cfg);
    audit_cache_destroy(&ms.audits);
    return rc;
}
