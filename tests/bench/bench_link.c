/* bench_link.c - how fast the linkage engine is: candidate pairs scored per second on one core
 * (match weight and probability, as fs_link scores them), full dedupe (block, train, score,
 * cluster) of febrl2.csv (5,000 records, 10 fields) when the shared data is there, and of 50,000
 * synthetic people records (40,000 people, a fifth copied with a typo), with the CPU time of its
 * parts (blocking, preparing values, training), and the peak memory of the process. Times are
 * wall clock and CPU time of this one thread (the machine may be shared: CPU time is the figure
 * per core). Prints figures; asserts no limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blocking.h"
#include "csv.h"
#include "file_read.h"
#include "fs_model.h"

#define SYNTH_PEOPLE 40000
#define SYNTH_COPIES 10000
#define NF 6

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static double peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void make_name(char *out, size_t outsz)
{
    static const char *syl[] = {"an",  "ber", "cal",  "dor", "el",  "fin", "gar",
                                "hol", "is",  "jon",  "ka",  "lem", "mor", "nis",
                                "ol",  "par", "quin", "ros", "sal", "tor", "ul",
                                "ven", "wil", "yan",  "zel", "th",  "ma",  "ri"};
    size_t n = 2 + next() % 2, len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s", syl[next() % 28]);
}

static void typo(char *s)
{
    size_t n = strlen(s);
    if (n < 2)
        return;
    size_t i = next() % (n - 1);
    char t = s[i];
    s[i] = s[i + 1];
    s[i + 1] = t;
}

static void run(const char *what, const fs_data_t *data)
{
    double t0 = now(), c0 = cpu();
    fs_result_t res;
    if (fs_link(data, 1, 0.5, &res) != 0) {
        fprintf(stderr, "bench_link: out of memory\n");
        exit(1);
    }
    double dedupe = now() - t0, dedupe_cpu = cpu() - c0;
    size_t linked = 0;
    for (size_t r = 0; r < data->nrecords; r++)
        linked += res.cluster[r] != r;
    printf("%s: %zu records, %zu fields; full dedupe %.3f s (CPU %.3f s): %zu candidate pairs "
           "from %zu rules, %zu records joined to another; peak memory so far %.1f MiB\n",
           what, data->nrecords, data->nfields, dedupe, dedupe_cpu, res.npairs, res.nrules, linked,
           peak_mib());

    /* the dedupe's parts again, one by one */
    uint64_t *pairs;
    size_t npairs;
    c0 = cpu();
    if (blocking_candidates(data, &pairs, &npairs, NULL) != 0) {
        fprintf(stderr, "bench_link: out of memory\n");
        exit(1);
    }
    double c_block = cpu() - c0;
    free(pairs);
    c0 = cpu();
    fs_model_t *model = fs_model_new(data);
    double c_new = cpu() - c0;
    c0 = cpu();
    if (!model || fs_model_train(model, res.pairs, res.npairs, 1) != 0) {
        fprintf(stderr, "bench_link: out of memory\n");
        exit(1);
    }
    printf("%s: CPU blocking %.3f s, preparing values %.3f s, training %.3f s\n", what, c_block,
           c_new, cpu() - c0);
    size_t scored = 0;
    double sum = 0, p;
    t0 = now();
    c0 = cpu();
    while (scored < 3000000 || now() - t0 < 1.0)
        for (size_t k = 0; k < res.npairs; k++, scored++) {
            sum +=
                fs_model_score(model, FS_PAIR_LEFT(res.pairs[k]), FS_PAIR_RIGHT(res.pairs[k]), &p);
            sum += p;
        }
    double wall = now() - t0, c = cpu() - c0;
    printf("%s: %.0f candidate pairs scored per second per core (CPU time; %.0f by the wall "
           "clock; checksum %.1f)\n",
           what, (double)scored / c, (double)scored / wall, sum / (double)scored);
    fs_model_destroy(&model);
    fs_result_free(&res);
}

