/* ncap-validated - applies each audit's dataset rules to pseudonymised records; errors reject a
 * record, warnings annotate it; every problem is kept for the trust's feedback. */
#include "daemon.h"
#include "log.h"
#include "stage.h"
#include "validation_stage.h"

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
    stage_ops_t ops = validation_stage_ops(&vs);
    rc = stage_run(&ops, &cfg);
    audit_cache_destroy(&vs.audits);
    return rc;
}
