/* ncap_metrics_exposition - prints the text exposition of a daemon's metrics with every metric
 * present (each counter, gauge and histogram, a database error class, and each stage's own gauge:
 * publish's per audit), for tests/e2e/test_monitoring.sh to check that every expression of the
 * alert rules and the dashboard names a metric the daemons export. */
#include <stdio.h>

#include "metrics.h"
#include "publish_gauge.h"

int main(void)
{
    metrics_t *m = metrics_new("publish", "ncap-publishd", NCAP_VERSION);
    if (!m)
        return 1;
    metrics_db_error(m, "40001");
    const stage_gauge_t own[] = {PUBLISH_RELEASE_GAUGE};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        metrics_family_set(m, own[i].name, own[i].help, own[i].label, "nhfd", 0);
    strbuf_t out = {0};
    metrics_render(m, &out);
    int rc = out.oom ? 1 : 0;
    if (out.s)
        fputs(out.s, stdout);
    strbuf_free(&out);
    metrics_destroy(&m);
    return rc;
}
