/* test_sim.c - the simulated trusts: deterministic files whose truth matches what was written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "lsoa11.h"
#include "nhs_number.h"
#include "sim.h"
#include "test_skip.h"

/* ---------- helpers: the simulator never writes commas or quotes inside a field ---------- */

typedef struct {
    char *text;
    char **lines;
    size_t nlines;
} lines_t;

static void lines_split(lines_t *l, char *text)
{
    l->text = text;
    l->nlines = 0;
    size_t cap = 16;
    l->lines = malloc(cap * sizeof *l->lines);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        *nl = '\0';
        if (l->nlines == cap)
            l->lines = realloc(l->lines, (cap *= 2) * sizeof *l->lines);
        l->lines[l->nlines++] = p;
        p = nl + 1;
    }
}

static void lines_free(lines_t *l)
{
    free(l->text);
    free(l->lines);
}

/* Splits line (copied into buf) at commas; returns the number of fields. */
static size_t split(const char *line, char *buf, size_t size, char **f, size_t max)
{
    snprintf(buf, size, "%s", line);
    size_t n = 0;
    char *p = buf;
    for (;;) {
        assert_true(n < max);
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

/* The whole output as ncap sim writes it to stdout: one header, every trust's rows. */
static char *one_file(const sim_t *sim, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(sim_write_header(f), 0);
    for (size_t t = 0; t < sim_ntrusts(sim); t++)
        assert_int_equal(sim_write_trust(sim, t, f), 0);
    assert_int_equal(fclose(f), 0);
    if (len)
        *len = n;
    return buf;
}

static char *truth_text(const sim_t *sim, bool in_one_file)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(sim_write_truth(sim, f, in_one_file), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static sim_t *make(unsigned trusts, unsigned records, uint64_t seed, double rate)
{
    sim_opts_t o;
    sim_opts_default(&o);
    o.trusts = trusts;
    o.records = records;
    o.seed = seed;
    o.invalid_rate = rate;
    char err[256];
    sim_t *sim = sim_new(&o, err, sizeof err);
    assert_non_null(sim);
    return sim;
}

static int find_trust(const sim_t *sim, const char *code)
{
    for (size_t t = 0; t < sim_ntrusts(sim); t++)
        if (strcmp(sim_trust_code(sim, t), code) == 0)
            return (int)t;
    return -1;
}

enum { T_ID, T_TRUST, T_ROW, T_PATIENT, T_INVALID, T_REASON, T_NHS_ISSUE, T_OPTED_OUT };

/* ---------- tests ---------- */

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    sim_t *a = make(20, 1000, 42, 0.02), *b = make(20, 1000, 42, 0.02),
          *c = make(20, 1000, 43, 0.02);
    size_t la, lb, lc;
    char *fa = one_file(a, &la), *fb = one_file(b, &lb), *fc = one_file(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    assert_true(la != lc || memcmp(fa, fc, la) != 0);
    char *ta = truth_text(a, true), *tb = truth_text(b, true);
    assert_string_equal(ta, tb);
    /* a trust's file on its own is the header plus exactly its slice of the whole */
    char *buf;
    size_t len;
    assert_int_equal(sim_trust_buffer(a, 1, &buf, &len), 0);
    char *rows = strchr(buf, '\n') + 1;
    assert_non_null(strstr(fa, rows));
    free(buf);
    free(fa);
    free(fb);
    free(fc);
    free(ta);
    free(tb);
    sim_destroy(&a);
    sim_destroy(&b);
    sim_destroy(&c);
    assert_null(a);
    sim_destroy(&a); /* harmless */
}

static void test_header_has_the_nhfd_columns_in_order(void **state)
{
    (void)state;
    sim_t *sim = make(2, 5, 1, 0);
    char *text = one_file(sim, NULL);
    const char *expected =
        "local_record_id,trust_code,site_code,nhs_number,forename,surname,date_of_birth,sex,"
        "postcode,lsoa,ethnic_category,arrival_datetime,ward_admission_datetime,"
        "never_admitted_to_ward,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
        "fracture_type,fracture_side,pathological_fracture,asa_grade,"
        "orthogeriatric_assessment_datetime,surgery_datetime,operation,amts_post_op,"
        "discharge_destination,discharge_date\n";
    assert_memory_equal(text, expected, strlen(expected));
    assert_string_equal(sim_column(0), "local_record_id");
    assert_string_equal(sim_column(SIM_NCOLUMNS - 1), "discharge_date");
    assert_null(sim_column(SIM_NCOLUMNS));
    free(text);
    sim_destroy(&sim);
}

static size_t count_invalid(const sim_t *sim, size_t kinds[4])
{
    lines_t t;
    lines_split(&t, truth_text(sim, true));
    size_t n = 0;
    for (size_t i = 1; i < t.nlines; i++) {
        char buf[256], *f[9];
        assert_int_equal(split(t.lines[i], buf, sizeof buf, f, 9), 8);
        if (strcmp(f[T_INVALID], "1") == 0) {
            n++;
            if (kinds) {
                for (int k = 1; k <= 3; k++)
                    if (strcmp(f[T_REASON], sim_invalid_text((sim_invalid_t)k)) == 0)
                        kinds[k]++;
            }
        } else {
            assert_string_equal(f[T_INVALID], "0");
            assert_string_equal(f[T_REASON], "");
        }
    }
    lines_free(&t);
    return n;
}

static void test_exact_invalid_count(void **state)
{
    (void)state;
    struct {
        unsigned records;
        double rate;
        size_t expected;
    } cases[] = {{1000, 0.02, 20}, {333, 0.05, 17}, {1000, 0, 0}, {10, 1, 10}, {7, 0.5, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sim_t *sim = make(5, cases[i].records, 3, cases[i].rate);
        assert_int_equal(count_invalid(sim, NULL), cases[i].expected);
        sim_stats_t st;
        sim_stats(sim, &st);
        assert_int_equal(st.invalid, cases[i].expected);
        sim_destroy(&sim);
    }
    size_t kinds[4] = {0};
    sim_t *sim = make(20, 1000, 9, 0.06);
    assert_int_equal(count_invalid(sim, kinds), 60);
    assert_int_equal(kinds[SIM_MISSING_REQUIRED], 20);
    assert_int_equal(kinds[SIM_BAD_DATETIME], 20);
    assert_int_equal(kinds[SIM_BAD_CODE], 20);
    sim_destroy(&sim);
}

static bool in_set(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static bool parses(const char *s)
{
    int64_t t;
    bool has_time;
    return ncap_datetime_parse(s, &t, &has_time) == 0;
}

/* Valid rows hold only values the audit accepts; each invalid row has exactly its one error. */
static void test_rows_match_their_truth(void **state)
{
    (void)state;
    static const char *const sexes[] = {"1", "2", "9", "X", NULL};
    static const char *const ethnic[] = {"A", "B", "C", "D", "E", "F", "G", "H",  "J", "K",
                                         "L", "M", "N", "P", "R", "S", "Z", "99", NULL};
    static const char *const res[] = {"1", "2", "3", "4", "5", "9", NULL};
    static const char *const amts[] = {"0", "1", "2", "3",  "4",  "5", "6",
                                       "7", "8", "9", "10", "ND", NULL};
    static const char *const ftype[] = {"ICD", "ICU", "IT", "ST", NULL};
    static const char *const side[] = {"L", "R", NULL};
    static const char *const patho[] = {"Y", "N", "U", NULL};
    static const char *const asa[] = {"1", "2", "3", "4", "5", NULL};
    static const char *const ops[] = {"CS", "HA", "THR", "SHS", "IMN", "OTH", "NOP", NULL};
    static const char *const dest[] = {"1", "2", "3", "4", "5", "6", "9", NULL};
    static const char *const yn[] = {"Y", "N", NULL};

    sim_t *sim = make(20, 2000, 5, 0.05);
    lines_t out, truth;
    lines_split(&out, one_file(sim, NULL));
    lines_split(&truth, truth_text(sim, true));
    assert_int_equal(out.nlines, 2001);
    assert_int_equal(truth.nlines, 2001);
    size_t nop = 0, never = 0;
    for (size_t i = 1; i < truth.nlines; i++) {
        char tb[256], *t[9], rb[1024], *f[SIM_NCOLUMNS + 1];
        split(truth.lines[i], tb, sizeof tb, t, 9);
        size_t row = (size_t)atoi(t[T_ROW]);
        assert_int_equal(row, i + 1); /* truth is in file order */
        assert_null(strchr(out.lines[row - 1], '"'));
        assert_int_equal(split(out.lines[row - 1], rb, sizeof rb, f, SIM_NCOLUMNS + 1),
                         SIM_NCOLUMNS);
        assert_string_equal(f[SIM_C_ID], t[T_ID]);
        assert_string_equal(f[SIM_C_TRUST], t[T_TRUST]);
        /* a site of the row's own trust */
        assert_int_equal(strlen(f[SIM_C_SITE]), 5);
        assert_memory_equal(f[SIM_C_SITE], f[SIM_C_TRUST], 3);
        assert_int_equal(strncmp(f[SIM_C_LSOA], "E01", 3), 0);
        assert_int_equal(strlen(f[SIM_C_LSOA]), 9);
        assert_true(in_set(f[SIM_C_SEX], sexes));
        assert_true(in_set(f[SIM_C_ETHNIC], ethnic));
        assert_true(parses(f[SIM_C_DOB]));
        assert_true(parses(f[SIM_C_ORTHO]));
        assert_true(parses(f[SIM_C_DISCHARGE_DATE]));
        assert_true(in_set(f[SIM_C_NEVER_ADMITTED], yn));
        assert_true(in_set(f[SIM_C_AMTS_PRE], amts) && in_set(f[SIM_C_AMTS_POST], amts));
        assert_true(in_set(f[SIM_C_SIDE], side) && in_set(f[SIM_C_PATHO], patho));
        assert_true(in_set(f[SIM_C_OPERATION], ops) && in_set(f[SIM_C_DISCHARGE_DEST], dest));
        if (strcmp(f[SIM_C_OPERATION], "NOP") == 0) {
            assert_string_equal(f[SIM_C_SURGERY], "");
            nop++;
        } else {
            assert_true(parses(f[SIM_C_SURGERY]));
        }
        if (strcmp(f[SIM_C_NEVER_ADMITTED], "Y") == 0) {
            assert_string_equal(f[SIM_C_WARD], "");
            never++;
        } else {
            assert_true(parses(f[SIM_C_WARD]));
        }
        bool arrival_ok = parses(f[SIM_C_ARRIVAL]), ftype_ok = in_set(f[SIM_C_FTYPE], ftype),
             res_ok = in_set(f[SIM_C_RESIDENCE], res), mob_ok = in_set(f[SIM_C_MOBILITY], res),
             asa_ok = in_set(f[SIM_C_ASA], asa);
        int errors = !arrival_ok + !ftype_ok + !res_ok + !mob_ok + !asa_ok;
        const char *reason = t[T_REASON];
        if (strcmp(t[T_INVALID], "0") == 0) {
            assert_int_equal(errors, 0);
        } else if (strcmp(reason, "missing_required") == 0) {
            assert_int_equal(errors, 1);
            assert_true(!*f[SIM_C_ARRIVAL] || !*f[SIM_C_FTYPE] || !*f[SIM_C_RESIDENCE]);
        } else if (strcmp(reason, "bad_datetime") == 0) {
            assert_int_equal(errors, 1);
            assert_false(arrival_ok);
            assert_true(*f[SIM_C_ARRIVAL]);
        } else {
            assert_string_equal(reason, "bad_code");
            assert_int_equal(errors, 1);
            assert_true(strcmp(f[SIM_C_FTYPE], "XX") == 0 || strcmp(f[SIM_C_ASA], "7") == 0 ||
                        strcmp(f[SIM_C_MOBILITY], "8") == 0);
        }
    }
    /* about 3% not operated and a few never admitted to a ward */
    assert_in_range(nop, 20, 120);
    assert_in_range(never, 5, 80);
    lines_free(&out);
    lines_free(&truth);
    sim_destroy(&sim);
}

static void test_truth_rows_in_one_file_per_trust(void **state)
{
    (void)state;
    sim_t *sim = make(6, 300, 11, 0.03);
    lines_t truth;
    lines_split(&truth, truth_text(sim, false));
    size_t total = 0;
    for (size_t t = 0; t < sim_ntrusts(sim); t++) {
        char *buf;
        size_t len;
        assert_int_equal(sim_trust_buffer(sim, t, &buf, &len), 0);
        lines_t file;
        lines_split(&file, buf);
        assert_int_equal(file.nlines, sim_trust_nrecords(sim, t) + 1);
        assert_string_equal(file.lines[0], "local_record_id,trust_code,site_code,nhs_number,"
                                           "forename,surname,date_of_birth,sex,postcode,lsoa,"
                                           "ethnic_category,arrival_datetime,"
                                           "ward_admission_datetime,never_admitted_to_ward,"
                                           "residence_at_fracture,pre_fracture_mobility,"
                                           "amts_pre_op,fracture_type,fracture_side,"
                                           "pathological_fracture,asa_grade,"
                                           "orthogeriatric_assessment_datetime,surgery_datetime,"
                                           "operation,amts_post_op,discharge_destination,"
                                           "discharge_date");
        for (size_t i = 1; i < truth.nlines; i++) {
            char tb[256], *f[9];
            split(truth.lines[i], tb, sizeof tb, f, 9);
            if (strcmp(f[T_TRUST], sim_trust_code(sim, t)) != 0)
                continue;
            size_t row = (size_t)atoi(f[T_ROW]);
            assert_in_range(row, 2, file.nlines);
            size_t n = strlen(f[T_ID]);
            assert_memory_equal(file.lines[row - 1], f[T_ID], n);
            assert_int_equal(file.lines[row - 1][n], ',');
            total++;
        }
        lines_free(&file);
    }
    assert_int_equal(total, 300);
    lines_free(&truth);
    sim_destroy(&sim);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_records_and_trusts(void **state)
{
    (void)state;
    sim_t *sim = make(60, 3000, 2, 0.02);
    assert_int_equal(sim_ntrusts(sim), 60);
    assert_string_equal(sim_trust_code(sim, 0), "RH8");
    assert_string_equal(sim_trust_code(sim, 1), "RTH");
    size_t sum = 0, uk = 0, poor = 0;
    for (size_t t = 0; t < 60; t++) {
        const char *code = sim_trust_code(sim, t);
        assert_int_equal(strlen(code), 3);
        for (size_t u = 0; u < t; u++)
            assert_string_not_equal(code, sim_trust_code(sim, u));
        assert_in_range(sim_trust_nsites(sim, t), 1, 3);
        sum += sim_trust_nrecords(sim, t);
        uk += sim_trust_uk_dates(sim, t);
        poor += sim_trust_poor(sim, t);
    }
    assert_int_equal(sum, 3000);
    assert_int_equal(uk, 9);
    assert_int_equal(poor, 9);
    /* local record ids are unique in the run */
    lines_t truth;
    lines_split(&truth, truth_text(sim, true));
    char **ids = calloc(truth.nlines, sizeof *ids);
    for (size_t i = 1; i < truth.nlines; i++) {
        *strchr(truth.lines[i], ',') = '\0';
        ids[i - 1] = truth.lines[i];
    }
    qsort(ids, truth.nlines - 1, sizeof *ids, cmp_str);
    for (size_t i = 1; i + 1 < truth.nlines; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
    lines_free(&truth);
    sim_destroy(&sim);
    sim = make(500, 10, 1, 0);
    assert_int_equal(sim_ntrusts(sim), 500);
    sim_destroy(&sim);
}

typedef struct {
    char trust[8];
    char nhs[16];
    char dob[16];
    int patient;
    int mistyped, missing;
} seen_t;

/* Every NHS number the truth does not flag passes the check; repeat patients appear at other
 * trusts under the same NHS number. */
static void test_nhs_numbers_and_repeat_patients(void **state)
{
    (void)state;
    sim_t *sim = make(20, 2000, 8, 0.02);
    lines_t out, truth;
    lines_split(&out, one_file(sim, NULL));
    lines_split(&truth, truth_text(sim, true));
    size_t n = truth.nlines - 1;
    seen_t *seen = calloc(n, sizeof *seen);
    size_t mistyped = 0, missing = 0;
    int max_patient = 0;
    for (size_t i = 0; i < n; i++) {
        char tb[256], *t[9], rb[1024], *f[SIM_NCOLUMNS + 1];
        split(truth.lines[i + 1], tb, sizeof tb, t, 9);
        split(out.lines[i + 1], rb, sizeof rb, f, SIM_NCOLUMNS + 1);
        char digits[11];
        nhs_number_status_t st = nhs_number_check(f[SIM_C_NHS], digits);
        if (strcmp(t[T_NHS_ISSUE], "mistyped") == 0) {
            assert_int_equal(st, NHS_NUMBER_CHECKSUM);
            mistyped++;
        } else if (strcmp(t[T_NHS_ISSUE], "missing") == 0) {
            assert_int_equal(st, NHS_NUMBER_EMPTY);
            missing++;
        } else {
            assert_string_equal(t[T_NHS_ISSUE], "");
            assert_int_equal(st, NHS_NUMBER_VALID);
        }
        snprintf(seen[i].trust, sizeof seen[i].trust, "%s", f[SIM_C_TRUST]);
        snprintf(seen[i].nhs, sizeof seen[i].nhs, "%s", st == NHS_NUMBER_VALID ? digits : "");
        seen[i].patient = atoi(t[T_PATIENT]);
        if (seen[i].patient > max_patient)
            max_patient = seen[i].patient;
    }
    /* 1% each over all rows, and more at repeat visits (4% missing, 2% mistyped of 180) */
    sim_stats_t st;
    sim_stats(sim, &st);
    assert_int_equal(mistyped, st.nhs_mistyped);
    assert_int_equal(missing, st.nhs_missing);
    assert_in_range(mistyped, 20, 30);
    assert_in_range(missing, 20, 35);

    /* patients are numbered 1..P; a few hundred rows share a patient, mostly across trusts */
    size_t same_patient = 0, across_trusts = 0, same_nhs_across = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            bool same = seen[i].patient == seen[j].patient;
            bool same_nhs = seen[i].nhs[0] && strcmp(seen[i].nhs, seen[j].nhs) == 0;
            /* one NHS number is one person */
            if (same_nhs)
                assert_int_equal(seen[i].patient, seen[j].patient);
            if (!same)
                continue;
            same_patient++;
            if (strcmp(seen[i].trust, seen[j].trust) != 0) {
                across_trusts++;
                same_nhs_across += same_nhs;
            }
        }
    }
    assert_int_equal(st.repeats, 180); /* 9% of 2000 */
    assert_int_equal((size_t)max_patient, st.patients);
    assert_in_range(same_patient, 150, 400);
    assert_true(across_trusts * 2 > same_patient);
    assert_true(same_nhs_across * 10 > across_trusts * 8);
    free(seen);
    lines_free(&out);
    lines_free(&truth);
    sim_destroy(&sim);
}

static bool is_uk_date(const char *s)
{
    return strlen(s) >= 10 && s[2] == '/' && s[5] == '/' && (s[10] == '\0' || s[10] == ' ');
}

static bool is_iso_date(const char *s)
{
    return strlen(s) >= 10 && s[4] == '-' && s[7] == '-' && (s[10] == '\0' || s[10] == 'T');
}

static void test_uk_dates_only_from_uk_trusts(void **state)
{
    (void)state;
    static const int date_cols[] = {SIM_C_DOB,   SIM_C_ARRIVAL, SIM_C_WARD,
                                    SIM_C_ORTHO, SIM_C_SURGERY, SIM_C_DISCHARGE_DATE};
    sim_t *sim = make(20, 1500, 4, 0.02);
    lines_t out;
    lines_split(&out, one_file(sim, NULL));
    size_t uk_rows = 0, iso_rows = 0;
    for (size_t i = 1; i < out.nlines; i++) {
        char rb[1024], *f[SIM_NCOLUMNS + 1];
        split(out.lines[i], rb, sizeof rb, f, SIM_NCOLUMNS + 1);
        int t = find_trust(sim, f[SIM_C_TRUST]);
        assert_true(t >= 0);
        bool uk = sim_trust_uk_dates(sim, (size_t)t);
        for (size_t c = 0; c < sizeof date_cols / sizeof date_cols[0]; c++) {
            const char *v = f[date_cols[c]];
            if (!*v)
                continue;
            assert_true(uk ? is_uk_date(v) : is_iso_date(v));
        }
        uk_rows += uk;
        iso_rows += !uk;
    }
    assert_true(uk_rows > 0);
    assert_true(iso_rows > uk_rows);
    lines_free(&out);
    sim_destroy(&sim);
}

/* The poorer-performing trusts really operate later: fewer within 36 hours of arrival. */
static void test_poorer_trusts_operate_later(void **state)
{
    (void)state;
    sim_t *sim = make(20, 6000, 6, 0);
    lines_t out;
    lines_split(&out, one_file(sim, NULL));
    size_t prompt[2] = {0}, operated[2] = {0};
    for (size_t i = 1; i < out.nlines; i++) {
        char rb[1024], *f[SIM_NCOLUMNS + 1];
        split(out.lines[i], rb, sizeof rb, f, SIM_NCOLUMNS + 1);
        if (!*f[SIM_C_SURGERY])
            continue;
        int poor = sim_trust_poor(sim, (size_t)find_trust(sim, f[SIM_C_TRUST]));
        int64_t a, s;
        bool has_time;
        assert_int_equal(ncap_datetime_parse(f[SIM_C_ARRIVAL], &a, &has_time), 0);
        assert_int_equal(ncap_datetime_parse(f[SIM_C_SURGERY], &s, &has_time), 0);
        assert_true(s > a);
        operated[poor]++;
        prompt[poor] += s - a <= 36 * 3600;
    }
    /* as shares: good trusts above half, poorer ones well below */
    assert_true(prompt[0] * 2 > operated[0]);
    assert_true(prompt[1] * 10 < operated[1] * 4);
    lines_free(&out);
    sim_destroy(&sim);
}

/* Submit rounds: the same trusts each round, new records, ids that carry the round. */
static void test_submit_rounds(void **state)
{
    (void)state;
    sim_opts_t o;
    sim_opts_default(&o);
    o.trusts = 5;
    o.records = 100;
    o.seed = 3;
    o.round = 1;
    char err[256];
    sim_t *r1 = sim_new(&o, err, sizeof err);
    o.round = 2;
    sim_t *r2 = sim_new(&o, err, sizeof err);
    assert_non_null(r1);
    assert_non_null(r2);
    for (size_t t = 0; t < 5; t++) {
        assert_string_equal(sim_trust_code(r1, t), sim_trust_code(r2, t));
        assert_int_equal(sim_trust_poor(r1, t), sim_trust_poor(r2, t));
        assert_int_equal(sim_trust_uk_dates(r1, t), sim_trust_uk_dates(r2, t));
        assert_int_equal(sim_trust_nrecords(r1, t), sim_trust_nrecords(r2, t));
    }
    char *b1, *b2;
    size_t l1, l2;
    assert_int_equal(sim_trust_buffer(r1, 0, &b1, &l1), 0);
    assert_int_equal(sim_trust_buffer(r2, 0, &b2, &l2), 0);
    assert_non_null(strstr(b1, "\nRH8-3-r1-1,RH8,"));
    assert_non_null(strstr(b2, "\nRH8-3-r2-1,RH8,"));
    assert_null(strstr(b2, "-r1-"));
    free(b1);
    free(b2);
    sim_destroy(&r1);
    sim_destroy(&r2);
}

static void test_bad_options_are_refused(void **state)
{
    (void)state;
    sim_opts_t o;
    sim_opts_default(&o);
    char err[256];
    o.audit = "hes";
    assert_null(sim_new(&o, err, sizeof err));
    assert_string_equal(
        err, "audit \"hes\" is not supported by the simulator, only \"nhfd\" and \"nela\"");
    sim_opts_default(&o);
    o.trusts = 0;
    assert_null(sim_new(&o, err, sizeof err));
    assert_string_equal(err, "number of trusts 0 is out of range, expected 1-500");
    sim_opts_default(&o);
    o.invalid_rate = 1.5;
    assert_null(sim_new(&o, err, sizeof err));
    sim_opts_default(&o);
    o.days = 0;
    assert_null(sim_new(&o, err, sizeof err));
    /* no records is fine: every trust has an empty file */
    sim_opts_default(&o);
    o.records = 0;
    sim_t *sim = sim_new(&o, err, sizeof err);
    assert_non_null(sim);
    char *text = one_file(sim, NULL);
    assert_int_equal(strchr(text, '\n')[1], '\0');
    free(text);
    sim_destroy(&sim);
}

/* ---------- what linkage needs: patients, deaths, opt-outs, deprivation ---------- */

typedef int (*writer_t)(const sim_t *, FILE *);

static int deaths_only(const sim_t *sim, FILE *f)
{
    return sim_write_deaths(sim, f, NULL);
}

static int deaths_truth_only(const sim_t *sim, FILE *f)
{
    return sim_write_deaths(sim, NULL, f);
}

static int problems_truth(const sim_t *sim, FILE *f)
{
    return sim_write_problems_truth(sim, f, false);
}

static char *text_of(const sim_t *sim, writer_t write)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    assert_int_equal(write(sim, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Every output is a pure function of the options, problems included. */
static void test_every_output_same_bytes(void **state)
{
    (void)state;
    sim_opts_t o;
    sim_opts_default(&o);
    o.trusts = 4;
    o.seed = 77;
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        o.problems[k] = 20;
    o.records = (unsigned)sim_min_records(&o);
    char err[256];
    sim_t *a = sim_new(&o, err, sizeof err), *b = sim_new(&o, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    writer_t writers[] = {deaths_only, deaths_truth_only, sim_write_optouts, problems_truth};
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        char *ta = text_of(a, writers[i]), *tb = text_of(b, writers[i]);
        assert_true(strlen(ta) > 20);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
    }
    char *fa = one_file(a, NULL), *fb = one_file(b, NULL);
    assert_string_equal(fa, fb);
    free(fa);
    free(fb);
    sim_destroy(&a);
    sim_destroy(&b);
}

/* Every LSOA the simulator writes is a real 2011 English LSOA, one linkage finds in the IMD 2019
 * file (read here only, to check; the simulator never reads it). */
static void test_lsoas_are_real(void **state)
{
    (void)state;
    const char *path = NCAP_SHARED_DATA "/refdata/imd2019_lsoa11_england.csv";
    ncap_require_shared_file(path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool *real = calloc(1000000, sizeof *real);
    assert_non_null(real);
    char line[128];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(strncmp(line, "lsoa11cd,", 9), 0);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(strncmp(line, "E01", 3), 0);
        real[strtoul(line + 3, NULL, 10) % 1000000] = true;
        n++;
    }
    fclose(f);
    /* the simulator's table is exactly the file's codes */
    assert_int_equal(n, LSOA11_COUNT);
    for (size_t i = 0; i < LSOA11_COUNT; i++) {
        assert_true(real[lsoa11_number(i)]);
        if (i)
            assert_true(lsoa11_number(i) > lsoa11_number(i - 1));
    }
    sim_t *sim = make(20, 3000, 11, 0.02);
    lines_t out;
    lines_split(&out, one_file(sim, NULL));
    size_t distinct = 0;
    bool *seen = calloc(1000000, sizeof *seen);
    assert_non_null(seen);
    for (size_t i = 1; i < out.nlines; i++) {
        char rb[1024], *c[SIM_NCOLUMNS + 1];
        split(out.lines[i], rb, sizeof rb, c, SIM_NCOLUMNS + 1);
        assert_int_equal(strlen(c[SIM_C_LSOA]), 9);
        assert_int_equal(strncmp(c[SIM_C_LSOA], "E01", 3), 0);
        unsigned long u = strtoul(c[SIM_C_LSOA] + 3, NULL, 10);
        assert_true(real[u]);
        distinct += !seen[u];
        seen[u] = true;
    }
    assert_true(distinct > 2500); /* spread over the country */
    free(seen);
    free(real);
    lines_free(&out);
    sim_destroy(&sim);
}

typedef struct {
    char nhs[11]; /* the patient's number, from a row where it was written right */
    int64_t last; /* latest arrival day */
    bool died;
} person_t;

/* The register of deaths: one row per death, patients who died after every arrival and at most
 * once, with the noise of another source; as many people not in the audit, under numbers no
 * patient has. */
static void test_deaths_and_their_truth(void **state)
{
    (void)state;
    sim_t *sim = make(20, 5000, 3, 0.02);
    sim_stats_t st;
    sim_stats(sim, &st);
    lines_t out, truth, deaths, dtruth;
    lines_split(&out, one_file(sim, NULL));
    lines_split(&truth, truth_text(sim, true));
    lines_split(&deaths, text_of(sim, deaths_only));
    lines_split(&dtruth, text_of(sim, deaths_truth_only));
    person_t *people = calloc(st.patients + 1, sizeof *people);
    assert_non_null(people);
    for (size_t i = 1; i < truth.nlines; i++) {
        char tb[256], *t[9], rb[1024], *c[SIM_NCOLUMNS + 1];
        split(truth.lines[i], tb, sizeof tb, t, 9);
        split(out.lines[i], rb, sizeof rb, c, SIM_NCOLUMNS + 1);
        person_t *p = &people[atoi(t[T_PATIENT])];
        char digits[11];
        if (nhs_number_check(c[SIM_C_NHS], digits) == NHS_NUMBER_VALID)
            memcpy(p->nhs, digits, sizeof digits);
        int64_t at;
        bool has_time;
        if (ncap_datetime_parse(c[SIM_C_ARRIVAL], &at, &has_time) == 0 && at / 86400 > p->last)
            p->last = at / 86400;
    }

    assert_string_equal(deaths.lines[0],
                        "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death");
    assert_string_equal(dtruth.lines[0], "row,patient_id");
    assert_int_equal(deaths.nlines, dtruth.nlines);
    size_t audit = 0, others = 0, nhs_missing = 0, nhs_same = 0, nhs_bad = 0;
    for (size_t i = 1; i < deaths.nlines; i++) {
        char db[512], *d[8], tb[64], *t[3];
        assert_int_equal(split(deaths.lines[i], db, sizeof db, d, 8), 7);
        assert_int_equal(split(dtruth.lines[i], tb, sizeof tb, t, 3), 2);
        assert_int_equal(atoi(t[0]), (int)i + 1); /* the line in the deaths file */
        int y, m, dd;
        assert_int_equal(ncap_date_parse(d[6], &y, &m, &dd), 0);
        int64_t died = ncap_days_from_civil(y, m, dd);
        assert_int_equal(ncap_date_parse(d[3], &y, &m, &dd), 0);
        assert_true(!*d[4] || strcmp(d[4], "1") == 0 || strcmp(d[4], "2") == 0);
        char digits[11];
        nhs_number_status_t ns = nhs_number_check(d[0], digits);
        if (*t[1]) {
            audit++;
            int id = atoi(t[1]);
            assert_in_range(id, 1, st.patients);
            person_t *p = &people[id];
            assert_false(p->died); /* one death per patient */
            p->died = true;
            assert_true(died > p->last); /* never an admission after death */
            if (ns == NHS_NUMBER_EMPTY)
                nhs_missing++;
            else if (ns == NHS_NUMBER_VALID && p->nhs[0])
                nhs_same += strcmp(digits, p->nhs) == 0;
            else if (ns == NHS_NUMBER_CHECKSUM)
                nhs_bad++;
        } else {
            others++;
            assert_int_equal(ns, NHS_NUMBER_VALID);
            for (size_t k = 1; k <= st.patients; k++)
                assert_string_not_equal(people[k].nhs, digits);
        }
    }
    print_message("%zu patients, %zu died (%zu NHS number missing, %zu mistyped, %zu the same), "
                  "%zu other deaths\n",
                  st.patients, audit, nhs_missing, nhs_bad, nhs_same, others);
    assert_in_range(audit * 100 / st.patients, 20, 40);
    assert_int_equal(others, audit);
    assert_in_range(nhs_missing * 1000 / audit, 20, 90);
    assert_true(nhs_bad > 0);
    assert_true(nhs_same * 100 > audit * 85);
    free(people);
    lines_free(&out);
    lines_free(&truth);
    lines_free(&deaths);
    lines_free(&dtruth);
    sim_destroy(&sim);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The opt-out list holds the numbers of the patients the truth marks opted out, and of as many
 * people not in the audit. */
static void test_optouts(void **state)
{
    (void)state;
    sim_t *sim = make(20, 5000, 9, 0.02);
    sim_stats_t st;
    sim_stats(sim, &st);
    lines_t out, truth, opt;
    lines_split(&out, one_file(sim, NULL));
    lines_split(&truth, truth_text(sim, true));
    lines_split(&opt, text_of(sim, sim_write_optouts));
    assert_string_equal(opt.lines[0], "nhs_number");
    assert_int_equal(opt.nlines - 1, 2 * st.opted_out);
    assert_in_range(st.opted_out * 1000 / st.patients, 35, 65);
    char **list = opt.lines + 1;
    size_t nlist = opt.nlines - 1;
    for (size_t i = 0; i < nlist; i++) {
        assert_int_equal(nhs_number_check(list[i], NULL), NHS_NUMBER_VALID);
        if (i)
            assert_true(strcmp(list[i - 1], list[i]) < 0);
    }
    size_t in = 0, out_of = 0;
    for (size_t i = 1; i < truth.nlines; i++) {
        char tb[256], *t[9], rb[1024], *c[SIM_NCOLUMNS + 1];
        split(truth.lines[i], tb, sizeof tb, t, 9);
        split(out.lines[i], rb, sizeof rb, c, SIM_NCOLUMNS + 1);
        char digits[11];
        if (nhs_number_check(c[SIM_C_NHS], digits) != NHS_NUMBER_VALID)
            continue;
        char *key = digits;
        bool listed = bsearch(&key, list, nlist, sizeof *list, cmp_line) != NULL;
        assert_int_equal(listed, strcmp(t[T_OPTED_OUT], "1") == 0);
        in += listed;
        out_of += !listed;
    }
    assert_true(in > 0 && out_of > in);
    lines_free(&out);
    lines_free(&truth);
    lines_free(&opt);
    sim_destroy(&sim);
}

/* Rows of one patient differ as real records do: names, date of birth, postcode and NHS number
 * sometimes written otherwise, at the rates the usage documents. */
static void test_repeat_visit_noise(void **state)
{
    (void)state;
    sim_t *sim = make(20, 20000, 5, 0);
    lines_t out, truth;
    lines_split(&out, one_file(sim, NULL));
    lines_split(&truth, truth_text(sim, true));
    size_t n = truth.nlines - 1;
    int *first = calloc(n + 2, sizeof *first); /* a patient's first line */
    assert_non_null(first);
    size_t pairs = 0, forename = 0, surname = 0, dob = 0, postcode = 0, nhs = 0, lsoa = 0;
    for (size_t i = 1; i <= n; i++) {
        char tb[256], *t[9];
        split(truth.lines[i], tb, sizeof tb, t, 9);
        int id = atoi(t[T_PATIENT]);
        assert_in_range(id, 1, n);
        if (!first[id]) {
            first[id] = (int)i;
            continue;
        }
        char ab[1024], *a[SIM_NCOLUMNS + 1], bb[1024], *b[SIM_NCOLUMNS + 1];
        split(out.lines[first[id]], ab, sizeof ab, a, SIM_NCOLUMNS + 1);
        split(out.lines[i], bb, sizeof bb, b, SIM_NCOLUMNS + 1);
        pairs++;
        forename += strcmp(a[SIM_C_FORENAME], b[SIM_C_FORENAME]) != 0;
        surname += strcasecmp(a[SIM_C_SURNAME], b[SIM_C_SURNAME]) != 0;
        int64_t da, db;
        bool ht;
        assert_int_equal(ncap_datetime_parse(a[SIM_C_DOB], &da, &ht), 0);
        assert_int_equal(ncap_datetime_parse(b[SIM_C_DOB], &db, &ht), 0);
        dob += da != db;
        postcode += strcmp(a[SIM_C_POSTCODE], b[SIM_C_POSTCODE]) != 0;
        lsoa += strcmp(a[SIM_C_LSOA], b[SIM_C_LSOA]) != 0;
        char na[11], nb[11];
        nhs += nhs_number_check(a[SIM_C_NHS], na) != NHS_NUMBER_VALID ||
               nhs_number_check(b[SIM_C_NHS], nb) != NHS_NUMBER_VALID || strcmp(na, nb) != 0;
    }
    print_message("%zu pairs of rows of one patient: forename differs %zu, surname %zu, date of "
                  "birth %zu, postcode %zu, LSOA %zu, NHS number missing, mistyped or other %zu\n",
                  pairs, forename, surname, dob, postcode, lsoa, nhs);
    assert_in_range(pairs, 1600, 2000);
    assert_in_range(forename * 100 / pairs, 10, 25);
    assert_in_range(surname * 100 / pairs, 6, 18);
    assert_in_range(dob * 100 / pairs, 3, 8);
    assert_in_range(postcode * 100 / pairs, 10, 20);
    assert_int_equal(lsoa, postcode); /* a new address is a new LSOA */
    assert_in_range(nhs * 100 / pairs, 6, 14);
    free(first);
    lines_free(&out);
    lines_free(&truth);
    sim_destroy(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_header_has_the_nhfd_columns_in_order),
        cmocka_unit_test(test_exact_invalid_count),
        cmocka_unit_test(test_rows_match_their_truth),
        cmocka_unit_test(test_truth_rows_in_one_file_per_trust),
        cmocka_unit_test(test_records_and_trusts),
        cmocka_unit_test(test_nhs_numbers_and_repeat_patients),
        cmocka_unit_test(test_uk_dates_only_from_uk_trusts),
        cmocka_unit_test(test_poorer_trusts_operate_later),
        cmocka_unit_test(test_submit_rounds),
        cmocka_unit_test(test_bad_options_are_refused),
        cmocka_unit_test(test_every_output_same_bytes),
        cmocka_unit_test(test_lsoas_are_real),
        cmocka_unit_test(test_deaths_and_their_truth),
        cmocka_unit_test(test_optouts),
        cmocka_unit_test(test_repeat_visit_noise),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
