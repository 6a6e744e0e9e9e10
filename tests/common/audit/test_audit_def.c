/* test_audit_def.c - audit definitions: the shipped NHFD file, refusal of broken files with their
 * line, value checks per type, and metrics computed on a record */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <unistd.h>

#include "audit_def.h"
#include "record.h"

#define NHFD_PATH NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml"

/* ---------------------------------------------------------------- helpers */

static char tmp_path[64];

static const char *write_def(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/ncap_test_def_XXXXXX.yaml");
    int fd = mkstemps(tmp_path, 5);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

/* A valid definition; tests add to it or replace a line of it. */
static const char *base_def = "audit: demo\n"            /* 1 */
                              "name: Demo audit\n"       /* 2 */
                              "dataset_version: \"1\"\n" /* 3 */
                              "record_key: id\n"         /* 4 */
                              "trust_field: trust\n"     /* 5 */
                              "site_field: site\n"       /* 6 */
                              "period_field: arrived\n"  /* 7 */
                              "opt_out_applies: false\n" /* 8 */
                              "fields:\n"                /* 9 */
                              "  - name: id\n"           /* 10 */
                              "    type: string\n"       /* 11 */
                              "  - name: trust\n"        /* 12 */
                              "    type: ods_code\n"     /* 13 */
                              "  - name: site\n"         /* 14 */
                              "    type: ods_code\n"     /* 15 */
                              "  - name: arrived\n"      /* 16 */
                              "    type: datetime\n"     /* 17 */
                              "    required: true\n";    /* 18 */

static audit_def_t *load_text(const char *text, char *err, size_t errlen)
{
    const char *path = write_def(text);
    audit_def_t *def = audit_def_load(path, err, errlen);
    unlink(path);
    return def;
}

/* base_def followed by extra must be refused at line with a message containing what. */
static void refused(const char *extra, int line, const char *what)
{
    char text[4096], err[512] = "";
    snprintf(text, sizeof text, "%s%s", base_def, extra);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (def) {
        audit_def_destroy(&def);
        fail_msg("accepted a broken definition (expected line %d: %s)", line, what);
    }
    char where[96];
    snprintf(where, sizeof where, "%s:%d: ", tmp_path, line);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what))
        fail_msg("expected \"%s...%s\", got \"%s\"", where, what, err);
}

/* base_def followed by extra must be refused with exactly "FILE:line:column: what" (the only
 * problem in the file). */
static void refused_at(const char *extra, int line, int column, const char *what)
{
    char text[16384], err[1024] = "";
    snprintf(text, sizeof text, "%s%s", base_def, extra);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (def) {
        audit_def_destroy(&def);
        fail_msg("accepted a broken definition (expected %d:%d: %s)", line, column, what);
    }
    char want[1024];
    snprintf(want, sizeof want, "%s:%d:%d: %s", tmp_path, line, column, what);
    assert_string_equal(err, want);
}

/* base_def with the line starting with `old` replaced by `repl` must be refused likewise. */
static void refused_edit(const char *old, const char *repl, int line, const char *what)
{
    char text[4096];
    const char *at = strstr(base_def, old);
    assert_non_null(at);
    const char *eol = strchr(at, '\n');
    snprintf(text, sizeof text, "%.*s%s%s%s", (int)(at - base_def), base_def, repl,
             repl[0] ? "\n" : "", eol + 1);
    char err[512] = "";
    audit_def_t *def = load_text(text, err, sizeof err);
    if (def) {
        audit_def_destroy(&def);
        fail_msg("accepted a broken definition (expected line %d: %s)", line, what);
    }
    char where[96];
    snprintf(where, sizeof where, "%s:%d: ", tmp_path, line);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what))
        fail_msg("expected \"%s...%s\", got \"%s\"", where, what, err);
}

static audit_def_t *load_nhfd(void)
{
    char err[512] = "";
    audit_def_t *def = audit_def_load(NHFD_PATH, err, sizeof err);
    if (!def)
        fail_msg("nhfd.yaml refused: %s", err);
    return def;
}

/* ---------------------------------------------------------------- the NHFD definition */

static void test_nhfd_loads_with_its_fields_in_order(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        audit_field_type_t type;
        bool required, identifier;
        const char *link_as;
    } expected[] = {
        {"local_record_id", FT_STRING, true, false, NULL},
        {"trust_code", FT_ODS_CODE, true, false, NULL},
        {"site_code", FT_ODS_CODE, true, false, NULL},
        {"nhs_number", FT_NHS_NUMBER, false, true, "nhs_number"},
        {"forename", FT_STRING, false, true, "forename"},
        {"surname", FT_STRING, false, true, "surname"},
        {"date_of_birth", FT_DATE, true, true, "dob"},
        {"sex", FT_CODE, true, false, "sex"},
        {"postcode", FT_POSTCODE, false, true, "postcode"},
        {"lsoa", FT_LSOA, false, true, "lsoa"},
        {"ethnic_category", FT_CODE, false, false, NULL},
        {"arrival_datetime", FT_DATETIME, true, false, NULL},
        {"ward_admission_datetime", FT_DATETIME, false, false, NULL},
        {"never_admitted_to_ward", FT_BOOLEAN, false, false, NULL},
        {"residence_at_fracture", FT_CODE, true, false, NULL},
        {"pre_fracture_mobility", FT_CODE, true, false, NULL},
        {"amts_pre_op", FT_CODE, true, false, NULL},
        {"fracture_type", FT_CODE, true, false, NULL},
        {"fracture_side", FT_CODE, true, false, NULL},
        {"pathological_fracture", FT_CODE, true, false, NULL},
        {"asa_grade", FT_INTEGER, false, false, NULL},
        {"orthogeriatric_assessment_datetime", FT_DATETIME, false, false, NULL},
        {"surgery_datetime", FT_DATETIME, false, false, NULL},
        {"operation", FT_CODE, false, false, NULL},
        {"amts_post_op", FT_CODE, false, false, NULL},
        {"discharge_destination", FT_CODE, false, false, NULL},
        {"discharge_date", FT_DATE, false, false, NULL},
    };
    audit_def_t *def = load_nhfd();
    assert_string_equal(def->audit, "nhfd");
    assert_string_equal(def->dataset_version, "2026.1");
    assert_string_equal(def->speciality, "Orthopaedics / trauma");
    assert_string_equal(def->record_key_field, "local_record_id");
    assert_string_equal(def->trust_field, "trust_code");
    assert_string_equal(def->site_field, "site_code");
    assert_string_equal(def->period_field, "arrival_datetime");
    assert_false(def->opt_out_applies);
    assert_int_equal(def->n_fields, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        assert_string_equal(f->name, expected[i].name);
        assert_int_equal(f->type, expected[i].type);
        assert_int_equal(f->required, expected[i].required);
        assert_int_equal(f->identifier, expected[i].identifier);
        if (expected[i].link_as)
            assert_string_equal(f->link_as, expected[i].link_as);
        else
            assert_null(f->link_as);
        assert_non_null(f->label);
        assert_true(f->line > 0);
    }

    const audit_field_t *asa = audit_def_field(def, "asa_grade");
    assert_true(asa->has_min && asa->has_max);
    assert_true(asa->min == 1 && asa->max == 5);
    assert_string_equal(asa->label, "ASA grade");
    assert_int_equal(audit_def_field(def, "ethnic_category")->n_codes, 18);
    assert_int_equal(audit_def_field(def, "amts_pre_op")->n_codes, 12);
    assert_int_equal(audit_def_field(def, "amts_post_op")->n_codes, 12);
    assert_int_equal(audit_def_field(def, "operation")->n_codes, 7);
    const audit_field_t *sex = audit_def_field(def, "sex");
    assert_int_equal(sex->n_codes, 4);
    assert_string_equal(sex->codes[3].code, "X");
    assert_string_equal(sex->codes[3].label, "Not known");
    assert_string_equal(audit_def_field(def, "local_record_id")->pattern, "[A-Za-z0-9_-]{1,40}");
    assert_null(audit_def_field(def, "age_band")); /* derived, not a field */

    assert_int_equal(def->n_derived, 2);
    assert_string_equal(def->derived[0].name, "age_at_arrival");
    assert_int_equal(def->derived[0].type, FT_INTEGER);
    assert_string_equal(def->derived[1].name, "age_band");
    assert_int_equal(def->derived[1].type, FT_CODE);
    assert_non_null(def->derived[1].expr);

    assert_int_equal(def->n_metrics, 5);
    assert_string_equal(def->metrics[0].id, "surgery_36h");
    assert_string_equal(def->metrics[0].label, "Surgery within 36 hours of arrival");
    assert_string_equal(def->metrics[0].unit, "trust");
    assert_string_equal(def->metrics[0].period, "quarter");
    assert_int_equal(def->metrics[0].polarity, AUDIT_POLARITY_HIGHER_BETTER);
    assert_int_equal(def->metrics[0].overdispersion, AUDIT_OVERDISPERSION_NONE);
    assert_string_equal(def->metrics[0].denominator_src, "present(surgery_datetime)");
    assert_string_equal(def->metrics[1].id, "ortho_72h");
    assert_string_equal(def->metrics[1].label,
                        "Orthogeriatric assessment within 72 hours of arrival");
    assert_int_equal(def->metrics[1].polarity, AUDIT_POLARITY_HIGHER_BETTER);
    assert_int_equal(def->metrics[1].overdispersion, AUDIT_OVERDISPERSION_NONE);
    assert_non_null(def->metrics[1].numerator);
    assert_non_null(def->metrics[1].denominator);
    assert_string_equal(def->metrics[2].id, "mortality_30d");
    assert_int_equal(def->metrics[2].polarity, AUDIT_POLARITY_LOWER_BETTER);
    assert_int_equal(def->metrics[2].overdispersion, AUDIT_OVERDISPERSION_NONE);

    /* publication settings */
    assert_int_equal(def->disclosure_min_count, 8);
    assert_true(def->has_ascertainment_threshold);
    assert_true(def->ascertainment_threshold == 0.8);
    assert_string_equal(def->breakdowns.deprivation, "imd_decile");
    assert_string_equal(def->breakdowns.ethnicity, "ethnic_category");
    assert_string_equal(def->breakdowns.sex, "sex");
    assert_string_equal(def->breakdowns.age, "age_at_arrival");
    assert_int_equal(def->breakdowns.n_age_bands, 4);
    assert_int_equal(def->breakdowns.age_bands[0], 60);
    assert_int_equal(def->breakdowns.age_bands[3], 90);

    audit_def_destroy(&def);
    assert_null(def);
    audit_def_destroy(&def); /* harmless */
}

static void test_load_named(void **state)
{
    (void)state;
    char err[512];
    audit_def_t *def =
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "nhfd", err, sizeof err);
    assert_non_null(def);
    assert_string_equal(def->audit, "nhfd");
    audit_def_destroy(&def);
    assert_null(
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "no_such_audit", err, sizeof err));
    assert_non_null(strstr(err, "could not open audit definition"));
    assert_null(audit_def_load_named("/tmp", "../etc/passwd", err, sizeof err));
    assert_string_equal(err, "invalid audit name \"../etc/passwd\"");
    /* a file named for another audit than its own (the cache would load it for every use) */
    char dir[] = "/tmp/ncap_test_named_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/other.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(base_def, f);
    fclose(f);
    assert_null(audit_def_load_named(dir, "other", err, sizeof err));
    char want[200];
    snprintf(want, sizeof want,
             "%s:1: \"audit\" is \"demo\", expected \"other\" as the file is named", path);
    assert_string_equal(err, want);
    unlink(path);
    rmdir(dir);
}

