/* site_funnel.c - the funnel plot */
#include "site_funnel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funnel.h"
#include "site_html.h"

#define FUNNEL_CURVE_POINTS 80

bool site_funnel_applies(const site_metric_t *m)
{
    return m->kind == SITE_KIND_PROPORTION || m->kind == SITE_KIND_RATIO;
}

bool site_funnel_x(const site_audit_t *a, const site_metric_t *m, size_t row, double *x)
{
    return site_number(site_row(a, row, m->kind == SITE_KIND_RATIO ? RC_EXPECTED : RC_DENOMINATOR),
                       x) &&
           *x > 0;
}

bool site_funnel_limits(const site_metric_t *m, double x, double lim[4])
{
    if (!m->has_funnel || !site_funnel_applies(m) || !(x > 0))
        return false;
    funnel_opts_t opts =
        funnel_opts_default(m->kind == SITE_KIND_RATIO ? FUNNEL_RATIO : FUNNEL_PROPORTION);
    opts.overdispersion = m->overdispersion;
    opts.target = m->target;
    funnel_summary_t s = {
        .target = m->target, .phi = m->phi, .tau2 = m->tau2, .adjusted = m->adjusted};
    funnel_unit_t u = {0, m->kind == SITE_KIND_RATIO ? x : round(x)};
    funnel_point_t p;
    char err[256];
    if (funnel_point(&opts, &s, &u, &p, err, sizeof err) != 0)
        return false;
    lim[0] = p.lower95;
    lim[1] = p.upper95;
    lim[2] = p.lower998;
    lim[3] = p.upper998;
    return isfinite(lim[0]) && isfinite(lim[1]) && isfinite(lim[2]) && isfinite(lim[3]);
}

typedef struct {
    size_t row;
    double x, y;
} dot_t;

/* The trusts' rows of m (breakdown all) with a value and a size, in the release's order. */
static size_t collect(const site_audit_t *a, const site_metric_t *m, dot_t **out)
{
    size_t n = 0;
    *out = calloc(a->rows.nrows ? a->rows.nrows : 1, sizeof **out);
    for (size_t r = 0; *out && r < a->rows.nrows; r++) {
        double x, y;
        if (strcmp(site_row(a, r, RC_LEVEL), "trust") != 0 ||
            strcmp(site_row(a, r, RC_METRIC), m->id) != 0 ||
            strcmp(site_row(a, r, RC_BREAKDOWN), "all") != 0 || site_row_suppressed(a, r) ||
            !site_number(site_row(a, r, RC_VALUE), &y) || !site_funnel_x(a, m, r, &x))
            continue;
        (*out)[n++] = (dot_t){r, x, y};
    }
    return n;
}

static void fmt_count(strbuf_t *b, double v)
{
    strbuf_appendf(b, "%.0f", v);
}

static void fmt_ratio(strbuf_t *b, double v)
{
    strbuf_appendf(b, "%.2f", v);
}

/* The control limits at each size xs[i] (site_funnel_limits), computed once for the four lines. */
typedef struct {
    double x[FUNNEL_CURVE_POINTS], lim[FUNNEL_CURVE_POINTS][4];
    bool ok[FUNNEL_CURVE_POINTS];
    size_t n;
} curves_t;

/* One limit (k of site_funnel_limits') as a polyline, clipped to the plot (clip: its id). A
 * limit beyond the axis is drawn to a little past its edge, where the clip cuts it: a line flat
 * along the edge would read as a limit there. */
static void curve(strbuf_t *b, const site_frame_t *f, const curves_t *c, int k, const char *clip,
                  const char *style)
{
    strbuf_appendf(b, "<polyline fill=\"none\" clip-path=\"url(#%s)\" %s points=\"", clip, style);
    double span = f->y.d1 - f->y.d0;
    int first = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->ok[i])
            continue;
        double y = fmin(fmax(c->lim[i][k], f->y.d0 - span), f->y.d1 + span);
        if (!first)
            strbuf_append(b, " ");
        first = 0;
        site_px(b, site_axis_map(&f->x, c->x[i]));
        strbuf_append(b, ",");
        site_px(b, site_axis_map(&f->y, y));
    }
    strbuf_append(b, "\"/>\n");
}

