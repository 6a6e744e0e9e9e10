/* bench_link_incremental.c - incremental linkage against 1,000,000 patients held in PostgreSQL,
 * as ncap-linkd does it (patient_index_assign: advisory locks on the blocking keys, candidates,
 * scores, new patients and identifiers stored, commit), one record at a time and in batches.
 *
 * usage: bench_link_incremental [CONNINFO] [PATIENTS] [QUERIES] [--batched N] [--reuse] [--no-tf]
 * CONNINFO (default $NCAP_PG) names a server where the bench may create and drop the database
 * ncap_bench_link. Loads PATIENTS (default 1,000,000) synthetic patients with COPY (4 blocking
 * keys each), printing its progress, then links records, half of them known patients (without
 * NHS number, with a typo or after a move) and half new people:
 *   - QUERIES (default 2,000) one at a time, each in its own transaction: p50/p99/max latency
 *     with and without the commit (goal p99 <= 10 ms), and the CPU per record;
 *   - N more (default 20,000) in batches of the daemon's size (daemon_config_t.batch_max, 500),
 *     a transaction each: records/s, and records/s per core, the records over the CPU seconds of
 *     this process and of its PostgreSQL backend (utime + stime from /proc/PID/stat, both);
 *   - the baseline, in the same run: the same records' plain INSERT into one table with a primary
 *     key, one a transaction and then in the same batches, and linkage's ratio to it.
 * Also how many known records joined a held patient, the bench's peak memory, the index's size in
 * PostgreSQL, the cores and the load average. --reuse keeps the database a previous run loaded.
 * Scores with term frequencies (values held by 5 patients or more and more common than the default
 * u, as `ncap link-train` keeps them, counted here in SQL) loaded as ncap-linkd loads them; --no-tf
 * scores without. Asserts no limits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "db.h"
#include "link_incremental.h"
#include "migrate.h"
#include "nhs_number.h"
#include "patient_index.h"
#include "proc_cpu.h"
#include "strbuf.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const forenames[] = {
    "mary",     "margaret", "joan",     "dorothy",   "betty",   "doris",    "jean",    "irene",
    "eileen",   "kathleen", "sheila",   "patricia",  "barbara", "joyce",    "elsie",   "edna",
    "audrey",   "peggy",    "sylvia",   "vera",      "john",    "william",  "george",  "james",
    "thomas",   "robert",   "arthur",   "frederick", "albert",  "kenneth",  "peter",   "ronald",
    "dennis",   "roy",      "stanley",  "harold",    "leslie",  "eric",     "raymond", "brian",
    "alan",     "derek",    "norman",   "frank",     "walter",  "ernest",   "edward",  "charles",
    "ada",      "alice",    "annie",    "lilian",    "ivy",     "florence", "gladys",  "hilda",
    "winifred", "phyllis",  "marjorie", "muriel",    "nora",    "olive",    "rose",    "ruth"};
#define NFORENAMES (sizeof forenames / sizeof forenames[0])

static void surname(char *out, size_t outsz)
{
    static const char *const syl[] = {"ab", "bar", "cal", "dor", "el",  "fin", "gar", "hol",
                                      "is", "jon", "ka",  "lem", "mor", "nis", "ol",  "par",
                                      "qu", "ros", "sal", "tor", "ul",  "ven", "wil", "yan"};
    size_t n = 2 + next() % 2, len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s", syl[next() % 24]);
}

static void nhs_number(uint64_t seq, char out[11])
{
    for (uint64_t base = 400000000u + seq * 5;; base++) {
        char digits[24];
        snprintf(digits, sizeof digits, "%09llu", (unsigned long long)(base % 1000000000u));
        int check = nhs_number_check_digit(digits);
        if (check == 10)
            continue;
        memcpy(out, digits, 9);
        out[9] = (char)('0' + check);
        out[10] = '\0';
        return;
    }
}

static void person(uint64_t seq, link_ident_t *id)
{
    char nhs[11], sn[40], dob[16], pc[16];
    nhs_number(seq, nhs);
    surname(sn, sizeof sn);
    snprintf(dob, sizeof dob, "%04d%02d%02d", 1925 + (int)(next() % 40), 1 + (int)(next() % 12),
             1 + (int)(next() % 28));
    snprintf(pc, sizeof pc, "%c%c%d %d%c%c", 'A' + (int)(next() % 26), 'A' + (int)(next() % 26),
             1 + (int)(next() % 30), (int)(next() % 10), 'A' + (int)(next() % 26),
             'A' + (int)(next() % 26));
    link_ident_from_values(nhs, forenames[next() % NFORENAMES], sn, dob, next() % 2 ? "m" : "f", pc,
                           id);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_link_incremental: %s: %s\n", what, err);
    exit(1);
}

static void exec_or_die(PGconn *db, const char *sql)
{
    char err[1024];
    if (db_exec(db, sql, err, sizeof err) != 0)
        die(sql, err);
}

static void copy_in(PGconn *db, const char *sql, strbuf_t *b)
{
    char err[1024];
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN)
        die(sql, PQerrorMessage(db));
    PQclear(r);
    if (b->oom || PQputCopyData(db, b->s, (int)b->len) != 1 || PQputCopyEnd(db, NULL) != 1)
        die("copy", PQerrorMessage(db));
    r = PQgetResult(db);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, sizeof err, "%s", PQerrorMessage(db));
        die("copy", err);
    }
    PQclear(r);
    strbuf_reset(b);
}

/* Patients 1..n with their blocking keys and identifiers, by COPY, indexes built after. */
static void load(PGconn *db, size_t n)
{
    exec_or_die(db, "BEGIN");
    exec_or_die(db, "TRUNCATE linkage.block, linkage.patient CASCADE");
    exec_or_die(db, "ALTER TABLE linkage.block DROP CONSTRAINT block_pkey");
    exec_or_die(db, "DROP INDEX linkage.block_patient_idx");
    strbuf_t pat, block;
    strbuf_init(&pat);
    strbuf_init(&block);
    const size_t chunk = 100000;
    double t0 = now();
    for (size_t s = 0; s < n; s += chunk) {
        for (size_t i = s; i < n && i < s + chunk; i++) {
            link_ident_t id;
            person(i, &id);
            strbuf_appendf(&pat, "%zu\n", i + 1);
            char keys[LINK_MAX_KEYS][LINK_KEY_LEN];
            size_t nk = link_ident_keys(&id, keys);
            for (size_t k = 0; k < nk; k++)
                strbuf_appendf(&block, "%s\t%zu\t%s\t%s\t%s\t%s\t%s\t%s\n", keys[k], i + 1, id.nhs,
                               id.forename, id.surname, id.dob, id.sex, id.postcode);
        }
        copy_in(db, "COPY linkage.patient (patient_id) FROM STDIN", &pat);
        copy_in(db,
                "COPY linkage.block (key, patient_id, nhs_number, forename, surname, dob, sex,"
                " postcode) FROM STDIN",
                &block);
        printf("  %zu of %zu patients copied (%.0f s)\n", s + chunk < n ? s + chunk : n, n,
               now() - t0);
    }
    strbuf_free(&pat);
    strbuf_free(&block);
    exec_or_die(db, "ALTER TABLE linkage.block ADD PRIMARY KEY (key, patient_id, nhs_number,"
                    " forename, surname, dob, sex, postcode)");
    printf("  primary key of linkage.block built (%.0f s)\n", now() - t0);
    exec_or_die(db, "CREATE INDEX block_patient_idx ON linkage.block (patient_id)");
    exec_or_die(db, "SELECT setval('linkage.patient_patient_id_seq',"
                    " (SELECT max(patient_id) FROM linkage.patient))");
    exec_or_die(db, "COMMIT");
    /* What autovacuum does after inserts (migration 0007 makes it prompt on linkage.block): the
     * visibility map it sets lets a key's candidates be read by an index-only scan, the
     * identifiers being in the primary key. Without it every candidate is a heap fetch. */
    printf("  indexed and committed (%.0f s)\n", now() - t0);
    exec_or_die(db, "VACUUM (ANALYZE) linkage.patient, linkage.block");
    printf("  vacuumed (%.0f s)\n", now() - t0);
}