static void test_minimal_definition_loads(void **state)
{
    (void)state;
    char err[512] = "";
    audit_def_t *def = load_text(base_def, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_int_equal(def->n_fields, 4);
    assert_int_equal(def->n_derived, 0);
    assert_int_equal(def->n_metrics, 0);
    assert_int_equal(def->fields[3].line, 16);
    assert_string_equal(def->fields[0].label, "id"); /* label defaults to the name */
    assert_string_equal(def->speciality, "Other");   /* speciality: optional */
    audit_def_destroy(&def);
}

/* ---------------------------------------------------------------- broken definitions */

static void test_syntax_errors_are_refused_with_their_line(void **state)
{
    (void)state;
    refused_at("derived:\n"            /* 19 */
               "  - name: x\n"         /* 20 */
               "     type: integer\n", /* 21 */
               21, 10, "syntax error: mapping values are not allowed in this context");
    refused_at("derived: [oops\n", 20, 1,
               "syntax error: did not find expected ',' or ']' while parsing a flow sequence "
               "started on line 19");
}

static void test_unknown_keys_are_refused(void **state)
{
    (void)state;
    refused("metric:\n", 19, "unknown key \"metric\"");
    refused("  - name: asa\n"     /* 19 */
            "    type: integer\n" /* 20 */
            "    minimum: 1\n",   /* 21 */
            21, "field \"asa\": unknown key \"minimum\"");
    refused("metrics:\n"
            "  - id: m\n"
            "    label: M\n"
            "    higher_is_better: true\n"
            "    denominator: true\n"
            "    numerator: true\n"
            "    exclude: false\n", /* 25 */
            25, "metric \"m\": unknown key \"exclude\"");
}

static void test_missing_keys_are_refused(void **state)
{
    (void)state;
    refused("  - name: asa\n", 19, "field \"asa\": missing key \"type\"");
    refused("  - type: integer\n", 19, "field 5: missing key \"name\"");
    refused_edit("period_field:", "", 1, "missing key \"period_field\"");
    refused_edit("opt_out_applies:", "", 1, "missing key \"opt_out_applies\"");
    refused_edit("audit: demo", "audit:", 1, "missing key \"audit\"");
    refused("metrics:\n"
            "  - id: m\n" /* 20 */
            "    denominator: true\n"
            "    numerator: true\n",
            20, "metric \"m\": missing key \"label\"");
}

static void test_bad_types_and_values_are_refused(void **state)
{
    (void)state;
    refused("  - name: asa\n"
            "    type: int\n", /* 20 */
            20, "field \"asa\": unknown type \"int\"");
    refused("  - name: site\n" /* 19 */
            "    type: string\n",
            19, "field \"site\": duplicate field name (first declared on line 14)");
    refused("  - name: Asa\n"
            "    type: integer\n",
            19, "\"name\" is \"Asa\", expected lower-case letters");
    refused_edit("    required: true", "    required: yes", 18,
                 "\"required\" must be true or false");
    refused("  - name: sex\n"
            "    type: code\n",
            19, "field \"sex\": type code needs \"codes\"");
    refused("  - name: sex\n"
            "    type: code\n"
            "    codes:\n"
            "      \"1\": Male\n"
            "      \"1\": Female\n", /* 23 */
            23, "duplicate code \"1\"");
    refused("  - name: who\n"
            "    type: string\n"
            "    link_as: patient\n", /* 21 */
            21, "unknown link_as \"patient\"");
    refused_edit("period_field: arrived", "period_field: id", 7,
                 "\"period_field\" must be a date or datetime field");
    refused_edit("record_key: id", "record_key: idd", 4, "\"record_key\" names \"idd\"");
}

static void test_bad_ranges_and_patterns_are_refused(void **state)
{
    (void)state;
    refused("  - name: asa\n"
            "    type: integer\n"
            "    min: 5\n" /* 21 */
            "    max: 1\n",
            21, "bad range: min 5 is greater than max 1");
    refused("  - name: asa\n"
            "    type: integer\n"
            "    max: five\n", /* 21 */
            21, "\"max\" is \"five\", expected a number");
    /* strtod reads these, but they are no bounds */
    const char *not_numbers[] = {"nan", "-inf", "1e999", "0x10", "infinity", "NAN"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        char extra[200], want[100];
        snprintf(extra, sizeof extra,
                 "  - name: asa\n"
                 "    type: integer\n"
                 "    min: %s\n", /* 21 */
                 not_numbers[i]);
        snprintf(want, sizeof want, "\"min\" is \"%s\", expected a number", not_numbers[i]);
        refused(extra, 21, want);
    }
    refused("  - name: code\n"
            "    type: string\n"
            "    min: 1\n", /* 21 */
            21, "min and max apply only to types integer and decimal");
    refused("  - name: ref\n"
            "    type: string\n"
            "    pattern: \"[A-Z\"\n", /* 21 */
            21, "field \"ref\": bad pattern \"[A-Z\"");
}

static void test_bad_expressions_are_refused(void **state)
{
    (void)state;
    refused_at("derived:\n"
               "  - name: age\n"
               "    type: integer\n"
               "    expr: age_years(arrived, arrived))\n", /* 22 */
               22, 38,
               "derived field \"age\": expr: found ')', expected an operator or the end of the "
               "expression");
    refused_at("derived:\n"
               "  - name: wait\n"
               "    type: decimal\n"
               "    expr: hours_between(arrived, operated)\n", /* 22 */
               22, 34,
               "derived field \"wait\": expr: found \"operated\", expected a field, linked "
               "field or derived field declared before this expression");
    /* a derived field may use those declared before it, not after */
    refused_at("derived:\n"
               "  - name: a\n"
               "    type: integer\n"
               "    expr: b + 1\n" /* 22 */
               "  - name: b\n"
               "    type: integer\n"
               "    expr: 1\n",
               22, 11,
               "derived field \"a\": expr: found \"b\", a derived field computed after this "
               "expression, expected a field or a derived field declared before it");
    refused("derived:\n"
            "  - name: id\n" /* 20 */
            "    type: integer\n"
            "    expr: 1\n",
            20, "duplicate field name (declared as a field on line 10)");
    refused_at("metrics:\n"
               "  - id: m\n"
               "    label: M\n"
               "    higher_is_better: true\n"
               "    denominator: present(arrived)\n"
               "    numerator: hours_between(arrived, surgery) <= 36\n", /* 24 */
               24, 39,
               "metric \"m\": numerator: found \"surgery\", expected a field, linked field or "
               "derived field declared before this expression");
    refused_at("metrics:\n"
               "  - id: m\n"
               "    label: M\n"
               "    higher_is_better: true\n"
               "    denominator: present(arrived\n" /* 23 */
               "    numerator: true\n",
               23, 33,
               "metric \"m\": denominator: found the end of the expression, expected ',' or "
               "')'");
    refused("metrics:\n"
            "  - id: m\n"
            "    label: M\n"
            "    unit: ward\n" /* 22 */
            "    higher_is_better: true\n"
            "    denominator: true\n"
            "    numerator: true\n",
            22, "unknown unit \"ward\"");
}

static void test_derived_fields_count_as_fields_in_later_expressions(void **state)
{
    (void)state;
    char text[4096], err[512] = "";
    snprintf(text, sizeof text,
             "%s"
             "derived:\n"
             "  - name: hour\n"
             "    type: integer\n"
             "    expr: hours_between(arrived, arrived)\n"
             "metrics:\n"
             "  - id: m\n"
             "    label: M\n"
             "    higher_is_better: false\n"
             "    denominator: present(hour)\n"
             "    numerator: hour > 1\n",
             base_def);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_int_equal(def->metrics[0].polarity, AUDIT_POLARITY_LOWER_BETTER);
    audit_def_destroy(&def);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[512];
    assert_null(audit_def_load("/nonexistent/x.yaml", err, sizeof err));
    assert_string_equal(err, "could not open audit definition \"/nonexistent/x.yaml\": No such "
                             "file or directory");
    assert_null(load_text("", err, sizeof err));
    assert_non_null(strstr(err, ":1: the definition is empty"));
    assert_null(load_text("- a\n- b\n", err, sizeof err));
    assert_non_null(strstr(err, ":1: the definition must be a mapping"));
}

/* ---------------------------------------------------------------- value checks */

/* Checks value against field name of def: returns the rule id ("" when it conforms). */
static const char *check(const audit_def_t *def, const char *name, const char *value)
{
    static char rule[32];
    char msg[512];
    const audit_field_t *f = audit_def_field(def, name);
    assert_non_null(f);
    int rc = audit_field_check(f, value, rule, sizeof rule, msg, sizeof msg);
    assert_int_equal(rc, rule[0] != '\0');
    assert_int_equal(rc, msg[0] != '\0');
    return rule;
}

static const char *message(const audit_field_t *f, const char *value)
{
    static char msg[512];
    char rule[32];
    audit_field_check(f, value, rule, sizeof rule, msg, sizeof msg);
    return msg;
}

static void test_integer_and_decimal(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    assert_string_equal(check(def, "asa_grade", "1"), "");
    assert_string_equal(check(def, "asa_grade", "5"), "");
    assert_string_equal(check(def, "asa_grade", "+3"), "");
    assert_string_equal(check(def, "asa_grade", " 3 "), "");
    assert_string_equal(check(def, "asa_grade", "7"), "range");
    assert_string_equal(check(def, "asa_grade", "0"), "range");
    assert_string_equal(check(def, "asa_grade", "-1"), "range");
    assert_string_equal(check(def, "asa_grade", "3.0"), "type");
    assert_string_equal(check(def, "asa_grade", "III"), "type");
    assert_string_equal(check(def, "asa_grade", "3a"), "type");
    assert_string_equal(message(audit_def_field(def, "asa_grade"), "7"),
                        "\"asa_grade\" is \"7\", expected a whole number from 1 to 5");
    audit_def_destroy(&def);

    audit_field_t weight = {.name = "weight_kg", .type = FT_DECIMAL, .has_min = true, .min = 20};
    char rule[32], msg[256];
    assert_int_equal(audit_field_check(&weight, "64.5", rule, sizeof rule, msg, sizeof msg), 0);
    assert_int_equal(audit_field_check(&weight, "80", rule, sizeof rule, msg, sizeof msg), 0);
    assert_int_equal(audit_field_check(&weight, ".5e3", rule, sizeof rule, msg, sizeof msg), 1);
    assert_string_equal(rule, "type");
    assert_int_equal(audit_field_check(&weight, "12.5", rule, sizeof rule, msg, sizeof msg), 1);
    assert_string_equal(rule, "range");
    assert_string_equal(msg, "\"weight_kg\" is \"12.5\", expected a number of at least 20");
}

static void test_dates_and_times(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    assert_string_equal(check(def, "discharge_date", "2026-03-01"), "");
    assert_string_equal(check(def, "discharge_date", "01/03/2026"), "");
    assert_string_equal(check(def, "discharge_date", "31/06/2026"), "type");
    assert_string_equal(check(def, "discharge_date", "2026-03-01T10:00"), "type");
    assert_string_equal(check(def, "arrival_datetime", "2026-03-01T10:00"), "");
    assert_string_equal(check(def, "arrival_datetime", "2026-03-01T10:00:00+01:00"), "");
    assert_string_equal(check(def, "arrival_datetime", "01/03/2026 10:00"), "");
    assert_string_equal(check(def, "arrival_datetime", "2026-03-01"), "type"); /* no time */
    assert_string_equal(check(def, "arrival_datetime", "2026-03-01T24:00"), "type");
    assert_string_equal(message(audit_def_field(def, "arrival_datetime"), "2026-03-01"),
                        "\"arrival_datetime\" is \"2026-03-01\", expected a date and time such "
                        "as 2026-03-01T14:30 or 01/03/2026 14:30");
    /* date of birth is an identifier: its value stays out of the message */
    assert_string_equal(check(def, "date_of_birth", "1940-02-30"), "type");
    assert_null(strstr(message(audit_def_field(def, "date_of_birth"), "1940-02-30"), "1940"));
    audit_def_destroy(&def);
}

static void test_codes(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    assert_string_equal(check(def, "sex", "1"), "");
    assert_string_equal(check(def, "sex", "X"), "");
    assert_string_equal(check(def, "sex", "x"), "code");
    assert_string_equal(check(def, "sex", "M"), "code");
    assert_string_equal(message(audit_def_field(def, "sex"), "M"),
                        "\"sex\" is \"M\", expected one of 1 (Male), 2 (Female), 9 "
                        "(Indeterminate), X (Not known)");
    assert_string_equal(check(def, "amts_pre_op", "10"), "");
    assert_string_equal(check(def, "amts_pre_op", "ND"), "");
    assert_string_equal(check(def, "amts_pre_op", "11"), "code");
    assert_string_equal(check(def, "ethnic_category", "99"), "");
    assert_string_equal(check(def, "ethnic_category", "I"), "code");
    const char *msg = message(audit_def_field(def, "ethnic_category"), "I");
    assert_non_null(strstr(msg, "A (White - British)"));
    assert_non_null(strstr(msg, "(18 codes in all)"));
    assert_string_equal(check(def, "fracture_type", "ICD"), "");
    assert_string_equal(check(def, "operation", "NOP"), "");
    assert_string_equal(check(def, "discharge_destination", "6"), "");
    assert_string_equal(check(def, "discharge_destination", "7"), "code");
    audit_def_destroy(&def);
}

static void test_standard_code_lists(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    const audit_field_t *eth = audit_def_field(def, "ethnic_category");
    const audit_field_t *sex = audit_def_field(def, "sex");
    assert_int_equal(eth->standard, NHS_CODE_LIST_ETHNIC_CATEGORY);
    assert_int_equal(sex->standard, NHS_CODE_LIST_STATED_GENDER);
    /* the labels come from the shared table */
    assert_string_equal(eth->codes[16].code, "Z");
    assert_string_equal(eth->codes[16].label, "Not stated");
    static const char *eth_good[] = {"A", "H", "J", "N", "P", "R", "S", "Z", "99", " S "};
    for (size_t i = 0; i < sizeof eth_good / sizeof eth_good[0]; i++)
        assert_string_equal(check(def, "ethnic_category", eth_good[i]), "");
    static const char *eth_bad[] = {"I", "O", "Q", "T", "a", "9", "98"};
    for (size_t i = 0; i < sizeof eth_bad / sizeof eth_bad[0]; i++)
        assert_string_equal(check(def, "ethnic_category", eth_bad[i]), "code");
    assert_string_equal(check(def, "sex", "9"), "");
    assert_string_equal(check(def, "sex", "0"), "code");
    audit_def_destroy(&def);

    char err[512] = "";
    char text[4096];
    snprintf(text, sizeof text,
             "%s  - name: ethnicity\n"
             "    type: code\n"
             "    standard: ethnic_category\n",
             base_def);
    def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("refused: %s", err);
    assert_int_equal(audit_def_field(def, "ethnicity")->n_codes, 18);
    audit_def_destroy(&def);

    refused("  - name: eth\n"
            "    type: code\n"
            "    standard: ethnicity\n", /* 21 */
            21,
            "field \"eth\": unknown standard \"ethnicity\" (expected ethnic_category, "
            "stated_gender or national_grouping)");
    refused("  - name: eth\n"
            "    type: string\n"
            "    standard: ethnic_category\n", /* 21 */
            21, "\"standard\" applies only to type code, not string");
    refused("  - name: eth\n"
            "    type: code\n"
            "    standard: stated_gender\n"
            "    codes: {\"1\": Male}\n", /* 22 */
            22, "give either \"standard\" or \"codes\", not both");
}

static void test_linked_fields(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    assert_int_equal(def->n_linked, 4);
    const audit_field_t *dod = audit_def_linked(def, "date_of_death");
    assert_non_null(dod);
    assert_int_equal(dod->type, FT_DATE);
    const audit_field_t *decile = audit_def_linked(def, "imd_decile");
    assert_int_equal(decile->type, FT_INTEGER);
    assert_true(decile->has_min && decile->has_max);
    assert_true(decile->min == 1 && decile->max == 10);
    assert_true(audit_def_linked(def, "imd_quintile")->max == 5);
    /* trusts never send them: they are not fields */
    assert_null(audit_def_field(def, "date_of_death"));
    assert_null(audit_def_linked(def, "arrival_datetime"));
    /* evaluation types them like fields */
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "date_of_death", "2026-01-09");
    ncap_record_set(rec, "imd_decile", "3");
    audit_eval_ctx_t ctx = {def, rec};
    expr_value_t v;
    assert_int_equal(audit_eval_lookup(&ctx, "date_of_death", &v), 0);
    assert_int_equal(v.kind, EXPR_TIME);
    assert_int_equal(v.time, 20462LL * 86400);
    assert_int_equal(audit_eval_lookup(&ctx, "imd_decile", &v), 0);
    assert_int_equal(v.kind, EXPR_NUMBER);
    assert_true(v.num == 3);
    assert_int_equal(audit_eval_lookup(&ctx, "imd_quintile", &v), 0);
    assert_int_equal(v.kind, EXPR_NULL);
    ncap_record_destroy(&rec);
    audit_def_destroy(&def);

    refused("linked:\n"                 /* 19 */
            "  - name: date_of_death\n" /* 20 */
            "    type: date\n"
            "    required: true\n", /* 22 */
            22,
            "linked field \"date_of_death\": unknown key \"required\" (expected one of: "
            "name, label, type, min, max)");
    refused("linked:\n"
            "  - name: arrived\n" /* 20 */
            "    type: date\n",
            20, "linked field \"arrived\": duplicate field name (declared as a field on line 16)");
    refused("linked:\n"
            "  - name: imd_decile\n"
            "    type: integer\n"
            "    min: 1\n"
            "    max: ten\n", /* 23 */
            23, "\"max\" is \"ten\", expected a number");
}

