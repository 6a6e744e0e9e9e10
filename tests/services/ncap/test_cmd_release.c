/* test_cmd_release.c - `ncap release build` on small files: the release a deployment would
 * publish (levels that add up, breakdowns whose categories add up to their row, a death linked
 * from the register, the trust files' valid records counted once each), a definition without
 * patient identifiers (each record its own patient), a trust's second file replacing the records
 * it sends again, and the errors: usage, an unknown audit, a file name that is not an ODS trust
 * code, a file that cannot be read or that ingest would refuse, reference files with a wrong
 * header or bad rows (by line). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_run.h"
#include "commands.h"
#include "csv.h"
#include "file_read.h"
#include "mini_audit.h"

#define AUDITS NCAP_SOURCE_DIR "/deploy/audits"
/* the reference data a deployment ships */
#define IMD NCAP_SOURCE_DIR "/deploy/refdata/imd2019_lsoa11_england.csv"
#define ODS NCAP_SOURCE_DIR "/deploy/refdata/ods_etr.csv"
#define CSV_HEADER                                                                                 \
    "audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,numerator,"      \
    "denominator,value,lower95,upper95,lower998,upper998,england_value,compared_to_england,"       \
    "funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,expected,held,"    \
    "missing,rejected,left_out,bound_lower,bound_upper,withheld_opt_out\n"

static char dir[] = "/tmp/test_cmd_release_XXXXXX";

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static result_t release(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_release, "release", arg, ap);
    va_end(ap);
    return r;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* dir/name, made. */
static const char *in_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

static char *read_text(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0)
        fail_msg("could not read %s", path);
    return data;
}

/* ---------------------------------------------------------------- latest.csv as rows */

enum {
    C_AUDIT,
    C_PERIOD,
    C_LEVEL,
    C_AREA,
    C_AREA_NAME,
    C_PARENT,
    C_METRIC,
    C_BREAKDOWN,
    C_CATEGORY,
    C_NUM,
    C_DEN,
    C_VALUE,
    NCOLS = 32
};

typedef struct {
    char *f[NCOLS];
} row_t;

typedef struct {
    row_t *rows;
    size_t n;
} table_t;

static table_t read_table(const char *path)
{
    char *text = read_text(path);
    assert_int_equal(strncmp(text, CSV_HEADER, strlen(CSV_HEADER)), 0);
    table_t t = {0};
    csv_reader_t *csv = csv_reader_new(text, strlen(text), false);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1);
    int rc;
    while ((rc = csv_reader_next(csv)) == 1) {
        assert_int_equal(csv_reader_nfields(csv), NCOLS);
        t.rows = realloc(t.rows, (t.n + 1) * sizeof *t.rows);
        assert_non_null(t.rows);
        for (size_t c = 0; c < NCOLS; c++)
            t.rows[t.n].f[c] = strdup(csv_reader_field(csv, c));
        t.n++;
    }
    assert_int_equal(rc, 0);
    csv_reader_destroy(&csv);
    free(text);
    return t;
}

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        for (size_t c = 0; c < NCOLS; c++)
            free(t->rows[i].f[c]);
    free(t->rows);
}

/* The sum of column col over the rows of level, metric and breakdown (NULL: any) whose parent is
 * parent (NULL: any). */
static long long sum(const table_t *t, int col, const char *level, const char *metric,
                     const char *breakdown, const char *parent)
{
    long long s = 0;
    for (size_t i = 0; i < t->n; i++) {
        const row_t *r = &t->rows[i];
        if (strcmp(r->f[C_LEVEL], level) == 0 && (!metric || strcmp(r->f[C_METRIC], metric) == 0) &&
            (!breakdown || strcmp(r->f[C_BREAKDOWN], breakdown) == 0) &&
            (!parent || strcmp(r->f[C_PARENT], parent) == 0))
            s += strtoll(r->f[col], NULL, 10);
    }
    return s;
}

