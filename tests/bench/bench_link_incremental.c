/* bench_link_incremental.c - incremental linkage of one record at a time against 1,000,000
 * patients held in PostgreSQL, as ncap-linkd does it (patient_index_assign: advisory locks on the
 * blocking keys, candidates, scores, new patient and identifiers stored, commit).
 *
 * usage: bench_link_incremental [CONNINFO] [PATIENTS] [QUERIES] [--reuse] [--no-tf]
 * CONNINFO (default $NCAP_PG) names a server where the bench may create and drop the database
 * ncap_bench_link. Loads PATIENTS (default 1,000,000) synthetic patients with COPY (4 blocking
 * keys each), then links QUERIES (default 2,000) records, half of them known patients (without
 * NHS number, with a typo or after a move) and half new people, each in its own transaction.
 * Prints the load time, p50/p99/max latency per record with and without the commit, how many
 * joined a held patient, the bench's peak memory and the index's size in PostgreSQL. Goal: p99
 * <= 10 ms. --reuse keeps the database a previous run loaded. Scores with term frequencies (values
 * held by 5 patients or more and more common than the default u, as `ncap link-train` keeps them,
 * counted here in SQL) loaded as ncap-linkd loads them; --no-tf scores without. Asserts no
 * limits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "link_incremental.h"
#include "migrate.h"
#include "nhs_number.h"
#include "patient_index.h"
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
    }
    strbuf_free(&pat);
    strbuf_free(&block);
    exec_or_die(db, "ALTER TABLE linkage.block ADD PRIMARY KEY (key, patient_id, nhs_number,"
                    " forename, surname, dob, sex, postcode)");
    exec_or_die(db, "CREATE INDEX block_patient_idx ON linkage.block (patient_id)");
    exec_or_die(db, "SELECT setval('linkage.patient_patient_id_seq',"
                    " (SELECT max(patient_id) FROM linkage.patient))");
    exec_or_die(db, "COMMIT");
    /* What autovacuum does after inserts (migration 0007 makes it prompt on linkage.block): the
     * visibility map it sets lets a key's candidates be read by an index-only scan, the
     * identifiers being in the primary key. Without it every candidate is a heap fetch. */
    exec_or_die(db, "VACUUM (ANALYZE) linkage.patient, linkage.block");
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

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_link_incremental [CONNINFO] [PATIENTS] [QUERIES] [--reuse]"
               " [--no-tf]\n");
        return 0;
    }
    const char *server = argc > 1 ? argv[1] : db_conninfo(NULL);
    size_t npatients = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    size_t nqueries = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
    char err[1024], conninfo[1200];
    PGconn *db = db_connect(server, "bench_link_incremental", err, sizeof err);
    if (!db)
        die("connect", err);
    bool reuse = false, tf = true;
    for (int a = 4; a < argc; a++) {
        reuse = reuse || strcmp(argv[a], "--reuse") == 0;
        tf = tf && strcmp(argv[a], "--no-tf") != 0;
    }
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

    double *assign_ms = calloc(nqueries + 1, sizeof *assign_ms);
    double *total_ms = calloc(nqueries + 1, sizeof *total_ms);
    size_t joined = 0, known = 0;
    for (size_t q = 0; q < nqueries; q++) {
        link_ident_t id;
        bool is_known = q % 2 == 0;
        if (is_known) {
            /* a held patient again: read back one of patient k's sets of
             * identifiers */
            char k[24];
            snprintf(k, sizeof k, "%llu", (unsigned long long)(1 + next() % npatients));
            const char *pv[] = {k};
            PGresult *r = db_query(db,
                                   "SELECT nhs_number, forename, surname, dob, sex, postcode"
                                   " FROM linkage.block WHERE patient_id = $1::bigint LIMIT 1",
                                   1, pv, err, sizeof err);
            if (!r || PQntuples(r) != 1)
                die("read back", err);
            link_ident_from_values("", PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
                                   PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4),
                                   q % 4 == 0 ? "ZZ9 9ZZ" : PQgetvalue(r, 0, 5), &id);
            PQclear(r);
            if (q % 8 == 2 && strlen(id.surname) > 3)
                id.surname[2] = id.surname[2] == 'x' ? 'y' : 'x'; /* a typo */
            known++;
        } else {
            person(npatients + q, &id);
        }
        patient_match_t m;
        link_merge_t *merges = NULL;
        size_t nmerges = 0;
        double a = now();
        exec_or_die(db, "BEGIN");
        if (patient_index_assign(db, &p, &id, 1, &m, &merges, &nmerges, err, sizeof err) != 0)
            die("assign", err);
        free(merges);
        double b = now();
        exec_or_die(db, "COMMIT");
        double c = now();
        assign_ms[q] = (b - a) * 1000;
        total_ms[q] = (c - a) * 1000;
        joined += is_known && m.patient_id <= (int64_t)npatients;
    }
    qsort(assign_ms, nqueries, sizeof *assign_ms, by_double);
    qsort(total_ms, nqueries, sizeof *total_ms, by_double);
    size_t p50 = nqueries / 2, p99 = nqueries * 99 / 100;
    printf("linked %zu records one at a time against %zu patients:\n", nqueries, npatients);
    printf("  lock + candidates + score + store: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           assign_ms[p50], assign_ms[p99], assign_ms[nqueries - 1]);
    printf("  with the commit:                   p50 %.2f ms, p99 %.2f ms, max %.2f ms"
           " (goal p99 <= 10 ms)\n",
           total_ms[p50], total_ms[p99], total_ms[nqueries - 1]);
    printf("  known patients found again: %zu of %zu (no NHS number; a quarter moved, an eighth"
           " with a surname typo)\n",
           joined, known);
    link_params_t plain = p;
    plain.tf = NULL;
    printf("  scoring alone: %.0f ns per candidate%s, %.0f ns without term frequencies (CPU)\n",
           score_ns(&p), p.tf ? " with term frequencies" : "", score_ns(&plain));
    PGresult *r = db_query(db,
                           "SELECT pg_size_pretty(pg_total_relation_size('linkage.block') +"
                           " pg_total_relation_size('linkage.patient'))",
                           0, NULL, err, sizeof err);
    printf("memory: bench peak RSS %.1f MiB; patient index in PostgreSQL %s (tables and indexes)\n",
           (double)peak_kib() / 1024.0, r ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
    free(assign_ms);
    free(total_ms);
    term_freq_destroy(&freqs);
    PQfinish(db);
    return 0;
}
