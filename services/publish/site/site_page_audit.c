/* site_page_audit.c - an audit's page and its metrics' pages */
#include <stdio.h>
#include <string.h>

#include "site_funnel.h"
#include "site_html.h"
#include "site_inequality.h"
#include "site_pages.h"
#include "site_runchart.h"
#include "site_table.h"

/* The England row (breakdown all) of metric m, or -1. */
static long england_row(const site_audit_t *a, const site_metric_t *m)
{
    for (size_t r = 0; r < a->rows.nrows; r++)
        if (strcmp(site_row(a, r, RC_LEVEL), "england") == 0 &&
            strcmp(site_row(a, r, RC_METRIC), m->id) == 0 &&
            strcmp(site_row(a, r, RC_BREAKDOWN), "all") == 0)
            return (long)r;
    return -1;
}

static void release_line(strbuf_t *b, const site_audit_t *a)
{
    strbuf_append(b, "<p>Period ");
    html_esc(b, a->period);
    strbuf_append(b, ", status ");
    html_esc(b, a->status);
    if (a->revision > 0)
        strbuf_appendf(b, ", revision %lld", a->revision);
    strbuf_appendf(b, "; %lld records; last updated ", a->records);
    html_esc(b, *a->created_at ? a->created_at : "unknown");
    strbuf_append(b, ".</p>\n");
}

/* The folder depth of a's pages: audit/<audit>/ for the latest period, audit/<audit>/<period>/
 * for an earlier one. */
static int depth_of(const site_audit_t *a)
{
    return a->earlier ? 3 : 2;
}

void site_period_folder(char *buf, size_t n, const site_audit_t *a, const char *period)
{
    if (strcmp(period, a->periods[a->n_periods - 1]) == 0)
        snprintf(buf, n, "audit/%s", a->audit);
    else
        snprintf(buf, n, "audit/%s/%s", a->audit, period);
}

/* The href, from the site's root, of the audit page of a's period (site_period_folder's
 * index.html), into buf. */
static void period_href(char *buf, size_t n, const site_audit_t *a, const char *period)
{
    char folder[256]; /* audit/<name>/<name>: 135 bytes at most (site_safe_name) */
    site_period_folder(folder, sizeof folder, a, period);
    snprintf(buf, n, "%s/index.html", folder);
}

/* The page's title: the audit's name, and an earlier period's. */
static void title_of(char *buf, size_t n, const site_audit_t *a)
{
    if (a->earlier)
        snprintf(buf, n, "%s, %s", a->audit_name, a->period);
    else
        snprintf(buf, n, "%s", a->audit_name);
}

/* On an earlier period's pages: what they are, and where the latest is. */
static void earlier_notice(strbuf_t *b, const site_audit_t *a, int depth)
{
    if (!a->earlier)
        return;
    char href[300];
    period_href(href, sizeof href, a, a->periods[a->n_periods - 1]);
    strbuf_append(b, "<p class=\"notice\">An earlier period: its figures as last released for "
                     "it. The latest period is <a href=\"");
    html_esc(b, site_root(depth));
    html_esc(b, href);
    strbuf_append(b, "\">");
    html_esc(b, a->periods[a->n_periods - 1]);
    strbuf_append(b, "</a>; the trusts' pages show the latest.</p>\n");
}

/* Every other period of the audit, newest first: its page where it has one, and its files. */
static void other_periods(strbuf_t *b, const site_audit_t *a, int depth)
{
    if (a->n_periods < 2)
        return;
    strbuf_append(b, a->earlier ? "<h2>Other periods</h2>\n<ul>\n"
                                : "<h2>Earlier periods</h2>\n<ul>\n");
    for (size_t i = a->n_periods; i-- > 0;) {
        if (strcmp(a->periods[i], a->period) == 0)
            continue;
        char path[300];
        strbuf_append(b, "<li>");
        if (i + 1 == a->n_periods || site_period_has_pages(a, i)) {
            period_href(path, sizeof path, a, a->periods[i]);
            strbuf_append(b, "<a href=\"");
            html_esc(b, site_root(depth));
            html_esc(b, path);
            strbuf_append(b, "\">");
            html_esc(b, a->periods[i]);
            strbuf_append(b, i + 1 == a->n_periods ? " (latest)</a>" : "</a>");
        } else {
            html_esc(b, a->periods[i]);
        }
        strbuf_append(b, ": <a href=\"");
        snprintf(path, sizeof path, "%s/latest.csv", a->periods[i]);
        site_href_release(b, depth, a->audit, path);
        strbuf_append(b, "\">latest.csv</a> <a href=\"");
        snprintf(path, sizeof path, "%s/latest.json", a->periods[i]);
        site_href_release(b, depth, a->audit, path);
        strbuf_append(b, "\">latest.json</a></li>\n");
    }
    strbuf_append(b, "</ul>\n");
}

