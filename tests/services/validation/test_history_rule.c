/* test_history_rule.c - NHFD's probable_duplicate_episode: a second episode of one patient on the
 * same side within 30 days, worked on pairs and groups of records */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhfd_fixture.h"

#include <string.h>

#include "history_rule.h"

static const audit_rule_t *dup_rule(const audit_def_t *def)
{
    for (size_t i = 0; i < def->n_rules; i++)
        if (strcmp(def->rules[i].id, "probable_duplicate_episode") == 0)
            return &def->rules[i];
    fail_msg("no probable_duplicate_episode rule");
    return NULL;
}

static ncap_record_t *episode(const char *side, const char *arrival)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "fracture_side", side);
    ncap_record_set(r, "arrival_datetime", arrival);
    ncap_record_set(r, "trust_code", "RR8");
    return r;
}

/* Does b (order 2) make a (order 1) break the rule? */
static bool breaks(const audit_def_t *def, const char *side_a, const char *at_a, const char *side_b,
                   const char *at_b)
{
    ncap_record_t *a = episode(side_a, at_a), *b = episode(side_b, at_b);
    history_record_t ha = {a, 1}, hb = {b, 2};
    bool r = history_rule_broken_by(def, dup_rule(def), &ha, &hb);
    ncap_record_destroy(&a);
    ncap_record_destroy(&b);
    return r;
}

static void test_pairs(void **state)
{
    const audit_def_t *def = *state;
    /* a later record, same side, within 30 days: a is the probable duplicate */
    assert_true(breaks(def, "L", "2026-02-01T10:00", "L", "2026-01-20T08:00"));
    /* exactly 30 days before counts; a minute more does not */
    assert_true(breaks(def, "L", "2026-01-31T08:00", "L", "2026-01-01T08:00"));
    assert_false(breaks(def, "L", "2026-01-31T08:01", "L", "2026-01-01T08:00"));
    /* other side, or the other record is the later one */
    assert_false(breaks(def, "L", "2026-02-01T10:00", "R", "2026-01-20T08:00"));
    assert_false(breaks(def, "L", "2026-01-20T08:00", "L", "2026-02-01T10:00"));
    /* the date forms do not matter, spaces around the side do not either */
    assert_true(breaks(def, "L", "01/02/2026 10:00", " L ", "2026-01-20T08:00Z"));
    /* a missing or unreadable side or date never links two episodes */
    assert_false(breaks(def, "", "2026-02-01T10:00", "", "2026-01-20T08:00"));
    assert_false(breaks(def, "L", "2026-02-01T10:00", "L", "yesterday"));
    assert_false(breaks(def, "L", "2026-02-01T10:00", "L", ""));
    /* equal dates: the lower order is the earlier, so only the higher one breaks the rule */
    assert_false(breaks(def, "R", "2026-01-20T08:00", "R", "2026-01-20T08:00"));
    ncap_record_t *a = episode("R", "2026-01-20T08:00"), *b = episode("R", "2026-01-20T08:00");
    history_record_t ha = {a, 7}, hb = {b, 3};
    assert_true(history_rule_broken_by(def, dup_rule(def), &ha, &hb));
    /* the same fracture at another trust is a transfer, not a duplicate */
    ncap_record_set(b, "trust_code", "RH8");
    assert_false(history_rule_broken_by(def, dup_rule(def), &ha, &hb));
    /* a record never breaks the rule against itself */
    assert_false(history_rule_broken_by(def, dup_rule(def), &ha, &ha));
    ncap_record_destroy(&a);
    ncap_record_destroy(&b);
}

static void test_validate_history_reports_once(void **state)
{
    const audit_def_t *def = *state;
    ncap_record_t *r[4] = {
        episode("L", "2026-01-01T08:00"), /* first episode */
        episode("L", "2026-01-05T09:00"), /* 4 days later: duplicate of r0 */
        episode("L", "2026-01-20T09:00"), /* within 30 days of r0 and r1: one warning only */
        episode("R", "2026-01-21T09:00"), /* the other hip */
    };
    history_record_t h[4];
    for (int i = 0; i < 4; i++)
        h[i] = (history_record_t){r[i], i + 2};
    static const size_t want[4] = {0, 1, 1, 0};
    for (int i = 0; i < 4; i++) {
        validation_result_t res = {.valid = 1};
        assert_int_equal(validate_history(def, &h[i], h, 4, &res), 0);
        assert_int_equal(res.n, want[i]);
        assert_true(res.valid); /* a warning never rejects */
        if (i == 1) {
            const validation_problem_t *p = &res.problems[0];
            assert_string_equal(p->field, "arrival_datetime");
            assert_string_equal(p->rule, "probable_duplicate_episode");
            assert_string_equal(p->severity, "warning");
            assert_string_equal(p->value, "2026-01-05T09:00");
            assert_string_equal(p->message,
                                "another record of this patient from this trust has a fracture on "
                                "the same side (L) with arrival in the 30 days up to this one "
                                "(2026-01-05T09:00): probably the same episode sent twice");
        }
        validation_result_free(&res);
    }
    for (int i = 0; i < 4; i++)
        ncap_record_destroy(&r[i]);
    assert_true(audit_has_history_rules(def));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_validate_history_reports_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
