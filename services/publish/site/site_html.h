/* site_html.h - the portal's page layout and text: HTML escaping, the frame every page shares
 * (language, skip link, breadcrumb, one stylesheet), links relative to the page (so the site works
 * from disk and under any URL prefix), and figures as words. Pure: everything goes into a strbuf.
 */
#ifndef NCAP_SITE_HTML_H
#define NCAP_SITE_HTML_H

#include <stddef.h>

#include "site_release.h"
#include "strbuf.h"

/* Appends s with & < > " ' escaped: safe as element text and as a double-quoted attribute. */
void html_esc(strbuf_t *b, const char *s);
/* The same for n bytes of s. */
void html_esc_n(strbuf_t *b, const char *s, size_t n);

/* A page: depth is its folder's depth under the site's root (index.html 0, trust/X.html 1,
 * audit/A/index.html 2); crumbs are (label, href from the root) pairs, the page's own last with
 * href NULL. */
typedef struct {
    const char *title;
    int depth;
    const char *const *crumbs;
    size_t n_crumbs;
} site_page_t;
void site_page_open(strbuf_t *b, const site_page_t *p);
void site_page_close(strbuf_t *b);
/* "../../" for depth 2: the site's root from a page. */
const char *site_root(int depth);
/* The href of a release file from a page of depth: the site sits at <releases>/site/, so
 * <root>../<audit>/<path> (path e.g. "2026Q1/latest.csv"), escaped. */
void site_href_release(strbuf_t *b, int depth, const char *audit, const char *path);
/* A paragraph of download links for a period's files: latest.csv, latest.json, fingertips.csv
 * and the run charts when has_spc. */
void site_downloads(strbuf_t *b, int depth, const site_audit_t *a);

/* A figure in words: a proportion as a percentage ("51.3%"), a ratio with two decimals, a median
 * or mean with one; "" for an empty cell. */
void site_fmt_value(strbuf_t *b, site_kind_t kind, const char *cell);
/* A row's value, or "suppressed (fewer than N)" for a suppressed one, or "no data". */
void site_fmt_row_value(strbuf_t *b, const site_audit_t *a, size_t row, site_kind_t kind);
/* A row's 95% interval "48.1% to 54.5%", or "" (and nothing appended). */
void site_fmt_interval(strbuf_t *b, const site_audit_t *a, size_t row, site_kind_t kind);
/* compared_to_england and outlier as a labelled badge: its word and a colour class. */
void site_badge_compared(strbuf_t *b, const char *compared);
void site_badge_outlier(strbuf_t *b, const char *outlier);
/* The stylesheet the pages link (site.css at the root). */
extern const char SITE_CSS[];

#endif
