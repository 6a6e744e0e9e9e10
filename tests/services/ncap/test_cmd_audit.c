/* test_cmd_audit.c - `ncap audit check`: what an analyst editing a definition reads (each problem
 * as FILE:LINE:COLUMN, a line for a clean file) and the exit status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include "audit_def.h"
#include "commands.h"

#define AUDITS NCAP_SOURCE_DIR "/deploy/audits"

static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_audit, "audit", arg, ap);
    va_end(ap);
    return r;
}

/* A small definition; its metric's numerator is the given line 24. */
static void write_def(char *path, const char *numerator)
{
    char text[2048];
    snprintf(text, sizeof text,
             "audit: demo\n"
             "name: Demo\n"
             "dataset_version: \"1\"\n"
             "record_key: id\n"
             "trust_field: trust\n"
             "site_field: trust\n"
             "period_field: arrived\n"
             "opt_out_applies: false\n"
             "fields:\n"
             "  - name: id\n" /* 10 */
             "    type: string\n"
             "  - name: trust\n"
             "    type: ods_code\n"
             "  - name: arrived\n"
             "    type: datetime\n" /* 15 */
             "  - name: operated\n"
             "    type: datetime\n"
             "metrics:\n"
             "  - id: fast\n"
             "    label: Fast\n" /* 20 */
             "    higher_is_better: true\n"
             "    denominator: present(operated)\n"
             "    # of those, operated within 36 hours\n"
             "    numerator: %s\n", /* 24 */
             numerator);
    temp_file(path, text);
}

static void test_clean_files(void **state)
{
    (void)state;
    result_t r = run("check", AUDITS "/nhfd.yaml", AUDITS "/nela.yaml", NULL);
    assert_int_equal(r.rc, 0);
    const char *nela = strstr(r.out, AUDITS "/nela.yaml: ok (");
    assert_true(strncmp(r.out, AUDITS "/nhfd.yaml: ok (", strlen(AUDITS "/nhfd.yaml: ok (")) == 0);
    assert_non_null(nela);
    assert_non_null(strstr(r.out, " metrics, "));
    assert_string_equal(r.err, "");
    result_free(&r);

    char path[64], want[256];
    write_def(path, "hours_between(arrived, operated) <= 36");
    r = run("check", path, NULL);
    assert_int_equal(r.rc, 0);
    snprintf(want, sizeof want, "%s: ok (4 fields, 0 linked, 0 derived, 1 metrics, 0 rules)\n",
             path);
    assert_string_equal(r.out, want);
    result_free(&r);
    unlink(path);
}

static void test_problems_are_listed_with_line_and_column(void **state)
{
    (void)state;
    char path[64], want[1024];
    write_def(path, "hours_between(arrived, operated) + 'x' <= 36 and nowhere");
    result_t r = run("check", path, NULL);
    assert_int_equal(r.rc, 1);
    snprintf(want, sizeof want,
             "%s:24:49: metric \"fast\": numerator: \"+\" has a number on the left and a string "
             "('x') on the right, expected two numbers\n"
             "%s:24:65: metric \"fast\": numerator: found \"nowhere\", expected a field, linked "
             "field or derived field declared before this expression\n"
             "%s: 2 problems\n",
             path, path, path);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    result_free(&r);

    /* a clean file beside it is still said to be clean; the status is the worst */
    r = run("check", AUDITS "/nhfd.yaml", path, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.out, "/nhfd.yaml: ok ("));
    assert_non_null(strstr(r.out, ": 2 problems\n"));
    result_free(&r);
    unlink(path);
}

static void test_past_the_cap_problems_are_counted(void **state)
{
    (void)state;
    static char text[65536];
    int n = snprintf(text, sizeof text,
                     "audit: demo\nname: Demo\ndataset_version: \"1\"\nrecord_key: id\n"
                     "trust_field: id\nsite_field: id\nperiod_field: arrived\n"
                     "opt_out_applies: false\nfields:\n  - name: id\n    type: string\n"
                     "  - name: arrived\n    type: datetime\nrules:\n");
    int count = AUDIT_MAX_PROBLEMS + 20;
    for (int i = 0; i < count; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "  - id: r%d\n    severity: error\n    field: id\n    message: m\n"
                      "    check: arrived > 3\n",
                      i);
    char path[64];
    temp_file(path, text);
    result_t r = run("check", path, NULL);
    assert_int_equal(r.rc, 1);
    size_t lines = 0;
    for (const char *p = r.out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, AUDIT_MAX_PROBLEMS + 1);
    char want[200];
    snprintf(want, sizeof want, "\n%s: %d problems (the first %d listed)\n", path, count,
             AUDIT_MAX_PROBLEMS);
    assert_non_null(strstr(r.out, want));
    result_free(&r);
    unlink(path);
}

static void test_unreadable_files_and_usage(void **state)
{
    (void)state;
    result_t r = run("check", "/nonexistent/x.yaml", AUDITS "/nhfd.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap audit check: could not open audit definition "
                               "\"/nonexistent/x.yaml\": No such file or directory\n");
    assert_non_null(strstr(r.out, "/nhfd.yaml: ok ("));
    result_free(&r);

    r = run("check", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap audit check: missing FILE\n"
                               "Try \"ncap audit check --help\".\n");
    result_free(&r);

    r = run("check", "--strict", AUDITS "/nhfd.yaml", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap audit check: unknown option \"--strict\"\n"
                               "Try \"ncap audit check --help\".\n");
    assert_string_equal(r.out, "");
    result_free(&r);

    r = run(NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap audit: missing subcommand (check)\n"
                               "Try \"ncap audit --help\".\n");
    result_free(&r);

    r = run("lint", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown subcommand \"lint\""));
    result_free(&r);

    r = run("check", "--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_true(strncmp(r.out, "usage: ncap audit check FILE...\n", 32) == 0);
    assert_non_null(strstr(r.out, "Exit status: 0"));
    result_free(&r);

    r = run("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "check"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_files),
        cmocka_unit_test(test_problems_are_listed_with_line_and_column),
        cmocka_unit_test(test_past_the_cap_problems_are_counted),
        cmocka_unit_test(test_unreadable_files_and_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