/* The boxes of the labels placed so far, for placing the next one clear of them. */
typedef struct {
    double x[64], y[64], w[64];
    size_t n;
} labels_t;
#define LABEL_PX 12.0

static bool label_clear(const labels_t *l, double x, double y, double w)
{
    for (size_t i = 0; i < l->n; i++)
        if (x < l->x[i] + l->w[i] && l->x[i] < x + w && y < l->y[i] + LABEL_PX &&
            l->y[i] < y + LABEL_PX)
            return false;
    return true;
}

/* A label w pixels wide beside the dot at (cx, cy): right of it, left, above or below, the first
 * clear of the labels placed and inside the plot (else right of it); its top-left in x, y. */
static void label_place(labels_t *l, const site_frame_t *f, double cx, double cy, double w,
                        double *x, double *y)
{
    const double at[4][2] = {{cx + 8, cy - LABEL_PX / 2},
                             {cx - 8 - w, cy - LABEL_PX / 2},
                             {cx - w / 2, cy - 8 - LABEL_PX},
                             {cx - w / 2, cy + 8}};
    *x = at[0][0];
    *y = at[0][1];
    for (size_t k = 0; k < 4; k++)
        if (at[k][0] >= f->left && at[k][0] + w <= f->right && at[k][1] >= f->top &&
            at[k][1] + LABEL_PX <= f->bottom && label_clear(l, at[k][0], at[k][1], w)) {
            *x = at[k][0];
            *y = at[k][1];
            break;
        }
    if (l->n < 64) {
        l->x[l->n] = *x;
        l->y[l->n] = *y;
        l->w[l->n++] = w;
    }
}

static const char *flag_class(const char *o)
{
    return strncmp(o, "alarm_", 6) == 0 ? "alarm" : strncmp(o, "alert_", 6) == 0 ? "alert" : "ok";
}

static void dot_title(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, const dot_t *d)
{
    html_esc(b, site_row(a, d->row, RC_AREA_NAME));
    strbuf_append(b, " (");
    html_esc(b, site_row(a, d->row, RC_AREA_CODE));
    strbuf_append(b, "): ");
    site_fmt_value(b, m->kind, site_row(a, d->row, RC_VALUE));
    if (m->kind == SITE_KIND_RATIO) {
        strbuf_append(b, ", observed ");
        html_esc(b, site_row(a, d->row, RC_NUMERATOR));
        strbuf_append(b, " against expected ");
        html_esc(b, site_row(a, d->row, RC_EXPECTED));
    } else {
        strbuf_append(b, ", ");
        html_esc(b, site_row(a, d->row, RC_NUMERATOR));
        strbuf_append(b, " of ");
        html_esc(b, site_row(a, d->row, RC_DENOMINATOR));
    }
    strbuf_append(b, "; 95% interval ");
    site_fmt_interval(b, a, d->row, m->kind);
    strbuf_append(b, "; compared with England: ");
    const char *c = site_row(a, d->row, RC_COMPARED);
    html_esc(b, *c ? c : "not compared");
    strbuf_append(b, "; funnel: ");
    const char *o = site_row(a, d->row, RC_OUTLIER);
    html_esc(b, *o ? o : "no flag");
}

