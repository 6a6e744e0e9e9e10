/* site_runchart.c - run charts and Making Data Count icons */
#include "site_runchart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site_html.h"
#include "site_svg.h"

static const char *cell(const site_audit_t *a, size_t r, site_pcol_t c)
{
    return site_csv_get(&a->spc, r, a->pcol[c]);
}

static bool mine(const site_audit_t *a, size_t r, const site_metric_t *m, const char *level,
                 const char *area)
{
    return strcmp(cell(a, r, PC_METRIC), m->id) == 0 && strcmp(cell(a, r, PC_LEVEL), level) == 0 &&
           strcmp(cell(a, r, PC_AREA_CODE), area) == 0;
}

/* A point type's meaning, colour and marker (colour is never the only signal: the shape differs).
 */
typedef struct {
    const char *type, *words, *colour, *shape;
} point_style_t;
static const point_style_t STYLES[] = {
    {"common_cause", "common cause (no signal)", "#768692", "circle"},
    {"special_cause_improvement", "special cause: improvement", "#005eb8", "up"},
    {"special_cause_concern", "special cause: concern", "#ed8b00", "down"},
    {"special_cause_neutral_high", "special cause: high (no better direction)", "#330072",
     "diamond"},
    {"special_cause_neutral_low", "special cause: low (no better direction)", "#330072", "diamond"},
};

static const point_style_t *style_of(const char *type)
{
    for (size_t i = 0; i < sizeof STYLES / sizeof STYLES[0]; i++)
        if (strcmp(STYLES[i].type, type) == 0)
            return &STYLES[i];
    return &STYLES[0];
}

static void marker(strbuf_t *b, double x, double y, const point_style_t *s)
{
    if (strcmp(s->shape, "circle") == 0) {
        strbuf_append(b, "<circle cx=\"");
        site_px(b, x);
        strbuf_append(b, "\" cy=\"");
        site_px(b, y);
        strbuf_appendf(b, "\" r=\"4\" fill=\"%s\"", s->colour);
        return;
    }
    double d = 6;
    strbuf_append(b, "<polygon points=\"");
    if (strcmp(s->shape, "up") == 0)
        strbuf_appendf(b, "%.2f,%.2f %.2f,%.2f %.2f,%.2f", x, y - d, x + d, y + d, x - d, y + d);
    else if (strcmp(s->shape, "down") == 0)
        strbuf_appendf(b, "%.2f,%.2f %.2f,%.2f %.2f,%.2f", x, y + d, x + d, y - d, x - d, y - d);
    else
        strbuf_appendf(b, "%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f", x, y - d, x + d, y, x, y + d,
                       x - d, y);
    strbuf_appendf(b, "\" fill=\"%s\"", s->colour);
}

/* A line through column c's figures of the rows drawn (the mean or a limit: a step where a new
 * period of the chart starts). */
static void series(strbuf_t *b, const site_audit_t *a, const size_t *rows, size_t n,
                   const site_frame_t *f, site_pcol_t c, const char *style)
{
    strbuf_appendf(b, "<polyline fill=\"none\" %s points=\"", style);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!site_number(cell(a, rows[i], c), &v))
            continue;
        if (!first)
            strbuf_append(b, " ");
        first = 0;
        site_px(b, site_axis_map(&f->x, (double)i));
        strbuf_append(b, ",");
        site_px(b, site_axis_map(&f->y, v));
    }
    strbuf_append(b, "\"/>\n");
}

