/* test_cmd_funnel.c - `ncap funnel` and `ncap ci` on files: the CSV and JSON they write, and
 * the messages and exit status for bad input. Standard output and error are sent to temporary
 * files while a subcommand runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci.h"
#include "commands.h"

static char dir[] = "/tmp/test_cmd_funnel_XXXXXX";
static char out[8192], errtext[2048];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs a subcommand with stdout and stderr captured into out and errtext. */
static int capture(int (*cmd)(int, char **), int argc, char **argv)
{
    char opath[256], epath[256];
    snprintf(opath, sizeof opath, "%s/stdout", dir);
    snprintf(epath, sizeof epath, "%s/stderr", dir);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    assert_non_null(freopen(opath, "w", stdout));
    assert_non_null(freopen(epath, "w", stderr));
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    read_text(opath, out, sizeof out);
    read_text(epath, errtext, sizeof errtext);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

/* Normal limits for proportions, target 0.2 given: for n = 100, 0.2 -+ z * 0.04; for n = 25,
 * 0.2 -+ z * 0.08; a unit with denominator 0 is written with empty figures and flag. The
 * expected text is formatted here with %.17g from the same formula. */
static void test_funnel_normal_csv(void **state)
{
    (void)state;
    write_text(path_of("p.csv"), "unit,numerator,denominator\nRAA,30,100\nRBB,\"5\",25\nRCC,0,0\n");
    char *argv[] = {"funnel",   "--type", "proportion", "--limits",        "normal",
                    "--target", "0.2",    "--summary",  path_of("s.json"), path_of("p.csv")};
    assert_int_equal(capture(cmd_funnel, 10, argv), 0);
    char want[2048];
    double sd1 = sqrt(0.2 * (1 - 0.2) / 100), sd2 = sqrt(0.2 * (1 - 0.2) / 25);
    snprintf(want, sizeof want,
             "unit,numerator,denominator,value,target,lower95,upper95,lower998,upper998,flag\n"
             "RAA,30,100,0.29999999999999999,0.20000000000000001,%.17g,%.17g,%.17g,%.17g,"
             "alert_high\n"
             "RBB,5,25,0.20000000000000001,0.20000000000000001,%.17g,%.17g,%.17g,%.17g,"
             "in_control\n"
             "RCC,0,0,,0.20000000000000001,,,,,\n",
             0.2 - NCAP_Z95 * sd1, 0.2 + NCAP_Z95 * sd1, 0.2 - NCAP_Z998 * sd1,
             0.2 + NCAP_Z998 * sd1, 0.2 - NCAP_Z95 * sd2, 0.2 + NCAP_Z95 * sd2,
             fmax(0.2 - NCAP_Z998 * sd2, 0), 0.2 + NCAP_Z998 * sd2); /* truncated at 0 */
    assert_string_equal(out, want);
    assert_null(strstr(out, "nan"));
    char json[512];
    read_text(path_of("s.json"), json, sizeof json);
    assert_non_null(strstr(json, "\"target\": 0.20000000000000001"));
    assert_non_null(strstr(json, "\"units\": 2"));
    assert_non_null(strstr(json, "\"alerts\": 1"));
    assert_non_null(strstr(json, "\"alarms\": 0"));
}

/* The worked example of the issue through the command: phi = 2.948033 in the summary. */
static void test_funnel_summary_phi(void **state)
{
    (void)state;
    write_text(path_of("r.csv"), "unit,observed,expected\na,100,108\nb,150,112\nc,180,165\n"
                                 "d,80,95\ne,120,100\nf,225,220\n");
    char *argv[] = {"funnel",   "--type",    "ratio",           "--overdispersion",
                    "additive", "--summary", path_of("r.json"), path_of("r.csv")};
    assert_int_equal(capture(cmd_funnel, 8, argv), 0);
    char json[512];
    read_text(path_of("r.json"), json, sizeof json);
    assert_non_null(strstr(json, "\"phi\": 2.948033175102"));
    assert_non_null(strstr(json, "\"target\": 1.0"));
    assert_int_equal(strncmp(out, "unit,numerator,denominator,value,target,", 40), 0);
    assert_non_null(strstr(out, "\nb,150,112,1.3392857142857142,1,"));
}

static void test_funnel_errors(void **state)
{
    (void)state;
    write_text(path_of("bad.csv"), "unit,numerator,denominator\nA,1,2\nB,1,2\nC,1,-3\n");
    char *argv[] = {"funnel", "--type", "proportion", path_of("bad.csv")};
    assert_int_equal(capture(cmd_funnel, 4, argv), 2);
    assert_non_null(
        strstr(errtext, "row 4: \"denominator\" is \"-3\", expected a whole number >= 0"));
    assert_string_equal(out, "");

    write_text(path_of("more.csv"), "unit,numerator,denominator\nA,12,10\n");
    char *argv2[] = {"funnel", "--type", "proportion", path_of("more.csv")};
    assert_int_equal(capture(cmd_funnel, 4, argv2), 2);
    assert_non_null(strstr(errtext, "row 2: \"numerator\" is \"12\", more than"));

    char *argv3[] = {"funnel", "--type", "proportion", "--trim", "0.6", path_of("more.csv")};
    assert_int_equal(capture(cmd_funnel, 6, argv3), 2);
    assert_non_null(strstr(errtext, "--trim is \"0.6\""));

    char *argv4[] = {"funnel", path_of("more.csv")};
    assert_int_equal(capture(cmd_funnel, 2, argv4), 2);
    assert_non_null(strstr(errtext, "--type is required"));

    char *argv5[] = {"funnel", "--type", "ratio", path_of("missing.csv")};
    assert_int_equal(capture(cmd_funnel, 4, argv5), 2);
    assert_non_null(strstr(errtext, "could not read file"));

    char *argv6[] = {"funnel", "--help"};
    assert_int_equal(capture(cmd_funnel, 2, argv6), 0);
    assert_non_null(strstr(out, "usage: ncap funnel"));
}

/* ncap ci: Wilson for proportions (x = 81, n = 263: 0.25528851987827422577,
 * 0.36620957698280007015 at 95%, worked in test_ci.c); for ratios exact below 10 (O = 5, E = 2.5:
 * 1.6234863901184205381 / 2.5 = 0.64939455604736821524, 11.668332079322669631 / 2.5), Byar from
 * 10. Printed with 17 significant digits, of which the first 15 are checked. */
static void test_ci_csv(void **state)
{
    (void)state;
    write_text(path_of("cp.csv"), "unit,numerator,denominator\nX,81,263\nY,0,0\n");
    char *argv[] = {"ci", "--type", "proportion", path_of("cp.csv")};
    assert_int_equal(capture(cmd_ci, 4, argv), 0);
    assert_int_equal(strncmp(out,
                             "unit,numerator,denominator,value,lower95,upper95,lower998,upper998\n"
                             "X,81,263,0.30798479087452474,0.255288519878274",
                             strlen("unit,numerator,denominator,value,lower95,upper95,lower998,"
                                    "upper998\nX,81,263,0.30798479087452474,0.255288519878274")),
                     0);
    assert_non_null(strstr(out, "\nY,0,0,,,,,\n"));

    write_text(path_of("cr.csv"), "unit,observed,expected\nX,5,2.5\nY,3,0\n");
    char *argv2[] = {"ci", "--type", "ratio", path_of("cr.csv")};
    assert_int_equal(capture(cmd_ci, 4, argv2), 0);
    assert_non_null(strstr(out, "\nX,5,2.5,2,0.649394556047368"));
    assert_non_null(strstr(out, "\nY,3,0,,,,,\n"));

    char *argv3[] = {"ci", "--type", "odds", path_of("cr.csv")};
    assert_int_equal(capture(cmd_ci, 4, argv3), 2);
    assert_non_null(strstr(errtext, "--type is \"odds\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_funnel_normal_csv),
        cmocka_unit_test(test_funnel_summary_phi),
        cmocka_unit_test(test_funnel_errors),
        cmocka_unit_test(test_ci_csv),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
