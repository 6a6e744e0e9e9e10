/* site_page_org.c - a trust's page and a hospital site's page */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_html.h"
#include "site_pages.h"
#include "site_runchart.h"

static int cmp_org(const void *x, const void *y)
{
    const site_org_t *a = x, *b = y;
    int c = strcmp(b->level, a->level); /* "trust" before "site" */
    return c ? c : strcmp(a->code, b->code);
}

site_org_t *site_orgs(const site_tree_t *t, size_t *n)
{
    size_t cap = 0;
    *n = 0;
    for (size_t i = 0; i < t->n_audits; i++)
        cap += t->audits[i].rows.nrows;
    site_org_t *v = calloc(cap ? cap : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->n_audits; i++) {
        const site_audit_t *a = &t->audits[i];
        for (size_t r = 0; r < a->rows.nrows; r++) {
            const char *level = site_row(a, r, RC_LEVEL);
            if (strcmp(level, "trust") != 0 && strcmp(level, "site") != 0)
                continue;
            if (strcmp(site_row(a, r, RC_BREAKDOWN), "all") != 0)
                continue;
            v[(*n)++] = (site_org_t){strcmp(level, "trust") == 0 ? "trust" : "site",
                                     site_row(a, r, RC_AREA_CODE), site_row(a, r, RC_AREA_NAME),
                                     site_row(a, r, RC_PARENT)};
        }
    }
    qsort(v, *n, sizeof *v, cmp_org);
    size_t k = 0; /* one per level and code: the first audit's name */
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || cmp_org(&v[k - 1], &v[i]) != 0)
            v[k++] = v[i];
    *n = k;
    return v;
}

/* The organisation's row of metric m in audit a (breakdown all), or -1. */
static long org_row(const site_audit_t *a, const site_org_t *o, const site_metric_t *m)
{
    for (size_t r = 0; r < a->rows.nrows; r++)
        if (strcmp(site_row(a, r, RC_AREA_CODE), o->code) == 0 &&
            strcmp(site_row(a, r, RC_LEVEL), o->level) == 0 &&
            strcmp(site_row(a, r, RC_METRIC), m->id) == 0 &&
            strcmp(site_row(a, r, RC_BREAKDOWN), "all") == 0)
            return (long)r;
    return -1;
}

static void metrics_table(strbuf_t *b, const site_audit_t *a, const site_org_t *o)
{
    strbuf_append(b, "<table><caption>");
    html_esc(b, o->name);
    strbuf_append(b, " against England, ");
    html_esc(b, a->period);
    strbuf_append(b, "</caption>\n<thead><tr><th scope=\"col\">Metric</th><th "
                     "scope=\"col\">Value</th><th scope=\"col\">95% interval</th><th "
                     "scope=\"col\">Patients</th><th scope=\"col\">England</th><th "
                     "scope=\"col\">Compared with England</th><th scope=\"col\">Funnel flag</th>"
                     "<th scope=\"col\">Trend (Making Data Count)</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < a->n_metrics; i++) {
        const site_metric_t *m = &a->metrics[i];
        long r = org_row(a, o, m);
        if (r < 0)
            continue;
        size_t row = (size_t)r;
        strbuf_append(b, "<tr><th scope=\"row\"><a href=\"../audit/");
        html_esc(b, a->audit);
        strbuf_append(b, "/");
        html_esc(b, m->id);
        strbuf_append(b, ".html\">");
        html_esc(b, m->label);
        strbuf_append(b, site_row_suppressed(a, row) ? "</a></th><td class=\"suppressed\">"
                                                     : "</a></th><td class=\"num\">");
        site_fmt_row_value(b, a, row, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        site_fmt_interval(b, a, row, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        html_esc(b, site_row(a, row, RC_DENOMINATOR));
        strbuf_append(b, "</td><td class=\"num\">");
        site_fmt_value(b, m->kind, site_row(a, row, RC_ENGLAND));
        strbuf_append(b, "</td><td>");
        site_badge_compared(b, site_row(a, row, RC_COMPARED));
        strbuf_append(b, "</td><td>");
        site_badge_outlier(b, site_row(a, row, RC_OUTLIER));
        strbuf_append(b, "</td><td>");
        site_mdc_icons(b, a, m, o->level, o->code);
        strbuf_append(b, "</td></tr>\n");
    }
    strbuf_append(b, "</tbody></table>\n");
}

/* The organisation's funnel flags beyond the 95% limits, in words. An alarm shows only once its
 * outlier case is published (README.md, "Outlier cases"), so these are the public cases. */
static void flags(strbuf_t *b, const site_audit_t *a, const site_org_t *o)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_metrics; i++) {
        long r = org_row(a, o, &a->metrics[i]);
        if (r < 0)
            continue;
        const char *f = site_row(a, (size_t)r, RC_OUTLIER);
        if (strncmp(f, "alarm_", 6) != 0 && strncmp(f, "alert_", 6) != 0)
            continue;
        if (n++ == 0)
            strbuf_append(b, "<ul class=\"flags\">\n");
        strbuf_append(b, "<li>");
        site_badge_outlier(b, f);
        strbuf_append(b, " ");
        html_esc(b, a->metrics[i].label);
        strbuf_append(b, strncmp(f, "alarm_", 6) == 0
                             ? ": an outlier beyond the 99.8% limits; the audit's outlier "
                               "process has published its case"
                             : ": beyond the 95% limits (an alert, expected for about 1 unit in "
                               "20 by chance)");
        strbuf_append(b, ".</li>\n");
    }
    if (n)
        strbuf_append(b, "</ul>\n");
    else
        strbuf_append(b, "<p>No metric beyond the 95% limits.</p>\n");
}