void site_page_audit(strbuf_t *b, const site_audit_t *a)
{
    int depth = depth_of(a);
    char title[300], latest[300];
    title_of(title, sizeof title, a);
    period_href(latest, sizeof latest, a, a->periods[a->n_periods - 1]);
    const char *crumbs[] = {
        "All audits and trusts", "index.html", a->audit_name, latest, a->period, NULL};
    site_page_t p = {.title = title, .depth = depth, .crumbs = crumbs, .n_crumbs = 2};
    if (a->earlier) {
        p.n_crumbs = 3;
    } else {
        crumbs[3] = NULL; /* the audit's latest is this page */
    }
    site_page_open(b, &p);
    earlier_notice(b, a, depth);
    release_line(b, a);
    site_downloads(b, depth, a);
    strbuf_append(b, "<h2>Metrics</h2>\n<table><caption>England, ");
    html_esc(b, a->period);
    strbuf_append(b, "</caption>\n<thead><tr><th scope=\"col\">Metric</th><th "
                     "scope=\"col\">England</th><th scope=\"col\">95% interval</th><th "
                     "scope=\"col\">Patients</th><th scope=\"col\">Trend (Making Data Count)"
                     "</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < a->n_metrics; i++) {
        const site_metric_t *m = &a->metrics[i];
        long r = england_row(a, m);
        strbuf_append(b, "<tr><th scope=\"row\"><a href=\"");
        html_esc(b, m->id);
        strbuf_append(b, ".html\">");
        html_esc(b, m->label);
        strbuf_append(b, "</a></th><td class=\"num\">");
        if (r >= 0)
            site_fmt_row_value(b, a, (size_t)r, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        if (r >= 0)
            site_fmt_interval(b, a, (size_t)r, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        if (r >= 0)
            html_esc(b, site_row(a, (size_t)r, RC_DENOMINATOR));
        strbuf_append(b, "</td><td>");
        site_mdc_icons(b, a, m, "england", "E92000001");
        strbuf_append(b, "</td></tr>\n");
    }
    strbuf_append(b, "</tbody></table>\n<h2>Trusts</h2>\n");
    site_trust_controls(b, a);
    for (size_t i = 0; i < a->n_metrics; i++) {
        strbuf_append(b, "<h3><a href=\"");
        html_esc(b, a->metrics[i].id);
        strbuf_append(b, ".html\">");
        html_esc(b, a->metrics[i].label);
        strbuf_append(b, "</a></h3>\n");
        site_trust_table(b, a, &a->metrics[i], depth);
    }
    other_periods(b, a, depth);
    site_table_script(b);
    site_page_close(b);
}

void site_page_metric(strbuf_t *b, const site_audit_t *a, const site_metric_t *m)
{
    int depth = depth_of(a);
    char latest[300], here[300], title[400];
    period_href(latest, sizeof latest, a, a->periods[a->n_periods - 1]);
    period_href(here, sizeof here, a, a->period);
    const char *crumbs[] = {"All audits and trusts",
                            "index.html",
                            a->audit_name,
                            latest,
                            a->period,
                            here,
                            m->label,
                            NULL};
    site_page_t p = {.title = m->label, .depth = depth, .crumbs = crumbs, .n_crumbs = 4};
    if (a->earlier) {
        snprintf(title, sizeof title, "%s, %s", m->label, a->period);
        p.title = title;
    } else {
        crumbs[4] = m->label; /* no crumb for the latest period: the audit's page is it */
        crumbs[5] = NULL;
        p.n_crumbs = 3;
    }
    site_page_open(b, &p);
    earlier_notice(b, a, depth);
    long r = england_row(a, m);
    strbuf_append(b, "<p>England, ");
    html_esc(b, a->period);
    strbuf_append(b, ": ");
    if (r >= 0) {
        site_fmt_row_value(b, a, (size_t)r, m->kind);
        strbuf_append(b, " (95% interval ");
        site_fmt_interval(b, a, (size_t)r, m->kind);
        strbuf_append(b, ")");
    } else {
        strbuf_append(b, "no data");
    }
    strbuf_append(b, m->polarity == SITE_POLARITY_HIGHER  ? "; higher is better"
                     : m->polarity == SITE_POLARITY_LOWER ? "; lower is better"
                                                          : "");
    strbuf_append(b, ".</p>\n");
    site_downloads(b, depth, a);
    strbuf_append(b, "<h2>Trusts against England</h2>\n");
    if (!site_funnel_applies(m))
        strbuf_append(b, "<p>A median or a mean has no funnel plot: each trust's interval is "
                         "compared with England's value in the table.</p>\n");
    else if (!site_funnel_svg(b, a, m, depth, 720, 440))
        strbuf_append(b, "<p>No trust has a figure to plot.</p>\n");
    else
        strbuf_append(b, "<p class=\"legend\">Solid line: England's value. Dashed lines: the 95% "
                         "control limits; dotted lines: the 99.8% limits. Outliers are labelled "
                         "with their code and flag. Point at a dot, or move to it with the TAB "
                         "key, for its figures; select it for the trust's page.</p>\n");
    site_trust_controls(b, a);
    site_trust_table(b, a, m, depth);
    strbuf_append(b, "<h2>England's run chart</h2>\n<p>");
    site_mdc_icons(b, a, m, "england", "E92000001");
    strbuf_append(b, "</p>\n");
    if (!site_runchart(b, a, m, "england", "E92000001", 720, 320))
        strbuf_append(b, "<p>No monthly figures in this release.</p>\n");
    strbuf_append(b, "<h2>Inequalities</h2>\n");
    site_inequality(b, a, m, 720);
    site_table_script(b);
    site_page_close(b);
}
