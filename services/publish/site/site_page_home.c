/* site_page_home.c - the home page */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_html.h"
#include "site_pages.h"

static int cmp_speciality(const void *x, const void *y)
{
    const site_audit_t *a = *(const site_audit_t *const *)x, *b = *(const site_audit_t *const *)y;
    int c = strcmp(a->speciality, b->speciality);
    return c ? c : strcmp(a->audit, b->audit);
}

static void audit_item(strbuf_t *b, const site_audit_t *a)
{
    strbuf_append(b, "<li><a href=\"audit/");
    html_esc(b, a->audit);
    strbuf_append(b, "/index.html\">");
    html_esc(b, a->audit_name);
    strbuf_append(b, "</a><br>Latest period ");
    html_esc(b, a->period);
    strbuf_append(b, ", ");
    bool provisional = strcmp(a->status, "provisional") == 0;
    strbuf_append(b, provisional ? "provisional" : "status ");
    if (!provisional)
        html_esc(b, a->status);
    if (a->revision > 0)
        strbuf_appendf(b, " (revision %lld)", a->revision);
    strbuf_append(b, "; last updated ");
    html_esc(b, *a->created_at ? a->created_at : "unknown");
    static const char *const files[] = {"latest.csv", "latest.json"};
    strbuf_append(b, "; files:");
    for (size_t i = 0; i < 2; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", a->period, files[i]);
        strbuf_append(b, " <a href=\"");
        site_href_release(b, 0, a->audit, path);
        strbuf_append(b, "\">");
        html_esc(b, a->audit);
        strbuf_append(b, " ");
        html_esc(b, files[i]);
        strbuf_append(b, "</a>");
    }
    if (a->n_finals > 0) {
        strbuf_append(b, "; final releases:");
        for (size_t i = 0; i < a->n_finals; i++) {
            strbuf_append(b, " <a href=\"");
            char path[400];
            snprintf(path, sizeof path, "final/%s/release.csv", a->finals[i]);
            site_href_release(b, 0, a->audit, path);
            strbuf_append(b, "\">");
            html_esc(b, a->finals[i]);
            strbuf_append(b, " (final)</a>");
        }
    }
    strbuf_append(b, "</li>\n");
}

void site_page_home(strbuf_t *b, const site_tree_t *t, const site_org_t *orgs, size_t n_orgs)
{
    site_page_t p = {.title = "National clinical audit results", .depth = 0};
    site_page_open(b, &p);
    strbuf_append(b, "<p>Each audit's latest published figures for every NHS trust and hospital, "
                     "against England: funnel plots, run charts and the gaps between groups of "
                     "patients. Every page links the files it was drawn from.</p>\n");
    const site_audit_t **order = malloc((t->n_audits ? t->n_audits : 1) * sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < t->n_audits; i++)
        order[i] = &t->audits[i];
    qsort(order, t->n_audits, sizeof *order, cmp_speciality);
    if (t->n_audits == 0)
        strbuf_append(b, "<p>No release has been published yet.</p>\n");
    for (size_t i = 0; i < t->n_audits; i++) {
        if (i == 0 || strcmp(order[i]->speciality, order[i - 1]->speciality) != 0) {
            if (i > 0)
                strbuf_append(b, "</ul>\n");
            strbuf_append(b, "<h2>");
            html_esc(b, order[i]->speciality);
            strbuf_append(b, "</h2>\n<ul class=\"audits\">\n");
        }
        audit_item(b, order[i]);
    }
    if (t->n_audits > 0)
        strbuf_append(b, "</ul>\n");
    free(order);
    strbuf_append(b, "<h2>Trusts</h2>\n<ul>\n");
    for (size_t i = 0; i < n_orgs; i++) {
        if (strcmp(orgs[i].level, "trust") != 0 || !site_safe_name(orgs[i].code))
            continue;
        strbuf_append(b, "<li><a href=\"trust/");
        html_esc(b, orgs[i].code);
        strbuf_append(b, ".html\">");
        html_esc(b, orgs[i].name);
        strbuf_append(b, " (");
        html_esc(b, orgs[i].code);
        strbuf_append(b, ")</a></li>\n");
    }
    strbuf_append(b, "</ul>\n");
    site_page_close(b);
}
