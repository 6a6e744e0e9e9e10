/* site_html.c - page layout, escaping and figures as words */
#include "site_html.h"

#include <stdio.h>
#include <string.h>

void html_esc_n(strbuf_t *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        strbuf_append_n(b, s + start, i - start);
        strbuf_append(b, rep);
        start = i + 1;
    }
    strbuf_append_n(b, s + start, n - start);
}

void html_esc(strbuf_t *b, const char *s)
{
    html_esc_n(b, s ? s : "", s ? strlen(s) : 0);
}

const char *site_root(int depth)
{
    static const char *const roots[] = {"", "../", "../../", "../../../"};
    return depth >= 0 && depth < 4 ? roots[depth] : "";
}

void site_page_open(strbuf_t *b, const site_page_t *p)
{
    const char *root = site_root(p->depth);
    strbuf_append(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>");
    html_esc(b, p->title);
    strbuf_append(b, " - ncap portal</title>\n<link rel=\"stylesheet\" href=\"");
    html_esc(b, root);
    strbuf_append(b, "site.css\">\n</head>\n<body>\n"
                     "<a class=\"skip\" href=\"#main\">Skip to main content</a>\n<header>\n"
                     "<p class=\"brand\"><a href=\"");
    html_esc(b, root);
    strbuf_append(b, "index.html\">ncap: national clinical audit results</a></p>\n");
    if (p->n_crumbs > 0) {
        strbuf_append(b, "<nav aria-label=\"Breadcrumb\"><ol class=\"crumbs\">");
        for (size_t i = 0; i < p->n_crumbs; i++) {
            const char *label = p->crumbs[2 * i], *href = p->crumbs[2 * i + 1];
            strbuf_append(b, "<li>");
            if (href) {
                strbuf_append(b, "<a href=\"");
                html_esc(b, root);
                html_esc(b, href);
                strbuf_append(b, "\">");
                html_esc(b, label);
                strbuf_append(b, "</a>");
            } else {
                strbuf_append(b, "<span aria-current=\"page\">");
                html_esc(b, label);
                strbuf_append(b, "</span>");
            }
            strbuf_append(b, "</li>");
        }
        strbuf_append(b, "</ol></nav>\n");
    }
    strbuf_append(b, "</header>\n<main id=\"main\">\n<h1>");
    html_esc(b, p->title);
    strbuf_append(b, "</h1>\n");
}

void site_page_close(strbuf_t *b)
{
    strbuf_append(b, "</main>\n<footer><p>Figures from the audits' published release files, "
                     "linked on each page. Made by ncap from the releases alone; no cookies, "
                     "no external resources.</p></footer>\n</body>\n</html>\n");
}

void site_href_release(strbuf_t *b, int depth, const char *audit, const char *path)
{
    html_esc(b, site_root(depth));
    strbuf_append(b, "../");
    html_esc(b, audit);
    strbuf_append(b, "/");
    html_esc(b, path);
}

void site_downloads(strbuf_t *b, int depth, const site_audit_t *a)
{
    static const char *const files[] = {"latest.csv", "latest.json", "fingertips.csv", "spc.csv",
                                        "spc_summary.csv"};
    strbuf_append(b, "<p class=\"downloads\">Drawn from ");
    html_esc(b, a->audit);
    strbuf_append(b, " ");
    html_esc(b, a->period);
    strbuf_append(b, ":");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if ((i == 2 && !a->has_fingertips) || (i >= 3 && !a->has_spc))
            continue;
        char path[300];
        snprintf(path, sizeof path, "%s/%s", a->period, files[i]);
        strbuf_append(b, " <a href=\"");
        site_href_release(b, depth, a->audit, path);
        strbuf_append(b, "\">");
        html_esc(b, files[i]);
        strbuf_append(b, "</a>");
    }
    strbuf_append(b, "</p>\n");
}

void site_fmt_value(strbuf_t *b, site_kind_t kind, const char *cell)
{
    double v;
    if (!site_number(cell, &v))
        return;
    switch (kind) {
    case SITE_KIND_PROPORTION:
        strbuf_appendf(b, "%.1f%%", v * 100.0);
        break;
    case SITE_KIND_RATIO:
        strbuf_appendf(b, "%.2f", v);
        break;
    default:
        strbuf_appendf(b, "%.1f", v);
    }
}

void site_fmt_row_value(strbuf_t *b, const site_audit_t *a, size_t row, site_kind_t kind)
{
    if (site_row_suppressed(a, row)) {
        if (a->min_count > 0)
            strbuf_appendf(b, "suppressed (fewer than %d)", a->min_count);
        else
            strbuf_append(b, "suppressed");
        return;
    }
    double v;
    if (!site_number(site_row(a, row, RC_VALUE), &v)) {
        strbuf_append(b, "no data");
        return;
    }
    site_fmt_value(b, kind, site_row(a, row, RC_VALUE));
}

