/* test_link_incremental.c - linking one record at a time: identifiers and blocking keys, scores
 * with the default parameters on worked examples, common names and postcodes weighing less with
 * term frequencies, and (with $NCAP_TEST_PG) the patient index in
 * PostgreSQL, deaths linked one to one, and the parameters every instance shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "death_link.h"
#include "link_incremental.h"
#include "link_pg_fixture.h"
#include "patient_index.h"
#include "test_skip.h"
#include "utf8.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_incremental", conninfo, sizeof conninfo);
}

static link_ident_t ident(const char *nhs, const char *fn, const char *sn, const char *dob,
                          const char *sex, const char *pc)
{
    link_ident_t id;
    link_ident_from_values(nhs, fn, sn, dob, sex, pc, &id);
    return id;
}

/* ---------------------------------------------------------------- pure */

static void test_identifiers_are_normalised(void **state)
{
    (void)state;
    link_ident_t a = ident("401 023 2137", " Mary-Ann ", "O'BRIEN", "12/05/1940", "2", "sw1a1aa");
    assert_string_equal(a.nhs, "4010232137");
    assert_true(a.nhs_valid);
    assert_string_equal(a.forename, "mary-ann");
    assert_string_equal(a.surname, "o'brien");
    assert_string_equal(a.dob, "19400512");
    assert_string_equal(a.sex, "f");
    assert_string_equal(a.postcode, "SW1A 1AA");
    /* a mistyped number is kept for comparison but not valid; a placeholder is dropped */
    link_ident_t b = ident("4010232138", "", "", "1940-13-01", "9", "not a postcode");
    assert_string_equal(b.nhs, "4010232138");
    assert_false(b.nhs_valid);
    assert_string_equal(b.dob, "");
    assert_string_equal(b.sex, "");
    assert_string_equal(b.postcode, "");
    link_ident_t c = ident("4444444444", "", "", "", "", "");
    assert_string_equal(c.nhs, "");
    assert_true(link_ident_empty(&c));
}

/* Identifiers read back from linkage.block (link_ident_from_stored: copied, not normalised
 * again) are those normalising the raw values made, whatever the raw values were. */
static void test_stored_identifiers_read_back(void **state)
{
    (void)state;
    static const char *const raw[][6] = {
        {"401 023 2137", " Mary-Ann ", "O'BRIEN", "12/05/1940", "2", "sw1a1aa"},
        {"4010232138", "", "", "1940-13-01", "9", "not a postcode"},
        {"4444444444", "JOSÉ  LUIS", "Núñez", "1931-02-28", "M", "M1 1AE"},
        {"", "Élodie", "  van   der Berg ", "29/02/1932", "female", "ls14ap"},
        {"40102321", "anne", "smith", "19400512", "u", "EC1A1BB"},
        {"9434765919", "a very long forename that goes on and on past the field's size", "smith",
         "1940-05-12", "x", "B33 8TH"},
    };
    for (size_t k = 0; k < sizeof raw / sizeof raw[0]; k++) {
        link_ident_t a = ident(raw[k][0], raw[k][1], raw[k][2], raw[k][3], raw[k][4], raw[k][5]);
        link_ident_t b;
        link_ident_from_stored(a.nhs, a.forename, a.surname, a.dob, a.sex, a.postcode, &b);
        assert_true(link_ident_same(&a, &b));
        assert_int_equal(a.nhs_valid, b.nhs_valid);
        /* and normalising the stored values again changes nothing (what made copying right) */
        link_ident_t c = ident(a.nhs, a.forename, a.surname, a.dob, a.sex, a.postcode);
        assert_true(link_ident_same(&a, &c));
        assert_int_equal(a.nhs_valid, c.nhs_valid);
    }
    /* a value too long for its field was not stored by ncap: it is normalised as a raw one */
    link_ident_t d;
    link_ident_from_stored("401 023 2137", "Mary", "Robert", "1940-05-12", "female", "LS1 4AP", &d);
    assert_string_equal(d.nhs, "4010232137");
    assert_true(d.nhs_valid);
    assert_string_equal(d.dob, "19400512");
    assert_string_equal(d.sex, "f");
}

