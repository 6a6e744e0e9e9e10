/* test_sim_nela.c - the simulated NELA audit: files in nela.yaml's columns, the same bytes for the
 * same options, trusts' roles fixed by the seed, and a truth that agrees with itself (the
 * statistical truth is checked end to end by tests/tools/nela_sim_check.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "sim.h"

typedef int (*writer_t)(const sim_t *sim, FILE *f);

static int all_trusts(const sim_t *sim, FILE *f)
{
    int rc = sim_write_file_header(sim, f);
    for (size_t t = 0; rc == 0 && t < sim_ntrusts(sim); t++)
        rc = sim_write_trust(sim, t, f);
    return rc;
}

static int truth(const sim_t *sim, FILE *f)
{
    return sim_write_truth(sim, f, true);
}

static int trusts_truth(const sim_t *sim, FILE *f)
{
    return sim_write_trusts_truth(sim, f);
}

static int deaths(const sim_t *sim, FILE *f)
{
    return sim_write_deaths(sim, f, NULL);
}

/* What write puts in a file, in a new buffer. */
static char *written(const sim_t *sim, writer_t write)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(write(sim, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static sim_t *nela_sim(unsigned records, unsigned trusts, uint64_t seed, unsigned round)
{
    sim_opts_t o;
    sim_opts_default(&o);
    o.audit = "nela";
    o.records = records;
    o.trusts = trusts;
    o.seed = seed;
    o.round = round;
    char err[256];
    sim_t *sim = sim_new(&o, err, sizeof err);
    if (!sim)
        fail_msg("sim_new: %s", err);
    assert_string_equal(sim_audit(sim), "nela");
    return sim;
}

/* The header is nela.yaml's fields, in its order, and every row has as many fields. */
static void test_columns_are_the_definitions(void **state)
{
    (void)state;
    char err[512];
    audit_def_t *def = audit_def_load(NCAP_SOURCE_DIR "/deploy/audits/nela.yaml", err, sizeof err);
    if (!def)
        fail_msg("nela.yaml: %s", err);
    sim_t *sim = nela_sim(300, 4, 1, 0);
    char *text = written(sim, all_trusts);
    char *header = strtok(text, "\n");
    char want[4096] = "";
    for (size_t i = 0; i < def->n_fields; i++) {
        strcat(want, i ? "," : "");
        strcat(want, def->fields[i].name);
    }
    assert_string_equal(header, want);
    size_t commas = 0;
    for (const char *c = header; *c; c++)
        commas += *c == ',';
    size_t rows = 0;
    for (char *line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        size_t n = 0;
        for (const char *c = line; *c; c++)
            n += *c == ',';
        assert_int_equal(n, commas);
    }
    assert_int_equal(rows, 300);
    free(text);
    sim_destroy(&sim);
    audit_def_destroy(&def);
}

/* The same options give the same bytes in every file; another seed other records. */
static void test_deterministic(void **state)
{
    (void)state;
    writer_t writers[] = {all_trusts, truth, trusts_truth, deaths};
    sim_t *a = nela_sim(2000, 10, 7, 0), *b = nela_sim(2000, 10, 7, 0),
          *c = nela_sim(2000, 10, 8, 0);
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        char *x = written(a, writers[i]), *y = written(b, writers[i]), *z = written(c, writers[i]);
        assert_string_equal(x, y);
        assert_string_not_equal(x, z);
        free(x);
        free(y);
        free(z);
    }
    sim_destroy(&a);
    sim_destroy(&b);
    sim_destroy(&c);
}

/* The role column of trust t's row in a --trusts-truth text (t from 0). */
static void role_of(const char *text, size_t t, char *out, size_t size)
{
    const char *line = strchr(text, '\n') + 1;
    for (size_t i = 0; i < t; i++)
        line = strchr(line, '\n') + 1;
    const char *role = strchr(line, ',') + 1;
    snprintf(out, size, "%.*s", (int)(strchr(role, ',') - role), role);
}

/* 20 trusts: 3 with excess risk, 1 with sicker patients, the rest ordinary; the same trusts in
 * every round of a seed. */
static void test_roles(void **state)
{
    (void)state;
    sim_t *r1 = nela_sim(2000, 20, 5, 1), *r2 = nela_sim(1000, 20, 5, 2);
    char *t1 = written(r1, trusts_truth), *t2 = written(r2, trusts_truth);
    assert_true(strncmp(t1, "trust_code,role,odds_ratio,frailty_shift,", 41) == 0);
    size_t excess = 0, sicker = 0;
    for (size_t t = 0; t < 20; t++) {
        char a[32], b[32];
        role_of(t1, t, a, sizeof a);
        role_of(t2, t, b, sizeof b);
        assert_string_equal(a, b);
        excess += strcmp(a, "excess_risk") == 0;
        sicker += strcmp(a, "sicker_patients") == 0;
    }
    assert_int_equal(excess, 3);
    assert_int_equal(sicker, 1);
    free(t1);
    free(t2);
    sim_destroy(&r1);
    sim_destroy(&r2);
}

/* What is nhfd's only is refused: problems on purpose, their truth; the trusts' truth is nela's. */
static void test_refusals(void **state)
{
    (void)state;
    sim_opts_t o;
    sim_opts_default(&o);
    o.audit = "nela";
    o.records = 1000;
    o.problems[SIM_P_REQUIRED] = 1;
    char err[256] = "";
    assert_null(sim_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "nhfd only"));
    o.audit = "hes";
    o.problems[SIM_P_REQUIRED] = 0;
    assert_null(sim_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "\"hes\""));

    sim_t *nela = nela_sim(100, 2, 1, 0);
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(sim_write_problems_truth(nela, f, true), -1);
    o.audit = "nhfd";
    sim_t *nhfd = sim_new(&o, err, sizeof err);
    assert_non_null(nhfd);
    assert_int_equal(sim_write_trusts_truth(nhfd, f), -1);
    fclose(f);
    sim_destroy(&nela);
    sim_destroy(&nhfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_are_the_definitions),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