/* The figures shown beside a dot while it has the pointer or the keyboard's focus (site.css). */
static void tip(strbuf_t *b, const site_frame_t *f, const site_audit_t *a, const site_metric_t *m,
                const dot_t *d, double cx, double cy)
{
    strbuf_t t;
    strbuf_init(&t);
    strbuf_append(&t, site_row(a, d->row, RC_AREA_CODE));
    strbuf_append(&t, ": ");
    site_fmt_value(&t, m->kind, site_row(a, d->row, RC_VALUE));
    strbuf_append(&t, m->kind == SITE_KIND_RATIO ? " (observed " : " (");
    strbuf_append(&t, site_row(a, d->row, RC_NUMERATOR));
    strbuf_append(&t, m->kind == SITE_KIND_RATIO ? ", expected " : " of ");
    strbuf_append(&t,
                  site_row(a, d->row, m->kind == SITE_KIND_RATIO ? RC_EXPECTED : RC_DENOMINATOR));
    strbuf_append(&t, ")");
    double w = (double)(t.s ? strlen(t.s) : 0) * 7.0 + 10.0;
    double x = cx + 10 + w > f->right ? cx - 10 - w : cx + 10;
    double y = cy - 30 < f->top ? cy + 8 : cy - 30;
    strbuf_append(b, "<g class=\"tip\" aria-hidden=\"true\"><rect x=\"");
    site_px(b, x);
    strbuf_append(b, "\" y=\"");
    site_px(b, y);
    strbuf_append(b, "\" width=\"");
    site_px(b, w);
    strbuf_append(b, "\" height=\"22\" rx=\"3\"/>");
    site_svg_text(b, x + 5, y + 15, "start", "");
    html_esc(b, t.s);
    strbuf_append(b, "</text></g>");
    strbuf_free(&t);
}