/* The values more common than the default u at exact agreement (0.006, 0.002, 2e-5) and held by
 * 5 patients or more, with their share of the patients holding a value in their field. */
static const char *const term_freq_sql =
    "WITH v AS (SELECT DISTINCT 'forename' AS field, forename AS value, patient_id FROM"
    "   linkage.block WHERE forename <> '' UNION SELECT 'surname', surname, patient_id FROM"
    "   linkage.block WHERE surname <> '' UNION SELECT 'postcode', postcode, patient_id FROM"
    "   linkage.block WHERE postcode <> ''),"
    " h AS (SELECT field, count(DISTINCT patient_id)::float8 AS n FROM v GROUP BY field),"
    " c AS (SELECT field, value, count(*) AS k FROM v GROUP BY field, value)"
    " INSERT INTO linkage.match_term_freq (field, value, frequency)"
    " SELECT c.field, c.value, c.k / h.n FROM c JOIN h USING (field) WHERE c.k >= 5 AND c.k / h.n"
    " > CASE c.field WHEN 'forename' THEN 0.006 WHEN 'surname' THEN 0.002 ELSE 2e-5 END";

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU nanoseconds per link_score of a record against a candidate of the same forename, surname
 * and postcode but another date of birth: the worst case for term frequencies, which look up each
 * value agreed exactly. */