void site_fmt_interval(strbuf_t *b, const site_audit_t *a, size_t row, site_kind_t kind)
{
    double lo, hi;
    if (!site_number(site_row(a, row, RC_LOWER95), &lo) ||
        !site_number(site_row(a, row, RC_UPPER95), &hi))
        return;
    site_fmt_value(b, kind, site_row(a, row, RC_LOWER95));
    strbuf_append(b, " to ");
    site_fmt_value(b, kind, site_row(a, row, RC_UPPER95));
}

/* A badge: its class (the colour) and its word (the meaning), never the colour alone. */
static void badge(strbuf_t *b, const char *cls, const char *word)
{
    strbuf_append(b, "<span class=\"badge ");
    strbuf_append(b, cls);
    strbuf_append(b, "\">");
    html_esc(b, word);
    strbuf_append(b, "</span>");
}

void site_badge_compared(strbuf_t *b, const char *c)
{
    if (!c || !*c)
        strbuf_append(b, "<span class=\"badge none\">not compared</span>");
    else if (strcmp(c, "better") == 0)
        badge(b, "good", "better");
    else if (strcmp(c, "worse") == 0)
        badge(b, "bad", "worse");
    else if (strcmp(c, "similar") == 0)
        badge(b, "same", "similar");
    else
        badge(b, "neutral", c); /* higher, lower: a metric without a better direction */
}

void site_badge_outlier(strbuf_t *b, const char *o)
{
    if (!o || !*o)
        strbuf_append(b, "<span class=\"badge none\">no flag</span>");
    else if (strcmp(o, "in_control") == 0)
        badge(b, "same", "in control");
    else if (strncmp(o, "alarm_", 6) == 0)
        badge(b, "alarm", strcmp(o, "alarm_high") == 0 ? "alarm (high)" : "alarm (low)");
    else if (strncmp(o, "alert_", 6) == 0)
        badge(b, "alert", strcmp(o, "alert_high") == 0 ? "alert (high)" : "alert (low)");
    else
        badge(b, "none", o);
}

const char SITE_CSS[] =
    "/* ncap portal: no external fonts or resources */\n"
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",Arial,sans-serif;margin:0;"
    "color:#212b32;background:#f0f4f5;line-height:1.5}\n"
    "header{background:#005eb8;color:#fff;padding:.5rem 1rem}\n"
    "header a{color:#fff}\n"
    ".brand{margin:0;font-weight:bold}\n"
    ".crumbs{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}\n"
    ".crumbs li+li:before{content:\"/ \"}\n"
    "main{padding:1rem;max-width:72rem;margin:auto;background:#fff}\n"
    "footer{padding:1rem;font-size:.9rem;text-align:center}\n"
    ".skip{position:absolute;left:-999px;top:0;background:#ffeb3b;color:#212b32;padding:.5rem}\n"
    ".skip:focus{left:0}\n"
    "a:focus,button:focus,input:focus,select:focus{outline:3px solid #ffb81c;"
    "outline-offset:2px}\n"
    "svg a:focus circle{stroke:#ffb81c;stroke-width:4}\n"
    "svg a:focus{outline:none}\n"
    ".chart .tip{display:none}\n"
    ".chart a:hover .tip,.chart a:focus .tip{display:inline}\n"
    ".chart .tip rect{fill:#212b32}\n"
    ".chart .tip text{fill:#fff;font-size:12px}\n"
    "table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}\n"
    "th,td{border:1px solid #d8dde0;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:#e8edee}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "th button{font:inherit;font-weight:bold;background:none;border:0;padding:0;"
    "cursor:pointer;text-decoration:underline}\n"
    ".badge{display:inline-block;padding:0 .4rem;border-radius:.2rem;border:1px solid}\n"
    ".badge.good{background:#e6f4ea;color:#00401e;border-color:#007f3b}\n"
    ".badge.bad{background:#fde8e6;color:#6b140e;border-color:#d5281b}\n"
    ".badge.same,.badge.none{background:#f0f4f5;color:#212b32;border-color:#768692}\n"
    ".badge.neutral{background:#efe6f5;color:#330072;border-color:#7c2855}\n"
    ".badge.alarm{background:#d5281b;color:#fff;border-color:#6b140e;font-weight:bold}\n"
    ".badge.alert{background:#ffb81c;color:#212b32;border-color:#7a5500}\n"
    ".controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;margin:.5rem 0}\n"
    ".controls label{display:block;font-weight:bold}\n"
    ".chart{max-width:100%;height:auto;background:#fff}\n"
    ".chart text{font-size:12px;fill:#212b32}\n"
    ".chart text.label{font-size:10px}\n"
    ".icon{vertical-align:middle}\n"
    ".suppressed{font-style:italic}\n"
    ".downloads{background:#e8edee;padding:.5rem}\n"
    ".notice{border-left:6px solid #ffb81c;background:#fff9e6;padding:.5rem}\n"
    ".audits{list-style:none;padding:0}\n"
    ".audits li{margin:.5rem 0;padding:.5rem;border-left:4px solid #005eb8;background:#f0f4f5}\n"
    "caption{text-align:left;font-weight:bold}\n"
    ".legend{font-size:.9rem;color:#425563;margin-top:0}\n";
