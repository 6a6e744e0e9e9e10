/* test_link_memory.c - linkage offline (link_memory.h): records of one person to one patient, the
 * death and deprivation added to the record passed on, the opt-out by the record's own number and
 * by its patient's, a definition without identifiers (each record its own patient), reference
 * files read as `ncap refdata load` reads them; and, on a real PostgreSQL ($NCAP_TEST_PG), the
 * same patients and dates of death as ncap-linkd's patient index and death links for thousands of
 * simulated records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define RECORDS 3000
#define BATCH 64

#include "link_pg_fixture.h"
#include "link_sim_fixture.h"
#include "test_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link_memory.h"
#include "mini_audit.h"
#include "refdata.h"

/* 4010232137 and 4857773457 pass the Modulus 11 check; 4010232138 does not. */
static ncap_record_t *raw_record(const char *id, const char *nhs, const char *dob,
                                 const char *surname)
{
    ncap_record_t *r = ncap_record_new();
    assert_non_null(r);
    const char *kv[][2] = {
        {"local_record_id", id},
        {"trust_code", "RR8"},
        {"site_code", "RR801"},
        {"nhs_number", nhs},
        {"forename", "Ann"},
        {"surname", surname},
        {"date_of_birth", dob},
        {"sex", "2"},
        {"postcode", "LS1 4AP"},
        {"lsoa", "E01011365"},
        {"ethnic_category", "A"},
        {"arrival_datetime", "2026-01-10T08:00"},
        {"residence_at_fracture", "1"},
        {"pre_fracture_mobility", "2"},
        {"amts_pre_op", "8"},
        {"fracture_type", "ICD"},
        {"fracture_side", "L"},
        {"pathological_fracture", "N"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(ncap_record_set(r, kv[i][0], kv[i][1]), 0);
    return r;
}

/* A definition without identifier fields, written to a temporary file named in path[64]. */
static void temp_yaml(char *path)
{
    snprintf(path, 64, "/tmp/ncap_test_link_memory_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = sizeof MINI_AUDIT_YAML - 1;
    assert_int_equal(write(fd, MINI_AUDIT_YAML, n), (ssize_t)n);
    close(fd);
}

static audit_def_t *load_def(const char *path)
{
    char err[512];
    audit_def_t *def = audit_def_load(path, err, sizeof err);
    if (!def)
        fprintf(stderr, "%s\n", err);
    assert_non_null(def);
    return def;
}

static link_memory_t *new_memory(void)
{
    link_params_t p;
    link_params_default(&p);
    link_memory_t *lm = link_memory_new(&p);
    assert_non_null(lm);
    return lm;
}

static void load(link_memory_t *lm, refdata_kind_t kind, const char *text)
{
    char err[512];
    link_memory_load_counts_t c;
    int rc = link_memory_load(lm, kind, text, strlen(text), NULL, NULL, &c, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
}

/* Links records one batch; items[i] keep their outcome for the caller to clear. */
static void link_batch(link_memory_t *lm, const audit_def_t *def, ncap_record_t **recs, size_t n,
                       link_memory_item_t *items)
{
    for (size_t i = 0; i < n; i++)
        items[i] = (link_memory_item_t){.def = def, .raw = recs[i]};
    assert_int_equal(link_memory_link(lm, items, n), 0);
}

static void test_patients_deaths_and_deprivation(void **state)
{
    (void)state;
    audit_def_t *def = load_def(NHFD_PATH);
    link_memory_t *lm = new_memory();
    load(lm, REFDATA_DEATHS,
         "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"
         "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,2026-01-20\n"
         "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,2026-01-20\n");
    assert_int_equal(link_memory_deaths(lm), 1); /* a duplicate row is kept once */
    /* the register covers its latest death unless told otherwise, as `ncap refdata load` */
    assert_string_equal(link_memory_latest_death(lm), "2026-01-20");
    link_memory_set_coverage(lm, "2026-01-31");
    load(lm, REFDATA_IMD,
         "lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\n"
         "E01011365,1234,2,1\n");
    /* the same person twice (the second without her NHS number), then someone else */
    ncap_record_t *recs[3] = {raw_record("HF-1", "4010232137", "1940-05-12", "Example"),
                              raw_record("HF-2", "", "1940-05-12", "Example"),
                              raw_record("HF-3", "4857773457", "1951-02-03", "Other")};
    link_memory_item_t items[3];
    link_batch(lm, def, recs, 1, items);
    link_batch(lm, def, recs + 1, 2, items + 1);
    assert_int_equal(items[0].patient_id, 1);
    assert_int_equal(items[1].patient_id, 1);
    assert_int_equal(items[2].patient_id, 2);
    assert_int_equal(link_memory_patients(lm), 2);
    /* what goes on: no identifier, the death and the deprivation of the LSOA */
    for (size_t i = 0; i < 3; i++) {
        const ncap_record_t *p = items[i].outcome.pseudo;
        assert_null(ncap_record_get(p, "nhs_number"));
        assert_null(ncap_record_get(p, "lsoa"));
        assert_string_equal(ncap_record_get(p, "imd_decile"), "2");
        assert_string_equal(ncap_record_get(p, "imd_quintile"), "1");
        assert_string_equal(ncap_record_get(p, "deaths_covered_to"), "2026-01-31");
        assert_false(items[i].withheld);
    }
    assert_string_equal(ncap_record_get(items[0].outcome.pseudo, "date_of_death"), "2026-01-20");
    assert_string_equal(ncap_record_get(items[1].outcome.pseudo, "date_of_death"), "2026-01-20");
    assert_null(ncap_record_get(items[2].outcome.pseudo, "date_of_death"));
    assert_string_equal(link_memory_date_of_death(lm, 1), "2026-01-20");
    assert_string_equal(link_memory_date_of_death(lm, 2), "");
    /* the record as passed on once all are linked */
    link_outcome_t out;
    assert_int_equal(link_memory_final(lm, def, recs[1], 1, &out), 0);
    assert_string_equal(ncap_record_get(out.pseudo, "date_of_death"), "2026-01-20");
    assert_string_equal(ncap_record_get(out.pseudo, "age_at_arrival"), "85");
    assert_string_equal(ncap_record_get(out.pseudo, "deaths_covered_to"), "2026-01-31");
    link_outcome_clear(&out);
    for (size_t i = 0; i < 3; i++) {
        link_memory_item_clear(&items[i]);
        ncap_record_destroy(&recs[i]);
    }
    link_memory_destroy(&lm);
    assert_null(lm);
    audit_def_destroy(&def);
}

static void test_optout(void **state)
{
    (void)state;
    audit_def_t *def = load_def(NHFD_PATH);
    link_memory_t *lm = new_memory();
    load(lm, REFDATA_OPTOUTS, "nhs_number\n4010232137\n");
    /* her number, then her record with the number mistyped (linked on name and date of birth),
     * then someone else */
    ncap_record_t *recs[3] = {raw_record("HF-1", "4010232137", "1940-05-12", "Example"),
                              raw_record("HF-2", "4010232138", "1940-05-12", "Example"),
                              raw_record("HF-3", "4857773457", "1951-02-03", "Other")};
    link_memory_item_t items[3];
    /* the shipped NHFD: the opt-out does not apply */
    link_batch(lm, def, recs, 3, items);
    for (size_t i = 0; i < 3; i++) {
        assert_false(items[i].withheld);
        link_memory_item_clear(&items[i]);
    }
    link_memory_destroy(&lm);
    def->opt_out_applies = true;
    lm = new_memory();
    load(lm, REFDATA_OPTOUTS, "nhs_number\n4010232137\n");
    for (size_t i = 0; i < 3; i++)
        link_batch(lm, def, recs + i, 1, items + i);
    assert_true(items[0].withheld);
    assert_int_equal(items[1].patient_id, items[0].patient_id);
    assert_true(items[1].withheld); /* by her patient's number */
    assert_false(items[2].withheld);
    for (size_t i = 0; i < 3; i++) {
        link_memory_item_clear(&items[i]);
        ncap_record_destroy(&recs[i]);
    }
    link_memory_destroy(&lm);
    audit_def_destroy(&def);
}

static void test_definition_without_identifiers(void **state)
{
    (void)state;
    char path[64];
    temp_yaml(path);
    audit_def_t *def = load_def(path);
    unlink(path);
    link_memory_t *lm = new_memory();
    ncap_record_t *recs[2];
    for (size_t i = 0; i < 2; i++) {
        recs[i] = ncap_record_new();
        ncap_record_set(recs[i], "id", i ? "B" : "A");
        ncap_record_set(recs[i], "trust", "RR8");
        ncap_record_set(recs[i], "site", "RR801");
        ncap_record_set(recs[i], "seen", "2026-01-10");
        ncap_record_set(recs[i], "done", "Y");
    }
    link_memory_item_t items[2];
    link_batch(lm, def, recs, 2, items);
    assert_int_equal(items[0].patient_id, 1);
    assert_int_equal(items[1].patient_id, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_false(items[i].withheld);
        assert_string_equal(ncap_record_get(items[i].outcome.pseudo, "done"), "Y");
        link_memory_item_clear(&items[i]);
        ncap_record_destroy(&recs[i]);
    }
    link_memory_destroy(&lm);
    audit_def_destroy(&def);
}

static size_t bad_lines[8], n_bad;
static void on_bad_row(void *ctx, size_t line, const refdata_problem_t *p)
{
    (void)ctx;
    (void)p;
    bad_lines[n_bad++] = line;
}

static void test_reference_files(void **state)
{
    (void)state;
    link_memory_t *lm = new_memory();
    char err[512];
    link_memory_load_counts_t c;
    const char *bad_header = "nhs,date\n4010232137,2026-01-01\n";
    assert_int_equal(link_memory_load(lm, REFDATA_DEATHS, bad_header, strlen(bad_header), NULL,
                                      NULL, &c, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "header"));
    const char *deaths = "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"
                         "4010232138,Ann,Example,1940-05-12,2,LS1 4AP,2026-01-20\n"
                         "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,31/02/2026\n"
                         "4010232137,Ann,Example,1940-05-12,2,LS1 4AP,2026-01-20\n";
    n_bad = 0;
    assert_int_equal(link_memory_load(lm, REFDATA_DEATHS, deaths, strlen(deaths), on_bad_row, NULL,
                                      &c, err, sizeof err),
                     0);
    assert_int_equal(c.read, 3);
    assert_int_equal(c.added, 1);
    assert_int_equal(c.skipped, 2);
    assert_int_equal(n_bad, 2);
    assert_int_equal(bad_lines[0], 2);
    assert_int_equal(bad_lines[1], 3);
    link_memory_destroy(&lm);
}

/* ---------------------------------------------------------------- against ncap-linkd */

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_memory", conninfo, sizeof conninfo);
}

/* The simulator's register of deaths for the records of load_sim. */
static char *sim_deaths(size_t *len)
{
    sim_t *sim = fixture_sim_new();
    char *data = NULL;
    FILE *f = open_memstream(&data, len);
    assert_int_equal(sim_write_deaths(sim, f, NULL), 0);
    fclose(f);
    sim_destroy(&sim);
    return data;
}

static void test_same_as_the_daemon(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_memory", err, sizeof err);
    assert_non_null(db);
    sim_records_t s;
    load_sim(&s);
    size_t dlen;
    char *deaths = sim_deaths(&dlen);
    /* the deaths into linkage.death as `ncap refdata load` stores them, and into memory */
    link_memory_t *lm = new_memory();
    assert_int_equal(
        link_memory_load(lm, REFDATA_DEATHS, deaths, dlen, NULL, NULL, NULL, err, sizeof err), 0);
    refdata_reader_t *rd = refdata_reader_new(REFDATA_DEATHS, deaths, dlen, err, sizeof err);
    assert_non_null(rd);
    refdata_row_t row;
    refdata_problem_t problem;
    int got;
    pg_fixture_exec(db, "BEGIN");
    while ((got = refdata_reader_next(rd, &row, &problem)) != 0) {
        if (got < 0)
            continue;
        const char *pv[] = {row.nhs_number,    row.forename,
                            row.surname,       row.date_of_birth[0] ? row.date_of_birth : NULL,
                            row.sex,           row.postcode,
                            row.date_of_death, row.row_hash};
        assert_int_equal(db_execp(db,
                                  "INSERT INTO linkage.death (nhs_number, forename, surname,"
                                  " date_of_birth, sex, postcode, date_of_death, row_hash)"
                                  " VALUES ($1, $2, $3, $4::date, $5, $6, $7::date, $8)"
                                  " ON CONFLICT (row_hash) DO NOTHING",
                                  8, pv, err, sizeof err),
                         0);
    }
    pg_fixture_exec(db, "COMMIT");
    refdata_reader_destroy(&rd);
    assert_true(link_memory_deaths(lm) > 10);

    link_params_t p;
    assert_int_equal(patient_index_load_params(db, &p, err, sizeof err), 0);
    int64_t *daemon = calloc(s.n, sizeof *daemon);
    assert_non_null(daemon);
    link_all(db, &p, s.ids, s.n, daemon);

    /* the same batches in memory, through link_assign and death_choose as link_memory calls them
     * (the identifiers alone: a record of the identifier fields) */
    audit_def_t *def = load_def(NHFD_PATH);
    int64_t *memory = calloc(s.n, sizeof *memory);
    assert_non_null(memory);
    const char *names[] = {"nhs_number", "forename", "surname", "date_of_birth", "sex", "postcode"};
    for (size_t at = 0; at < s.n; at += BATCH) {
        size_t k = s.n - at < BATCH ? s.n - at : BATCH;
        ncap_record_t *recs[BATCH];
        link_memory_item_t items[BATCH];
        for (size_t i = 0; i < k; i++) {
            const link_ident_t *id = &s.ids[at + i];
            char dob[11] = "";
            if (id->dob[0])
                snprintf(dob, sizeof dob, "%.4s-%.2s-%.2s", id->dob, id->dob + 4, id->dob + 6);
            const char *v[] = {id->nhs, id->forename, id->surname, dob, id->sex, id->postcode};
            recs[i] = ncap_record_new();
            for (size_t f = 0; f < 6; f++)
                ncap_record_set(recs[i], names[f], v[f]);
        }
        link_batch(lm, def, recs, k, items);
        for (size_t i = 0; i < k; i++) {
            assert_memory_equal(&items[i].outcome.ident, &s.ids[at + i], sizeof(link_ident_t));
            memory[at + i] = items[i].patient_id;
            link_memory_item_clear(&items[i]);
            ncap_record_destroy(&recs[i]);
        }
    }
    for (size_t i = 0; i < s.n; i++) /* patients merged since */
        memory[i] = link_memory_patient(lm, memory[i]);
    /* the daemon's patient ids come from a sequence: compare the first appearances */
    size_t differ = 0, deaths_seen = 0, deaths_differ = 0;
    int64_t first_daemon = daemon[0], first_memory = memory[0];
    for (size_t i = 0; i < s.n; i++) {
        if (daemon[i] - first_daemon != memory[i] - first_memory)
            differ++;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT coalesce((SELECT to_char(d.date_of_death, 'YYYYMMDD')::bigint FROM"
                 " linkage.death_link l JOIN linkage.death d USING (death_id)"
                 " WHERE l.patient_id = %lld), 0)",
                 (long long)daemon[i]);
        long long want = link_pg_count(db, sql);
        char have[16] = "0";
        const char *dod = link_memory_date_of_death(lm, memory[i]);
        if (dod[0])
            snprintf(have, sizeof have, "%.4s%.2s%.2s", dod, dod + 5, dod + 8);
        deaths_seen += want > 0;
        deaths_differ += want != strtoll(have, NULL, 10);
    }
    double precision, recall;
    double f1 = pairwise_f1(s.truth, memory, s.n, &precision, &recall);
    print_message("%zu records: %lld patients (pairwise F1 %.4f against the truth), %zu linked to "
                  "a death\n",
                  s.n, (long long)link_memory_patients(lm), f1, deaths_seen);
    assert_int_equal(differ, 0);
    assert_int_equal(deaths_differ, 0);
    assert_true(deaths_seen > 10);
    free(daemon);
    free(memory);
    free(deaths);
    free(s.ids);
    free(s.truth);
    link_memory_destroy(&lm);
    audit_def_destroy(&def);
    PQfinish(db);
}

/* A worked case of the bound on a key's block (LINK_MAX_BLOCK, link_assign.h), in memory and in
 * PostgreSQL alike: LINK_MAX_BLOCK men called John born in 1940 whose surnames begin with N,
 * without an NHS number or a postcode, share one key, "f:john:1940:n" (each has a date of birth
 * and a made-up surname of his own: no two of them match, 12 bits at most). John Nightingale
 * again, his date of birth one day off, shares only that key with him: his block holds
 * LINK_MAX_BLOCK rows, no more, so he is compared, matches (forename, a rare surname and sex
 * agreeing, the date one component off: 20.7 bits, probability 0.62) and joins him, adding a row.
 * The same record a day further off then finds the block over the bound: compared with no one
 * through it, and sharing no other key with anyone, it becomes a new patient. */
static void test_over_large_block(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_memory", err, sizeof err);
    assert_non_null(db);
    pg_fixture_exec(db, "TRUNCATE linkage.block, linkage.link, linkage.patient CASCADE");
    link_params_t p;
    assert_int_equal(patient_index_load_params(db, &p, err, sizeof err), 0);
    link_memory_t *lm = new_memory();
    link_ident_t ids[LINK_MAX_BLOCK + 2];
    uint32_t x = 12345;
    for (size_t i = 0; i + 1 < LINK_MAX_BLOCK; i++) {
        char dob[16], surname[9] = "n";
        snprintf(dob, sizeof dob, "1940-%02zu-%02zu", 1 + i % 12, 1 + i / 12);
        for (size_t k = 1; k + 1 < sizeof surname; k++) {
            x = x * 1103515245u + 12345u;
            surname[k] = (char)('a' + (x >> 16) % 26);
        }
        surname[sizeof surname - 1] = '\0';
        link_ident_from_values("", "John", surname, dob, "M", "", &ids[i]);
    }
    link_ident_from_values("", "John", "Nightingale", "1940-05-12", "M", "",
                           &ids[LINK_MAX_BLOCK - 1]);
    link_ident_from_values("", "John", "Nightingale", "1940-05-13", "M", "", &ids[LINK_MAX_BLOCK]);
    link_ident_from_values("", "John", "Nightingale", "1940-05-14", "M", "",
                           &ids[LINK_MAX_BLOCK + 1]);
    int64_t in_memory[LINK_MAX_BLOCK + 2];
    patient_match_t in_pg[LINK_MAX_BLOCK + 2];
    for (size_t i = 0; i < LINK_MAX_BLOCK + 2; i++) {
        assert_int_equal(link_memory_assign(lm, &ids[i], &in_memory[i]), 0);
        pg_fixture_exec(db, "BEGIN");
        if (patient_index_assign(db, &p, &ids[i], 1, false, &in_pg[i], NULL, NULL, err,
                                 sizeof err) != 0)
            fprintf(stderr, "%s\n", err);
        pg_fixture_exec(db, "COMMIT");
    }
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.block WHERE key ="
                                       " 'f:john:1940:n'"),
                     LINK_MAX_BLOCK + 2);
    for (size_t i = 0; i < LINK_MAX_BLOCK; i++)
        assert_string_equal(in_pg[i].method, "new");
    /* the block of LINK_MAX_BLOCK rows is compared: he joins John Nightingale */
    assert_string_equal(in_pg[LINK_MAX_BLOCK].method, "probabilistic");
    assert_true(in_pg[LINK_MAX_BLOCK].patient_id == in_pg[LINK_MAX_BLOCK - 1].patient_id);
    assert_true(in_memory[LINK_MAX_BLOCK] == in_memory[LINK_MAX_BLOCK - 1]);
    /* one row more: the key is too common, and he is a new patient */
    assert_string_equal(in_pg[LINK_MAX_BLOCK + 1].method, "new");
    assert_true(in_pg[LINK_MAX_BLOCK + 1].patient_id != in_pg[LINK_MAX_BLOCK - 1].patient_id);
    assert_true(in_memory[LINK_MAX_BLOCK + 1] == LINK_MAX_BLOCK + 1);
    assert_int_equal(link_memory_patients(lm), LINK_MAX_BLOCK + 1);
    link_memory_destroy(&lm);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patients_deaths_and_deprivation),
        cmocka_unit_test(test_optout),
        cmocka_unit_test(test_definition_without_identifiers),
        cmocka_unit_test(test_reference_files),
        cmocka_unit_test(test_same_as_the_daemon),
        cmocka_unit_test(test_over_large_block),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