static void bench_febrl2(void)
{
    const char *path = NCAP_SHARED_DATA "/linkage/febrl2.csv";
    static const char *cols[] = {"given_name",    "surname",   "street_number", "address_1",
                                 "address_2",     "suburb",    "postcode",      "state",
                                 "date_of_birth", "soc_sec_id"};
    static const fs_kind_t kinds[] = {
        FS_KIND_FORENAME, FS_KIND_SURNAME, FS_KIND_NUMBER, FS_KIND_TEXT, FS_KIND_TEXT,
        FS_KIND_TEXT,     FS_KIND_NUMBER,  FS_KIND_EXACT,  FS_KIND_DOB,  FS_KIND_NUMBER};
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len) != 0) {
        printf("febrl2: %s not found, skipped\n", path);
        return;
    }
    csv_reader_t *csv = csv_reader_new(text, len, true);
    size_t col[10], n = 0;
    csv_reader_next(csv);
    for (size_t k = 0; k < 10; k++)
        for (size_t c = 0; c < csv_reader_nfields(csv); c++)
            if (strcmp(csv_reader_field(csv, c), cols[k]) == 0)
                col[k] = c;
    char **values = malloc(6000 * 10 * sizeof *values);
    while (n < 6000 && csv_reader_next(csv) == 1) {
        for (size_t k = 0; k < 10; k++) {
            char buf[256];
            int rc = fs_value_normalise(kinds[k], csv_reader_field(csv, col[k]), buf, sizeof buf);
            values[n * 10 + k] = rc == 1 ? strdup(buf) : NULL;
        }
        n++;
    }
    csv_reader_destroy(&csv);
    free(text);
    fs_data_t data = {.nrecords = n, .nfields = 10, .values = (const char *const *)values};
    memcpy(data.kinds, kinds, sizeof kinds);
    run("febrl2", &data);
    for (size_t i = 0; i < n * 10; i++)
        free(values[i]);
    free(values);
}

static void bench_synthetic(void)
{
    size_t n = SYNTH_PEOPLE + SYNTH_COPIES;
    char(*buf)[NF][24] = malloc(n * sizeof *buf);
    const char **values = malloc(n * NF * sizeof *values);
    for (size_t r = 0; r < SYNTH_PEOPLE; r++) {
        make_name(buf[r][0], 24);
        make_name(buf[r][1], 24);
        snprintf(buf[r][2], 24, "%04d%02d%02d", 1920 + (int)(next() % 80), 1 + (int)(next() % 12),
                 1 + (int)(next() % 28));
        snprintf(buf[r][3], 24, "%c%d %d%c%c", 'A' + (int)(next() % 26), 1 + (int)(next() % 30),
                 (int)(next() % 10), 'A' + (int)(next() % 26), 'A' + (int)(next() % 26));
        snprintf(buf[r][4], 24, "%s", next() % 2 ? "m" : "f");
        snprintf(buf[r][5], 24, "%07d", (int)(next() % 10000000));
    }
    for (size_t c = 0; c < SYNTH_COPIES; c++) {
        size_t r = SYNTH_PEOPLE + c, of = (size_t)(next() % SYNTH_PEOPLE);
        memcpy(buf[r], buf[of], sizeof buf[r]);
        typo(buf[r][next() % NF == 4 ? 0 : next() % NF]);
    }
    for (size_t r = 0; r < n; r++)
        for (size_t f = 0; f < NF; f++)
            values[r * NF + f] = buf[r][f];
    fs_data_t data = {.nrecords = n, .nfields = NF, .values = values};
    fs_kind_t kinds[NF] = {FS_KIND_FORENAME, FS_KIND_SURNAME, FS_KIND_DOB,
                           FS_KIND_POSTCODE, FS_KIND_SEX,     FS_KIND_NUMBER};
    memcpy(data.kinds, kinds, sizeof kinds);
    run("synthetic", &data);
    free(values);
    free(buf);
}

int main(void)
{
    bench_febrl2();
    bench_synthetic();
    return 0;
}