static void chart(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *area,
                  const size_t *rows, size_t n, int width, int height)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        static const site_pcol_t cols[] = {PC_VALUE, PC_MEAN, PC_LPL, PC_UPL};
        for (size_t k = 0; k < 4; k++) {
            double v;
            if (site_number(cell(a, rows[i], cols[k]), &v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    }
    if (!isfinite(lo))
        return; /* every month hidden: the table says so */
    if (m->kind == SITE_KIND_PROPORTION) {
        lo = fmax(0.0, lo);
        hi = fmin(1.0, hi);
    }
    site_frame_t f = site_frame_make(width, height, 0, 1, lo, hi);
    f.x = (site_axis_t){-0.5, (double)n - 0.5, f.left, f.right}; /* a month a slot */
    char id[300], title[700];
    snprintf(id, sizeof id, "run-%s-%s-%s", a->audit, m->id, area);
    snprintf(title, sizeof title, "Run chart: %s, %s, by month", m->label, area);
    site_svg_open(b, &f, id, "runchart", title,
                  "The months' values joined by a line; the solid line is the mean and the dashed "
                  "lines the process limits. Special-cause months are marked by colour and shape: "
                  "triangle up improvement, triangle down concern, diamond neither. The table "
                  "below gives every month.");
    site_svg_axes(b, &f, NULL,
                  m->kind == SITE_KIND_PROPORTION ? site_tick_percent : site_tick_number, "Month",
                  m->kind == SITE_KIND_PROPORTION ? "Value (%)" : "Value");
    strbuf_append(b, "<g aria-hidden=\"true\">\n");
    size_t every = n > 6 ? (n + 5) / 6 : 1; /* six labels fit */
    for (size_t i = 0; i < n; i += every) {
        site_svg_text(b, site_axis_map(&f.x, (double)i), f.bottom + 18, "middle", "");
        html_esc(b, cell(a, rows[i], PC_MONTH));
        strbuf_append(b, "</text>\n");
    }
    series(b, a, rows, n, &f, PC_MEAN, "stroke=\"#212b32\" stroke-width=\"1.5\"");
    series(b, a, rows, n, &f, PC_LPL, "stroke=\"#768692\" stroke-dasharray=\"6 4\"");
    series(b, a, rows, n, &f, PC_UPL, "stroke=\"#768692\" stroke-dasharray=\"6 4\"");
    series(b, a, rows, n, &f, PC_VALUE, "stroke=\"#425563\"");
    strbuf_append(b, "</g>\n<g class=\"points\">\n");
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!site_number(cell(a, rows[i], PC_VALUE), &v))
            continue; /* a hidden month is never drawn */
        const point_style_t *s = style_of(cell(a, rows[i], PC_POINT_TYPE));
        marker(b, site_axis_map(&f.x, (double)i), site_axis_map(&f.y, v), s);
        strbuf_append(b, " data-month=\"");
        html_esc(b, cell(a, rows[i], PC_MONTH));
        strbuf_append(b, "\"><title>");
        html_esc(b, cell(a, rows[i], PC_MONTH));
        strbuf_append(b, ": ");
        site_fmt_value(b, m->kind, cell(a, rows[i], PC_VALUE));
        strbuf_append(b, ", ");
        strbuf_append(b, s->words);
        strbuf_append(b, strcmp(s->shape, "circle") == 0 ? "</title></circle>\n"
                                                         : "</title></polygon>\n");
    }
    strbuf_append(b, "</g>\n");
    site_svg_close(b);
    strbuf_append(b, "<p class=\"legend\">Solid line: the mean; dashed lines: the process limits. "
                     "Grey circle: common cause; blue triangle up: improvement; orange triangle "
                     "down: concern; purple diamond: a signal without a better direction.</p>\n");
}

static void table(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const size_t *rows,
                  size_t n)
{
    strbuf_append(b, "<table class=\"months\"><caption>");
    html_esc(b, m->label);
    strbuf_append(b, ": each month</caption>\n<thead><tr><th scope=\"col\">Month</th>"
                     "<th scope=\"col\">Value</th><th scope=\"col\">Patients</th>"
                     "<th scope=\"col\">Mean</th><th scope=\"col\">Process limits</th>"
                     "<th scope=\"col\">Signal</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        double v;
        bool shown = site_number(cell(a, r, PC_VALUE), &v);
        strbuf_append(b, "<tr><th scope=\"row\">");
        html_esc(b, cell(a, r, PC_MONTH));
        strbuf_append(b, "</th><td class=\"num\">");
        if (shown)
            site_fmt_value(b, m->kind, cell(a, r, PC_VALUE));
        else if (a->min_count > 0)
            strbuf_appendf(b, "<span class=\"suppressed\">suppressed (fewer than %d)</span>",
                           a->min_count);
        else
            strbuf_append(b, "<span class=\"suppressed\">suppressed</span>");
        strbuf_append(b, "</td><td class=\"num\">");
        html_esc(b, cell(a, r, PC_DENOMINATOR));
        strbuf_append(b, "</td><td class=\"num\">");
        site_fmt_value(b, m->kind, cell(a, r, PC_MEAN));
        strbuf_append(b, "</td><td class=\"num\">");
        if (*cell(a, r, PC_LPL)) {
            site_fmt_value(b, m->kind, cell(a, r, PC_LPL));
            strbuf_append(b, " to ");
            site_fmt_value(b, m->kind, cell(a, r, PC_UPL));
        }
        strbuf_append(b, "</td><td>");
        if (shown)
            strbuf_append(b, style_of(cell(a, r, PC_POINT_TYPE))->words);
        strbuf_append(b, "</td></tr>\n");
    }
    strbuf_append(b, "</tbody></table>\n");
}