static double score_ns(const link_params_t *p)
{
    enum { NPEOPLE = 1000, ROUNDS = 200 };
    static link_ident_t ids[NPEOPLE];
    for (size_t i = 0; i < NPEOPLE; i++)
        person(i, &ids[i]);
    double sink = 0, t0 = cpu_now();
    for (size_t r = 0; r < ROUNDS; r++)
        for (size_t i = 0; i < NPEOPLE; i++) {
            link_ident_t c = ids[(i + r + 1) % NPEOPLE];
            memcpy(c.forename, ids[i].forename, sizeof c.forename);
            memcpy(c.surname, ids[i].surname, sizeof c.surname);
            memcpy(c.postcode, ids[i].postcode, sizeof c.postcode);
            sink += link_score(p, &ids[i], &c, NULL);
        }
    double ns = (cpu_now() - t0) * 1e9 / (NPEOPLE * ROUNDS);
    return sink == 0.5 ? 0 : ns; /* keeps the scores from being optimised away */
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* Wall clock and CPU seconds of this process and of its PostgreSQL backend at one moment. */
typedef struct {
    double wall, self, backend;
} usage_t;

static usage_t usage_now(PGconn *db)
{
    return (usage_t){now(), proc_cpu_seconds(getpid()), proc_cpu_seconds(PQbackendPID(db))};
}

/* What n records cost between a and b: the rate, the CPU per record of each side and the rate per
 * core (records over both sides' CPU seconds). */
typedef struct {
    double rate, self_ms, backend_ms, per_core;
} cost_t;

static cost_t cost_of(usage_t a, usage_t b, size_t n)
{
    cost_t c = {n / (b.wall - a.wall), (b.self - a.self) * 1000 / n, -1, -1};
    if (a.backend >= 0 && b.backend >= 0) {
        c.backend_ms = (b.backend - a.backend) * 1000 / n;
        c.per_core = n / (b.self - a.self + b.backend - a.backend);
    }
    return c;
}

static void print_cpu(const char *indent, cost_t c)
{
    if (c.backend_ms < 0)
        printf("%sCPU per record: bench %.1f us, PostgreSQL backend not readable in /proc\n",
               indent, c.self_ms * 1000);
    else
        printf("%sCPU per record: bench %.1f us + PostgreSQL backend %.1f us = %.1f us\n", indent,
               c.self_ms * 1000, c.backend_ms * 1000, (c.self_ms + c.backend_ms) * 1000);
}

typedef struct {
    double p50, p99, max;
} pct_t;

/* Sorts ms[0..n) and returns its p50, p99 and max. */
static pct_t percentiles(double *ms, size_t n)
{
    qsort(ms, n, sizeof *ms, by_double);
    return (pct_t){ms[n / 2], ms[n * 99 / 100], ms[n - 1]};
}

/* The records to link: even ones a held patient again (one of patient k's sets of identifiers,
 * read back, without NHS number; a quarter moved, an eighth with a surname typo), odd ones new
 * people (seq from first on past the patients loaded). */
static void make_records(PGconn *db, size_t npatients, size_t first, size_t n, link_ident_t *ids,
                         bool *known)
{
    char err[1024];
    for (size_t q = 0; q < n; q++) {
        known[q] = q % 2 == 0;
        if (!known[q]) {
            person(npatients + first + q, &ids[q]);
            continue;
        }
        char k[24];
        snprintf(k, sizeof k, "%llu", (unsigned long long)(1 + next() % npatients));
        const char *pv[] = {k};
        PGresult *r = db_query(db,
                               "SELECT nhs_number, forename, surname, dob, sex, postcode"
                               " FROM linkage.block WHERE patient_id = $1::bigint LIMIT 1",
                               1, pv, err, sizeof err);
        if (!r || PQntuples(r) != 1)
            die("read back", r ? "patient not found" : err);
        link_ident_from_values("", PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
                               PQgetvalue(r, 0, 4), q % 4 == 0 ? "ZZ9 9ZZ" : PQgetvalue(r, 0, 5),
                               &ids[q]);
        PQclear(r);
        link_ident_t *id = &ids[q];
        if (q % 8 == 2 && strlen(id->surname) > 3)
            id->surname[2] = id->surname[2] == 'x' ? 'y' : 'x'; /* a typo */
    }
}

/* Links ids[0..n) in one transaction as ncap-linkd's store does; adds to *joined the known ones
 * that joined a patient loaded, to *merged the merges. */
static void link_batch(PGconn *db, const link_params_t *p, const link_ident_t *ids,
                       const bool *known, size_t n, size_t npatients, patient_match_t *m,
                       size_t *joined, size_t *merged)
{
    char err[1024];
    link_merge_t *merges = NULL;
    size_t nmerges = 0;
    exec_or_die(db, "BEGIN");
    if (patient_index_assign(db, p, ids, n, false, m, &merges, &nmerges, err, sizeof err) != 0)
        die("assign", err);
    free(merges);
    exec_or_die(db, "COMMIT");
    for (size_t i = 0; i < n; i++)
        *joined += known[i] && m[i].patient_id <= (int64_t)npatients;
    *merged += nmerges;
}

/* The baseline: ids[0..n) (keys first + 1 ...) as plain rows of one table with a primary key,
 * one INSERT of the n rows in a transaction. */
static void insert_batch(PGconn *db, const link_ident_t *ids, size_t first, size_t n)
{
    strbuf_t a[7];
    for (int k = 0; k < 7; k++) {
        strbuf_init(&a[k]);
        strbuf_pg_array_open(&a[k]);
    }
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", first + i + 1);
        const char *v[7] = {key,        ids[i].nhs, ids[i].forename, ids[i].surname,
                            ids[i].dob, ids[i].sex, ids[i].postcode};
        for (int k = 0; k < 7; k++)
            strbuf_pg_array_elem(&a[k], v[k]);
    }
    const char *pv[7];
    for (int k = 0; k < 7; k++) {
        strbuf_pg_array_close(&a[k]);
        if (a[k].oom)
            die("insert", "out of memory");
        pv[k] = a[k].s;
    }
    char err[1024];
    exec_or_die(db, "BEGIN");
    if (db_execp(db,
                 "INSERT INTO bench_plain SELECT * FROM unnest($1::bigint[], $2::text[],"
                 " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
                 7, pv, err, sizeof err) != 0)
        die("insert", err);
    exec_or_die(db, "COMMIT");
    for (int k = 0; k < 7; k++)
        strbuf_free(&a[k]);
}

