/* site_inequality.h - a metric's inequality breakdowns for England (deprivation, ethnicity, sex,
 * age: the rows of latest.csv whose breakdown is not "all") as inline SVG, each category a dot
 * with its 95% interval as a line and England's value as a line across, then the same as a table;
 * and the slope index of inequality in words. Suppressed categories are not drawn. Pure. */
#ifndef NCAP_SITE_INEQUALITY_H
#define NCAP_SITE_INEQUALITY_H

#include "site_release.h"
#include "strbuf.h"

/* Every breakdown of m at England level, each under an <h3>. */
void site_inequality(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int width);

#endif