static bool in_audit(const site_audit_t *a, const site_org_t *o)
{
    for (size_t i = 0; i < a->n_metrics; i++)
        if (org_row(a, o, &a->metrics[i]) >= 0)
            return true;
    return false;
}

void site_page_org(strbuf_t *b, const site_tree_t *t, const site_org_t *o, const site_org_t *orgs,
                   size_t n_orgs)
{
    bool trust = strcmp(o->level, "trust") == 0;
    char title[600], parent_href[200];
    if (strcmp(o->name, o->code) != 0) /* a trust not in the ODS extract is named by its code */
        snprintf(title, sizeof title, "%s (%s)", o->name, o->code);
    else
        snprintf(title, sizeof title, "%s %s", trust ? "NHS trust" : "Hospital site", o->code);
    snprintf(parent_href, sizeof parent_href, "trust/%s.html", o->parent);
    char parent_label[600];
    snprintf(parent_label, sizeof parent_label, "NHS trust %s", o->parent);
    for (size_t i = 0; i < n_orgs; i++)
        if (strcmp(orgs[i].level, "trust") == 0 && strcmp(orgs[i].code, o->parent) == 0 &&
            strcmp(orgs[i].name, orgs[i].code) != 0)
            snprintf(parent_label, sizeof parent_label, "%s", orgs[i].name);
    const char *trust_crumbs[] = {"All audits and trusts", "index.html", title, NULL};
    const char *site_crumbs[] = {
        "All audits and trusts", "index.html", parent_label, parent_href, title, NULL};
    site_page_t p = {.title = title,
                     .depth = 1,
                     .crumbs = trust ? trust_crumbs : site_crumbs,
                     .n_crumbs = trust ? 2 : 3};
    site_page_open(b, &p);
    if (trust) {
        const char *region = o->parent;
        for (size_t i = 0; i < t->n_audits && region == o->parent; i++)
            region = site_area_name(&t->audits[i], "region", o->parent);
        strbuf_append(b, "<p>NHS trust in the region ");
        html_esc(b, region);
    } else {
        strbuf_append(b, "<p>Hospital site of ");
        html_esc(b, parent_label);
    }
    strbuf_append(b, ".</p>\n");
    if (trust) {
        size_t n = 0;
        for (size_t i = 0; i < n_orgs; i++) {
            if (strcmp(orgs[i].level, "site") != 0 || strcmp(orgs[i].parent, o->code) != 0 ||
                !site_safe_name(orgs[i].code))
                continue;
            strbuf_append(b, n++ ? ", " : "<p>Hospital sites: ");
            strbuf_append(b, "<a href=\"../hospital/");
            html_esc(b, orgs[i].code);
            strbuf_append(b, ".html\">hospital site ");
            html_esc(b, orgs[i].name);
            strbuf_append(b, "</a>");
        }
        if (n)
            strbuf_append(b, ".</p>\n");
    }
    for (size_t i = 0; i < t->n_audits; i++) {
        const site_audit_t *a = &t->audits[i];
        if (!in_audit(a, o))
            continue;
        strbuf_append(b, "<h2>");
        html_esc(b, a->audit_name);
        strbuf_append(b, ", ");
        html_esc(b, a->period);
        strbuf_append(b, "</h2>\n");
        site_downloads(b, 1, a);
        metrics_table(b, a, o);
        strbuf_append(b, "<h3>Outlier flags</h3>\n");
        flags(b, a, o);
        for (size_t k = 0; k < a->n_metrics; k++) {
            const site_metric_t *m = &a->metrics[k];
            if (org_row(a, o, m) < 0)
                continue;
            strbuf_append(b, "<h3>Run chart: ");
            html_esc(b, m->label);
            strbuf_append(b, "</h3>\n<p>");
            site_mdc_icons(b, a, m, o->level, o->code);
            strbuf_append(b, "</p>\n");
            if (!site_runchart(b, a, m, o->level, o->code, 640, 280))
                strbuf_append(b, trust ? "<p>No monthly figures for this trust.</p>\n"
                                       : "<p>Run charts are drawn for trusts, regions and "
                                         "England, not for a hospital site.</p>\n");
        }
    }
    site_page_close(b);
}
