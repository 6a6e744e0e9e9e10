/* ncap-linkd - links each raw record to a patient, checks its identifiers, derives what analysis
 * needs, and passes it on with a pseudonym in place of every identifier. */
#include <stdio.h>

#include "daemon.h"
#include "linkage_stage.h"
#include "log.h"
#include "pseudonym.h"

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
                                 "changed, and those pseudonymised under another key (after the "
                                 "key\nfile was replaced: README.md, \"Rotating the "
                                 "pseudonymisation key\").",
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
    stage_ops_t ops = linkage_stage_ops(&lk);
    rc = stage_run(&ops, &cfg);
    audit_cache_destroy(&lk.audits);
    linkage_stage_clear(&lk);
    return rc;
}
