/* site_inequality.c - breakdowns as charts with intervals */
#include "site_inequality.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_html.h"
#include "site_svg.h"

#define ROW_PX 28

static const char *breakdown_title(const char *bd)
{
    return strcmp(bd, "imd_quintile") == 0 ? "Deprivation (IMD 2019 quintile, 1 most deprived)"
           : strcmp(bd, "ethnicity") == 0  ? "Ethnic group"
           : strcmp(bd, "sex") == 0        ? "Sex"
           : strcmp(bd, "age") == 0        ? "Age band"
                                           : bd;
}

static void chart(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *bd,
                  const size_t *rows, size_t n, int width)
{
    double lo = INFINITY, hi = -INFINITY, england = NAN;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (site_row_suppressed(a, rows[i]))
            continue;
        static const site_rcol_t cols[] = {RC_VALUE, RC_LOWER95, RC_UPPER95, RC_ENGLAND};
        for (size_t k = 0; k < 4; k++)
            if (site_number(site_row(a, rows[i], cols[k]), &v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        if (site_number(site_row(a, rows[i], RC_ENGLAND), &v))
            england = v;
    }
    if (!isfinite(lo))
        return;
    int height = (int)n * ROW_PX + 64;
    site_frame_t f = site_frame_make(width, height, lo, hi, 0, 1);
    f.left = 130;
    f.x = site_axis_make(m->kind == SITE_KIND_PROPORTION ? fmax(0.0, lo) : lo,
                         m->kind == SITE_KIND_PROPORTION ? fmin(1.0, hi) : hi, f.left, f.right);
    f.y = (site_axis_t){-0.5, (double)n - 0.5, f.top, f.bottom}; /* a category a row, down */
    char id[300], title[600];
    snprintf(id, sizeof id, "ineq-%s-%s", m->id, bd);
    snprintf(title, sizeof title, "%s by %s, England", m->label, breakdown_title(bd));
    site_svg_open(b, &f, id, "inequality", title,
                  "Each category's value as a dot with its 95% interval as a line; the vertical "
                  "line is England's value. Suppressed categories are not drawn. The table below "
                  "gives the figures.");
    strbuf_append(b, "<g aria-hidden=\"true\">\n");
    double ticks[16];
    size_t nt = site_axis_ticks(&f.x, ticks, 16);
    for (size_t i = 0; i < nt; i++) {
        double x = site_axis_map(&f.x, ticks[i]);
        site_svg_line(b, x, f.top, x, f.bottom, "stroke=\"#d8dde0\"");
        site_svg_text(b, x, f.bottom + 18, "middle", "");
        (m->kind == SITE_KIND_PROPORTION ? site_tick_percent : site_tick_number)(b, ticks[i]);
        strbuf_append(b, "</text>\n");
    }
    if (isfinite(england)) {
        double x = site_axis_map(&f.x, england);
        site_svg_line(b, x, f.top, x, f.bottom,
                      "class=\"england\" stroke=\"#005eb8\" stroke-width=\"2\"");
    }
    strbuf_append(b, "</g>\n");
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        double y = site_axis_map(&f.y, (double)i), v, l, u;
        site_svg_text(b, f.left - 8, y + 4, "end", "aria-hidden=\"true\"");
        html_esc(b, site_row(a, r, RC_CATEGORY));
        strbuf_append(b, "</text>\n");
        if (site_row_suppressed(a, r) || !site_number(site_row(a, r, RC_VALUE), &v))
            continue; /* never drawn */
        strbuf_append(b, "<g class=\"category\" data-category=\"");
        html_esc(b, site_row(a, r, RC_CATEGORY));
        strbuf_append(b, "\"><title>");
        html_esc(b, site_row(a, r, RC_CATEGORY));
        strbuf_append(b, ": ");
        site_fmt_value(b, m->kind, site_row(a, r, RC_VALUE));
        strbuf_append(b, ", 95% interval ");
        site_fmt_interval(b, a, r, m->kind);
        strbuf_append(b, "</title>");
        if (site_number(site_row(a, r, RC_LOWER95), &l) &&
            site_number(site_row(a, r, RC_UPPER95), &u)) {
            site_svg_line(b, site_axis_map(&f.x, l), y, site_axis_map(&f.x, u), y,
                          "stroke=\"#212b32\" stroke-width=\"2\"");
        }
        strbuf_append(b, "<circle r=\"5\" fill=\"#005eb8\" cx=\"");
        site_px(b, site_axis_map(&f.x, v));
        strbuf_append(b, "\" cy=\"");
        site_px(b, y);
        strbuf_append(b, "\"/></g>\n");
    }
    site_svg_close(b);
}

