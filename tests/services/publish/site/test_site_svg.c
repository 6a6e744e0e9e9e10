/* test_site_svg.c - the portal's chart geometry: a figure's pixel on an axis, and a trust's dot on
 * the funnel plot where its denominator and value put it (coordinates computed by hand here),
 * suppressed trusts not drawn */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "site_funnel.h"
#include "site_svg.h"

static void test_axis_rounds_and_maps(void **state)
{
    (void)state;
    /* 0..161.7 widens to 0..200 (steps of 50), onto pixels 64..704 */
    site_axis_t x = site_axis_make(0, 161.7, 64, 704);
    assert_float_equal(x.d0, 0, 1e-12);
    assert_float_equal(x.d1, 200, 1e-12);
    assert_float_equal(site_axis_map(&x, 147), 64 + 147.0 / 200 * 640, 1e-9); /* 534.4 */
    assert_float_equal(site_axis_map(&x, 0), 64, 1e-9);
    /* up is more: 0.4..0.65 (steps of 0.05) onto 392..16 */
    site_axis_t y = site_axis_make(0.4, 0.65, 392, 16);
    assert_float_equal(y.d0, 0.4, 1e-9);
    assert_float_equal(y.d1, 0.65, 1e-9);
    assert_float_equal(site_axis_map(&y, 0.605), 392 - 0.205 / 0.25 * 376, 1e-9); /* 83.68 */
    double ticks[16];
    size_t n = site_axis_ticks(&y, ticks, 16);
    assert_int_equal(n, 6);
    assert_float_equal(ticks[0], 0.4, 1e-12);
    assert_float_equal(ticks[5], 0.65, 1e-12);
    /* one value: a range around it */
    site_axis_t one = site_axis_make(5, 5, 0, 100);
    assert_true(one.d0 < 5 && one.d1 > 5);
}

static void test_frame_declares_its_mapping(void **state)
{
    (void)state;
    site_frame_t f = site_frame_make(720, 440, 0, 220, 0.25, 0.75);
    strbuf_t b;
    strbuf_init(&b);
    site_svg_open(&b, &f, "c1", "funnel", "A <title>", "desc");
    site_svg_close(&b);
    assert_non_null(strstr(b.s, "role=\"img\""));
    assert_non_null(strstr(b.s, "aria-labelledby=\"c1-title c1-desc\""));
    assert_non_null(strstr(b.s, "data-x-min=\"0\" data-x-max=\"250\" data-y-min=\"0.2\" "
                                "data-y-max=\"0.8\" data-left=\"64.00\" data-right=\"704.00\" "
                                "data-top=\"16.00\" data-bottom=\"392.00\""));
    assert_non_null(strstr(b.s, "<title id=\"c1-title\">A &lt;title&gt;</title>"));
    strbuf_free(&b);
}

static const char HEADER[] =
    "audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,numerator,"
    "denominator,value,lower95,upper95,lower998,upper998,england_value,compared_to_england,"
    "funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,expected,held,"
    "missing,rejected,left_out,bound_lower,bound_upper\n";

static void test_funnel_dots_where_the_figures_put_them(void **state)
{
    (void)state;
    char csv[4096];
    snprintf(
        csv, sizeof csv,
        "%s"
        "t,2026Q1,england,E92000001,England,,m,all,,200,290,0.5,0.4,0.6,,,0.5,,,,,,,,,0,0,0,0,,\n"
        "t,2026Q1,trust,RAA,\"<A&B \"\"C\"\" 'D'>\",Y56,m,all,,18,60,0.300000,0.2,0.4,,,0.5,"
        "worse,,,,,alert_low,,,0,0,0,0,,\n"
        "t,2026Q1,trust,RBB,Trust B,Y56,m,all,,140,200,0.700000,0.6,0.8,,,0.5,better,,,,,"
        "alarm_high,,,0,0,0,0,,\n"
        "t,2026Q1,trust,RCC,Trust C,Y56,m,all,,,30,,,,,,0.5,,,,,,,suppressed,,0,0,,,,\n",
        HEADER);
    site_audit_t a = {.audit = "t", .period = "2026Q1", .min_count = 8};
    char err[256];
    assert_int_equal(site_audit_set_rows(&a, csv, strlen(csv), err, sizeof err), 0);
    site_metric_t m = {.id = "m", .label = "Metric", .kind = SITE_KIND_PROPORTION};
    strbuf_t b;
    strbuf_init(&b);
    assert_true(site_funnel_svg(&b, &a, &m, 2, 720, 440));
    /* x: 0..250 (220 = 1.1 x the largest denominator, rounded up) onto 64..704; y: 0.2..0.8
     * (0.25..0.75, the values 0.05 apart from the edges) onto 392..16 */
    assert_non_null(strstr(b.s, "data-x-min=\"0\" data-x-max=\"250\" data-y-min=\"0.2\" "
                                "data-y-max=\"0.8\""));
    /* RAA: 64 + 60/250 x 640 = 217.60; 392 - (0.3 - 0.2)/0.6 x 376 = 329.33 */
    assert_non_null(strstr(b.s, "<circle cx=\"217.60\" cy=\"329.33\" r=\"5\" class=\"dot alert\" "
                                "data-area=\"RAA\""));
    /* RBB: 64 + 200/250 x 640 = 576.00; 392 - 0.5/0.6 x 376 = 78.67 */
    assert_non_null(strstr(b.s, "<circle cx=\"576.00\" cy=\"78.67\" r=\"5\" class=\"dot alarm\" "
                                "data-area=\"RBB\""));
    /* suppressed: never drawn */
    assert_null(strstr(b.s, "RCC"));
    /* outliers labelled with code and flag; the dot links the trust's page */
    assert_non_null(strstr(b.s, ">RBB alarm</text>"));
    assert_non_null(strstr(b.s, "<a href=\"../../trust/RAA.html\""));
    /* the name escaped wherever it goes */
    assert_non_null(strstr(b.s, "&lt;A&amp;B &quot;C&quot; &#39;D&#39;&gt; (RAA)"));
    assert_null(strstr(b.s, "<A&B"));
    strbuf_free(&b);
    site_csv_free(&a.rows);
}

static void test_funnel_limits_around_the_target(void **state)
{
    (void)state;
    site_metric_t m = {.id = "m",
                       .kind = SITE_KIND_PROPORTION,
                       .has_funnel = true,
                       .target = 0.5,
                       .phi = 1,
                       .tau2 = 0};
    double lim[4];
    assert_true(site_funnel_limits(&m, 100, lim));
    assert_true(lim[2] < lim[0] && lim[0] < 0.5 && 0.5 < lim[1] && lim[1] < lim[3]);
    double wide[4];
    assert_true(site_funnel_limits(&m, 10, wide)); /* narrower as units grow */
    assert_true(wide[0] < lim[0] && wide[1] > lim[1]);
    m.has_funnel = false; /* no funnel in latest.json: no limits */
    assert_false(site_funnel_limits(&m, 100, lim));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axis_rounds_and_maps),
        cmocka_unit_test(test_frame_declares_its_mapping),
        cmocka_unit_test(test_funnel_dots_where_the_figures_put_them),
        cmocka_unit_test(test_funnel_limits_around_the_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