static void test_history_rules_load(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    const audit_rule_t *r = &def->rules[def->n_rules - 1];
    assert_string_equal(r->id, "probable_duplicate_episode");
    assert_non_null(r->history);
    assert_null(r->check);
    assert_int_equal(r->history->n_same, 2);
    assert_string_equal(r->history->same[0], "fracture_side");
    assert_string_equal(r->history->same[1], "trust_code");
    assert_string_equal(r->history->date, "arrival_datetime");
    assert_true(r->history->within_days == 30);
    audit_def_destroy(&def);

#define RULE_HEAD(sev)                                                                             \
    "rules:\n"                /* 19 */                                                             \
    "  - id: dup\n"           /* 20 */                                                             \
    "    severity: " sev "\n" /* 21 */                                                             \
    "    field: arrived\n"    /* 22 */                                                             \
    "    message: again\n"    /* 23 */
    refused(RULE_HEAD("error") "    history: {same: [site], date: arrived, within_days: 30}\n", 21,
            "rule \"dup\": a history rule must have severity warning");
    refused(RULE_HEAD("warning") "    history: {same: [site], date: arrived}\n", 24,
            "history needs \"within_days\", a number of days of 0 or more");
    refused(RULE_HEAD("warning") "    history: {same: [site], date: arrived, within_days: -1}\n",
            24, "history needs \"within_days\"");
    refused(RULE_HEAD("warning") "    history: {date: id, within_days: 3}\n", 24,
            "history date \"id\" must be a date or datetime field");
    refused(RULE_HEAD("warning") "    history: {same: [ward], date: arrived, within_days: 3}\n", 24,
            "history same names \"ward\", which is not a field");
    refused(RULE_HEAD("warning") "    history: {same: site, date: arrived, within_days: 3}\n", 24,
            "\"same\" must be a list of fields");
    refused(RULE_HEAD("warning") "    history: {date: arrived, within_days: 3, days: 2}\n", 24,
            "unknown key \"days\" (expected one of: same, date, within_days)");
    refused(RULE_HEAD("warning") "    check: arrived > arrived\n"
                                 "    history: {date: arrived, within_days: 3}\n",
            20, "give either \"history\" or \"check\"");
#undef RULE_HEAD
}

/* Patterns of one bracket repeated are matched without the regex engine: same answers. */
static void test_simple_patterns_agree_with_regex(void **state)
{
    (void)state;
    static const char *patterns[] = {"[A-Za-z0-9_-]{1,40}", "[0-9]{3}",        "[a-c]+", "[-x]*",
                                     "[A-Z]{2,3}",          "[A-Z]{2,3}[0-9]", "[^a]+"};
    static const bool simple[] = {true, true, true, true, true, false, false};
    static const char *values[] = {"a",   "abc",  "ABC",      "AB",  "A-B",       "x-",
                                   "123", "1234", "\xc3\xa9", "a b", "HF_0001-x", "AB1"};
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        char text[4096], err[512] = "";
        snprintf(text, sizeof text, "%s  - name: ref\n    type: string\n    pattern: \"%s\"\n",
                 base_def, patterns[i]);
        audit_def_t *def = load_text(text, err, sizeof err);
        if (!def)
            fail_msg("pattern %s refused: %s", patterns[i], err);
        const audit_field_t *f = audit_def_field(def, "ref");
        assert_int_equal(f->pattern_simple, simple[i]);
        char anchored[80];
        snprintf(anchored, sizeof anchored, "^(%s)$", patterns[i]);
        regex_t re;
        assert_int_equal(regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB), 0);
        for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
            bool want = regexec(&re, values[j], 0, NULL, 0) == 0;
            bool got = strcmp(check(def, "ref", values[j]), "") == 0;
            if (want != got)
                fail_msg("pattern %s, value \"%s\": regex says %d, ncap %d", patterns[i], values[j],
                         want, got);
        }
        regfree(&re);
        audit_def_destroy(&def);
    }
}