bool site_runchart(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *level,
                   const char *area, int width, int height)
{
    if (!a->has_spc)
        return false;
    size_t *rows = malloc((a->spc.nrows ? a->spc.nrows : 1) * sizeof *rows), n = 0;
    if (!rows)
        return false;
    for (size_t r = 0; r < a->spc.nrows; r++)
        if (mine(a, r, m, level, area))
            rows[n++] = r;
    if (n > 0) {
        chart(b, a, m, area, rows, n, width, height);
        table(b, a, m, rows, n);
    }
    free(rows);
    return n > 0;
}

/* An icon: a coloured circle with a letter, its meaning as the accessible name and beside it. */
static void icon(strbuf_t *b, const char *colour, const char *letter, const char *words)
{
    strbuf_appendf(b,
                   "<span class=\"mdc\"><svg class=\"icon\" width=\"28\" height=\"28\" "
                   "viewBox=\"0 0 28 28\" role=\"img\" aria-label=\"%s\"><title>%s</title>"
                   "<circle cx=\"14\" cy=\"14\" r=\"12\" fill=\"#fff\" stroke=\"%s\" "
                   "stroke-width=\"3\"/><text x=\"14\" y=\"19\" text-anchor=\"middle\" "
                   "font-size=\"14\" font-weight=\"bold\" fill=\"%s\">%s</text></svg> %s</span>",
                   words, words, colour, colour, letter, words);
}

void site_mdc_icons(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const char *level,
                    const char *area)
{
    const site_csv_t *s = &a->spc_summary;
    for (size_t r = 0; a->has_spc && r < s->nrows; r++) {
        if (strcmp(site_csv_get(s, r, a->scol[SC_METRIC]), m->id) != 0 ||
            strcmp(site_csv_get(s, r, a->scol[SC_LEVEL]), level) != 0 ||
            strcmp(site_csv_get(s, r, a->scol[SC_AREA_CODE]), area) != 0)
            continue;
        const char *v = site_csv_get(s, r, a->scol[SC_VARIATION]);
        bool high = strstr(v, "high") ||
                    (strstr(v, "improvement") && m->polarity != SITE_POLARITY_LOWER) ||
                    (strstr(v, "concern") && m->polarity == SITE_POLARITY_LOWER);
        const point_style_t *st = style_of(v);
        if (strcmp(v, "common_cause") == 0)
            icon(b, st->colour, "~", "variation: common cause, no significant change");
        else if (*v) {
            char words[200];
            snprintf(words, sizeof words, "variation: %s, %s values", st->words,
                     high ? "high" : "low");
            icon(b, st->colour, high ? "H" : "L", words);
        } else
            strbuf_append(b, "no variation icon: no month shown");
        const char *as = site_csv_get(s, r, a->scol[SC_ASSURANCE]);
        if (strcmp(as, "consistent_pass") == 0)
            icon(b, "#005eb8", "P", "assurance: will consistently meet the target");
        else if (strcmp(as, "consistent_fail") == 0)
            icon(b, "#ed8b00", "F", "assurance: will consistently fail the target");
        else if (strcmp(as, "inconsistent") == 0)
            icon(b, "#768692", "?", "assurance: will sometimes meet the target, by chance");
        return;
    }
    strbuf_append(b, "no run chart");
}