static const row_t *find(const table_t *t, const char *level, const char *area, const char *metric,
                         const char *breakdown, const char *category)
{
    for (size_t i = 0; i < t->n; i++) {
        const row_t *r = &t->rows[i];
        if (strcmp(r->f[C_LEVEL], level) == 0 && strcmp(r->f[C_AREA], area) == 0 &&
            strcmp(r->f[C_METRIC], metric) == 0 && strcmp(r->f[C_BREAKDOWN], breakdown) == 0 &&
            strcmp(r->f[C_CATEGORY], category) == 0)
            return r;
    }
    return NULL;
}

/* ---------------------------------------------------------------- usage and errors */

static void test_usage(void **state)
{
    (void)state;
    result_t r = release(NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "ncap release: expected \"build\""));
    result_free(&r);
    r = release("publish", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown action \"publish\""));
    result_free(&r);
    /* finalise and diff: their usage errors come before any connection */
    r = release("finalise", "--audit", "nhfd", "--year", "25", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "invalid value \"25\" for --year"));
    result_free(&r);
    r = release("finalise", "--audit", "nhfd", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing --year"));
    result_free(&r);
    r = release("diff", "--audit", "nhfd", "--period", "2025Q3", "r2", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "expected two revisions"));
    result_free(&r);
    r = release("diff", "--audit", "nhfd", "--period", "2025Q3", "r2", "x", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "invalid revision \"x\""));
    result_free(&r);
    r = release("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap release build --audit A --out DIR"));
    result_free(&r);
    r = release("build", "--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "DIR/<audit>/<period>/latest.csv"));
    result_free(&r);
    r = release("build", "--out", dir, "x/RR8.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "ncap release build: missing --audit"));
    result_free(&r);
    r = release("build", "--audit", "nhfd", "x/RR8.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing --out"));
    result_free(&r);
    r = release("build", "--audit", "nhfd", "--out", dir, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing FILE"));
    result_free(&r);
    r = release("build", "--audit", "nhfd", "--out", dir, "--bogus", "x/RR8.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown option \"--bogus\""));
    result_free(&r);
    r = release("build", "--audit", "nhfd", "--out", dir, "x/RR8.csv", "--deaths", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "option \"--deaths\" needs a value"));
    result_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    char out[256], p[256], q[256];
    in_dir(out, sizeof out, "out-errors");
    /* an audit without a definition */
    result_t r = release("build", "--audit", "nosuch", "--audit-dir", AUDITS, "--out", out,
                         "x/RR8.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "nosuch"));
    result_free(&r);
    /* file names that are not a trust's ODS code */
    const char *names[] = {"trust.csv", "RR801.csv", "RR8.txt", "rr8.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        in_dir(p, sizeof p, names[i]);
        r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, p, NULL);
        assert_int_equal(r.rc, 2);
        assert_non_null(strstr(r.err, "a trust's file is named by its ODS trust code"));
        result_free(&r);
    }
    /* a file that cannot be read */
    in_dir(p, sizeof p, "missing/RR8.csv");
    r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, p, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read"));
    assert_non_null(strstr(r.err, "No such file or directory"));
    result_free(&r);
    /* a file ingest refuses as a whole */
    in_dir(p, sizeof p, "RTH.csv");
    write_text(p, "local_record_id,trust_code\nA1,RTH\n");
    r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, p, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "would be refused by ingest: the header has no column"));
    result_free(&r);
    /* a reference file with a wrong header: its first line */
    temp_file(q, "nhs,died\n4010232137,2026-01-01\n");
    r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, "--deaths", q, p,
                NULL);
    assert_int_equal(r.rc, 1);
    char want[320];
    snprintf(want, sizeof want, "ncap release: %s:1: ", q);
    assert_non_null(strstr(r.err, want));
    result_free(&r);
    unlink(q);
    in_dir(q, sizeof q, "missing-deaths.csv");
    r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, "--deaths", q, p,
                NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read"));
    result_free(&r);
}

/* ---------------------------------------------------------------- a release */

static result_t sim(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_sim, "sim", arg, ap);
    va_end(ap);
    return r;
}