static void test_blocking_keys(void **state)
{
    (void)state;
    char keys[LINK_MAX_KEYS][LINK_KEY_LEN];
    link_ident_t a = ident("4010232137", "Mary", "Robert", "1940-05-12", "F", "LS1 4AP");
    assert_int_equal(link_ident_keys(&a, keys), 4);
    assert_string_equal(keys[0], "n:4010232137");
    assert_string_equal(keys[1], "d:19400512:f");
    assert_string_equal(keys[2], "s:R163:LS1");
    assert_string_equal(keys[3], "f:mary:1940:r");
    /* the date of birth alone when the sex is not known */
    link_ident_t c = ident("", "Mary", "", "1940-05-12", "", "");
    assert_int_equal(link_ident_keys(&c, keys), 2);
    assert_string_equal(keys[0], "d:19400512");
    assert_string_equal(keys[1], "f:mary:1940:");
    /* the surname's first character, whole when it is more than one byte (lowered) */
    link_ident_t d = ident("", "Zoë", "Øster", "1941-05-02", "F", "");
    assert_int_equal(link_ident_keys(&d, keys), 2);
    assert_string_equal(keys[1], "f:zoë:1941:ø");
    link_ident_t b = ident("", "", "Robert", "", "", "");
    assert_int_equal(link_ident_keys(&b, keys), 0);
}

/* A name longer than its field, or than the forename key's 40 bytes, is cut between characters,
 * never inside one: PostgreSQL refuses text that is not well-formed UTF-8, so a cut character
 * would have quarantined the record in linkage. ASCII names cut where they were. */