/* How many rows of linkage.block share a blocking key with each of ids[0..n) (summed over its
 * keys, before the store caps any block): the shape of the data the candidates come from. */
static pct_t block_rows(PGconn *db, const link_ident_t *ids, size_t n, double *mean)
{
    strbuf_t keys, idx;
    strbuf_init(&keys);
    strbuf_init(&idx);
    strbuf_pg_array_open(&keys);
    strbuf_pg_array_open(&idx);
    for (size_t i = 0; i < n; i++) {
        char k[LINK_MAX_KEYS][LINK_KEY_LEN], is[24];
        size_t nk = link_ident_keys(&ids[i], k);
        snprintf(is, sizeof is, "%zu", i);
        for (size_t j = 0; j < nk; j++) {
            strbuf_pg_array_elem(&keys, k[j]);
            strbuf_pg_array_elem(&idx, is);
        }
    }
    strbuf_pg_array_close(&keys);
    strbuf_pg_array_close(&idx);
    if (keys.oom || idx.oom)
        die("block rows", "out of memory");
    const char *pv[] = {keys.s, idx.s};
    char err[1024];
    PGresult *r = db_query(db,
                           "WITH k AS (SELECT * FROM unnest($1::text[], $2::int[]) AS k(key, i)),"
                           " c AS (SELECT key, count(*) AS n FROM linkage.block"
                           "  WHERE key IN (SELECT key FROM k) GROUP BY key)"
                           " SELECT coalesce(sum(c.n), 0)::float8 FROM k LEFT JOIN c USING (key)"
                           " GROUP BY k.i",
                           2, pv, err, sizeof err);
    if (!r)
        die("block rows", err);
    size_t rows = (size_t)PQntuples(r);
    double *v = calloc(rows + 1, sizeof *v), sum = 0;
    if (!v)
        die("block rows", "out of memory");
    for (size_t i = 0; i < rows; i++)
        sum += v[i] = strtod(PQgetvalue(r, (int)i, 0), NULL);
    PQclear(r);
    strbuf_free(&keys);
    strbuf_free(&idx);
    *mean = rows ? sum / (double)rows : 0;
    pct_t p = rows ? percentiles(v, rows) : (pct_t){0, 0, 0};
    free(v);
    return p;
}

