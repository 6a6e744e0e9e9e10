/* test_cmd_site.c - `ncap site build`: the portal from a releases folder where it says, its exit
 * status, and its usage errors */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "cmd_run.h"

#include "commands.h"

static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_site, "site", arg, ap);
    va_end(ap);
    return r;
}

/* text as the file at path */
static void put(const char *path, const char *text)
{
    char tmp[64];
    temp_file(tmp, text);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_builds_where_asked(void **state)
{
    (void)state;
    char root[64] = "/tmp/ncap_test_cmd_site_XXXXXX", path[256], out[128];
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/demo", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/demo/2026Q1", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/demo/2026Q1/latest.json", root);
    put(path, "{\"provenance\":{\"audit_name\":\"Demo\"},\"methods\":{\"min_count\":8},"
              "\"metrics\":[{\"id\":\"m\",\"label\":\"M\",\"kind\":\"mean\"}]}");
    snprintf(path, sizeof path, "%s/demo/2026Q1/latest.csv", root);
    put(path, "audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,"
              "numerator,denominator,value,lower95,upper95,england_value,compared_to_england,"
              "outlier,note,expected\n"
              "demo,2026Q1,england,E92000001,England,,m,all,,,40,2.5,2.1,2.9,2.5,,,,\n");
    result_t r = run("build", "--releases", root, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "3 pages under"));
    snprintf(path, sizeof path, "%s/site/audit/demo/m.html", root);
    assert_int_equal(access(path, F_OK), 0);
    result_free(&r);
    snprintf(out, sizeof out, "%s/elsewhere", root);
    r = run("build", "--releases", root, "--out", out, NULL);
    assert_int_equal(r.rc, 0);
    snprintf(path, sizeof path, "%s/index.html", out);
    assert_int_equal(access(path, F_OK), 0);
    result_free(&r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_errors(void **state)
{
    (void)state;
    result_t r = run("build", "--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap site build --releases DIR [--out DIR]"));
    result_free(&r);
    r = run("build", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing --releases DIR"));
    result_free(&r);
    r = run("publish", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown subcommand \"publish\""));
    result_free(&r);
    r = run("build", "--releases", "/nonexistent/ncap-releases", NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "no releases folder \"/nonexistent/ncap-releases\""));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builds_where_asked),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
