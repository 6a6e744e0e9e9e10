/* site_pages.h - the portal's page kinds, each a pure function of the releases read
 * (site_release.h) into a strbuf:
 *   index.html                   home: the audits by speciality, each with its latest period,
 *                                status and last update; every trust
 *   audit/<audit>/index.html     an audit: each metric's England value, interval and trend, and
 *                                the table of trusts per metric
 *   audit/<audit>/<metric>.html  a metric: funnel plot, England's run chart, inequalities
 *   audit/<audit>/<period>/...   the same two for each period before the latest that has pages
 *                                (site_period_has_pages), from its own files
 *   trust/<code>.html            a trust: every metric of every audit against England, its run
 *                                charts and icons, its outlier flags
 *   hospital/<code>.html         a hospital site: the same at site level
 * Every page links the release files it was drawn from. */
#ifndef NCAP_SITE_PAGES_H
#define NCAP_SITE_PAGES_H

#include "site_release.h"
#include "strbuf.h"

/* A trust or hospital site seen in any audit's latest release. */
typedef struct {
    const char *level;                /* "trust" or "site" */
    const char *code, *name, *parent; /* a site's trust, a trust's region */
} site_org_t;

/* Every trust and site of the tree, trusts first, each by code; the strings are the tree's. The
 * caller frees the array. */
site_org_t *site_orgs(const site_tree_t *t, size_t *n);

/* The folder, from the site's root, of the audit's and metrics' pages of a's period (one of
 * a->periods): audit/<audit> for the latest, audit/<audit>/<period> for an earlier one. */
void site_period_folder(char *buf, size_t n, const site_audit_t *a, const char *period);

void site_page_home(strbuf_t *b, const site_tree_t *t, const site_org_t *orgs, size_t n_orgs);
void site_page_audit(strbuf_t *b, const site_audit_t *a);
void site_page_metric(strbuf_t *b, const site_audit_t *a, const site_metric_t *m);
void site_page_org(strbuf_t *b, const site_tree_t *t, const site_org_t *org, const site_org_t *orgs,
                   size_t n_orgs);

#endif
