/* test_site_build.c - the portal written whole from a releases folder: every page kind, the same
 * bytes each time, the old site replaced in one step (nothing of it left, no hidden folder
 * left), a dead build's hidden folder removed once stale but a running one's kept, and a damaged
 * release refused with its file named and the old site untouched */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_read.h"
#include "site_build.h"

static char root[256];

static void put(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return access(path, F_OK) == 0;
}

static char *slurp(const char *rel)
{
    char path[512], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    assert_int_equal(file_read_all(path, &data, &len), 0);
    return data;
}

static const char JSON[] =
    "{\"audit\":\"t\",\"period\":\"2026Q1\",\"provenance\":{\"audit_name\":\"Test audit\","
    "\"speciality\":\"Testing\",\"status\":\"provisional\",\"revision\":3,\"records\":90,"
    "\"created_at\":\"2026-01-02T03:04:05Z\"},\"methods\":{\"min_count\":8},\"metrics\":[{\"id\":"
    "\"m\",\"label\":\"A metric\",\"kind\":\"proportion\",\"polarity\":\"higher_is_better\","
    "\"overdispersion\":\"none\",\"funnel\":{\"target\":0.5,\"phi\":1,\"tau2\":0,"
    "\"adjusted\":false}}]}";
static const char CSV[] =
    "audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,numerator,"
    "denominator,value,lower95,upper95,lower998,upper998,england_value,compared_to_england,"
    "funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,expected,held,"
    "missing,rejected,left_out,bound_lower,bound_upper\n"
    "t,2026Q1,england,E92000001,England,,m,all,,45,90,0.5,0.4,0.6,,,0.5,,,,,,,,,0,0,0,0,,\n"
    "t,2026Q1,region,Y56,London,E92000001,m,all,,45,90,0.5,0.4,0.6,,,0.5,similar,,,,,,,,0,0,0,0,,\n"
    "t,2026Q1,trust,RAA,Trust <A>,Y56,m,all,,30,60,0.5,0.37,0.63,,,0.5,similar,0.37,0.63,,,"
    "in_control,,,0,0,0,0,,\n"
    "t,2026Q1,trust,RBB,Trust B,Y56,m,all,,,30,,,,,,0.5,,,,,,,suppressed,,0,0,,,,\n"
    "t,2026Q1,site,RAA01,RAA01,RAA,m,all,,30,60,0.5,0.37,0.63,,,0.5,similar,0.37,0.63,,,"
    "in_control,,,0,0,0,0,,\n";