bool site_funnel_svg(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int depth,
                     int width, int height)
{
    dot_t *dots;
    size_t n = collect(a, m, &dots);
    if (!dots || n == 0) {
        free(dots);
        return false;
    }
    double xmax = 0, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        xmax = fmax(xmax, dots[i].x);
        ylo = fmin(ylo, dots[i].y);
        yhi = fmax(yhi, dots[i].y);
    }
    xmax *= 1.1;
    double target = m->has_funnel ? m->target : NAN;
    if (isfinite(target)) {
        ylo = fmin(ylo, target);
        yhi = fmax(yhi, target);
    }
    double lim[4];
    double xmin_dot = dots[0].x;
    for (size_t i = 1; i < n; i++)
        xmin_dot = fmin(xmin_dot, dots[i].x);
    if (site_funnel_limits(m, xmin_dot, lim)) {
        ylo = fmin(ylo, lim[2]);
        yhi = fmax(yhi, lim[3]);
    }
    if (m->kind == SITE_KIND_PROPORTION) {
        ylo = fmax(0.0, ylo - 0.05);
        yhi = fmin(1.0, yhi + 0.05);
    } else {
        ylo = fmax(0.0, ylo * 0.9);
        yhi *= 1.1;
    }
    site_frame_t f = site_frame_make(width, height, 0, xmax, ylo, yhi);
    /* the limits across the whole axis, denser at small sizes where they bend */
    curves_t c = {.n = 0};
    double xstart = m->kind == SITE_KIND_RATIO ? f.x.d1 / FUNNEL_CURVE_POINTS : 1.0;
    for (size_t i = 0; i < FUNNEL_CURVE_POINTS; i++) {
        double t = (double)i / (FUNNEL_CURVE_POINTS - 1);
        double x = xstart + (f.x.d1 - xstart) * t * t;
        if (m->kind != SITE_KIND_RATIO)
            x = round(x);
        if (c.n > 0 && x <= c.x[c.n - 1])
            continue;
        c.x[c.n] = x;
        c.ok[c.n] = site_funnel_limits(m, x, c.lim[c.n]);
        c.n++;
    }
    char id[200], title[600], desc[900];
    snprintf(id, sizeof id, "funnel-%s", m->id);
    snprintf(title, sizeof title, "Funnel plot: %s, %s, trusts", m->label, a->period);
    snprintf(desc, sizeof desc,
             "Each dot is a trust: %s across, its value up. The solid line is England's value; "
             "the dashed lines are the 95%% control limits and the dotted lines the 99.8%% limits. "
             "Trusts outside the limits are labelled. The table below gives every trust's figures.",
             m->kind == SITE_KIND_RATIO ? "expected deaths (its size)"
                                        : "patients in the denominator (its size)");
    site_svg_open(b, &f, id, "funnel", title, desc);
    site_svg_axes(b, &f, m->kind == SITE_KIND_RATIO ? site_tick_number : fmt_count,
                  m->kind == SITE_KIND_PROPORTION ? site_tick_percent : fmt_ratio,
                  m->kind == SITE_KIND_RATIO ? "Expected count" : "Patients (denominator)",
                  m->kind == SITE_KIND_PROPORTION ? "Value (%)" : "Observed / expected");
    strbuf_append(b, "<g class=\"limits\" aria-hidden=\"true\">\n");
    if (isfinite(target)) {
        double y = site_axis_map(&f.y, target);
        site_svg_line(b, f.left, y, f.right, y,
                      "class=\"england\" stroke=\"#005eb8\" stroke-width=\"2\"");
        char clip[240];
        snprintf(clip, sizeof clip, "%s-plot", id);
        strbuf_appendf(b, "<clipPath id=\"%s\"><rect x=\"", clip);
        site_px(b, f.left);
        strbuf_append(b, "\" y=\"");
        site_px(b, f.top);
        strbuf_append(b, "\" width=\"");
        site_px(b, f.right - f.left);
        strbuf_append(b, "\" height=\"");
        site_px(b, f.bottom - f.top);
        strbuf_append(b, "\"/></clipPath>\n");
        static const char *const styles[4] = {
            "class=\"limit95\" stroke=\"#425563\" stroke-dasharray=\"6 4\"",
            "class=\"limit95\" stroke=\"#425563\" stroke-dasharray=\"6 4\"",
            "class=\"limit998\" stroke=\"#212b32\" stroke-dasharray=\"2 3\"",
            "class=\"limit998\" stroke=\"#212b32\" stroke-dasharray=\"2 3\""};
        for (int k = 0; k < 4; k++)
            curve(b, &f, &c, k, clip, styles[k]);
    }
    strbuf_append(b, "</g>\n<g class=\"dots\">\n");
    labels_t placed = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        const dot_t *d = &dots[i];
        const char *code = site_row(a, d->row, RC_AREA_CODE);
        const char *o = site_row(a, d->row, RC_OUTLIER);
        double cx = site_axis_map(&f.x, d->x), cy = site_axis_map(&f.y, d->y);
        bool link = site_safe_name(code);
        if (link) {
            strbuf_append(b, "<a href=\"");
            html_esc(b, site_root(depth));
            strbuf_append(b, "trust/");
            html_esc(b, code);
            strbuf_append(b, ".html\" aria-label=\"");
            dot_title(b, a, m, d);
            strbuf_append(b, "\">");
        }
        strbuf_append(b, "<circle cx=\"");
        site_px(b, cx);
        strbuf_append(b, "\" cy=\"");
        site_px(b, cy);
        strbuf_appendf(b, "\" r=\"5\" class=\"dot %s\" data-area=\"", flag_class(o));
        html_esc(b, code);
        strbuf_append(b, "\" data-x=\"");
        html_esc(b, site_row(a, d->row, m->kind == SITE_KIND_RATIO ? RC_EXPECTED : RC_DENOMINATOR));
        strbuf_append(b, "\" data-y=\"");
        html_esc(b, site_row(a, d->row, RC_VALUE));
        strbuf_appendf(b, "\" fill=\"%s\" stroke=\"#212b32\"><title>",
                       strcmp(flag_class(o), "alarm") == 0   ? "#d5281b"
                       : strcmp(flag_class(o), "alert") == 0 ? "#ffb81c"
                                                             : "#768692");
        dot_title(b, a, m, d);
        strbuf_append(b, "</title></circle>");
        tip(b, &f, a, m, d, cx, cy);
        if (strcmp(flag_class(o), "ok") != 0) { /* outliers labelled: code and flag in words */
            char label[200];
            snprintf(label, sizeof label, "%s %s", code, flag_class(o));
            double w = (double)strlen(label) * 6.0 + 2, lx, ly;
            label_place(&placed, &f, cx, cy, w, &lx, &ly);
            site_svg_text(b, lx, ly + 10, "start", "class=\"label\"");
            html_esc(b, label);
            strbuf_append(b, "</text>");
        }
        strbuf_append(b, link ? "</a>\n" : "\n");
    }
    strbuf_append(b, "</g>\n");
    site_svg_close(b);
    free(dots);
    return true;
}