static void test_boolean(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    static const char *good[] = {"Y", "n", "yes", "NO", "True", "false", "1", "0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_string_equal(check(def, "never_admitted_to_ward", good[i]), "");
    assert_string_equal(check(def, "never_admitted_to_ward", "maybe"), "type");
    assert_string_equal(check(def, "never_admitted_to_ward", "2"), "type");
    audit_def_destroy(&def);
}

static void test_nhs_number(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    /* 943 476 5919, the usual example, is in the test range (a warning, below) */
    assert_string_equal(check(def, "nhs_number", "4010232137"), "");
    assert_string_equal(check(def, "nhs_number", "401 023 2137"), "");
    assert_string_equal(check(def, "nhs_number", "401-023-2137"), "");
    assert_string_equal(check(def, "nhs_number", "9434765918"), "type"); /* check digit */
    assert_string_equal(check(def, "nhs_number", "4010232138"), "type"); /* check digit */
    assert_string_equal(check(def, "nhs_number", "1234567890"), "type"); /* remainder 10 */
    assert_string_equal(check(def, "nhs_number", "40102 32137"), "type");
    assert_string_equal(check(def, "nhs_number", "401 023-2137"), ""); /* nhs_number.c: mixed ok */
    assert_string_equal(check(def, "nhs_number", "4010 23 2137"), "type");
    assert_string_equal(check(def, "nhs_number", "401023213"), "type");
    assert_string_equal(check(def, "nhs_number", "40102321370"), "type");
    const audit_field_t *f = audit_def_field(def, "nhs_number");
    assert_string_equal(message(f, "9434765918"),
                        "\"nhs_number\" is not valid: the NHS number fails its check digit");
    assert_null(strstr(message(f, "943476591"), "943"));
    /* placeholders and test numbers pass the check digit: a warning (2), not an error */
    char rule[32], msg[256];
    assert_int_equal(audit_field_check(f, "4444444444", rule, sizeof rule, msg, sizeof msg), 2);
    assert_string_equal(rule, "nhs_number_placeholder");
    assert_string_equal(msg, "\"nhs_number\" is a placeholder number (one repeated digit), not a "
                             "patient's number");
    assert_int_equal(audit_field_check(f, "943 476 5919", rule, sizeof rule, msg, sizeof msg), 2);
    assert_string_equal(rule, "nhs_number_test");
    assert_string_equal(msg, "\"nhs_number\" is a test-range number (starts with 9), not a "
                             "patient's number");
    audit_def_destroy(&def);
}

static void test_postcode(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    static const char *good[] = {"M1 1AE",  "M11AE",    "B33 8TH", "CR2 6XH",  "DN55 1PT",
                                 "W1A 0AX", "EC1A 1BB", "ls1 4ap", "ZZ99 3VZ", "zz993wz"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (check(def, "postcode", good[i])[0])
            fail_msg("postcode \"%s\" refused", good[i]);
    /* the Data Dictionary's 8-character form pads the outward code: "M1  1AE" is fine */
    assert_string_equal(check(def, "postcode", "M1  1AE"), "");
    static const char *bad[] = {"M1 1CE",    "1M 1AE", "M1 AAE", "M1 1A",
                                "EC1AB 1BB", "M1-1AE", "LS",     "ABC 1AB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strcmp(check(def, "postcode", bad[i]), "type") != 0)
            fail_msg("postcode \"%s\" accepted", bad[i]);
    assert_null(strstr(message(audit_def_field(def, "postcode"), "M1 AAE"), "AAE"));
    audit_def_destroy(&def);
}

static void test_ods_lsoa_and_pattern(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    assert_string_equal(check(def, "trust_code", "RR8"), "");
    assert_string_equal(check(def, "site_code", "RR801"), "");
    assert_string_equal(check(def, "trust_code", "rr8"), "type");
    assert_string_equal(check(def, "trust_code", "8RR"), "type");
    assert_string_equal(check(def, "trust_code", "RR80"), "type");
    assert_string_equal(check(def, "trust_code", "RR8-1"), "type");
    assert_string_equal(check(def, "lsoa", "E01000001"), "");
    assert_string_equal(check(def, "lsoa", "W01001234"), "");
    assert_string_equal(check(def, "lsoa", "S01000001"), "type");
    assert_string_equal(check(def, "lsoa", "E0100001"), "type");
    assert_string_equal(check(def, "lsoa", "E02000001"), "type");
    assert_string_equal(check(def, "local_record_id", "HIP-2026_0001"), "");
    assert_string_equal(check(def, "local_record_id", "HIP 0001"), "pattern");
    assert_string_equal(check(def, "local_record_id", "A12345678901234567890123456789012345678901"),
                        "pattern"); /* 42 characters */
    assert_string_equal(check(def, "forename", "Ann-Marie"), "");
    audit_def_destroy(&def);
}

/* ---------------------------------------------------------------- rules */

static void test_nhfd_rules_load(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    static const struct {
        const char *id;
        audit_severity_t severity;
        const char *field;
    } want[] = {
        {"surgery_before_arrival", RULE_ERROR, "surgery_datetime"},
        {"ortho_before_arrival", RULE_ERROR, "orthogeriatric_assessment_datetime"},
        {"discharge_before_arrival", RULE_ERROR, "discharge_date"},
        {"ward_admission_never_admitted", RULE_ERROR, "ward_admission_datetime"},
        {"age_over_110", RULE_WARNING, "age_at_arrival"},
        {"surgery_after_30_days", RULE_WARNING, "surgery_datetime"},
        {"operation_without_surgery", RULE_WARNING, "operation"},
        {"admission_after_death", RULE_ERROR, "arrival_datetime"},
        {"probable_duplicate_episode", RULE_WARNING, "arrival_datetime"},
    };
    assert_int_equal(def->n_rules, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < def->n_rules; i++) {
        assert_string_equal(def->rules[i].id, want[i].id);
        assert_int_equal(def->rules[i].severity, want[i].severity);
        assert_string_equal(def->rules[i].field, want[i].field);
        assert_true(def->rules[i].line > 0);
    }
    assert_non_null(def->rules[0].check);
    assert_null(def->rules[0].when);
    assert_non_null(def->rules[3].when);
    assert_non_null(def->rules[3].require);
    audit_def_destroy(&def);
}

static const char *rule_field_id = "  - name: seen\n"      /* 19 */
                                   "    type: datetime\n"; /* 20 */

static void refused_rule(const char *rule, int line, const char *what)
{
    char extra[2048];
    snprintf(extra, sizeof extra, "%srules:\n%s", rule_field_id, rule); /* rules: is line 21 */
    refused(extra, line, what);
}

static void refused_rule_at(const char *rule, int line, int column, const char *what)
{
    char extra[2048];
    snprintf(extra, sizeof extra, "%srules:\n%s", rule_field_id, rule); /* rules: is line 21 */
    refused_at(extra, line, column, what);
}

static void test_bad_rules_are_refused(void **state)
{
    (void)state;
    refused_rule("  - id: r\n" /* 22 */
                 "    severity: fatal\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    check: seen >= arrived\n",
                 23, "rule \"r\": unknown severity \"fatal\" (expected error or warning)");
    refused_rule("  - id: r\n"
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    check: seen >= arrived\n"
                 "    hint: h\n", /* 27 */
                 27, "rule \"r\": unknown key \"hint\"");
    refused_rule_at("  - id: r\n"
                    "    severity: error\n"
                    "    field: seen\n"
                    "    message: m\n"
                    "    check: seen >=\n", /* 26 */
                    26, 19,
                    "rule \"r\": check: found the end of the expression, expected a value (a "
                    "number, 'text', a field, a call or a bracket)");
    refused_rule_at("  - id: r\n"
                    "    severity: error\n"
                    "    field: seen\n"
                    "    message: m\n"
                    "    check: seen >= operated\n", /* 26 */
                    26, 20,
                    "rule \"r\": check: found \"operated\", expected a field, linked field or "
                    "derived field");
    refused_rule("  - id: r\n" /* 22 */
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    check: seen >= arrived\n"
                 "  - id: r\n" /* 27 */
                 "    severity: warning\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    check: seen >= arrived\n",
                 27, "duplicate rule id (first declared on line 22)");
    refused_rule("  - id: r\n"
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: \"seen at {seen_at}\"\n" /* 25 */
                 "    check: seen >= arrived\n",
                 25, "message names \"seen_at\", which is not a field");
    refused_rule("  - id: r\n"
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: \"seen at {seen\"\n" /* 25 */
                 "    check: seen >= arrived\n",
                 25, "message has a '{' without its '}'");
    refused_rule("  - id: r\n"
                 "    severity: error\n"
                 "    field: nowhere\n" /* 24 */
                 "    message: m\n"
                 "    check: seen >= arrived\n",
                 24, "field names \"nowhere\"");
    refused_rule("  - id: r\n" /* 22 */
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    when: present(seen)\n",
                 22, "missing key \"require\"");
    refused_rule("  - id: r\n" /* 22 */
                 "    severity: error\n"
                 "    field: seen\n"
                 "    message: m\n"
                 "    check: present(seen)\n"
                 "    when: present(seen)\n",
                 22, "give either \"check\" or \"when\" with \"require\", not both");
    refused_rule("  - id: r\n" /* 22 */
                 "    severity: error\n"
                 "    field: seen\n"
                 "    check: present(seen)\n",
                 22, "missing key \"message\"");
}

static void test_rules_may_not_use_identifiers(void **state)
{
    (void)state;
    char text[4096], err[512] = "";
    snprintf(text, sizeof text,
             "%s  - name: dob\n" /* 19 */
             "    type: date\n"
             "    identifier: true\n"
             "rules:\n"
             "  - id: born_before_arrival\n"
             "    severity: error\n"
             "    field: arrived\n"
             "    message: \"born {dob}\"\n" /* 26 */
             "    check: arrived > dob\n",
             base_def);
    assert_null(load_text(text, err, sizeof err));
    assert_non_null(strstr(err, ":26: rule \"born_before_arrival\": message names \"dob\", an "
                                "identifier"));
}

static void test_rule_message_template(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "surgery_datetime", "2026-01-09T10:00");
    ncap_record_set(rec, "arrival_datetime", "2026-01-10T08:00");
    char msg[320];
    audit_rule_message(&def->rules[0], rec, msg, sizeof msg);
    assert_string_equal(msg, "surgery (2026-01-09T10:00) is before arrival (2026-01-10T08:00)");
    ncap_record_set(rec, "surgery_datetime", " ");
    audit_rule_message(&def->rules[0], rec, msg, sizeof msg);
    assert_string_equal(msg, "surgery (empty) is before arrival (2026-01-10T08:00)");
    char tiny[12];
    audit_rule_message(&def->rules[0], rec, tiny, sizeof tiny);
    assert_string_equal(tiny, "surgery (em");
    /* a value cut to its 60 bytes through a character (é across them): a '?' for the half, so
     * that the message stays UTF-8, which PostgreSQL stores */
    ncap_record_set(rec, "surgery_datetime",
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9");
    audit_rule_message(&def->rules[0], rec, msg, sizeof msg);
    assert_string_equal(msg,
                        "surgery (xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?)"
                        " is before arrival (2026-01-10T08:00)");
    ncap_record_destroy(&rec);
    audit_def_destroy(&def);
}

/* ---------------------------------------------------------------- evaluation */

static int eval_src(const audit_def_t *def, const ncap_record_t *rec, const expr_t *e,
                    expr_value_t *v)
{
    audit_eval_ctx_t ctx = {.def = def, .rec = rec};
    char err[256];
    int rc = expr_eval(e, audit_eval_lookup, &ctx, v, err, sizeof err);
    if (rc)
        fail_msg("evaluation failed: %s", err);
    return rc;
}

/* Computes the derived fields into rec, as linkage does. */
static void derive(const audit_def_t *def, ncap_record_t *rec)
{
    for (size_t i = 0; i < def->n_derived; i++) {
        expr_value_t v;
        char text[64];
        eval_src(def, rec, def->derived[i].expr, &v);
        expr_value_format(&v, text, sizeof text);
        assert_int_equal(ncap_record_set(rec, def->derived[i].name, text), 0);
    }
}

/* 1 when the record is in the metric's numerator, 0 when only in its denominator, -1 when not
 * counted at all. */
static int contribution(const audit_def_t *def, const ncap_record_t *rec, const char *metric)
{
    for (size_t i = 0; i < def->n_metrics; i++) {
        const audit_metric_t *m = &def->metrics[i];
        if (strcmp(m->id, metric) != 0)
            continue;
        expr_value_t v;
        eval_src(def, rec, m->denominator, &v);
        if (!expr_truthy(&v))
            return -1;
        eval_src(def, rec, m->numerator, &v);
        return expr_truthy(&v) ? 1 : 0;
    }
    fail_msg("no metric %s", metric);
    return -2;
}

static void test_metrics_on_a_sample_record(void **state)
{
    (void)state;
    audit_def_t *def = load_nhfd();
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "local_record_id", "HIP-0001");
    ncap_record_set(rec, "trust_code", "RR8");
    ncap_record_set(rec, "site_code", "RR801");
    ncap_record_set(rec, "date_of_birth", "02/03/1940");
    ncap_record_set(rec, "sex", "2");
    ncap_record_set(rec, "arrival_datetime", "2026-03-01T10:00");
    ncap_record_set(rec, "asa_grade", "3");
    ncap_record_set(rec, "never_admitted_to_ward", "N");
    ncap_record_set(rec, "surgery_datetime", "2026-03-02T21:30"); /* 35.5 hours */
    ncap_record_set(rec, "orthogeriatric_assessment_datetime", "");
    derive(def, rec);
    assert_string_equal(ncap_record_get(rec, "age_at_arrival"), "85");
    assert_string_equal(ncap_record_get(rec, "age_band"), "80-89");
    assert_int_equal(contribution(def, rec, "surgery_36h"), 1);
    assert_int_equal(contribution(def, rec, "ortho_72h"), 0); /* not assessed */

    ncap_record_set(rec, "surgery_datetime", "02/03/2026 22:01"); /* 36 h 1 min */
    ncap_record_set(rec, "orthogeriatric_assessment_datetime", "2026-03-04T09:59+00:00");
    assert_int_equal(contribution(def, rec, "surgery_36h"), 0);
    assert_int_equal(contribution(def, rec, "ortho_72h"), 1); /* 71 h 59 min */

    ncap_record_set(rec, "surgery_datetime", " ");
    ncap_record_set(rec, "orthogeriatric_assessment_datetime", "2026-03-04T10:01");
    assert_int_equal(contribution(def, rec, "surgery_36h"), -1); /* no surgery: not counted */
    assert_int_equal(contribution(def, rec, "ortho_72h"), 0);

    /* 30-day mortality from the linked date of death: none known, day 30, day 31 */
    assert_int_equal(contribution(def, rec, "mortality_30d"), 0);
    ncap_record_set(rec, "date_of_death", "2026-03-31");
    assert_int_equal(contribution(def, rec, "mortality_30d"), 1);
    ncap_record_set(rec, "date_of_death", "2026-04-01");
    assert_int_equal(contribution(def, rec, "mortality_30d"), 0);
    ncap_record_remove(rec, "date_of_death");

    /* typed lookups */
    audit_eval_ctx_t ctx = {.def = def, .rec = rec};
    expr_value_t v;
    assert_int_equal(audit_eval_lookup(&ctx, "asa_grade", &v), 0);
    assert_int_equal(v.kind, EXPR_NUMBER);
    assert_true(v.num == 3);
    assert_int_equal(audit_eval_lookup(&ctx, "never_admitted_to_ward", &v), 0);
    assert_int_equal(v.kind, EXPR_BOOL);
    assert_false(v.b);
    assert_int_equal(audit_eval_lookup(&ctx, "sex", &v), 0);
    assert_int_equal(v.kind, EXPR_STRING);
    assert_string_equal(v.str, "2");
    assert_int_equal(audit_eval_lookup(&ctx, "date_of_birth", &v), 0);
    assert_int_equal(v.kind, EXPR_TIME);
    assert_int_equal(audit_eval_lookup(&ctx, "age_at_arrival", &v), 0);
    assert_int_equal(v.kind, EXPR_NUMBER); /* typed by its declaration */
    assert_int_equal(audit_eval_lookup(&ctx, "surgery_datetime", &v), 0);
    assert_int_equal(v.kind, EXPR_NULL); /* blank */
    assert_int_equal(audit_eval_lookup(&ctx, "discharge_date", &v), 0);
    assert_int_equal(v.kind, EXPR_NULL); /* declared, absent from the record */
    ncap_record_set(rec, "asa_grade", "three");
    assert_int_equal(audit_eval_lookup(&ctx, "asa_grade", &v), 0);
    assert_int_equal(v.kind, EXPR_NULL); /* unparseable */
    /* not declared but in the record: numbers when they read as numbers */
    ncap_record_set(rec, "imd_decile", "4");
    ncap_record_set(rec, "pseudonym", "p-9f2c");
    assert_int_equal(audit_eval_lookup(&ctx, "imd_decile", &v), 0);
    assert_int_equal(v.kind, EXPR_NUMBER);
    assert_int_equal(audit_eval_lookup(&ctx, "pseudonym", &v), 0);
    assert_int_equal(v.kind, EXPR_STRING);
    assert_int_equal(audit_eval_lookup(&ctx, "no_such_field", &v), -1);

    ncap_record_destroy(&rec);
    audit_def_destroy(&def);
}

/* ---------------------------------------------------------------- types, at load */

/* Fields the type tests use, after base_def's. */
static const char *typed_fields = "  - name: asa\n"               /* 19 */
                                  "    type: integer\n"           /* 20 */
                                  "  - name: seen\n"              /* 21 */
                                  "    type: datetime\n"          /* 22 */
                                  "  - name: dob\n"               /* 23 */
                                  "    type: date\n"              /* 24 */
                                  "    identifier: true\n"        /* 25 */
                                  "metrics:\n"                    /* 26 */
                                  "  - id: m\n"                   /* 27 */
                                  "    label: M\n"                /* 28 */
                                  "    higher_is_better: true\n"; /* 29 */

/* A metric m with the given denominator and numerator lines (30 and 31 on). */
static void refused_metric(const char *lines, int line, int column, const char *what)
{
    char extra[8192];
    snprintf(extra, sizeof extra, "%s%s", typed_fields, lines);
    refused_at(extra, line, column, what);
}

static void test_type_errors_are_refused_with_line_and_column(void **state)
{
    (void)state;
    refused_metric("    denominator: present(seen)\n"
                   "    numerator: hours_between(arrived, seen) + 'x' <= 36\n", /* 31 */
                   31, 45,
                   "metric \"m\": numerator: \"+\" has a number on the left and a string ('x') on "
                   "the right, expected two numbers");
    refused_metric("    denominator: arrived > 'last tuesday'\n" /* 30 */
                   "    numerator: true\n",
                   30, 26,
                   "metric \"m\": denominator: \">\" has a date/time (arrived) on the left and a "
                   "string ('last tuesday') on the right, expected two dates/times (text compared "
                   "with a date/time must be written as one, such as '2026-03-01')");
    refused_metric(
        "    denominator: asa and present(seen)\n" /* 30 */
        "    numerator: true\n",
        30, 22,
        "metric \"m\": denominator: \"and\" has a number (asa) on the left and a boolean "
        "on the right, expected two booleans");
    refused_metric("    denominator: true\n"
                   "    numerator: median(asa) > 3\n", /* 31 */
                   31, 16,
                   "metric \"m\": numerator: found the unknown function \"median\", expected one "
                   "of: present, empty, hours_between, days_between, in, age_years, band, "
                   "coalesce, year, month, ln, exp, sqrt, pow, clamp, min, max, if");
    refused_metric("    denominator: true\n"
                   "    numerator: present(asa, seen)\n", /* 31 */
                   31, 16, "metric \"m\": numerator: present() has 2 arguments, expected 1");
    refused_metric("    denominator: true\n"
                   "    numerator: days_between(arrived) < 3\n", /* 31 */
                   31, 16, "metric \"m\": numerator: days_between() has 1 argument, expected 2");
    /* a metric counts records where its expressions are true */
    refused_metric("    denominator: true\n"
                   "    numerator: hours_between(arrived, seen)\n", /* 31 */
                   31, 16, "metric \"m\": numerator gives a number, expected a boolean");
    refused_metric("    denominator: asa\n" /* 30 */
                   "    numerator: true\n",
                   30, 18, "metric \"m\": denominator gives a number (asa), expected a boolean");
}

/* Columns are those of the file, whatever the scalar's style. */
static void test_columns_in_quoted_and_block_scalars(void **state)
{
    (void)state;
    refused_metric("    denominator: true\n"
                   "    numerator: >-\n"                              /* 31 */
                   "      present(seen)\n"                            /* 32 */
                   "      and hours_between(arrived, seen) <= 'x'\n", /* 33 */
                   33, 40,
                   "metric \"m\": numerator: \"<=\" has a number on the left and a string ('x') on "
                   "the right, expected two numbers, two strings or two dates/times");
    refused_metric(
        "    denominator: |\n"      /* 30 */
        "      present(seen) and\n" /* 31 */
        "        nowhere > 1\n"     /* 32 */
        "    numerator: true\n",
        32, 9,
        "metric \"m\": denominator: found \"nowhere\", expected a field, linked field or "
        "derived field declared before this expression");
    refused_metric("    denominator: \"asa + 'x' > 1\"\n" /* 30 */
                   "    numerator: true\n",
                   30, 23,
                   "metric \"m\": denominator: \"+\" has a number (asa) on the left and a string "
                   "('x') on the right, expected two numbers");
    /* '' is one quote in a single-quoted scalar */
    refused_metric(
        "    denominator: 'asa == ''x'' + 1'\n" /* 30 */
        "    numerator: true\n",
        30, 32,
        "metric \"m\": denominator: \"+\" has a string ('x') on the left and a number (1) "
        "on the right, expected two numbers");
    /* \" in a double-quoted scalar is followed; other escapes give the opening quote */
    refused_metric("    denominator: \"asa == \\\"x\\\"\"\n" /* 30 */
                   "    numerator: true\n",
                   30, 26,
                   "metric \"m\": denominator: found '\"', expected text in single quotes such as "
                   "'NOP'");
    refused_metric("    denominator: \"\\x41sa > 1\"\n" /* 30 */
                   "    numerator: true\n",
                   30, 18,
                   "metric \"m\": denominator: found the capital letter 'A', expected lower-case "
                   "names");
    /* a problem at the end of a plain scalar: just after its last character */
    refused_metric(
        "    denominator: asa >\n" /* 30 */
        "    numerator: true\n",
        30, 23,
        "metric \"m\": denominator: found the end of the expression, expected a value (a "
        "number, 'text', a field, a call or a bracket)");
}

/* A rule r on field seen with the given check, or when and require, lines (37 on). */
static void refused_typed_rule(const char *lines, int line, int column, const char *what)
{
    char extra[2048];
    snprintf(extra, sizeof extra,
             "    denominator: true\n"
             "    numerator: true\n"
             "rules:\n"
             "  - id: r\n"
             "    severity: warning\n"
             "    field: seen\n"
             "    message: m\n" /* 36 */
             "%s",
             lines);
    refused_metric(extra, line, column, what);
}

static void test_rules_and_derived_fields_are_typed(void **state)
{
    (void)state;
    refused_typed_rule("    check: hours_between(arrived, seen)\n", /* 37 */
                       37, 12, "rule \"r\": check gives a number, expected a boolean");
    refused_typed_rule("    when: present(seen)\n"
                       "    require: seen - arrived < 3\n", /* 38 */
                       38, 19,
                       "rule \"r\": require: \"-\" has a date/time (seen) on the left and a "
                       "date/time (arrived) on the right, expected two numbers (hours_between or "
                       "days_between gives the time between)");
    refused_typed_rule("    check: age_years(dob, arrived) < 110\n", /* 37 */
                       37, 22,
                       "rule \"r\": check: found \"dob\", an identifier, expected a field that is "
                       "not one: identifiers are removed before validation (use a derived field "
                       "such as age_at_arrival)");
    /* a derived field's value is stored and read back as its declared type */
    refused_at("derived:\n"
               "  - name: wait\n"
               "    type: string\n"
               "    expr: hours_between(arrived, arrived)\n", /* 22 */
               22, 11, "derived field \"wait\": expr gives a number, expected a string");
    refused_at("derived:\n"
               "  - name: band\n"
               "    type: integer\n"
               "    expr: band(hours_between(arrived, arrived), 24, 36)\n", /* 22 */
               22, 11, "derived field \"band\": expr gives a string, expected a number");
}

static void test_limits_are_refused_at_load(void **state)
{
    (void)state;
    /* AUDIT_MAX_METRICS metrics load; one more does not */
    static char extra[65536];
    int n = snprintf(extra, sizeof extra, "metrics:\n"); /* 19 */
    for (int i = 1; i <= AUDIT_MAX_METRICS + 1; i++)     /* metric i on line 20 + 5 (i - 1) */
        n += snprintf(extra + n, sizeof extra - (size_t)n,
                      "  - id: m%d\n"
                      "    label: M\n"
                      "    higher_is_better: true\n"
                      "    denominator: true\n"
                      "    numerator: present(arrived)\n",
                      i);
    char want[200];
    snprintf(want, sizeof want, "found metric %d, expected at most %d metrics in an audit",
             AUDIT_MAX_METRICS + 1, AUDIT_MAX_METRICS);
    refused_at(extra, 20 + 5 * AUDIT_MAX_METRICS, 5, want);

    char text[65536 + 1024], err[512];
    snprintf(text, sizeof text, "%s%.*s", base_def, (int)(strstr(extra, "  - id: m65\n") - extra),
             extra);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%d metrics refused: %s", AUDIT_MAX_METRICS, err);
    assert_int_equal(def->n_metrics, AUDIT_MAX_METRICS);
    audit_def_destroy(&def);

    /* an expression nested past EXPR_MAX_DEPTH, refused where it passes it */
    n = snprintf(extra, sizeof extra, "%s    denominator: ", typed_fields);
    for (int i = 0; i <= EXPR_MAX_DEPTH; i++)
        extra[n++] = '(';
    n += snprintf(extra + n, sizeof extra - (size_t)n, "asa > 1");
    for (int i = 0; i <= EXPR_MAX_DEPTH; i++)
        extra[n++] = ')';
    snprintf(extra + n, sizeof extra - (size_t)n, "\n    numerator: true\n");
    snprintf(want, sizeof want,
             "metric \"m\": denominator: found operators, calls and brackets nested more than %d "
             "deep, expected at most %d (a derived field can hold a part)",
             EXPR_MAX_DEPTH, EXPR_MAX_DEPTH);
    refused_at(extra, 30, 18 + EXPR_MAX_DEPTH, want);
}

/* ---------------------------------------------------------------- publication settings */

/* base_def's fields continued (line 19 on), a linked decile and quintile, a derived number and two
 * metrics, for breakdowns and disclosure to name (from line 55). */
static const char *publication_fields = "  - name: eth\n"                             /* 19 */
                                        "    type: code\n"                            /* 20 */
                                        "    standard: ethnic_category\n"             /* 21 */
                                        "  - name: gender\n"                          /* 22 */
                                        "    type: code\n"                            /* 23 */
                                        "    standard: stated_gender\n"               /* 24 */
                                        "  - name: grade\n"                           /* 25 */
                                        "    type: code\n"                            /* 26 */
                                        "    codes: {\"1\": One}\n"                   /* 27 */
                                        "  - name: secret\n"                          /* 28 */
                                        "    type: integer\n"                         /* 29 */
                                        "    identifier: true\n"                      /* 30 */
                                        "linked:\n"                                   /* 31 */
                                        "  - name: imd_decile\n"                      /* 32 */
                                        "    type: integer\n"                         /* 33 */
                                        "    min: 1\n"                                /* 34 */
                                        "    max: 10\n"                               /* 35 */
                                        "  - name: imd_quintile\n"                    /* 36 */
                                        "    type: integer\n"                         /* 37 */
                                        "    min: 1\n"                                /* 38 */
                                        "    max: 5\n"                                /* 39 */
                                        "derived:\n"                                  /* 40 */
                                        "  - name: age\n"                             /* 41 */
                                        "    type: integer\n"                         /* 42 */
                                        "    expr: hours_between(arrived, arrived)\n" /* 43 */
                                        "metrics:\n"                                  /* 44 */
                                        "  - id: plain\n"                             /* 45 */
                                        "    label: No polarity\n"                    /* 46 */
                                        "    denominator: \"true\"\n"                 /* 47 */
                                        "    numerator: present(arrived)\n"           /* 48 */
                                        "  - id: wide\n"                              /* 49 */
                                        "    label: Widened\n"                        /* 50 */
                                        "    higher_is_better: true\n"                /* 51 */
                                        "    funnel: {overdispersion: additive}\n"    /* 52 */
                                        "    denominator: \"true\"\n"                 /* 53 */
                                        "    numerator: present(arrived)\n";          /* 54 */

/* publication_fields and then extra (from line 55) must be refused at line with what. */
static void publication_refused(const char *extra, int line, const char *what)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", publication_fields, extra);
    refused(text, line, what);
}

static void test_publication_settings_load(void **state)
{
    (void)state;
    char text[8192], err[512] = "";
    snprintf(text, sizeof text,
             "%s%s"
             "breakdowns:\n"
             "  deprivation: imd_decile\n"
             "  ethnicity: eth\n"
             "  sex: gender\n"
             "  age: age\n"
             "  age_bands: [18, 65, 85]\n"
             "disclosure: {min_count: 5}\n",
             base_def, publication_fields);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_int_equal(def->metrics[0].polarity, AUDIT_POLARITY_NONE);
    assert_int_equal(def->metrics[0].overdispersion, AUDIT_OVERDISPERSION_NONE);
    assert_int_equal(def->metrics[1].polarity, AUDIT_POLARITY_HIGHER_BETTER);
    assert_int_equal(def->metrics[1].overdispersion, AUDIT_OVERDISPERSION_ADDITIVE);
    assert_string_equal(def->breakdowns.deprivation, "imd_decile");
    assert_string_equal(def->breakdowns.ethnicity, "eth");
    assert_string_equal(def->breakdowns.sex, "gender");
    assert_string_equal(def->breakdowns.age, "age");
    assert_int_equal(def->breakdowns.n_age_bands, 3);
    assert_int_equal(def->breakdowns.age_bands[1], 65);
    assert_int_equal(def->disclosure_min_count, 5);
    audit_def_destroy(&def);

    /* each key optional: none at all, or only some */
    def = load_text(base_def, err, sizeof err);
    assert_non_null(def);
    assert_null(def->breakdowns.deprivation);
    assert_null(def->breakdowns.age);
    assert_int_equal(def->breakdowns.n_age_bands, 0);
    assert_int_equal(def->disclosure_min_count, 0);
    assert_false(def->has_ascertainment_threshold);
    audit_def_destroy(&def);
    /* ascertainment_threshold: a share above 0 and at most 1 */
    snprintf(text, sizeof text, "%sascertainment_threshold: 0.75\n", base_def);
    def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_true(def->has_ascertainment_threshold && def->ascertainment_threshold == 0.75);
    audit_def_destroy(&def);
    static const char *const bad[] = {"80", "0", "-0.5", "high"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "%sascertainment_threshold: %s\n", base_def, bad[i]);
        err[0] = '\0';
        assert_null(load_text(text, err, sizeof err));
        assert_non_null(strstr(err, "ascertainment_threshold"));
    }
    snprintf(text, sizeof text, "%s%sbreakdowns: {sex: gender}\n", base_def, publication_fields);
    def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_string_equal(def->breakdowns.sex, "gender");
    assert_null(def->breakdowns.ethnicity);
    audit_def_destroy(&def);
}

