/* site_table.c - the trusts' table, its controls and script */
#include "site_table.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "site_html.h"

void site_trust_controls(strbuf_t *b, const site_audit_t *a)
{
    strbuf_append(b, "<div class=\"controls\" id=\"trust-controls\" hidden>\n<div><label "
                     "for=\"search\">Find a trust by name or code</label><input id=\"search\" "
                     "type=\"text\" autocomplete=\"off\"></div>\n<div><label "
                     "for=\"region\">Region</label><select id=\"region\"><option value=\"\">All "
                     "regions</option>");
    const char *seen[64];
    size_t n_seen = 0;
    for (size_t r = 0; r < a->rows.nrows && n_seen < 64; r++) {
        if (strcmp(site_row(a, r, RC_LEVEL), "region") != 0)
            continue;
        const char *code = site_row(a, r, RC_AREA_CODE);
        bool dup = false;
        for (size_t k = 0; k < n_seen; k++)
            dup = dup || strcmp(seen[k], code) == 0;
        if (dup)
            continue;
        seen[n_seen++] = code;
        strbuf_append(b, "<option value=\"");
        html_esc(b, code);
        strbuf_append(b, "\">");
        html_esc(b, site_row(a, r, RC_AREA_NAME));
        strbuf_append(b, "</option>");
    }
    strbuf_append(b, "</select></div>\n<p id=\"shown\" aria-live=\"polite\"></p>\n</div>\n");
}

/* A cell's sort key: a number or text, attribute-escaped. */
static void sort_key(strbuf_t *b, const char *key)
{
    strbuf_append(b, " data-sort=\"");
    html_esc(b, key);
    strbuf_append(b, "\"");
}

static void lower_esc(strbuf_t *b, const char *s)
{
    char buf[512];
    size_t i = 0;
    for (; s[i] && i < sizeof buf - 1; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    html_esc(b, buf);
}

void site_trust_table(strbuf_t *b, const site_audit_t *a, const site_metric_t *m, int depth)
{
    static const char *const heads[] = {"Trust",      "Region",       "Patients",
                                        "Value",      "95% interval", "Compared with England",
                                        "Funnel flag"};
    strbuf_append(b, "<table class=\"trusts\"><caption>");
    html_esc(b, m->label);
    strbuf_append(b, ": every trust, ");
    html_esc(b, a->period);
    strbuf_append(b, "</caption>\n<thead><tr>");
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        strbuf_append(b, "<th scope=\"col\"><button type=\"button\">");
        strbuf_append(b, heads[i]);
        strbuf_append(b, "</button></th>");
    }
    strbuf_append(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < a->rows.nrows; r++) {
        if (strcmp(site_row(a, r, RC_LEVEL), "trust") != 0 ||
            strcmp(site_row(a, r, RC_METRIC), m->id) != 0 ||
            strcmp(site_row(a, r, RC_BREAKDOWN), "all") != 0)
            continue;
        const char *code = site_row(a, r, RC_AREA_CODE), *name = site_row(a, r, RC_AREA_NAME);
        strbuf_append(b, "<tr data-region=\"");
        html_esc(b, site_row(a, r, RC_PARENT));
        strbuf_append(b, "\" data-search=\"");
        lower_esc(b, name);
        strbuf_append(b, " ");
        lower_esc(b, code);
        strbuf_append(b, "\"><th scope=\"row\"");
        sort_key(b, name);
        strbuf_append(b, ">");
        if (site_safe_name(code)) {
            strbuf_append(b, "<a href=\"");
            html_esc(b, site_root(depth));
            strbuf_append(b, "trust/");
            html_esc(b, code);
            strbuf_append(b, ".html\">");
        }
        html_esc(b, name);
        strbuf_append(b, " (");
        html_esc(b, code);
        strbuf_append(b, site_safe_name(code) ? ")</a></th><td" : ")</th><td");
        const char *region = site_area_name(a, "region", site_row(a, r, RC_PARENT));
        sort_key(b, region);
        strbuf_append(b, ">");
        html_esc(b, region);
        strbuf_append(b, "</td><td class=\"num\"");
        sort_key(b, site_row(a, r, RC_DENOMINATOR));
        strbuf_append(b, ">");
        html_esc(b, site_row(a, r, RC_DENOMINATOR));
        strbuf_append(b, "</td><td class=\"num");
        strbuf_append(b, site_row_suppressed(a, r) ? " suppressed\"" : "\"");
        sort_key(b, site_row(a, r, RC_VALUE));
        strbuf_append(b, ">");
        site_fmt_row_value(b, a, r, m->kind);
        strbuf_append(b, "</td><td class=\"num\">");
        site_fmt_interval(b, a, r, m->kind);
        strbuf_append(b, "</td><td");
        sort_key(b, site_row(a, r, RC_COMPARED));
        strbuf_append(b, ">");
        site_badge_compared(b, site_row(a, r, RC_COMPARED));
        strbuf_append(b, "</td><td");
        sort_key(b, site_row(a, r, RC_OUTLIER));
        strbuf_append(b, ">");
        site_badge_outlier(b, site_row(a, r, RC_OUTLIER));
        strbuf_append(b, "</td></tr>\n");
    }
    strbuf_append(b, "</tbody></table>\n");
}

void site_table_script(strbuf_t *b)
{
    strbuf_append(
        b,
        "<script>\n"
        "(function () {\n"
        "  var c = document.getElementById('trust-controls');\n"
        "  if (c) {\n"
        "    c.hidden = false;\n"
        "    var reg = document.getElementById('region'), q = document.getElementById('search'),\n"
        "        out = document.getElementById('shown');\n"
        "    var apply = function () {\n"
        "      var r = reg.value, s = q.value.trim().toLowerCase(), shown = 0, total = 0;\n"
        "      document.querySelectorAll('table.trusts tbody tr').forEach(function (tr) {\n"
        "        var ok = (!r || tr.dataset.region === r) &&\n"
        "                 (!s || tr.dataset.search.indexOf(s) >= 0);\n"
        "        tr.hidden = !ok; total++; if (ok) shown++;\n"
        "      });\n"
        "      out.textContent = shown + ' of ' + total + ' rows shown';\n"
        "    };\n"
        "    reg.addEventListener('change', apply);\n"
        "    q.addEventListener('input', apply);\n"
        "  }\n"
        "  document.querySelectorAll('table.trusts th button').forEach(function (btn) {\n"
        "    btn.addEventListener('click', function () {\n"
        "      var th = btn.parentNode, table = th.closest('table');\n"
        "      var idx = Array.prototype.indexOf.call(th.parentNode.children, th);\n"
        "      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;\n"
        "      table.querySelectorAll('th[aria-sort]').forEach(function (h) {\n"
        "        h.removeAttribute('aria-sort');\n"
        "      });\n"
        "      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');\n"
        "      var tb = table.tBodies[0], rows = Array.prototype.slice.call(tb.rows);\n"
        "      rows.sort(function (a, b) {\n"
        "        var x = a.cells[idx].dataset.sort, y = b.cells[idx].dataset.sort;\n"
        "        if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;\n"
        "        var nx = Number(x), ny = Number(y);\n"
        "        var d = !isNaN(nx) && !isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;\n"
        "        return d * dir;\n"
        "      });\n"
        "      rows.forEach(function (r) { tb.appendChild(r); });\n"
        "    });\n"
        "  });\n"
        "})();\n"
        "</script><noscript><p>Sorting, filtering and search need JavaScript; every row is "
        "shown above.</p></noscript>\n");
}
