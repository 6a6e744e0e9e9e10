/* bench_csv.c - how fast the CSV reader parses a submission: ~50 MB of hip-fracture-like rows
 * (27 columns, some quoted fields with commas, doubled quotes and newlines), generated in
 * memory, parsed with and without trimming. Prints figures; asserts no limits. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"

#define TARGET_BYTES (50u * 1024 * 1024)
#define NCOLS 27
#define REPEATS 3

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

typedef struct {
    char *s;
    size_t len;
    size_t cap;
} text_t;

static void put(text_t *t, const char *s, size_t n)
{
    if (t->cap - t->len < n) {
        while (t->cap - t->len < n)
            t->cap = t->cap ? t->cap * 2 : 1 << 20;
        t->s = realloc(t->s, t->cap);
        if (!t->s) {
            fprintf(stderr, "bench_csv: out of memory\n");
            exit(1);
        }
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
}

static void putf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(text_t *t, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(t, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const char *const surnames[] = {"Smith", "Jones",  "Williams", "O'Brien",       "Patel",
                                       "Khan",  "Taylor", "Brown",    "\"Evans, Jr\"", "Wilson"};
static const char *const forenames[] = {"Mary",  "John",      "Margaret", "David", "Joan",
                                        "Peter", "Elizabeth", "Ahmed",    "Susan", "George"};
static const char *const wards[] = {"Orthogeriatric", "Trauma", "\"Ward 7, Elm\"", "AMU", "Other"};
static const char *const notes[] = {
    "",
    "",
    "",
    "fell at home",
    "\"found on floor, long lie\"",
    "\"said \"\"slipped on stairs\"\"\"",
    "\"transferred from ED\r\nseen by ortho-geriatrician\"",
    "delirium screen done",
};

static void make_row(text_t *t, unsigned id)
{
    unsigned y = 1920 + rnd(80), m = 1 + rnd(12), d = 1 + rnd(28);
    unsigned am = 1 + rnd(12), ad = 1 + rnd(28), ah = rnd(24), amin = rnd(60);
    putf(t, "R%08u,%03u %03u %04u,%s,%s,%04u-%02u-%02u,%u,", id, 400 + rnd(600), rnd(1000),
         rnd(10000), surnames[rnd(10)], forenames[rnd(10)], y, m, d, 1 + rnd(2));
    putf(t, "%c%c%u %u%c%c,2024-%02u-%02u %02u:%02u,%s,%u,%u,", 'A' + rnd(26), 'A' + rnd(26),
         1 + rnd(20), rnd(10), 'A' + rnd(26), 'A' + rnd(26), am, ad, ah, amin, wards[rnd(5)],
         1 + rnd(5), 1 + rnd(4));
    putf(t, "2024-%02u-%02u %02u:%02u,%u,%u,%u,%u,%s,%u,%u.%u,%u,", am, ad, rnd(24), rnd(60),
         rnd(2), rnd(3), 1 + rnd(9), rnd(2), rnd(2) ? "Y" : "N", rnd(40), 10 + rnd(30), rnd(10),
         rnd(2));
    putf(t, "%s,%u,%u,%u,2024-%02u-%02u,%u,%s\r\n", rnd(3) ? "Y" : "", rnd(3), 1 + rnd(7), rnd(120),
         am, ad, rnd(2), notes[rnd(8)]);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench(const text_t *t, size_t nrows_expected, bool trim)
{
    double best = 1e30;
    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = now();
        csv_reader_t *r = csv_reader_new(t->s, t->len, trim);
        if (!r)
            return -1;
        size_t rows = 0, bytes = 0;
        int rc;
        while ((rc = csv_reader_next(r)) != 0) {
            if (rc < 0 || csv_reader_nfields(r) != NCOLS) {
                fprintf(stderr, "bench_csv: unexpected row: %s\n", csv_reader_error(r));
                csv_reader_destroy(&r);
                return -1;
            }
            bytes += strlen(csv_reader_field(r, NCOLS - 1));
            rows++;
        }
        csv_reader_destroy(&r);
        double dt = now() - t0;
        if (rows != nrows_expected) {
            fprintf(stderr, "bench_csv: read %zu rows, expected %zu\n", rows, nrows_expected);
            return -1;
        }
        if (dt < best)
            best = dt;
        (void)bytes;
    }
    printf("csv_reader trim=%d: %zu rows, %.1f MB in %.3f s: %.0f MB/s, %.0f rows/s\n", trim,
           nrows_expected, (double)t->len / 1e6, best, (double)t->len / 1e6 / best,
           (double)nrows_expected / best);
    return 0;
}

int main(void)
{
    text_t t = {0};
    put(&t, "\xEF\xBB\xBF", 3);
    putf(&t, "local_id,nhs_number,surname,forename,dob,sex,postcode,admitted,ward,asa_grade,"
             "frac_type,surgery,anaesthesia,delay_reason,mobility,walk_alone,bone_med,"
             "pressure_ulcer,amts,bmi,delirium,mobilised,residence,los,discharged,dead30,"
             "notes\r\n");
    size_t rows = 1;
    while (t.len < TARGET_BYTES)
        make_row(&t, (unsigned)rows++);
    int rc = bench(&t, rows, false);
    if (rc == 0)
        rc = bench(&t, rows, true);
    free(t.s);
    return rc == 0 ? 0 : 1;
}