/* Audit t's release of period: its latest.json and latest.csv. */
static void put_period(const char *period, const char *json, const char *csv)
{
    char rel[64];
    snprintf(rel, sizeof rel, "t/%s/latest.json", period);
    put(rel, json);
    snprintf(rel, sizeof rel, "t/%s/latest.csv", period);
    put(rel, csv);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/ncap_test_site_XXXXXX");
    assert_non_null(mkdtemp(root));
    put_period("2026Q1", JSON, CSV);
    put_period("2025Q4", JSON, CSV);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_every_page_kind_written(void **state)
{
    (void)state;
    char err[1024] = "";
    int pages = site_build(root, NULL, err, sizeof err);
    if (pages < 0)
        fail_msg("%s", err);
    /* home, the audit, its metric, two trusts and a hospital site; the earlier period's audit
     * and metric pages */
    assert_int_equal(pages, 8);
    assert_true(exists("site/index.html") && exists("site/site.css") &&
                exists("site/audit/t/index.html") && exists("site/audit/t/m.html") &&
                exists("site/trust/RAA.html") && exists("site/trust/RBB.html") &&
                exists("site/hospital/RAA01.html"));
    char *home = slurp("site/index.html");
    assert_non_null(strstr(home, "<h2>Testing</h2>"));
    assert_non_null(strstr(home, "Latest period 2026Q1, provisional (revision 3); last updated "
                                 "2026-01-02T03:04:05Z"));
    assert_non_null(strstr(home, "Trust &lt;A&gt; (RAA)"));
    free(home);
    char *audit = slurp("site/audit/t/index.html");
    assert_non_null(strstr(audit, "href=\"../../../t/2026Q1/latest.csv\""));
    assert_non_null(strstr(audit, "href=\"../../../t/2025Q4/latest.csv\"")); /* earlier periods */
    assert_non_null(strstr(audit, "suppressed (fewer than 8)"));
    free(audit);
}

/* An earlier period's pages under its own folder, drawn from its own files, saying what they are
 * and linking the latest; the latest's page links them; and only the SITE_EARLIER_PAGES periods
 * before the latest have pages, the older ones their files alone. */
static void test_earlier_periods_have_pages(void **state)
{
    (void)state;
    char err[1024] = "";
    /* the earlier period's figures differ from the latest's */
    char csv[sizeof CSV + 64], *at;
    snprintf(csv, sizeof csv, "%s", CSV);
    while ((at = strstr(csv, "2026Q1")) != NULL)
        memcpy(at, "2025Q4", 6);
    at = strstr(csv, "trust,RAA,Trust <A>,Y56,m,all,,30,60,0.5");
    assert_non_null(at);
    memcpy(at + strlen("trust,RAA,Trust <A>,Y56,m,all,,"), "42,60,0.7", 9);
    put_period("2025Q4", JSON, csv);
    assert_int_equal(site_build(root, NULL, err, sizeof err), 8);

    char *latest = slurp("site/audit/t/index.html");
    assert_non_null(strstr(latest, "<h2>Earlier periods</h2>"));
    assert_non_null(strstr(latest, "<a href=\"../../audit/t/2025Q4/index.html\">2025Q4</a>"));
    assert_null(strstr(latest, "class=\"notice\""));
    free(latest);

    char *earlier = slurp("site/audit/t/2025Q4/index.html");
    assert_non_null(strstr(earlier, "<h1>Test audit, 2025Q4</h1>"));
    assert_non_null(strstr(earlier, "class=\"notice\">An earlier period"));
    assert_non_null(strstr(earlier, "<a href=\"../../../audit/t/index.html\">2026Q1</a>"));
    assert_non_null(strstr(earlier, "href=\"../../../site.css\""));
    assert_non_null(strstr(earlier, "href=\"../../../../t/2025Q4/latest.csv\""));
    assert_non_null(strstr(earlier, "href=\"../../../trust/RAA.html\""));
    assert_non_null(strstr(earlier, "<h2>Other periods</h2>"));
    assert_non_null(strstr(earlier, "2026Q1 (latest)</a>"));
    free(earlier);
    char *metric = slurp("site/audit/t/2025Q4/m.html");
    assert_non_null(strstr(metric, "<h1>A metric, 2025Q4</h1>"));
    assert_non_null(strstr(metric, "href=\"../../../audit/t/2025Q4/index.html\">2025Q4</a>"));
    assert_non_null(strstr(metric, "70.0%")); /* its own figures: 42 of 60 */
    free(metric);
    metric = slurp("site/audit/t/m.html");
    assert_null(strstr(metric, "70.0%"));
    assert_non_null(strstr(metric, "50.0%"));
    free(metric);

    /* ten periods before the latest: the eight nearest have pages */
    for (int y = 2023; y <= 2025; y++)
        for (int q = 1; q <= 4; q++) {
            char period[16];
            snprintf(period, sizeof period, "%dQ%d", y, q);
            put_period(period, JSON, CSV);
        }
    /* 2023Q1 ... 2025Q4 and 2026Q1: 12 before the latest, 8 with 2 pages each */
    assert_int_equal(site_build(root, NULL, err, sizeof err), 6 + 8 * 2);
    assert_true(exists("site/audit/t/2024Q1/index.html") && exists("site/audit/t/2025Q4/m.html"));
    assert_false(exists("site/audit/t/2023Q4/index.html"));
    latest = slurp("site/audit/t/index.html");
    assert_non_null(strstr(latest, "<li>2023Q4: <a href=\"../../../t/2023Q4/latest.csv\">"));
    free(latest);
}

static void test_same_bytes_and_old_site_replaced(void **state)
{
    (void)state;
    char err[1024] = "";
    assert_true(site_build(root, NULL, err, sizeof err) > 0);
    char *first = slurp("site/audit/t/m.html");
    put("site/left-over.txt", "from the old site");
    assert_true(site_build(root, NULL, err, sizeof err) > 0);
    char *second = slurp("site/audit/t/m.html");
    assert_string_equal(first, second);
    assert_false(exists("site/left-over.txt")); /* the whole folder swapped */
    free(first);
    free(second);
    /* no hidden build folder left */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.site'", root);
    assert_int_not_equal(system(cmd), 0);
}

static void test_stale_build_folders(void **state)
{
    (void)state;
    put(".site.tmp-dead/index.html", "a build that died");
    put(".site.tmp-live/index.html", "a build still running");
    char path[512];
    snprintf(path, sizeof path, "%s/.site.tmp-dead", root);
    struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimes(path, old), 0);
    char err[1024] = "";
    assert_true(site_build(root, NULL, err, sizeof err) > 0);
    assert_false(exists(".site.tmp-dead"));
    assert_true(exists(".site.tmp-live"));
}

static void test_damaged_release_refused(void **state)
{
    (void)state;
    char err[1024] = "";
    assert_true(site_build(root, NULL, err, sizeof err) > 0);
    char *before = slurp("site/index.html");
    put("t/2026Q1/latest.json", "{\"audit\": ");
    assert_int_equal(site_build(root, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "t/2026Q1/latest.json"));
    char *after = slurp("site/index.html");
    assert_string_equal(before, after);
    free(before);
    free(after);
    put("t/2026Q1/latest.json", JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_page_kind_written),
        cmocka_unit_test(test_same_bytes_and_old_site_replaced),
        cmocka_unit_test(test_stale_build_folders),
        cmocka_unit_test(test_damaged_release_refused),
        cmocka_unit_test(test_earlier_periods_have_pages), /* last: it adds periods */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
