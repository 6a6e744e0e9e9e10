/* test_site_html.c - the portal's text: escaping (a trust named with < > & " ' stays text), the
 * page frame every page shares (language, skip link, breadcrumb), figures in words, suppressed
 * cells in words, release links relative to the page */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "site_html.h"

static void test_escaping(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    html_esc(&b, "<script>alert('x & \"y\"')</script>");
    assert_string_equal(b.s, "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;");
    strbuf_reset(&b);
    html_esc(&b, "plain ST THOMAS");
    assert_string_equal(b.s, "plain ST THOMAS");
    strbuf_reset(&b);
    html_esc(&b, NULL);
    assert_string_equal(b.s ? b.s : "", "");
    strbuf_free(&b);
}

static void test_page_frame(void **state)
{
    (void)state;
    const char *crumbs[] = {"Home", "index.html", "Trust <&>", NULL};
    site_page_t p = {.title = "A \"trust\" <b>", .depth = 1, .crumbs = crumbs, .n_crumbs = 2};
    strbuf_t b;
    strbuf_init(&b);
    site_page_open(&b, &p);
    site_page_close(&b);
    assert_non_null(strstr(b.s, "<html lang=\"en\">"));
    assert_non_null(strstr(b.s, "<a class=\"skip\" href=\"#main\">"));
    assert_non_null(strstr(b.s, "<main id=\"main\">"));
    assert_non_null(strstr(b.s, "<h1>A &quot;trust&quot; &lt;b&gt;</h1>"));
    assert_non_null(strstr(b.s, "<link rel=\"stylesheet\" href=\"../site.css\">"));
    assert_non_null(strstr(b.s, "<a href=\"../index.html\">Home</a>"));
    assert_non_null(strstr(b.s, "<span aria-current=\"page\">Trust &lt;&amp;&gt;</span>"));
    assert_null(strstr(b.s, "<script")); /* no script unless a page asks */
    assert_null(strstr(b.s, "http"));    /* nothing from elsewhere */
    strbuf_free(&b);
}

static void test_release_links_relative(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    site_href_release(&b, 2, "nhfd", "2026Q1/latest.csv");
    assert_string_equal(b.s, "../../../nhfd/2026Q1/latest.csv");
    strbuf_reset(&b);
    site_href_release(&b, 0, "nela", "2026Q1/spc.csv");
    assert_string_equal(b.s, "../nela/2026Q1/spc.csv");
    strbuf_free(&b);
}

static void test_figures_in_words(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    site_fmt_value(&b, SITE_KIND_PROPORTION, "0.512739");
    assert_string_equal(b.s, "51.3%");
    strbuf_reset(&b);
    site_fmt_value(&b, SITE_KIND_RATIO, "1.204");
    assert_string_equal(b.s, "1.20");
    strbuf_reset(&b);
    site_fmt_value(&b, SITE_KIND_MEDIAN, "26.25");
    assert_string_equal(b.s, "26.2");
    strbuf_reset(&b);
    site_fmt_value(&b, SITE_KIND_PROPORTION, "");
    assert_true(b.len == 0);
    site_badge_outlier(&b, "alarm_high");
    assert_non_null(strstr(b.s, "class=\"badge alarm\">alarm (high)<"));
    strbuf_reset(&b);
    site_badge_compared(&b, "worse");
    assert_non_null(strstr(b.s, "class=\"badge bad\">worse<"));
    strbuf_free(&b);
}

static void test_suppressed_in_words(void **state)
{
    (void)state;
    const char csv[] =
        "level,area_code,area_name,parent_code,metric,breakdown,category,numerator,denominator,"
        "value,lower95,upper95,england_value,compared_to_england,outlier,note,expected\n"
        "trust,RAA,A,Y56,m,all,,,30,,,,0.5,,,suppressed,\n"
        "trust,RBB,B,Y56,m,all,,20,30,0.666667,0.48,0.81,0.5,similar,in_control,,\n";
    site_audit_t a = {.min_count = 8};
    char err[256];
    assert_int_equal(site_audit_set_rows(&a, csv, sizeof csv - 1, err, sizeof err), 0);
    strbuf_t b;
    strbuf_init(&b);
    site_fmt_row_value(&b, &a, 0, SITE_KIND_PROPORTION);
    assert_string_equal(b.s, "suppressed (fewer than 8)");
    strbuf_reset(&b);
    site_fmt_row_value(&b, &a, 1, SITE_KIND_PROPORTION);
    assert_string_equal(b.s, "66.7%");
    strbuf_reset(&b);
    site_fmt_interval(&b, &a, 1, SITE_KIND_PROPORTION);
    assert_string_equal(b.s, "48.0% to 81.0%");
    strbuf_free(&b);
    site_csv_free(&a.rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_page_frame),
        cmocka_unit_test(test_release_links_relative),
        cmocka_unit_test(test_figures_in_words),
        cmocka_unit_test(test_suppressed_in_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