static void test_bad_publication_settings_are_refused(void **state)
{
    (void)state;
    /* each breakdown names a field of its kind */
    publication_refused("breakdowns:\n"
                        "  deprivation: imd_quintile\n", /* 56 */
                        56,
                        "breakdowns: \"deprivation\" names \"imd_quintile\", an integer field "
                        "from 1 to 5, expected an integer field from 1 to 10 (a decile, 1 most "
                        "deprived), such as the linked imd_decile");
    publication_refused("breakdowns:\n"
                        "  ethnicity: gender\n", /* 56 */
                        56,
                        "breakdowns: \"ethnicity\" names \"gender\", a code field with standard "
                        "stated_gender, expected a code field with standard ethnic_category");
    publication_refused("breakdowns:\n"
                        "  sex: grade\n", /* 56 */
                        56,
                        "breakdowns: \"sex\" names \"grade\", a code field with its own codes, "
                        "expected a code field with standard stated_gender");
    publication_refused("breakdowns:\n"
                        "  ethnicity: age\n", /* 56 */
                        56, "\"ethnicity\" names \"age\", a derived integer field, expected");
    publication_refused("breakdowns:\n"
                        "  age: eth\n"             /* 56 */
                        "  age_bands: [60, 70]\n", /* 57 */
                        56,
                        "breakdowns: \"age\" names \"eth\", a code field with standard "
                        "ethnic_category, expected an integer or decimal field");
    publication_refused("breakdowns:\n"
                        "  age: secret\n" /* 56 */
                        "  age_bands: [60, 70]\n",
                        56,
                        "breakdowns: \"age\" names \"secret\", an identifier, expected an integer "
                        "or decimal field, such as age_at_arrival: identifiers are removed before "
                        "validation");
    publication_refused("breakdowns:\n"
                        "  deprivation: imd\n", /* 56 */
                        56,
                        "breakdowns: \"deprivation\" names \"imd\", which is not a field, linked "
                        "field or derived field");
    publication_refused("breakdowns:\n"
                        "  region: eth\n", /* 56 */
                        56, "breakdowns: unknown key \"region\" (expected one of: deprivation,");
    publication_refused("breakdowns: [eth]\n", 55, "\"breakdowns\" must be a mapping");
    /* age and its bands */
    publication_refused("breakdowns:\n"
                        "  age: age\n", /* 56 */
                        56, "breakdowns: \"age\" needs \"age_bands\"");
    publication_refused("breakdowns:\n"
                        "  age_bands: [60]\n", /* 56 */
                        56, "breakdowns: \"age_bands\" needs \"age\"");
    publication_refused("breakdowns:\n"
                        "  age: age\n"
                        "  age_bands: [60, 50]\n", /* 57 */
                        57,
                        "breakdowns: \"age_bands\" has 50 after 60, expected each age greater "
                        "than the one before");
    publication_refused("breakdowns:\n"
                        "  age: age\n"
                        "  age_bands:\n"
                        "    - 60\n"
                        "    - 60.5\n", /* 59 */
                        59,
                        "breakdowns: \"age_bands\" is \"60.5\", expected a whole number from 1 to "
                        "999");
    publication_refused("breakdowns: {age: age, age_bands: [0]}\n", 55,
                        "\"age_bands\" is \"0\", expected a whole number from 1 to 999");
    publication_refused("breakdowns: {age: age, age_bands: []}\n", 55,
                        "breakdowns: \"age_bands\" is empty");
    publication_refused("breakdowns: {age: age, age_bands: 60}\n", 55,
                        "breakdowns: \"age_bands\" must be a list");
    /* past AUDIT_MAX_AGE_BANDS, refused where the one too many starts */
    char extra[4096];
    int n =
        snprintf(extra, sizeof extra, "%sbreakdowns: {age: age, age_bands: [", publication_fields);
    for (int i = 1; i <= AUDIT_MAX_AGE_BANDS + 1; i++)
        n += snprintf(extra + n, sizeof extra - (size_t)n, "%s%d", i > 1 ? ", " : "", i * 10);
    assert_true(n + 4 < (int)sizeof extra);
    snprintf(extra + n, sizeof extra - (size_t)n, "]}\n");
    char want[200];
    snprintf(want, sizeof want,
             "breakdowns: found age band start %d, expected at most %d in \"age_bands\"",
             AUDIT_MAX_AGE_BANDS + 1, AUDIT_MAX_AGE_BANDS);
    /* the column of band 21: after "breakdowns: {age: age, age_bands: [" and "10, 20, ..." */
    int column = (int)strlen("breakdowns: {age: age, age_bands: [") + 1;
    for (int i = 1; i <= AUDIT_MAX_AGE_BANDS; i++)
        column += snprintf(NULL, 0, "%d, ", i * 10);
    char text[8192], err[512] = "";
    snprintf(text, sizeof text, "%s%s", base_def, extra);
    audit_def_t *def = load_text(text, err, sizeof err);
    assert_null(def);
    char where[600];
    snprintf(where, sizeof where, "%s:55:%d: %s", tmp_path, column, want);
    assert_string_equal(err, where);

    /* disclosure */
    publication_refused(
        "disclosure: {min_count: 0}\n", 55,
        "disclosure: \"min_count\" is \"0\", expected a whole number from 1 to 1000");
    publication_refused("disclosure: {min_count: 8.5}\n", 55,
                        "disclosure: \"min_count\" is \"8.5\", expected a whole number");
    publication_refused("disclosure: {min_count: 99999999999999999999}\n", 55,
                        "expected a whole number from 1 to 1000");
    publication_refused("disclosure: {}\n", 55, "disclosure: missing key \"min_count\"");
    publication_refused("disclosure: 8\n", 55,
                        "\"disclosure\" must be a mapping, e.g. {min_count: 8}");
    publication_refused("disclosure: {min: 8}\n", 55,
                        "disclosure: unknown key \"min\" (expected one of: min_count)");

    /* a metric's funnel and polarity */
    publication_refused("  - id: m\n"
                        "    label: M\n"
                        "    funnel: {overdispersion: huge}\n" /* 57 */
                        "    denominator: \"true\"\n"
                        "    numerator: \"true\"\n",
                        57,
                        "metric \"m\": unknown overdispersion \"huge\" (expected none, "
                        "multiplicative or additive)");
    publication_refused("  - id: m\n"
                        "    label: M\n"
                        "    funnel: additive\n" /* 57 */
                        "    denominator: \"true\"\n"
                        "    numerator: \"true\"\n",
                        57, "metric \"m\": \"funnel\" must be a mapping");
    publication_refused("  - id: m\n"
                        "    label: M\n"
                        "    funnel: {limits: wide}\n" /* 57 */
                        "    denominator: \"true\"\n"
                        "    numerator: \"true\"\n",
                        57,
                        "metric \"m\": unknown key \"limits\" (expected one of: overdispersion)");
    publication_refused("  - id: m\n"
                        "    label: M\n"
                        "    higher_is_better: maybe\n" /* 57 */
                        "    denominator: \"true\"\n"
                        "    numerator: \"true\"\n",
                        57, "metric \"m\": \"higher_is_better\" must be true or false");
}

