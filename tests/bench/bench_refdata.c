/* bench_refdata.c - how fast reference data rows are read and checked
 * (services/linkage/decide/refdata.c): a register-of-deaths extract of N rows (default 1,000,000;
 * 1 in 100 bad) generated in memory, and the real 2019 IMD file when given. Prints figures;
 * asserts no limits. The load into PostgreSQL is timed with `time ncap refdata load deaths FILE`
 * (--write FILE writes the file).
 *
 *   bench_refdata [--rows N] [--write FILE] [IMD_FILE] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file_read.h"
#include "nhs_number.h"
#include "refdata.h"
#include "strbuf.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nhs(char out[11])
{
    for (;;) {
        out[0] = "467"[rnd(3)];
        for (int i = 1; i < 9; i++)
            out[i] = (char)('0' + rnd(10));
        int cd = nhs_number_check_digit(out);
        if (cd == 10)
            continue;
        out[9] = (char)('0' + cd);
        out[10] = '\0';
        if (nhs_number_check(out, NULL) == NHS_NUMBER_VALID)
            return;
    }
}

static void deaths_file(strbuf_t *b, long rows)
{
    static const char *fore[] = {"Ann", "Bob", "Cyril", "Dorothy", "Edna", "Frank", "Gwen"};
    static const char *sur[] = {"Smith", "Jones", "O'Neill", "Taylor, Jr", "Brown", "Patel"};
    strbuf_append(b, "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n");
    for (long i = 0; i < rows; i++) {
        char n[11];
        nhs(n);
        if (i % 100 == 7)
            n[9] = (char)('0' + (n[9] - '0' + 1) % 10); /* a mistyped number: a bad row */
        int by = 1920 + (int)rnd(80), dy = by + 1 + (int)rnd(2025 - by);
        const char *s = sur[rnd(6)];
        strbuf_appendf(b, "%s,%s,%s%s%s,%04d-%02d-%02d,%c,LS%u %uAB,%02u/%02u/%04d\n", n,
                       fore[rnd(7)], strchr(s, ',') ? "\"" : "", s, strchr(s, ',') ? "\"" : "", by,
                       1 + (int)rnd(12), 1 + (int)rnd(28), "12"[rnd(2)], 1 + rnd(20), rnd(10),
                       1 + rnd(28), 1 + rnd(12), dy);
    }
}

/* Reads data as kind; prints rows/s. */
static void measure(const char *what, refdata_kind_t kind, const char *data, size_t len)
{
    char err[256];
    double t0 = now();
    refdata_reader_t *r = refdata_reader_new(kind, data, len, err, sizeof err);
    if (!r) {
        fprintf(stderr, "bench_refdata: %s\n", err);
        exit(1);
    }
    refdata_row_t row;
    refdata_problem_t problem;
    long good = 0, bad = 0;
    int got;
    while ((got = refdata_reader_next(r, &row, &problem)) != 0)
        got > 0 ? good++ : bad++;
    refdata_reader_destroy(&r);
    double s = now() - t0;
    printf("%-8s %9ld rows (%ld bad), %6.1f MB in %.3f s: %.0f rows/s, %.0f MB/s\n", what,
           good + bad, bad, (double)len / 1e6, s, (double)(good + bad) / s, (double)len / 1e6 / s);
}

int main(int argc, char **argv)
{
    long rows = 1000000;
    const char *write = NULL, *imd = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = atol(argv[++i]);
        else if (strcmp(argv[i], "--write") == 0 && i + 1 < argc)
            write = argv[++i];
        else
            imd = argv[i];
    }
    strbuf_t b;
    strbuf_init(&b);
    deaths_file(&b, rows);
    if (b.oom) {
        fprintf(stderr, "bench_refdata: out of memory\n");
        return 1;
    }
    if (write) {
        FILE *f = fopen(write, "w");
        if (!f || fwrite(b.s, 1, b.len, f) != b.len || fclose(f) != 0) {
            fprintf(stderr, "bench_refdata: could not write \"%s\"\n", write);
            return 1;
        }
    }
    measure("deaths", REFDATA_DEATHS, b.s, b.len);
    strbuf_free(&b);
    if (imd) {
        char *data;
        size_t len;
        if (file_read_all(imd, &data, &len) != 0) {
            fprintf(stderr, "bench_refdata: could not read \"%s\"\n", imd);
            return 1;
        }
        measure("imd", REFDATA_IMD, data, len);
        free(data);
    }
    return 0;
}
