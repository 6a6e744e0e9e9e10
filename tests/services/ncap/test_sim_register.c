/* test_sim_register.c - `ncap sim --submit --deaths FILE`'s register of deaths following the rounds
 * (sim_register.h): after each round FILE is a register extract (the header, then rows) whose every
 * death is dated up to the day FILE.covers-to names, start + round x step; rows stay from round to
 * round and each death of a round appears once its round's date reaches it; a simulator started
 * again on the same FILE keeps its rows and never covers less; and the rows are those the
 * simulator writes in one go (sim_write_deaths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datetime.h"
#include "file_read.h"
#include "sim_register.h"

#define HEADER "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"

static sim_t *round_of(unsigned round)
{
    sim_opts_t o;
    sim_opts_default(&o);
    o.trusts = 4;
    o.records = 300;
    o.seed = 9;
    o.round = round;
    char err[256];
    sim_t *sim = sim_new(&o, err, sizeof err);
    if (!sim)
        fail_msg("%s", err);
    return sim;
}

static char *read_text(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0)
        fail_msg("could not read %s", path);
    return data;
}

/* Every row of text (a register) is dated at most covers_to; returns the rows. */
static size_t rows_up_to(const char *text, const char *covers_to)
{
    assert_memory_equal(text, HEADER, strlen(HEADER));
    size_t n = 0;
    for (const char *p = text + strlen(HEADER); *p; n++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl - p > 10);
        char died[11];
        memcpy(died, nl - 10, 10);
        died[10] = '\0';
        if (strcmp(died, covers_to) > 0)
            fail_msg("a death on %s in a register covering deaths to %s", died, covers_to);
        p = nl + 1;
    }
    return n;
}

/* Whether the register text holds line (a whole row, after the header). */
static int holds(const char *text, const char *line)
{
    char needle[512];
    snprintf(needle, sizeof needle, "\n%s", line);
    return strstr(text, needle) != NULL;
}

static void test_register_follows_the_rounds(void **state)
{
    (void)state;
    char dir[] = "/tmp/ncap_test_sim_register_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], covers_path[160], err[512], covers_to[11], before[11];
    snprintf(path, sizeof path, "%s/deaths.csv", dir);
    snprintf(covers_path, sizeof covers_path, "%s.covers-to", path);
    sim_opts_t o;
    sim_opts_default(&o); /* start 2025-04-01 */
    sim_register_t *reg = sim_register_open(path, o.start_day, 30, err, sizeof err);
    assert_non_null(reg);

    /* round 1's deaths, all of them in one go, to find them in the register later */
    sim_t *first = round_of(1);
    char *all = NULL;
    size_t all_len = 0;
    FILE *f = open_memstream(&all, &all_len);
    assert_int_equal(sim_write_deaths(first, f, NULL), 0);
    fclose(f);
    assert_true(sim_ndeaths(first) > 20);

    size_t added, total = 0, last = 0;
    for (unsigned round = 1; round <= 30; round++) {
        sim_t *sim = round == 1 ? first : round_of(round);
        assert_int_equal(sim_register_round(reg, sim, round, covers_to, &added, err, sizeof err),
                         0);
        /* the simulated date: start + round x 30 days */
        int y, m, d;
        ncap_civil_from_days(o.start_day + 30 * (int64_t)round, &y, &m, &d);
        char want[11];
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
        assert_string_equal(covers_to, want);
        char *c = read_text(covers_path);
        assert_int_equal(strlen(c), 11);
        assert_memory_equal(c, want, 10);
        assert_int_equal(c[10], '\n');
        free(c);
        char *text = read_text(path);
        size_t n = rows_up_to(text, covers_to);
        total += added;
        assert_int_equal(n, total); /* rows stay, the new ones added */
        assert_true(n >= last);
        last = n;
        /* round 1's deaths dated up to now are in, the later ones not yet */
        for (size_t k = 0; k < sim_ndeaths(first); k++) {
            char *row = NULL;
            size_t len = 0;
            FILE *rf = open_memstream(&row, &len);
            assert_int_equal(sim_write_death(first, k, rf), 0);
            fclose(rf);
            assert_non_null(strstr(all, row));
            assert_int_equal(holds(text, row), sim_death_day(first, k) <= o.start_day + 30 * round);
            free(row);
        }
        free(text);
        if (round > 1)
            sim_destroy(&sim);
    }
    /* after 30 rounds (900 days) every death of round 1 is in (none is dated later) */
    for (size_t k = 0; k < sim_ndeaths(first); k++)
        assert_true(sim_death_day(first, k) <= o.start_day + 900);
    sim_register_destroy(&reg);

    /* started again on the same file, from round 1: the rows stay, the coverage does not go back */
    reg = sim_register_open(path, o.start_day, 30, err, sizeof err);
    assert_non_null(reg);
    snprintf(before, sizeof before, "%s", covers_to);
    sim_t *again = round_of(1);
    assert_int_equal(sim_register_round(reg, again, 1, covers_to, &added, err, sizeof err), 0);
    assert_string_equal(covers_to, before);
    char *text = read_text(path);
    assert_int_equal(rows_up_to(text, covers_to), total + added);
    free(text);
    sim_destroy(&again);
    sim_register_destroy(&reg);

    /* a covers-to file that is not a date is refused */
    f = fopen(covers_path, "w");
    fputs("soon\n", f);
    fclose(f);
    assert_null(sim_register_open(path, o.start_day, 30, err, sizeof err));
    assert_non_null(strstr(err, "holds \"soon\", expected the day the register covers to"));

    sim_destroy(&first);
    free(all);
    unlink(covers_path);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_follows_the_rounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
