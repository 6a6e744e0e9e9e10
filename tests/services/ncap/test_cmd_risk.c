/* test_cmd_risk.c - `ncap risk`: each row's expected value under the NELA and NHFD risk models of
 * the shipped definitions, checked against tests/tools/risk_check.py, an evaluation of each
 * model's published form in Python that shares nothing with the C code but the coefficients it
 * reads from the YAML (within 1e-12 relative); and the command's errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"
#include "test_skip.h"

#include "commands.h"

#define AUDITS NCAP_SOURCE_DIR "/deploy/audits"
#define FIXTURES NCAP_SOURCE_DIR "/tests/fixtures/risk"

static result_t risk(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_risk, "risk", arg, ap);
    va_end(ap);
    return r;
}

static bool have_python_yaml(void)
{
    return system("python3 -c 'import yaml' >/dev/null 2>&1") == 0;
}

/* Runs ncap risk on the fixture and the independent check on what it printed. */
static void check_model(const char *audit, const char *model, const char *fixture,
                        const char *first_rows)
{
    char csv[256];
    snprintf(csv, sizeof csv, FIXTURES "/%s", fixture);
    result_t r = risk("--audit", audit, "--audit-dir", AUDITS, "--model", model, csv, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(strncmp(r.out, first_rows, strlen(first_rows)) == 0);
    char path[64];
    temp_file(path, r.out);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 " NCAP_SOURCE_DIR "/tests/tools/risk_check.py %s/%s.yaml %s %s %s", AUDITS,
             audit, model, csv, path);
    int rc = system(cmd);
    unlink(path);
    result_free(&r);
    assert_int_equal(rc, 0);
}

static void test_nela_model_agrees_with_independent_evaluation(void **state)
{
    (void)state;
    if (!have_python_yaml())
        ncap_skip_or_fail("python3 with yaml (python3-yaml) not found: risk_check.py needs it");
    /* rows 7 and 8 miss the ASA grade and the sodium: no expected value */
    check_model("nela", "nela_mortality_30d", "nela_rows.csv", "row,expected\n2,0.");
    char csv[] = FIXTURES "/nela_rows.csv";
    result_t r =
        risk("--audit", "nela", "--audit-dir", AUDITS, "--model", "nela_mortality_30d", csv, NULL);
    assert_non_null(strstr(r.out, "\n7,\n8,\n"));
    assert_non_null(strstr(r.err, "8 data rows, 8 evaluated, 2 with a missing input, 0 failed"));
    result_free(&r);
}

static void test_nhfd_model_agrees_with_independent_evaluation(void **state)
{
    (void)state;
    if (!have_python_yaml())
        ncap_skip_or_fail("python3 with yaml (python3-yaml) not found: risk_check.py needs it");
    check_model("nhfd", "nhfd_mortality_30d", "nhfd_rows.csv", "row,expected\n2,0.");
}

static void test_unknown_model_and_usage(void **state)
{
    (void)state;
    char csv[] = FIXTURES "/nela_rows.csv";
    result_t r = risk("--audit", "nela", "--audit-dir", AUDITS, "--model", "nope", csv, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "has no risk model \"nope\" (its models: nela_mortality_30d)"));
    result_free(&r);
    r = risk("--audit", "nela", "--audit-dir", AUDITS, csv, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing --model"));
    result_free(&r);
    r = risk("--audit", "nela", "--audit-dir", AUDITS, "--model", "nela_mortality_30d",
             FIXTURES "/no_such_file.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nela_model_agrees_with_independent_evaluation),
        cmocka_unit_test(test_nhfd_model_agrees_with_independent_evaluation),
        cmocka_unit_test(test_unknown_model_and_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