static void test_long_names_cut_between_characters(void **state)
{
    (void)state;
    char fn[64], sn[64], keys[LINK_MAX_KEYS][LINK_KEY_LEN], want[64];
    /* é (2 bytes) across the key's 40th byte; across the surname field's 46 */
    snprintf(fn, sizeof fn,
             "%.39s\xc3\xa9"
             "b",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    snprintf(sn, sizeof sn, "%.45s\xc3\xa9", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    link_ident_t a = ident("", fn, sn, "1940-05-12", "F", "");
    assert_string_equal(a.forename, fn);
    assert_int_equal(strlen(a.surname), 45);
    assert_int_equal(utf8_invalid_at(a.surname), 0);
    assert_int_equal(link_ident_keys(&a, keys), 2);
    snprintf(want, sizeof want, "f:%.39s:1940:b", fn);
    assert_string_equal(keys[1], want);
    /* ASCII: the first 40 bytes, as before */
    link_ident_t b = ident("", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij", "Lee",
                           "1940-05-12", "F", "");
    assert_int_equal(strlen(b.forename), 46);
    assert_int_equal(link_ident_keys(&b, keys), 2);
    assert_string_equal(keys[1], "f:abcdefghijabcdefghijabcdefghijabcdefghij:1940:l");
}

static void test_scores_on_worked_examples(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    double prob;
    link_ident_t a = ident("4010232137", "Mary", "Robert", "1940-05-12", "F", "LS1 4AP");
    /* deterministic: same valid NHS number and date of birth, whatever the rest */
    link_ident_t b = ident("4010232137", "Jane", "Smith", "1940-05-12", "M", "");
    link_score(&p, &a, &b, &prob);
    assert_true(prob == 1.0);
    /* no NHS number, surname typo, day and month swapped, same postcode: the same person */
    link_ident_t c = ident("", "Mary", "Roberts", "1940-12-05", "F", "LS1 4AP");
    double w = link_score(&p, &a, &c, &prob);
    assert_true(w > 20);
    assert_true(prob > 0.99);
    /* the same names and date of birth after a move, no NHS number: still the same person */
    link_ident_t d = ident("", "Mary", "Robert", "1940-05-12", "F", "M1 1AE");
    link_score(&p, &a, &d, &prob);
    assert_true(prob > 0.99);
    /* one mistyped NHS digit with the same date of birth and sex */
    link_ident_t e = ident("4010232173", "", "", "1940-05-12", "F", "");
    link_score(&p, &a, &e, &prob);
    assert_true(prob > 0.5);
    /* the same date of birth and sex, other names, other NHS number: different people */
    link_ident_t f = ident("4505577104", "John", "Ellis", "1940-05-12", "M", "LS1 4AP");
    link_score(&p, &a, &f, &prob);
    assert_true(prob < 0.01);
    /* the same names, a different valid NHS number and date of birth: different people */
    link_ident_t g = ident("4857773457", "Mary", "Robert", "1951-02-03", "F", "");
    link_score(&p, &a, &g, &prob);
    assert_true(prob < 0.01);
}

/* Term frequencies with the default parameters: u at exact agreement is 0.006 for forenames,
 * 0.002 for surnames, 2e-5 for full postcodes; m 0.88, 0.90, 0.73. */
/* Missing is not disagreement in the daemon either: for each identifier, a record without it
 * scores against another exactly as if neither had it (weight 0), never lower; a placeholder
 * ("unknown", ZZ99 3WZ) is a blank. */
static void test_missing_weighs_nothing(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    const char *a[LI_NFIELDS] = {"4010232137", "mary", "smith", "1940-05-12", "f", "LS1 4AP"};
    const char *b[LI_NFIELDS] = {"4010232137", "mary", "smyth", "1940-05-21", "f", "LS2 7UE"};
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        const char *va[LI_NFIELDS], *vb[LI_NFIELDS];
        memcpy(va, a, sizeof va);
        memcpy(vb, b, sizeof vb);
        vb[f] = "";
        link_ident_t ia = ident(va[0], va[1], va[2], va[3], va[4], va[5]);
        link_ident_t ib = ident(vb[0], vb[1], vb[2], vb[3], vb[4], vb[5]);
        double one_side = link_score(&p, &ia, &ib, NULL);
        uint8_t g[LI_NFIELDS];
        link_ident_compare(&ia, &ib, g);
        assert_int_equal(g[f], 0);
        va[f] = "";
        link_ident_t ia2 = ident(va[0], va[1], va[2], va[3], va[4], va[5]);
        assert_true(link_score(&p, &ia2, &ib, NULL) == one_side);
        link_ident_compare(&ib, &ia, g); /* and the other way round */
        assert_int_equal(g[f], 0);
    }
    link_ident_t known = ident("", "mary", "smith", "1940-05-12", "f", "LS1 4AP");
    link_ident_t unknown = ident("", "Unknown", "smith", "1940-05-12", "f", "ZZ99 3WZ");
    assert_string_equal(unknown.forename, "");
    assert_string_equal(unknown.postcode, "");
    uint8_t g[LI_NFIELDS];
    link_ident_compare(&known, &unknown, g);
    assert_int_equal(g[LI_FORENAME], 0);
    assert_int_equal(g[LI_POSTCODE], 0);
}

static void test_common_values_weigh_less(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t smith = ident("", "Mary", "Smith", "1940-05-12", "F", "ZZ99 3VZ");
    link_ident_t rare = ident("", "Edith", "Quartermaine", "1940-05-12", "F", "LS1 4AP");
    link_ident_t lowe = ident("", "Edith", "Lowe", "1940-05-12", "F", "LS1 4AP");
    double w_smith = link_score(&p, &smith, &smith, NULL);
    double w_rare = link_score(&p, &rare, &rare, NULL);
    double w_lowe = link_score(&p, &lowe, &lowe, NULL);
    /* without a table every exact agreement weighs log2(m / u) */
    assert_true(fabs(w_smith - w_rare) < 1e-12);
    assert_true(fabs(link_exact_weight(&p, LI_SURNAME, "smith") - log2(0.90 / 0.002)) < 1e-12);

    term_freq_t *tf = term_freq_new();
    assert_non_null(tf);
    assert_int_equal(term_freq_add(tf, LI_SURNAME, "smith", 0.0126), 0); /* about 1 in 80 */
    assert_int_equal(term_freq_add(tf, LI_FORENAME, "mary", 0.03), 0);
    assert_int_equal(term_freq_add(tf, LI_POSTCODE, "ZZ99 3VZ", 0.004), 0); /* no fixed abode */
    assert_int_equal(term_freq_add(tf, LI_SURNAME, "lowe", 0.001), 0);      /* rarer than u 0.002 */
    assert_int_equal(term_freq_add(tf, LI_DOB, "19400512", 0.5), 0); /* no term-frequency field */
    p.tf = tf;
    /* smith: log2(0.90 / 0.0126) = 6.16 bits instead of log2(0.90 / 0.002) = 8.81 */
    assert_true(fabs(link_exact_weight(&p, LI_SURNAME, "smith") - 6.1584) < 1e-4);
    assert_true(fabs(link_exact_weight(&p, LI_SURNAME, "smith") -
                     fs_tf_weight(0.90, 0.0126, 0.002)) < 1e-12);
    /* each common value takes log2(frequency / u) off: mary log2(5), smith log2(6.3), the
     * postcode of no fixed abode log2(200) */
    double w = link_score(&p, &smith, &smith, NULL);
    assert_true(fabs((w_smith - w) - (log2(5) + log2(6.3) + log2(200))) < 1e-9);
    /* a common surname agreeing gives less weight than a rare one */
    link_ident_t smith2 = ident("", "Edith", "Smith", "1940-05-12", "F", "LS1 4AP");
    assert_true(link_score(&p, &smith2, &smith2, NULL) < link_score(&p, &rare, &rare, NULL) - 2.6);
    /* rare values, values rarer than u and fields without term frequencies keep their weight */
    assert_true(fabs(link_score(&p, &rare, &rare, NULL) - w_rare) < 1e-12);
    assert_true(fabs(link_score(&p, &lowe, &lowe, NULL) - w_lowe) < 1e-12);
    /* only exact agreement is adjusted: a typo of smith weighs as before */
    link_ident_t typo = ident("", "Edith", "Smtih", "1940-05-12", "F", "LS1 4AP");
    double w_typo = link_score(&p, &smith2, &typo, NULL);
    p.tf = NULL;
    assert_true(fabs(link_score(&p, &smith2, &typo, NULL) - w_typo) < 1e-12);
    term_freq_destroy(&tf);
}

/* ---------------------------------------------------------------- PostgreSQL */

static PGconn *connect_test(void)
{
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_link_incremental", err, sizeof err);
    if (!db) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
    pg_fixture_exec(db, "TRUNCATE linkage.death_link, linkage.death, linkage.block,"
                        " linkage.link, linkage.patient_key, linkage.patient CASCADE");
    return db;
}

static void assign(PGconn *db, const link_params_t *p, const link_ident_t *ids, size_t n,
                   patient_match_t *out)
{
    char err[1024];
    pg_fixture_exec(db, "BEGIN");
    if (patient_index_assign(db, p, ids, n, false, out, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
    pg_fixture_exec(db, "COMMIT");
}

static void test_records_join_held_patients(void **state)
{
    (void)state;
    ncap_require_pg();
    PGconn *db = connect_test();
    link_params_t p;
    char err[1024];
    assert_int_equal(patient_index_load_params(db, &p, err, sizeof err), 0);
    assert_true(p.threshold == 0.5);
    assert_true(link_pg_count(db, "SELECT count(*) FROM linkage.match_param") > 20);
    link_ident_t first[] = {
        ident("4010232137", "Mary", "Robert", "1940-05-12", "F", "LS1 4AP"),
        ident("4505577104", "John", "Ellis", "1938-01-30", "M", "M1 1AE"),
        /* within one batch: John again without his NHS number */
        ident("", "John", "Ellis", "1938-01-30", "M", "M1 1AE"),
    };
    patient_match_t m1[3];
    assign(db, &p, first, 3, m1);
    assert_string_equal(m1[0].method, "new");
    assert_string_equal(m1[1].method, "new");
    assert_string_equal(m1[2].method, "probabilistic");
    assert_true(m1[2].patient_id == m1[1].patient_id);
    assert_true(m1[0].patient_id != m1[1].patient_id);
    link_ident_t second[] = {
        ident("4010232137", "Mary", "Robert", "1940-05-12", "F", ""),
        ident("", "Mary", "Roberts", "1940-12-05", "F", "LS1 4AP"),
        ident("4857773457", "Mary", "Robert", "1951-02-03", "F", ""),
        ident("", "", "", "", "", ""),
    };
    patient_match_t m2[4];
    assign(db, &p, second, 4, m2);
    assert_string_equal(m2[0].method, "nhs_dob");
    assert_true(m2[0].patient_id == m1[0].patient_id);
    assert_string_equal(m2[1].method, "probabilistic");
    assert_true(m2[1].patient_id == m1[0].patient_id);
    assert_string_equal(m2[2].method, "new");
    assert_string_equal(m2[3].method, "unlinked");
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.patient"), 4);
    PQfinish(db);
}

/* A batch read in groups of records (patient_index_set_group_rows 1: a group a record) links as
 * batches one after another would: Mary's first record makes a patient, her second (another date
 * of birth, another address) a second one, and the third, her first date of birth at the second
 * address, bridges them: its group finds both held and merges the second into the first, and the
 * second record, linked by an earlier group of the batch, follows the merge. */
static void test_a_batch_read_in_groups(void **state)
{
    (void)state;
    ncap_require_pg();
    PGconn *db = connect_test();
    link_params_t p;
    char err[1024];
    assert_int_equal(patient_index_load_params(db, &p, err, sizeof err), 0);
    link_ident_t ids[] = {
        ident("", "Mary", "Jones", "1950-02-03", "F", "M1 1AE"),
        ident("", "Mary", "Jones", "1950-09-17", "F", "M3 4XY"),
        ident("", "Mary", "Jones", "1950-02-03", "F", "M3 4XY"),
    };
    patient_match_t m[3];
    link_merge_t *merges = NULL;
    size_t nmerges = 0;
    patient_index_set_group_rows(1);
    pg_fixture_exec(db, "BEGIN");
    int rc = patient_index_assign(db, &p, ids, 3, false, m, &merges, &nmerges, err, sizeof err);
    pg_fixture_exec(db, "COMMIT");
    patient_index_set_group_rows(0);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(m[0].method, "new");
    assert_string_equal(m[1].method, "new");
    assert_string_equal(m[2].method, "probabilistic");
    assert_int_equal(nmerges, 1);
    assert_true(merges[0].into == m[0].patient_id);
    assert_true(merges[0].from != m[0].patient_id);
    assert_true(m[1].patient_id == m[0].patient_id);
    assert_true(m[2].patient_id == m[0].patient_id);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM linkage.block WHERE patient_id = %lld",
             (long long)merges[0].from);
    assert_int_equal(link_pg_count(db, sql), 0);
    free(merges);
    PQfinish(db);
}

static void test_deaths_link_one_to_one(void **state)
{
    (void)state;
    ncap_require_pg();
    PGconn *db = connect_test();
    link_params_t p;
    link_params_default(&p);
    pg_fixture_exec(db, "INSERT INTO linkage.death (nhs_number, forename, surname, date_of_birth,"
                        " sex, postcode, date_of_death, row_hash) VALUES"
                        " ('4010232137', 'MARY', 'ROBERT', '1940-05-12', 'F', 'LS1 4AP',"
                        "  '2025-06-01', 'a'),"
                        " ('', 'JOHN', 'ELLIS', '1938-01-30', 'M', 'M1 1AE', '2025-07-01', 'b'),"
                        " ('', 'PETER', 'JONES', '1938-01-30', 'M', 'B1 1AA', '2025-08-01', 'c')");
    link_ident_t ids[] = {
        ident("4010232137", "Mary", "Robert", "1940-05-12", "F", ""),
        ident("4505577104", "John", "Ellis", "1938-01-30", "M", "M1 1AE"),
        /* born the same day as John and Peter, neither of them */
        ident("4857773457", "Alan", "Price", "1938-01-30", "M", "CF10 1AA"),
    };
    patient_match_t m[3];
    assign(db, &p, ids, 3, m);
    int64_t pids[3] = {m[0].patient_id, m[1].patient_id, m[2].patient_id};
    char dod[3][11];
    char err[1024];
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(death_link_patients(db, &p, ids, pids, 3, dod, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    assert_string_equal(dod[0], "2025-06-01");
    assert_string_equal(dod[1], "2025-07-01");
    assert_string_equal(dod[2], "");
    /* a second record of John's finds the same death; no death gets two patients */
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(death_link_patients(db, &p, ids + 1, pids + 1, 1, dod, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    assert_string_equal(dod[0], "2025-07-01");
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.death_link"), 2);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers_are_normalised),
        cmocka_unit_test(test_stored_identifiers_read_back),
        cmocka_unit_test(test_blocking_keys),
        cmocka_unit_test(test_long_names_cut_between_characters),
        cmocka_unit_test(test_scores_on_worked_examples),
        cmocka_unit_test(test_missing_weighs_nothing),
        cmocka_unit_test(test_common_values_weigh_less),
        cmocka_unit_test(test_records_join_held_patients),
        cmocka_unit_test(test_a_batch_read_in_groups),
        cmocka_unit_test(test_deaths_link_one_to_one),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
