/* site_svg.c - axes and chart frames */
#include "site_svg.h"

#include <math.h>
#include <stdio.h>

#include "site_html.h"

/* 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw)
{
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

site_axis_t site_axis_make(double lo, double hi, double p0, double p1)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo < 1e-12) {
        double pad = fabs(lo) > 1e-12 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    double step = nice_step((hi - lo) / 5.0);
    return (site_axis_t){floor(lo / step) * step, ceil(hi / step) * step, p0, p1};
}

double site_axis_map(const site_axis_t *ax, double v)
{
    return ax->p0 + (v - ax->d0) / (ax->d1 - ax->d0) * (ax->p1 - ax->p0);
}

size_t site_axis_ticks(const site_axis_t *ax, double *ticks, size_t max)
{
    double step = nice_step((ax->d1 - ax->d0) / 5.0);
    size_t n = 0;
    for (double v = ax->d0; v <= ax->d1 + step * 1e-9 && n < max; v += step) {
        /* a figure like 0.30000000000000004 written as 0.3 */
        ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : round(v / step) * step;
    }
    return n;
}

site_frame_t site_frame_make(int width, int height, double xlo, double xhi, double ylo, double yhi)
{
    site_frame_t f = {.width = width,
                      .height = height,
                      .left = 64,
                      .right = width - 16,
                      .top = 16,
                      .bottom = height - 48};
    f.x = site_axis_make(xlo, xhi, f.left, f.right);
    f.y = site_axis_make(ylo, yhi, f.bottom, f.top);
    return f;
}

void site_px(strbuf_t *b, double v)
{
    char s[32];
    snprintf(s, sizeof s, "%.2f", v);
    strbuf_append(b, s);
}

/* A figure in an attribute: enough digits to give it back. */
static void figure(strbuf_t *b, double v)
{
    strbuf_appendf(b, "%.10g", v);
}

void site_svg_open(strbuf_t *b, const site_frame_t *f, const char *id, const char *cls,
                   const char *title, const char *desc)
{
    strbuf_appendf(b,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" role=\"img\" id=\"",
                   f->width, f->height, f->width, f->height);
    html_esc(b, id);
    strbuf_append(b, "\" class=\"chart ");
    html_esc(b, cls);
    strbuf_append(b, "\" aria-labelledby=\"");
    html_esc(b, id);
    strbuf_append(b, "-title ");
    html_esc(b, id);
    strbuf_append(b, "-desc\" data-x-min=\"");
    figure(b, f->x.d0);
    strbuf_append(b, "\" data-x-max=\"");
    figure(b, f->x.d1);
    strbuf_append(b, "\" data-y-min=\"");
    figure(b, f->y.d0);
    strbuf_append(b, "\" data-y-max=\"");
    figure(b, f->y.d1);
    strbuf_append(b, "\" data-left=\"");
    site_px(b, f->left);
    strbuf_append(b, "\" data-right=\"");
    site_px(b, f->right);
    strbuf_append(b, "\" data-top=\"");
    site_px(b, f->top);
    strbuf_append(b, "\" data-bottom=\"");
    site_px(b, f->bottom);
    strbuf_append(b, "\">\n<title id=\"");
    html_esc(b, id);
    strbuf_append(b, "-title\">");
    html_esc(b, title);
    strbuf_append(b, "</title>\n<desc id=\"");
    html_esc(b, id);
    strbuf_append(b, "-desc\">");
    html_esc(b, desc);
    strbuf_append(b, "</desc>\n");
}

void site_svg_line(strbuf_t *b, double x1, double y1, double x2, double y2, const char *style)
{
    strbuf_append(b, "<line x1=\"");
    site_px(b, x1);
    strbuf_append(b, "\" y1=\"");
    site_px(b, y1);
    strbuf_append(b, "\" x2=\"");
    site_px(b, x2);
    strbuf_append(b, "\" y2=\"");
    site_px(b, y2);
    strbuf_appendf(b, "\" %s/>\n", style);
}

void site_svg_text(strbuf_t *b, double x, double y, const char *anchor, const char *extra)
{
    strbuf_append(b, "<text x=\"");
    site_px(b, x);
    strbuf_append(b, "\" y=\"");
    site_px(b, y);
    strbuf_appendf(b, "\" text-anchor=\"%s\"%s%s>", anchor, *extra ? " " : "", extra);
}

void site_tick_percent(strbuf_t *b, double v)
{
    strbuf_appendf(b, "%g%%", round(v * 1000.0) / 10.0);
}

void site_tick_number(strbuf_t *b, double v)
{
    strbuf_appendf(b, "%g", v);
}

void site_svg_axes(strbuf_t *b, const site_frame_t *f, site_tick_fmt fx, site_tick_fmt fy,
                   const char *xtitle, const char *ytitle)
{
    double ticks[16];
    strbuf_append(b, "<g class=\"axes\" aria-hidden=\"true\">\n");
    size_t n = site_axis_ticks(&f->y, ticks, 16);
    for (size_t i = 0; i < n; i++) {
        double y = site_axis_map(&f->y, ticks[i]);
        site_svg_line(b, f->left, y, f->right, y, "stroke=\"#d8dde0\"");
        site_svg_text(b, f->left - 6, y + 4, "end", "");
        fy(b, ticks[i]);
        strbuf_append(b, "</text>\n");
    }
    if (fx) {
        n = site_axis_ticks(&f->x, ticks, 16);
        for (size_t i = 0; i < n; i++) {
            double x = site_axis_map(&f->x, ticks[i]);
            site_svg_line(b, x, f->bottom, x, f->bottom + 5, "stroke=\"#425563\"");
            site_svg_text(b, x, f->bottom + 18, "middle", "");
            fx(b, ticks[i]);
            strbuf_append(b, "</text>\n");
        }
    }
    site_svg_line(b, f->left, f->bottom, f->right, f->bottom, "stroke=\"#425563\"");
    site_svg_line(b, f->left, f->top, f->left, f->bottom, "stroke=\"#425563\"");
    site_svg_text(b, (f->left + f->right) / 2, f->height - 8, "middle", "");
    html_esc(b, xtitle);
    strbuf_append(b, "</text>\n");
    strbuf_append(b, "<text x=\"14\" y=\"");
    site_px(b, (f->top + f->bottom) / 2);
    strbuf_append(b, "\" text-anchor=\"middle\" transform=\"rotate(-90 14 ");
    site_px(b, (f->top + f->bottom) / 2);
    strbuf_append(b, ")\">");
    html_esc(b, ytitle);
    strbuf_append(b, "</text>\n</g>\n");
}

void site_svg_close(strbuf_t *b)
{
    strbuf_append(b, "</svg>\n");
}
