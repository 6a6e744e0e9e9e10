/* site_svg.h - the geometry every chart of the portal shares: a linear axis from figures to pixels
 * with round ticks, and a chart's frame (its <svg> element, which declares the mapping in data-
 * attributes so that a reader, or a test, can turn a mark's coordinates back into figures; its
 * accessible name; its axes and gridlines). Pure. */
#ifndef NCAP_SITE_SVG_H
#define NCAP_SITE_SVG_H

#include <stddef.h>

#include "strbuf.h"

/* Figures d0..d1 onto pixels p0..p1 (p0 > p1 for a vertical axis: up is more). */
typedef struct {
    double d0, d1, p0, p1;
} site_axis_t;

/* An axis over at least lo..hi, widened to round numbers (1, 2 or 5 times a power of ten), onto
 * p0..p1. lo == hi gets a range around it. */
site_axis_t site_axis_make(double lo, double hi, double p0, double p1);
/* The pixel of figure v. */
double site_axis_map(const site_axis_t *ax, double v);
/* The axis' round ticks (at most max) into ticks; returns how many. */
size_t site_axis_ticks(const site_axis_t *ax, double *ticks, size_t max);

/* A chart: its size and plot area (pixels) and axes. */
typedef struct {
    int width, height;
    double left, right, top, bottom; /* the plot area */
    site_axis_t x, y;
} site_frame_t;

/* A frame width x height with room for the axes' labels; axes over the given ranges. */
site_frame_t site_frame_make(int width, int height, double xlo, double xhi, double ylo, double yhi);
/* Opens <svg role="img" aria-labelledby=...> with a <title> and <desc>, class, id and the
 * mapping: data-x-min, data-x-max, data-y-min, data-y-max (figures) and data-left, data-right,
 * data-top, data-bottom (pixels): x pixel = left + (x - x-min) / (x-max - x-min) * (right - left),
 * y pixel = bottom - (y - y-min) / (y-max - y-min) * (bottom - top). */
void site_svg_open(strbuf_t *b, const site_frame_t *f, const char *id, const char *cls,
                   const char *title, const char *desc);
/* Gridlines and tick labels (fmt formats a tick's figure) and the axes' titles. fx NULL: no x
 * ticks (the caller labels them). */
typedef void (*site_tick_fmt)(strbuf_t *b, double v);
void site_svg_axes(strbuf_t *b, const site_frame_t *f, site_tick_fmt fx, site_tick_fmt fy,
                   const char *xtitle, const char *ytitle);
void site_svg_close(strbuf_t *b);
/* A <line .../> with attrs (e.g. stroke="#005eb8") after its coordinates. */
void site_svg_line(strbuf_t *b, double x1, double y1, double x2, double y2, const char *attrs);
/* Opens <text x y text-anchor=anchor attrs>: the caller writes the text and </text>. */
void site_svg_text(strbuf_t *b, double x, double y, const char *anchor, const char *attrs);
/* Tick labels: a proportion as a percentage ("45%"), any other figure as it is. */
void site_tick_percent(strbuf_t *b, double v);
void site_tick_number(strbuf_t *b, double v);
/* Pixels with two decimals: what every coordinate is written with. */
void site_px(strbuf_t *b, double v);

#endif
