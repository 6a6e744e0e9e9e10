/* site_runchart.h - a unit's run chart of a metric as inline SVG, from spc.csv (NHS England's
 * "Making Data Count": the months, the mean and the process limits, each special-cause month
 * marked by colour AND shape), its Making Data Count icons from spc_summary.csv (variation and
 * assurance, each an icon with its meaning in words), and the months as a table. Hidden months
 * (disclosure control: no value) are not drawn; the table says so. Pure. */
#ifndef NCAP_SITE_RUNCHART_H
#define NCAP_SITE_RUNCHART_H

#include <stdbool.h>

#include "site_release.h"
#include "strbuf.h"

/* The chart and its table for (level, area) of metric m; false (nothing appended) when spc.csv
 * has no month of it. */
bool site_runchart(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *level,
                   const char *area, int width, int height);
/* The Making Data Count icons of (level, area) of m from spc_summary.csv, with their words;
 * "no run chart" when there is none. */
void site_mdc_icons(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *level,
                    const char *area);

#endif