/* Simulated NHFD files of 3 trusts into dir/sim, with deaths and the truth. */
static void simulate(void)
{
    char dir_sim[256], truth[256], deaths[256];
    in_dir(dir_sim, sizeof dir_sim, "sim");
    in_dir(truth, sizeof truth, "sim.truth.csv");
    in_dir(deaths, sizeof deaths, "deaths.csv");
    struct stat st;
    if (stat(truth, &st) == 0)
        return;
    result_t r = sim("--audit", "nhfd", "--records", "1500", "--trusts", "3", "--seed", "5",
                     "--out", dir_sim, "--truth", truth, "--deaths", deaths, NULL);
    assert_int_equal(r.rc, 0);
    result_free(&r);
}

/* The valid rows of the simulator's truth. */
static long long truth_valid(void)
{
    char truth[256];
    in_dir(truth, sizeof truth, "sim.truth.csv");
    char *text = read_text(truth);
    csv_reader_t *csv = csv_reader_new(text, strlen(text), false);
    assert_int_equal(csv_reader_next(csv), 1);
    size_t col = SIZE_MAX;
    for (size_t c = 0; c < csv_reader_nfields(csv); c++)
        if (strcmp(csv_reader_field(csv, c), "invalid") == 0)
            col = c;
    assert_true(col != SIZE_MAX);
    long long n = 0;
    while (csv_reader_next(csv) == 1)
        n += strcmp(csv_reader_field(csv, col), "0") == 0;
    csv_reader_destroy(&csv);
    free(text);
    return n;
}

/* The paths matching pattern, sorted (glob: the C locale's order), into paths (room for max). */
static size_t paths_of(const char *pattern, char paths[][256], size_t max)
{
    glob_t g;
    size_t n = 0;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (; n < max && n < g.gl_pathc; n++)
            snprintf(paths[n], 256, "%s", g.gl_pathv[n]);
    globfree(&g);
    return n;
}

static void test_levels_and_breakdowns(void **state)
{
    (void)state;
    simulate();
    char files[8][256], out[256], deaths[256];
    assert_int_equal(paths_of(in_dir(out, sizeof out, "sim/*.csv"), files, 8), 3);
    in_dir(out, sizeof out, "out-release");
    in_dir(deaths, sizeof deaths, "deaths.csv");
    result_t r =
        release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out, "--deaths", deaths,
                "--imd", IMD, "--ods", ODS, files[0], files[1], files[2], NULL);
    if (r.rc != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.err, "records ("));
    result_free(&r);

    char periods[16][256], pattern[300];
    snprintf(pattern, sizeof pattern, "%s/nhfd/*", out);
    size_t np = paths_of(pattern, periods, 16);
    assert_true(np >= 4); /* a year of arrivals */
    long long valid = 0, deaths_30d = 0;
    for (size_t p = 0; p < np; p++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/latest.csv", periods[p]);
        table_t t = read_table(path);
        for (size_t k = 0; k < 3; k++) {
            static const char *const metrics[] = {"surgery_36h", "ortho_72h", "mortality_30d"};
            const char *m = metrics[k];
            /* one England row; denominators add up level by level */
            const row_t *eng = find(&t, "england", "E92000001", m, "all", "");
            assert_non_null(eng);
            long long den = strtoll(eng->f[C_DEN], NULL, 10);
            assert_true(den > 0);
            assert_int_equal(sum(&t, C_DEN, "region", m, "all", NULL), den);
            assert_int_equal(sum(&t, C_DEN, "trust", m, "all", NULL), den);
            assert_int_equal(sum(&t, C_DEN, "site", m, "all", NULL), den);
            /* each England breakdown's categories add up to the row */
            static const char *const bds[] = {"imd_quintile", "ethnicity", "sex", "age"};
            for (size_t b = 0; b < 4; b++) {
                long long s = 0;
                for (size_t i = 0; i < t.n; i++)
                    if (strcmp(t.rows[i].f[C_LEVEL], "england") == 0 &&
                        strcmp(t.rows[i].f[C_METRIC], m) == 0 &&
                        strcmp(t.rows[i].f[C_BREAKDOWN], bds[b]) == 0)
                        s += strtoll(t.rows[i].f[C_DEN], NULL, 10);
                assert_int_equal(s, den);
            }
            if (strcmp(m, "ortho_72h") == 0)
                valid += den;
            if (strcmp(m, "mortality_30d") == 0)
                deaths_30d += strtoll(eng->f[C_NUM], NULL, 10);
        }
        /* IMD quintiles known: most records' LSOAs are in the index */
        const row_t *unknown =
            find(&t, "england", "E92000001", "ortho_72h", "imd_quintile", "unknown");
        const row_t *eng = find(&t, "england", "E92000001", "ortho_72h", "all", "");
        assert_true(!unknown ||
                    strtoll(unknown->f[C_DEN], NULL, 10) < strtoll(eng->f[C_DEN], NULL, 10) / 2);
        /* trusts named from the ODS extract, sites under their trust */
        for (size_t i = 0; i < t.n; i++) {
            const row_t *row = &t.rows[i];
            if (strcmp(row->f[C_LEVEL], "site") == 0)
                assert_int_equal(strncmp(row->f[C_AREA], row->f[C_PARENT], 3), 0);
            if (strcmp(row->f[C_LEVEL], "trust") == 0)
                assert_string_not_equal(row->f[C_AREA_NAME], row->f[C_AREA]);
        }
        table_free(&t);
        /* the other files of the period */
        snprintf(path, sizeof path, "%s/latest.json", periods[p]);
        assert_int_equal(access(path, R_OK), 0);
        snprintf(path, sizeof path, "%s/fingertips.csv", periods[p]);
        char *tips = read_text(path);
        assert_int_equal(strncmp(tips, "Indicator ID,Indicator Name,", 28), 0);
        free(tips);
        /* the run charts */
        snprintf(path, sizeof path, "%s/spc.csv", periods[p]);
        char *spc = read_text(path);
        assert_int_equal(strncmp(spc, "audit,metric,level,area_code,month,", 35), 0);
        free(spc);
        snprintf(path, sizeof path, "%s/spc_summary.csv", periods[p]);
        spc = read_text(path);
        assert_int_equal(strncmp(spc, "audit,metric,level,area_code,mean,", 34), 0);
        free(spc);
    }
    /* every valid record counted once, in ortho_72h (every patient) */
    assert_int_equal(valid, truth_valid());
    /* deaths linked from the register */
    assert_true(deaths_30d > 0);
}