/* The batch size ncap-linkd runs with by default. */
static size_t daemon_batch(void)
{
    daemon_config_t cfg;
    char *argv[] = {"bench_link_incremental", NULL};
    if (daemon_config_parse(&cfg, "bench_link_incremental", "linkage", "", 1, argv) != 0)
        die("daemon configuration", "its defaults did not parse");
    return (size_t)cfg.batch_max;
}

static void print_load(const char *when)
{
    double l[3] = {-1, -1, -1};
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
            l[0] = -1;
        fclose(f);
    }
    printf("%s: %ld cores online, load average %.2f %.2f %.2f\n", when,
           sysconf(_SC_NPROCESSORS_ONLN), l[0], l[1], l[2]);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *usage =
        "usage: bench_link_incremental [CONNINFO] [PATIENTS] [QUERIES] [--batched N]"
        " [--reuse] [--no-tf]\n";
    const char *pos[3] = {NULL, NULL, NULL};
    size_t npos = 0, nbatched = 20000;
    bool reuse = false, tf = true;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
            printf("%s", usage);
            return 0;
        } else if (strcmp(argv[a], "--reuse") == 0) {
            reuse = true;
        } else if (strcmp(argv[a], "--no-tf") == 0) {
            tf = false;
        } else if (strcmp(argv[a], "--batched") == 0 && a + 1 < argc) {
            nbatched = strtoul(argv[++a], NULL, 10);
        } else if (argv[a][0] != '-' && npos < 3) {
            pos[npos++] = argv[a];
        } else {
            fprintf(stderr, "bench_link_incremental: unexpected argument \"%s\"\n%s", argv[a],
                    usage);
            return 2;
        }
    }
    const char *server = pos[0] ? pos[0] : db_conninfo(NULL);
    size_t npatients = pos[1] ? strtoul(pos[1], NULL, 10) : 1000000;
    size_t nqueries = pos[2] ? strtoul(pos[2], NULL, 10) : 2000;
    if (npatients == 0 || nqueries == 0) {
        fprintf(stderr, "bench_link_incremental: PATIENTS and QUERIES must be at least 1\n%s",
                usage);
        return 2;
    }
    size_t batch = daemon_batch();
    print_load("start");
    char err[1024], conninfo[1200];
    PGconn *db = db_connect(server, "bench_link_incremental", err, sizeof err);
    if (!db)
        die("connect", err);
    if (!reuse) {
        exec_or_die(db, "DROP DATABASE IF EXISTS ncap_bench_link");
        exec_or_die(db, "CREATE DATABASE ncap_bench_link");
    }
    PQfinish(db);
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_bench_link", server);
    db = db_connect(conninfo, "bench_link_incremental", err, sizeof err);
    int applied;
    if (!db || migrate_run(db, &applied, err, sizeof err) != 0)
        die("migrate", err);
    if (!reuse) {
        double t0 = now();
        printf("loading %zu patients with COPY:\n", npatients);
        load(db, npatients);
        printf("loaded %zu patients (%zu blocking keys each) with COPY in %.1f s\n", npatients,
               (size_t)LINK_MAX_KEYS, now() - t0);
    }
    exec_or_die(db, "DELETE FROM linkage.match_term_freq");
    if (tf) {
        double t0 = now();
        exec_or_die(db, term_freq_sql);
        printf("term frequencies counted in SQL in %.1f s\n", now() - t0);
    }
    link_params_t p;
    term_freq_t *freqs;
    exec_or_die(db, "BEGIN");
    double t0 = now();
    if (patient_index_load_model(db, &p, &freqs, err, sizeof err) != 0)
        die("parameters", err);
    printf("parameters and %zu term frequencies loaded in %.1f ms\n", term_freq_size(freqs),
           (now() - t0) * 1000);
    exec_or_die(db, "COMMIT");

    /* every record read back or made before the clock starts */
    size_t total = nqueries + nbatched;
    link_ident_t *ids = calloc(total, sizeof *ids);
    bool *known = calloc(total, sizeof *known);
    patient_match_t *m = calloc(batch, sizeof *m);
    double *assign_ms = calloc(total, sizeof *assign_ms);
    double *total_ms = calloc(total, sizeof *total_ms);
    if (!ids || !known || !m || !assign_ms || !total_ms)
        die("records", "out of memory");
    make_records(db, npatients, 0, total, ids, known);
    size_t known1 = 0, known2 = 0;
    for (size_t q = 0; q < total; q++)
        *(q < nqueries ? &known1 : &known2) += known[q];
    double mean_rows;
    size_t sample = total < 1000 ? total : 1000;
    pct_t pr = block_rows(db, ids, sample, &mean_rows);
    printf("rows of linkage.block sharing a blocking key with a record (the first %zu records,"
           " before any cap): mean %.0f, p50 %.0f, p99 %.0f, max %.0f\n",
           sample, mean_rows, pr.p50, pr.p99, pr.max);

    /* one at a time, a commit each */
    size_t joined = 0, merged = 0;
    usage_t u0 = usage_now(db);
    for (size_t q = 0; q < nqueries; q++) {
        link_merge_t *merges = NULL;
        size_t nmerges = 0;
        double a = now();
        exec_or_die(db, "BEGIN");
        if (patient_index_assign(db, &p, &ids[q], 1, false, m, &merges, &nmerges, err,
                                 sizeof err) != 0)
            die("assign", err);
        free(merges);
        double b = now();
        exec_or_die(db, "COMMIT");
        double c = now();
        assign_ms[q] = (b - a) * 1000;
        total_ms[q] = (c - a) * 1000;
        joined += known[q] && m[0].patient_id <= (int64_t)npatients;
        merged += nmerges;
    }
    cost_t single = cost_of(u0, usage_now(db), nqueries);
    pct_t pa = percentiles(assign_ms, nqueries), pt = percentiles(total_ms, nqueries);
    printf("linked %zu records one at a time against %zu patients:\n", nqueries, npatients);
    printf("  lock + candidates + score + store: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pa.p50,
           pa.p99, pa.max);
    printf("  with the commit:                   p50 %.2f ms, p99 %.2f ms, max %.2f ms"
           " (goal p99 <= 10 ms)\n",
           pt.p50, pt.p99, pt.max);
    print_cpu("  ", single);
    printf("  known patients found again: %zu of %zu (no NHS number; a quarter moved, an eighth"
           " with a surname typo); %zu merges\n",
           joined, known1, merged);

    /* batched, as ncap-linkd's store does it */
    size_t nbatches = 0;
    cost_t batched = {0, 0, -1, -1};
    pct_t pb = {0, 0, 0};
    if (nbatched > 0) {
        joined = merged = 0;
        u0 = usage_now(db);
        for (size_t s = nqueries; s < total; s += batch) {
            size_t n = total - s < batch ? total - s : batch;
            double a = now();
            link_batch(db, &p, &ids[s], &known[s], n, npatients, m, &joined, &merged);
            total_ms[nbatches++] = (now() - a) * 1000;
        }
        batched = cost_of(u0, usage_now(db), nbatched);
        pb = percentiles(total_ms, nbatches);
        printf("linked %zu records in %zu batches of %zu (ncap-linkd's batch), a commit each:\n",
               nbatched, nbatches, batch);
        printf("  %.0f records/s; a batch p50 %.0f ms, max %.0f ms\n", batched.rate, pb.p50,
               pb.max);
        print_cpu("  ", batched);
        if (batched.per_core > 0)
            printf("  %.0f records/s per core (records / CPU seconds of the bench and its"
                   " PostgreSQL backend)\n",
                   batched.per_core);
        printf("  known patients found again: %zu of %zu; %zu merges\n", joined, known2, merged);
    }

    /* the baseline: the same records as plain rows */
    exec_or_die(db, "DROP TABLE IF EXISTS bench_plain");
    exec_or_die(db, "CREATE TABLE bench_plain (id bigint PRIMARY KEY, nhs_number text,"
                    " forename text, surname text, dob text, sex text, postcode text)");
    u0 = usage_now(db);
    for (size_t q = 0; q < nqueries; q++) {
        double a = now();
        insert_batch(db, &ids[q], q, 1);
        total_ms[q] = (now() - a) * 1000;
    }
    cost_t isingle = cost_of(u0, usage_now(db), nqueries);
    pct_t pi = percentiles(total_ms, nqueries);
    printf("baseline, the same records' plain INSERT into one table with a primary key:\n");
    printf("  one at a time with the commit: p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
           " linkage's p50 and p99 are %.1f and %.1f times these\n",
           pi.p50, pi.p99, pi.max, pt.p50 / pi.p50, pt.p99 / pi.p99);
    print_cpu("    ", isingle);
    if (nbatched > 0) {
        /* rounds of the same records under new keys until the CPU used is 100 times the
         * resolution of /proc's clock ticks */
        size_t rounds = 0;
        usage_t u1;
        u0 = usage_now(db);
        do {
            for (size_t s = nqueries; s < total; s += batch)
                insert_batch(db, &ids[s], rounds * total + s,
                             total - s < batch ? total - s : batch);
            rounds++;
            u1 = usage_now(db);
        } while (rounds < 100 && u1.self + u1.backend - u0.self - u0.backend < 1.0);
        cost_t ibatched = cost_of(u0, u1, nbatched * rounds);
        printf("  in batches of %zu (%zu round%s of the %zu records): %.0f records/s", batch,
               rounds, rounds == 1 ? "" : "s", nbatched, ibatched.rate);
        if (ibatched.per_core > 0)
            printf(", %.0f records/s per core", ibatched.per_core);
        printf("\n");
        print_cpu("    ", ibatched);
        printf("  ratio linkage / INSERT, batched: %.4f of the rate", batched.rate / ibatched.rate);
        if (batched.per_core > 0 && ibatched.per_core > 0)
            printf(", %.4f of the rate per core", batched.per_core / ibatched.per_core);
        printf("\n");
    }

    link_params_t plain = p;
    plain.tf = NULL;
    printf("scoring alone: %.0f ns per candidate%s, %.0f ns without term frequencies (CPU)\n",
           score_ns(&p), p.tf ? " with term frequencies" : "", score_ns(&plain));
    PGresult *r = db_query(db,
                           "SELECT pg_size_pretty(pg_total_relation_size('linkage.block') +"
                           " pg_total_relation_size('linkage.patient'))",
                           0, NULL, err, sizeof err);
    printf("memory: bench peak RSS %.1f MiB; patient index in PostgreSQL %s (tables and indexes)\n",
           (double)peak_kib() / 1024.0, r ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
    print_load("end");
    free(ids);
    free(known);
    free(m);
    free(assign_ms);
    free(total_ms);
    term_freq_destroy(&freqs);
    PQfinish(db);
    return 0;
}