static void table(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *bd,
                  const size_t *rows, size_t n)
{
    strbuf_append(b, "<table><caption>");
    html_esc(b, m->label);
    strbuf_append(b, " by ");
    html_esc(b, breakdown_title(bd));
    strbuf_append(b, ", England</caption>\n<thead><tr><th scope=\"col\">Category</th>"
                     "<th scope=\"col\">Value</th><th scope=\"col\">95% interval</th>"
                     "<th scope=\"col\">Numerator</th><th scope=\"col\">Denominator</th>"
                     "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        strbuf_append(b, "<tr><th scope=\"row\">");
        html_esc(b, site_row(a, r, RC_CATEGORY));
        strbuf_append(b, site_row_suppressed(a, r) ? "</th><td class=\"suppressed\">"
                                                   : "</th><td class=\"num\">");
        site_fmt_row_value(b, a, r, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        site_fmt_interval(b, a, r, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        html_esc(b, site_row(a, r, RC_NUMERATOR));
        strbuf_append(b, "</td><td class=\"num\">");
        html_esc(b, site_row(a, r, RC_DENOMINATOR));
        strbuf_append(b, "</td></tr>\n");
    }
    strbuf_append(b, "</tbody></table>\n");
}

static void sii(strbuf_t *b, const site_audit_t *a, const site_metric_t *m)
{
    for (size_t r = 0; r < a->rows.nrows; r++) {
        if (strcmp(site_row(a, r, RC_LEVEL), "england") != 0 ||
            strcmp(site_row(a, r, RC_METRIC), m->id) != 0 ||
            strcmp(site_row(a, r, RC_BREAKDOWN), "sii") != 0)
            continue;
        strbuf_append(b, "<p>Slope index of inequality (the gap between the least and the most "
                         "deprived ends of England): ");
        double v;
        if (site_number(site_row(a, r, RC_VALUE), &v)) {
            site_fmt_value(b,
                           m->kind == SITE_KIND_PROPORTION ? SITE_KIND_PROPORTION : SITE_KIND_RATIO,
                           site_row(a, r, RC_VALUE));
            strbuf_append(b, " (95% interval ");
            site_fmt_interval(b, a, r, m->kind);
            strbuf_append(b, ")");
        } else {
            strbuf_append(b, "not computed");
            if (*site_row(a, r, RC_NOTE)) {
                strbuf_append(b, ": ");
                html_esc(b, site_row(a, r, RC_NOTE));
            }
        }
        strbuf_append(b, ".</p>\n");
        return;
    }
}

void site_inequality(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int width)
{
    size_t *rows = malloc((a->rows.nrows ? a->rows.nrows : 1) * sizeof *rows);
    if (!rows)
        return;
    const char *done[16];
    size_t n_done = 0, any = 0;
    for (size_t r = 0; r < a->rows.nrows; r++) {
        const char *bd = site_row(a, r, RC_BREAKDOWN);
        if (strcmp(site_row(a, r, RC_LEVEL), "england") != 0 ||
            strcmp(site_row(a, r, RC_METRIC), m->id) != 0 || strcmp(bd, "all") == 0 ||
            strcmp(bd, "sii") == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n_done; k++)
            seen = seen || strcmp(done[k], bd) == 0;
        if (seen || n_done == 16)
            continue;
        done[n_done++] = bd;
        size_t n = 0;
        for (size_t s = r; s < a->rows.nrows; s++)
            if (strcmp(site_row(a, s, RC_LEVEL), "england") == 0 &&
                strcmp(site_row(a, s, RC_METRIC), m->id) == 0 &&
                strcmp(site_row(a, s, RC_BREAKDOWN), bd) == 0)
                rows[n++] = s;
        strbuf_append(b, "<h3>");
        html_esc(b, breakdown_title(bd));
        strbuf_append(b, "</h3>\n");
        chart(b, a, m, bd, rows, n, width);
        table(b, a, m, bd, rows, n);
        any++;
    }
    if (!any)
        strbuf_append(b, "<p>No breakdowns for this metric.</p>\n");
    sii(b, a, m);
    free(rows);
}