static void test_bad_reference_rows(void **state)
{
    (void)state;
    simulate();
    char files[8][256], out[256], deaths[256];
    assert_int_equal(paths_of(in_dir(out, sizeof out, "sim/*.csv"), files, 8), 3);
    in_dir(out, sizeof out, "out-bad-rows");
    in_dir(deaths, sizeof deaths, "deaths-some-bad.csv");
    write_text(deaths, "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"
                       "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,2026-01-20\n"
                       "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,31/02/2026\n");
    result_t r = release("build", "--audit", "nhfd", "--audit-dir", AUDITS, "--out", out,
                         "--deaths", deaths, files[0], NULL);
    assert_int_equal(r.rc, 0);
    char want[320];
    snprintf(want, sizeof want, "ncap release: %s:3: ", deaths);
    assert_non_null(strstr(r.err, want));
    assert_non_null(strstr(r.err, "row skipped"));
    assert_null(strstr(r.err, ":2: "));
    result_free(&r);
}

/* ---------------------------------------------------------------- no identifiers */

static void mini_setup(char *audits, size_t len)
{
    in_dir(audits, len, "mini-audits");
    mkdir(audits, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/mini.yaml", audits);
    write_text(path, MINI_AUDIT_YAML);
}

static void test_definition_without_identifiers(void **state)
{
    (void)state;
    char audits[256], a[256], b[256], out[256];
    mini_setup(audits, sizeof audits);
    mkdir(in_dir(a, sizeof a, "mini"), 0755);
    in_dir(a, sizeof a, "mini/RR8.csv");
    in_dir(b, sizeof b, "mini/RTH.csv");
    /* five records of RR8 in 2026Q1 (3 done, one not a valid boolean: invalid), one in 2026Q2;
     * RTH's two, neither done; a row of another trust refused by ingest */
    write_text(a, "id,trust,site,seen,done\n"
                  "1,RR8,RR801,2026-01-05,Y\n"
                  "2,RR8,RR801,2026-01-06,Y\n"
                  "3,RR8,RR802,2026-02-07,Y\n"
                  "4,RR8,RR802,2026-03-08,N\n"
                  "5,RR8,RR802,2026-03-09,maybe\n"
                  "6,RR8,RR801,2026-04-01,N\n"
                  "7,RTH,RTH01,2026-01-01,Y\n");
    write_text(b, "id,trust,site,seen,done\n"
                  "1,RTH,RTH01,2026-01-05,N\n"
                  "2,RTH,RTH01,2026-01-06,N\n");
    in_dir(out, sizeof out, "out-mini");
    result_t r =
        release("build", "--audit", "mini", "--audit-dir", audits, "--out", out, a, b, NULL);
    if (r.rc != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.err, "RR8.csv: 7 data rows: 1 refused by ingest's checks"));
    assert_non_null(strstr(r.err, "of 8 patients"));
    result_free(&r);
    char path[512];
    snprintf(path, sizeof path, "%s/mini/2026Q1/latest.csv", out);
    table_t t = read_table(path);
    const row_t *row = find(&t, "trust", "RR8", "done", "all", "");
    assert_non_null(row);
    assert_string_equal(row->f[C_NUM], "3");
    assert_string_equal(row->f[C_DEN], "4");
    assert_non_null(row = find(&t, "site", "RR802", "done", "all", ""));
    assert_string_equal(row->f[C_NUM], "1");
    assert_string_equal(row->f[C_DEN], "2");
    assert_non_null(row = find(&t, "trust", "RTH", "done", "all", ""));
    assert_string_equal(row->f[C_NUM], "0");
    assert_string_equal(row->f[C_DEN], "2");
    assert_non_null(row = find(&t, "england", "E92000001", "done", "all", ""));
    assert_string_equal(row->f[C_NUM], "3");
    assert_string_equal(row->f[C_DEN], "6");
    /* without --ods: named by code, in region unknown */
    assert_non_null(row = find(&t, "trust", "RR8", "done", "all", ""));
    assert_string_equal(row->f[C_AREA_NAME], "RR8");
    assert_string_equal(row->f[C_PARENT], "unknown");
    table_free(&t);
    snprintf(path, sizeof path, "%s/mini/2026Q2/latest.csv", out);
    t = read_table(path);
    assert_non_null(row = find(&t, "england", "E92000001", "done", "all", ""));
    assert_string_equal(row->f[C_NUM], "0");
    assert_string_equal(row->f[C_DEN], "1");
    table_free(&t);

    /* RR8 sends again: record 4 now done, record 6 moved to 2026Q1; the others unchanged */
    char a2[256];
    mkdir(in_dir(a2, sizeof a2, "mini2"), 0755);
    in_dir(a2, sizeof a2, "mini2/RR8.csv");
    write_text(a2, "id,trust,site,seen,done\n"
                   "4,RR8,RR802,2026-03-08,Y\n"
                   "6,RR8,RR801,2026-03-31,N\n"
                   "1,RR8,RR801,2026-01-05,Y\n");
    in_dir(out, sizeof out, "out-mini2");
    r = release("build", "--audit", "mini", "--audit-dir", audits, "--out", out, a, b, a2, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(
        strstr(r.err, "RR8.csv: 3 data rows: 0 refused by ingest's checks, 1 unchanged, 2 record "
                      "versions linked"));
    result_free(&r);
    snprintf(path, sizeof path, "%s/mini/2026Q1/latest.csv", out);
    t = read_table(path);
    assert_non_null(row = find(&t, "trust", "RR8", "done", "all", ""));
    assert_string_equal(row->f[C_NUM], "4");
    assert_string_equal(row->f[C_DEN], "5");
    table_free(&t);
    /* no record is left in 2026Q2: no release for it (the deployment's would be emptied) */
    snprintf(path, sizeof path, "%s/mini/2026Q2/latest.csv", out);
    assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_levels_and_breakdowns),
        cmocka_unit_test(test_bad_reference_rows),
        cmocka_unit_test(test_definition_without_identifiers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