/* ---------------------------------------------------------------- limits of the file itself */

/* A growing text, on the heap: definitions past the limits are megabytes long. */
typedef struct {
    char *text;
    size_t len, cap;
} big_t;

static void big_add(big_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void big_add(big_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n =
            vsnprintf(b->text ? b->text + b->len : NULL, b->text ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (b->text && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->text = realloc(b->text, b->cap);
        assert_non_null(b->text);
    }
}

static void big_repeat(big_t *b, char c, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->text = realloc(b->text, b->cap);
        assert_non_null(b->text);
    }
    memset(b->text + b->len, c, n);
    b->len += n;
    b->text[b->len] = '\0';
}

/* b's text must be refused with exactly "FILE:line:column: what" (its only problem), or, when
 * line is 0, with "could not load audit definition \"FILE\": what"; b is emptied. */
static void big_refused(big_t *b, int line, int column, const char *what)
{
    char err[1024] = "";
    audit_def_t *def = load_text(b->text, err, sizeof err);
    if (def) {
        audit_def_destroy(&def);
        fail_msg("accepted a definition past a limit (expected %d:%d: %s)", line, column, what);
    }
    char want[1024];
    if (line)
        snprintf(want, sizeof want, "%s:%d:%d: %s", tmp_path, line, column, what);
    else
        snprintf(want, sizeof want, "could not load audit definition \"%s\": %s", tmp_path, what);
    assert_string_equal(err, want);
    free(b->text);
    memset(b, 0, sizeof *b);
}

/* Whatever the file, loading it ends with a message saying where and what: 1,000,000 nested
 * brackets in an expression or in the YAML itself, a file past AUDIT_MAX_FILE_BYTES, a value
 * past AUDIT_MAX_VALUE, too many YAML nodes, and aliases. */
static void test_the_file_is_bounded(void **state)
{
    (void)state;
    big_t b = {0};
    char want[300];

    /* an expression of 1,000,000 nested brackets: refused as a value too long, where it starts */
    big_add(&b, "%s    derived: x\nderived:\n  - name: d\n    type: integer\n    expr: ", base_def);
    big_repeat(&b, '(', 1000000);
    big_add(&b, "1");
    big_repeat(&b, ')', 1000000);
    big_add(&b, "\n");
    snprintf(want, sizeof want, "found a value of %d characters, expected at most %d", 2000001,
             AUDIT_MAX_VALUE);
    /* line 19 is the stray "derived: x" under the last field: replace it by a valid key */
    b.text[strstr(b.text, "    derived: x\n") - b.text + 4] = '#';
    big_refused(&b, 23, 11, want);

    /* within AUDIT_MAX_VALUE but past EXPR_MAX_LENGTH: the expression's own limit */
    big_add(&b, "%sderived:\n  - name: d\n    type: integer\n    expr: ", base_def);
    big_repeat(&b, '(', 3000);
    big_add(&b, "1");
    big_repeat(&b, ')', 3000);
    big_add(&b, "\n");
    snprintf(want, sizeof want,
             "derived field \"d\": expr: found an expression of 6001 characters, expected at most "
             "%d (a derived field can hold a part)",
             EXPR_MAX_LENGTH);
    big_refused(&b, 22, 11, want);

    /* YAML nested 1,000,000 deep (libyaml's scanner is quadratic in the depth): refused at the
     * list that passes AUDIT_MAX_NESTING, without reading on */
    big_add(&b, "%sx: ", base_def);
    big_repeat(&b, '[', 1000000);
    big_repeat(&b, ']', 1000000);
    big_add(&b, "\n");
    snprintf(want, sizeof want,
             "found lists and mappings nested more than %d deep, expected at most %d",
             AUDIT_MAX_NESTING, AUDIT_MAX_NESTING);
    big_refused(&b, 19, 4 + AUDIT_MAX_NESTING - 1, want);

    /* a file past AUDIT_MAX_FILE_BYTES, whatever it holds */
    big_add(&b, "%s", base_def);
    big_repeat(&b, '#', AUDIT_MAX_FILE_BYTES);
    snprintf(want, sizeof want, "found more than %d bytes, expected at most %d",
             AUDIT_MAX_FILE_BYTES, AUDIT_MAX_FILE_BYTES);
    big_refused(&b, 0, 0, want);

    /* a label past AUDIT_MAX_VALUE */
    big_add(&b, "%s    label: ", base_def);
    big_repeat(&b, 'x', AUDIT_MAX_VALUE + 1);
    big_add(&b, "\n");
    snprintf(want, sizeof want, "found a value of %d characters, expected at most %d",
             AUDIT_MAX_VALUE + 1, AUDIT_MAX_VALUE);
    big_refused(&b, 19, 12, want);

    /* more nodes than AUDIT_MAX_NODES: one list of small values */
    big_add(&b, "%sx:\n", base_def);
    for (int i = 0; i < AUDIT_MAX_NODES; i++)
        big_add(&b, "- 1\n");
    snprintf(want, sizeof want,
             "found more than %d keys, values, lists and mappings, expected at most %d",
             AUDIT_MAX_NODES, AUDIT_MAX_NODES);
    /* nodes before the list: 1 mapping, 8 keys and values, fields (1 + 4 mappings of 2 or 3
     * pairs), the key x and its list */
    int before = 1 + 8 * 2 + 2 + 4 + 2 * (2 + 2 + 2 + 3) + 2;
    big_refused(&b, 20 + (AUDIT_MAX_NODES - before), 3, want);

    /* an alias repeats a part without writing it */
    big_add(&b, "%s  - &f {name: a, type: string}\n  - *f\n", base_def);
    big_refused(&b, 20, 5, "found the alias *f, expected no aliases: write the value out");
}

/* Lists past their limit are refused at the first item past it, the others still checked; at the
 * limit they load. */
static void test_lists_are_bounded(void **state)
{
    (void)state;
    big_t b = {0};
    char want[300];

    /* AUDIT_MAX_FIELDS fields load (the base has 4), one more does not */
    big_add(&b, "%s", base_def);
    for (int i = 4; i < AUDIT_MAX_FIELDS; i++)
        big_add(&b, "  - name: f%d\n    type: string\n", i);
    char err[512] = "";
    audit_def_t *def = load_text(b.text, err, sizeof err);
    if (!def)
        fail_msg("%d fields refused: %s", AUDIT_MAX_FIELDS, err);
    assert_int_equal(def->n_fields, AUDIT_MAX_FIELDS);
    /* the index finds the first and the last */
    assert_int_equal(audit_def_slot(def, "id"), 0);
    assert_int_equal(audit_def_slot(def, "f999"), AUDIT_MAX_FIELDS - 1);
    assert_ptr_equal(audit_def_field(def, "f999"), &def->fields[AUDIT_MAX_FIELDS - 1]);
    assert_null(audit_def_linked(def, "f999"));
    assert_int_equal(audit_def_slot(def, "f1000"), -1);
    audit_def_destroy(&def);
    big_add(&b, "  - name: f%d\n    type: string\n", AUDIT_MAX_FIELDS);
    snprintf(want, sizeof want, "found field %d, expected at most %d fields in an audit",
             AUDIT_MAX_FIELDS + 1, AUDIT_MAX_FIELDS);
    big_refused(&b, 19 + 2 * (AUDIT_MAX_FIELDS - 4), 5, want);

    /* rules */
    big_add(&b, "%srules:\n", base_def);
    for (int i = 0; i <= AUDIT_MAX_RULES; i++)
        big_add(&b,
                "  - id: r%d\n    severity: warning\n    message: m\n    field: arrived\n"
                "    check: present(arrived)\n",
                i);
    snprintf(want, sizeof want, "found rule %d, expected at most %d rules in an audit",
             AUDIT_MAX_RULES + 1, AUDIT_MAX_RULES);
    big_refused(&b, 20 + 5 * AUDIT_MAX_RULES, 5, want);

    /* derived fields */
    big_add(&b, "%sderived:\n", base_def);
    for (int i = 0; i <= AUDIT_MAX_DERIVED; i++)
        big_add(&b, "  - {name: d%d, type: integer, expr: '1'}\n", i);
    snprintf(want, sizeof want,
             "found derived field %d, expected at most %d derived fields in an audit",
             AUDIT_MAX_DERIVED + 1, AUDIT_MAX_DERIVED);
    big_refused(&b, 20 + AUDIT_MAX_DERIVED, 5, want);

    /* codes of one field: AUDIT_MAX_CODES load, one more does not; a duplicate names the first */
    big_add(&b, "%s  - name: c\n    type: code\n    codes:\n", base_def);
    for (int i = 0; i < AUDIT_MAX_CODES; i++)
        big_add(&b, "      \"%d\": L\n", i);
    def = load_text(b.text, err, sizeof err);
    if (!def)
        fail_msg("%d codes refused: %s", AUDIT_MAX_CODES, err);
    assert_int_equal(audit_def_field(def, "c")->n_codes, AUDIT_MAX_CODES);
    audit_def_destroy(&def);
    size_t at_limit = b.len;
    big_add(&b, "      \"x\": L\n");
    snprintf(want, sizeof want, "field \"c\": found code %d, expected at most %d codes in a field",
             AUDIT_MAX_CODES + 1, AUDIT_MAX_CODES);
    char *copy = strdup(b.text);
    assert_non_null(copy);
    big_refused(&b, 22 + AUDIT_MAX_CODES, 7, want);
    copy[at_limit] = '\0';
    big_add(&b, "%s", copy);
    free(copy);
    strcpy(strstr(b.text, "\"9999\": L\n"), "\"17\": L\n");
    b.len = strlen(b.text);
    char err2[512] = "";
    def = load_text(b.text, err2, sizeof err2);
    assert_null(def);
    assert_non_null(strstr(err2, ": field \"c\": duplicate code \"17\" (first on line 39)"));
    free(b.text);
}

/* Every problem of a file is listed, in the order of the file; audit_def_load gives the first. */
static void test_every_problem_is_listed(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text,
             "%s"
             "  - name: asa\n"              /* 19 */
             "    type: int\n"              /* 20 */
             "derived:\n"                   /* 21 */
             "  - name: late\n"             /* 22 */
             "    type: integer\n"          /* 23 */
             "    expr: asa + 1\n"          /* 24: asa's type was refused: not blamed again */
             "metrics:\n"                   /* 25 */
             "  - id: m\n"                  /* 26 */
             "    label: M\n"               /* 27 */
             "    unit: ward\n"             /* 28 */
             "    higher_is_better: true\n" /* 29 */
             "    denominator: arrived + 1 > 2 or not 'x'\n" /* 30 */
             "    numerator: true\n"
             "rules:\n"
             "  - id: r\n"
             "    severity: fatal\n" /* 34 */
             "    field: arrived\n"
             "    message: m\n"
             "    check: seen > arrived\n", /* 37 */
             base_def);
    const char *path = write_def(text);
    audit_problems_t problems;
    audit_def_t *def = audit_def_load_problems(path, &problems);
    assert_null(def);
    assert_false(problems.unreadable);
    assert_int_equal(problems.n_more, 0);
    const char *want[] = {
        "20: field \"asa\": unknown type \"int\" (expected one of: string, integer, decimal, date, "
        "datetime, code, boolean, nhs_number, postcode, ods_code, lsoa)",
        "28: metric \"m\": unknown unit \"ward\" (expected trust or site)",
        "30:26: metric \"m\": denominator: \"+\" has a date/time (arrived) on the left and a "
        "number "
        "(1) on the right, expected two numbers",
        "30:37: metric \"m\": denominator: \"not\" has a string ('x'), expected a boolean",
        "34: rule \"r\": unknown severity \"fatal\" (expected error or warning)",
        "37:12: rule \"r\": check: found \"seen\", expected a field, linked field or derived field",
    };
    assert_int_equal(problems.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < problems.n; i++) {
        char line[600];
        snprintf(line, sizeof line, "%s:%s", path, want[i]);
        assert_string_equal(problems.lines[i], line);
    }
    audit_problems_free(&problems);
    assert_int_equal(problems.n, 0);

    char err[1024], first[1024];
    assert_null(audit_def_load(path, err, sizeof err));
    snprintf(first, sizeof first, "%s:%s (and 5 more problems: \"ncap audit check\" lists them)",
             path, want[0]);
    assert_string_equal(err, first);
    unlink(path);

    def = audit_def_load_problems("/nonexistent/x.yaml", &problems);
    assert_null(def);
    assert_true(problems.unreadable);
    assert_int_equal(problems.n, 1);
    assert_string_equal(problems.lines[0], "could not open audit definition "
                                           "\"/nonexistent/x.yaml\": No such file or directory");
    audit_problems_free(&problems);
}

