/* site_table.h - the table of trusts a page compares (every trust of a metric: its value,
 * interval, comparison with England and funnel flag, in words and colour), the controls that
 * filter it by region and search it by name or code, and the small inline script that makes those
 * and the sort buttons work. Without the script every row shows and the controls stay hidden. */
#ifndef NCAP_SITE_TABLE_H
#define NCAP_SITE_TABLE_H

#include "site_release.h"
#include "strbuf.h"

/* The region filter and the search box (hidden until the script shows them), for the tables of
 * class "trusts" on the page; the regions are those of the audit's region rows. */
void site_trust_controls(strbuf_t *b, const site_audit_t *a);
/* The table of metric m's trusts (breakdown all), linking each trust's page from depth. */
void site_trust_table(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int depth);
/* The inline script; once per page, at its end. */
void site_table_script(strbuf_t *b);

#endif
