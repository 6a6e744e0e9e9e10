/* test_cmd_link_train.c - `ncap link-train` on an index filled with the simulator's patients
 * ($NCAP_TEST_PG): --dry-run and a too-small sample store nothing; training replaces
 * linkage.match_param and the prior and raises params_version; the same seed gives the same
 * parameters; training also stores the term frequencies of common names and postcodes, which the
 * load ncap-linkd does (patient_index_load_model) scores with; and the simulator's records linked
 * again with the learned parameters and term frequencies keep pairwise F1 >= 0.995 (issue 4's
 * figure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "link_pg_fixture.h"

#define RECORDS 6000
#define BATCH 64

#include "cmd_run.h"
#include "link_sim_fixture.h"
#include "test_skip.h"

static char conninfo[1024];

static int group_setup(void **state)
{
    (void)state;
    return link_pg_create("ncap_test_link_train", conninfo, sizeof conninfo);
}

static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_link_train, "link-train", arg, ap);
    va_end(ap);
    return r;
}

/* The stored parameters as one string, to compare. */
static char *stored(PGconn *db)
{
    char err[1024];
    PGresult *r = db_query(db,
                           "SELECT string_agg(t, ';' ORDER BY t) FROM (SELECT concat_ws(' ', field,"
                           " level, m, u) AS t FROM linkage.match_param UNION ALL SELECT"
                           " concat_ws(' ', name, value) FROM linkage.match_setting"
                           " WHERE name <> 'params_version' UNION ALL SELECT concat_ws(' ', field,"
                           " value, frequency) FROM linkage.match_term_freq) s",
                           0, NULL, err, sizeof err);
    assert_non_null(r);
    char *s = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

/* Links s again from an empty index with what ncap-linkd loads: p, and *tf it points to. */
static void link_fresh(PGconn *db, const sim_records_t *s, link_params_t *p, term_freq_t **tf,
                       int64_t *patient)
{
    char err[1024];
    pg_fixture_exec(db, "TRUNCATE linkage.death_link, linkage.block, linkage.patient CASCADE");
    pg_fixture_exec(db, "BEGIN");
    term_freq_destroy(tf);
    assert_int_equal(patient_index_load_model(db, p, tf, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    link_all(db, p, s->ids, s->n, patient);
}

/* The most common value stored (field, value, frequency), and how its exact agreement scores
 * with the parameters ncap-linkd loads: log2(m / frequency), less than the learned log2(m / u). */
static void most_common_value_weighs_less(PGconn *db, const link_params_t *p)
{
    char err[1024];
    PGresult *r = db_query(db,
                           "SELECT field, value, frequency FROM linkage.match_term_freq"
                           " ORDER BY frequency DESC, field, value LIMIT 1",
                           0, NULL, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(PQntuples(r), 1);
    size_t f = LI_NFIELDS;
    for (size_t k = 0; k < LI_NFIELDS; k++)
        if (strcmp(PQgetvalue(r, 0, 0), link_field_name(k)) == 0)
            f = k;
    assert_true(link_field_tf(f));
    double freq = strtod(PQgetvalue(r, 0, 2), NULL);
    double w = link_exact_weight(p, f, PQgetvalue(r, 0, 1));
    printf("most common: %s \"%s\" at %.4f of patients: weight %.2f instead of %.2f\n",
           link_field_name(f), PQgetvalue(r, 0, 1), freq, w, p->w[f][1]);
    assert_true(freq > p->u[f][1]);
    assert_true(fabs(w - log2(p->m[f][1] / freq)) < 1e-9);
    assert_true(w < p->w[f][1]);
    PQclear(r);
}

static void learned_parameters_are_stored_and_link_as_well(void **state)
{
    (void)state;
    (void)temp_file;
    ncap_require_pg();
    setenv("NCAP_PG", conninfo, 1);
    sim_records_t s;
    load_sim(&s);
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_cmd_link_train", err, sizeof err);
    assert_non_null(db);
    int64_t *patient = calloc(s.n, sizeof *patient);
    assert_non_null(patient);
    link_params_t p;
    term_freq_t *tf = NULL;
    link_fresh(db, &s, &p, &tf, patient); /* with the documented defaults */
    assert_null(p.tf);
    double precision, recall;
    double f1 = pairwise_f1(s.truth, patient, s.n, &precision, &recall);
    printf("defaults: precision %.4f recall %.4f F1 %.4f\n", precision, recall, f1);
    char *defaults = stored(db);

    result_t r = run("--sample", "500", NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "sample too small: 500 patients, at least 1000 needed"));
    result_free(&r);
    r = run("--dry-run", "--seed", "3", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "dry run: nothing stored"));
    result_free(&r);
    char *now = stored(db);
    assert_string_equal(now, defaults);
    free(now);
    assert_int_equal(link_pg_count(db, "SELECT count(*) FROM linkage.match_term_freq"), 0);
    r = run("--bogus", NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);

    r = run("--seed", "3", NULL);
    printf("%s%s", r.out, r.err);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "surname"));
    assert_non_null(strstr(r.out, "term frequencies: forename"));
    result_free(&r);
    char *learned = stored(db);
    assert_true(link_pg_count(db, "SELECT count(*) FROM linkage.match_term_freq") > 0);
    assert_string_not_equal(learned, defaults);
    assert_int_equal(link_pg_count(db, "SELECT value FROM linkage.match_setting"
                                       " WHERE name = 'params_version'"),
                     1);
    r = run("--seed", "3", NULL); /* the same index and seed: the same parameters */
    assert_int_equal(r.rc, 0);
    result_free(&r);
    now = stored(db);
    assert_string_equal(now, learned);
    free(now);
    assert_int_equal(link_pg_count(db, "SELECT value FROM linkage.match_setting"
                                       " WHERE name = 'params_version'"),
                     2);

    link_fresh(db, &s, &p, &tf, patient); /* with the learned parameters and term frequencies */
    assert_non_null(p.tf);
    most_common_value_weighs_less(db, &p);
    f1 = pairwise_f1(s.truth, patient, s.n, &precision, &recall);
    printf("learned, %zu term frequencies: log2 prior odds %.3f, precision %.4f recall %.4f"
           " F1 %.4f\n",
           term_freq_size(tf), p.log2_prior_odds, precision, recall, f1);
    assert_true(f1 >= 0.995);
    term_freq_destroy(&tf);
    free(defaults);
    free(learned);
    free(patient);
    free(s.ids);
    free(s.truth);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learned_parameters_are_stored_and_link_as_well),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