/* The shipped definitions pass every check, with nothing to report. */
static void test_shipped_definitions_are_clean(void **state)
{
    (void)state;
    static const char *files[] = {NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml",
                                  NCAP_SOURCE_DIR "/deploy/audits/nela.yaml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        audit_problems_t problems;
        audit_def_t *def = audit_def_load_problems(files[i], &problems);
        if (!def)
            fail_msg("%s: %s", files[i], problems.n ? problems.lines[0] : "?");
        assert_int_equal(problems.n, 0);
        assert_true(def->n_metrics > 0 && def->n_metrics <= AUDIT_MAX_METRICS);
        audit_problems_free(&problems);
        audit_def_destroy(&def);
    }
}

static void test_risk_models_and_metric_kinds(void **state)
{
    (void)state;
    const char *model = "risk_models:\n"       /* 19 */
                        "  - id: r\n"          /* 20 */
                        "    label: R\n"       /* 21 */
                        "    kind: logistic\n" /* 22 */
                        "    intercept: -2\n"  /* 23 */
                        "    terms:\n"         /* 24 */
                        "      - {expr: \"ln(hours_between(arrived, arrived) + 1)\", "
                        "coefficient: 0.5, default: 0}\n"; /* 25 */
    char text[4096], err[512] = "";
    snprintf(text, sizeof text,
             "%s%smetrics:\n  - {id: oe, label: O/E, kind: ratio, denominator: \"true\", "
             "observed: \"true\", expected: \"risk( r )\", target: 1}\n"
             "  - {id: med, label: M, kind: median, denominator: \"true\", value: \"1.5\"}\n",
             base_def, model);
    audit_def_t *def = load_text(text, err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_int_equal(def->n_risk_models, 1);
    assert_int_equal(def->risk_models[0].kind, AUDIT_RISK_LOGISTIC);
    assert_true(def->risk_models[0].intercept == -2 && def->risk_models[0].n_terms == 1);
    assert_true(def->risk_models[0].terms[0].has_default);
    assert_int_equal(def->metrics[0].kind, AUDIT_METRIC_RATIO);
    assert_ptr_equal(def->metrics[0].expected_model, &def->risk_models[0]);
    assert_string_equal(def->metrics[0].expected_model_id, "r");
    assert_true(def->metrics[0].has_target && def->metrics[0].target == 1);
    assert_null(def->metrics[0].numerator);
    assert_int_equal(def->metrics[1].kind, AUDIT_METRIC_MEDIAN);
    assert_ptr_equal(audit_def_risk_model(def, "r"), &def->risk_models[0]);
    audit_def_destroy(&def);

    char extra[4096];
#define METRIC(keys) "metrics:\n  - {id: m, label: M, denominator: \"true\", " keys "}\n"
    snprintf(extra, sizeof extra, "%s" METRIC("kind: ratio, observed: \"true\", expected: risk(x)"),
             model);
    refused(extra, 27, "\"expected\" names the risk model \"x\", expected one of risk_models: r");
    snprintf(extra, sizeof extra, "%s" METRIC("kind: ratio, observed: \"true\", expected: r"),
             model);
    refused(extra, 27, "\"expected\" is \"r\", expected risk(MODEL_ID)");
    snprintf(extra, sizeof extra,
             "%s" METRIC("kind: ratio, numerator: \"true\", observed: \"true\", expected: risk(r)"),
             model);
    refused(extra, 27, "\"numerator\" is not a key of a metric of kind ratio");
    snprintf(extra, sizeof extra, "%s" METRIC("kind: ratio, observed: id, expected: risk(r)"),
             model);
    refused(extra, 27, "observed gives a string, expected a number or a boolean (1/0)");

    refused(METRIC("kind: mode, numerator: \"true\""), 20, "unknown kind \"mode\"");
    refused(METRIC("numerator: \"true\", follow_up_days: 30"), 20,
            "\"follow_up_days\" needs the linked field \"deaths_covered_to\"");
    refused("linked:\n  - {name: deaths_covered_to, type: integer}\n" METRIC(
                "numerator: \"true\", follow_up_days: 30"),
            22, "needs the linked field \"deaths_covered_to\" to be a date, it is integer");
    refused("linked:\n  - {name: deaths_covered_to, type: date}\n" METRIC(
                "numerator: \"true\", follow_up_days: 0"),
            22, "\"follow_up_days\" is \"0\", expected a whole number from 1 to 3650");
    refused(METRIC("numerator: \"true\", target: .nan"), 20,
            "\"target\" is \".nan\", expected a number");
#undef METRIC
    snprintf(extra, sizeof extra,
             "%s  - {id: r, label: R2, kind: poisson, intercept: 0, terms: "
             "[{expr: \"1\", coefficient: 1}]}\n",
             model);
    refused(extra, 26, "duplicate risk model id (first declared on line 20)");
    refused("risk_models:\n  - {id: q, label: Q, kind: probit, intercept: 0, terms: [{expr: \"1\", "
            "coefficient: inf}]}\n",
            20, "unknown kind \"probit\" (expected logistic or poisson)");
    refused(
        "risk_models:\n  - {id: q, label: Q, kind: poisson, intercept: 0, terms: [{expr: \"1\", "
        "coefficient: inf}]}\n",
        20, "risk model \"q\": term 1: \"coefficient\" is \"inf\", expected a number");
    refused("risk_models:\n  - {id: q, label: Q, kind: poisson, intercept: 0, terms: []}\n", 20,
            "\"terms\" is empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nhfd_loads_with_its_fields_in_order),
        cmocka_unit_test(test_load_named),
        cmocka_unit_test(test_minimal_definition_loads),
        cmocka_unit_test(test_syntax_errors_are_refused_with_their_line),
        cmocka_unit_test(test_unknown_keys_are_refused),
        cmocka_unit_test(test_missing_keys_are_refused),
        cmocka_unit_test(test_bad_types_and_values_are_refused),
        cmocka_unit_test(test_bad_ranges_and_patterns_are_refused),
        cmocka_unit_test(test_bad_expressions_are_refused),
        cmocka_unit_test(test_derived_fields_count_as_fields_in_later_expressions),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_integer_and_decimal),
        cmocka_unit_test(test_dates_and_times),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_boolean),
        cmocka_unit_test(test_nhs_number),
        cmocka_unit_test(test_postcode),
        cmocka_unit_test(test_ods_lsoa_and_pattern),
        cmocka_unit_test(test_metrics_on_a_sample_record),
        cmocka_unit_test(test_nhfd_rules_load),
        cmocka_unit_test(test_bad_rules_are_refused),
        cmocka_unit_test(test_rules_may_not_use_identifiers),
        cmocka_unit_test(test_rule_message_template),
        cmocka_unit_test(test_standard_code_lists),
        cmocka_unit_test(test_linked_fields),
        cmocka_unit_test(test_history_rules_load),
        cmocka_unit_test(test_simple_patterns_agree_with_regex),
        cmocka_unit_test(test_type_errors_are_refused_with_line_and_column),
        cmocka_unit_test(test_columns_in_quoted_and_block_scalars),
        cmocka_unit_test(test_rules_and_derived_fields_are_typed),
        cmocka_unit_test(test_limits_are_refused_at_load),
        cmocka_unit_test(test_the_file_is_bounded),
        cmocka_unit_test(test_lists_are_bounded),
        cmocka_unit_test(test_every_problem_is_listed),
        cmocka_unit_test(test_shipped_definitions_are_clean),
        cmocka_unit_test(test_publication_settings_load),
        cmocka_unit_test(test_bad_publication_settings_are_refused),
        cmocka_unit_test(test_risk_models_and_metric_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
