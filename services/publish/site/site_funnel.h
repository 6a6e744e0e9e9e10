/* site_funnel.h - a metric's funnel plot as inline SVG: each trust a dot (its size across, its
 * value up; a link to its page, with its figures in a tooltip and its accessible name), England's
 * value as a line, the 95% and 99.8% control limits drawn by the funnel code that made the release
 * (common/stats/funnel.h, with the target, phi and tau2 latest.json states), and outliers labelled
 * with their code and flag. Suppressed trusts are not drawn. Pure. */
#ifndef NCAP_SITE_FUNNEL_H
#define NCAP_SITE_FUNNEL_H

#include <stdbool.h>

#include "site_release.h"
#include "site_svg.h"
#include "strbuf.h"

/* Whether a metric has a funnel plot: proportions and ratios (not medians and means). */
bool site_funnel_applies(const site_metric_t *m);
/* The x figure of a row in the funnel: a proportion's denominator, a ratio's expected count. */
bool site_funnel_x(const site_audit_t *a, const site_metric_t *m, size_t row, double *x);
/* The control limits at size x: lim = {lower95, upper95, lower998, upper998}. false when the
 * metric has no funnel in latest.json or x is out of range. */
bool site_funnel_limits(const site_metric_t *m, double x, double lim[4]);
/* The plot of metric m's trusts (a page at depth links their pages), width x height. Appends
 * nothing (and returns false) when no trust has a value to draw. */
bool site_funnel_svg(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int depth,
                     int width, int height);

#endif
