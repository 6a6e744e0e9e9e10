/* test_refdata_load.c - `ncap refdata load` and `status` on a real PostgreSQL ($NCAP_TEST_PG):
 * bad rows skipped and counted, a reload keeps the ids of unchanged deaths, an identical reload
 * changes nothing, a wrong header loads nothing, the real 2019 IMD file gives every LSOA, NHS
 * trusts from an ODS etr file (each row checked, the table replaced, the regions counted), and
 * the copies shipped in deploy/refdata are the public files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "db.h"
#include "file_read.h"
#include "pg_test_db.h"
#include "test_skip.h"

/* the copies shipped in the repository (deploy/refdata), and the public files they come from */
#define IMD_FILE NCAP_SOURCE_DIR "/deploy/refdata/imd2019_lsoa11_england.csv"
#define ODS_FILE NCAP_SOURCE_DIR "/deploy/refdata/ods_etr.csv"
#define SHARED_IMD_FILE NCAP_SHARED_DATA "/refdata/imd2019_lsoa11_england.csv"
#define SHARED_ODS_FILE NCAP_SHARED_DATA "/refdata/ods_etr.csv"

static char conninfo[1024];

static int setup(void **state)
{
    (void)state;
    if (pg_test_db_create_migrated("ncap_test_refdata", conninfo, sizeof conninfo) != 0)
        return -1;
    if (!conninfo[0])
        return 0;
    setenv("NCAP_PG", conninfo, 1);
    return 0;
}

static result_t refdata(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_refdata, "refdata", arg, ap);
    va_end(ap);
    return r;
}

/* The first value of the first row of sql, as text in out. */
static void query(const char *sql, char *out, size_t outlen)
{
    char err[1024];
    PGconn *db = db_connect(conninfo, "test_refdata_load", err, sizeof err);
    assert_non_null(db);
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s: %s", sql, err);
    snprintf(out, outlen, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(db);
}

static void assert_summary(const result_t *r, const char *line)
{
    if (!strstr(r->out, line))
        fail_msg("\"%s\" not in the summary:\n%s\nstderr:\n%s", line, r->out, r->err);
}

/* Loads text as a deaths file; returns the result. */
static result_t load_deaths(const char *text)
{
    char path[64];
    temp_file(path, text);
    result_t r = refdata("load", "deaths", path, NULL);
    unlink(path);
    return r;
}

#define HEADER "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"

/* death_id of each row, by forename, as "Ann=1,Bob=2,..." */
static void death_ids(char *out, size_t outlen)
{
    query("SELECT string_agg(forename || '=' || death_id, ',' ORDER BY forename) FROM "
          "linkage.death",
          out, outlen);
}

static void test_deaths_load_reload_and_bad_rows(void **state)
{
    (void)state;
    ncap_require_pg();
    result_t r = load_deaths(HEADER "4010232137,Ann,Lee,1935-02-03,F,LS1 4AP,2024-01-05\n"
                                    "4857773457,Bob,Ray,19400101,M,,2024-02-01\n"
                                    "4857773458,Bad,Number,,,,2024-02-01\n"
                                    "6400123458,Cy,Day,,,,31/02/2024\n"
                                    "6400123458,Di,Eve,,,,\n"
                                    ",Eve,Fox,,,,05/03/2024\n"
                                    ",Eve,Fox,,,,2024-03-05\n"
                                    "7000000015,Flo,Gee,1950-06-07,2,ZZ99 3VZ,2024-04-01\n");
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "rows read:  8\n");
    assert_summary(&r, "loaded:     4 (now held)\n");
    assert_summary(&r, "added:      4\n");
    assert_summary(&r, "duplicates: 1 (kept once)\n");
    assert_summary(&r, "skipped:    3 (nhs_number 1, date_of_death 2)\n");
    assert_non_null(strstr(r.err, "skipped line 4: field \"nhs_number\" fails the Modulus 11"));
    assert_non_null(strstr(r.err, "skipped line 5: field \"date_of_death\" has value "
                                  "\"31/02/2024\""));
    assert_non_null(strstr(r.err, "skipped line 6: field \"date_of_death\" is empty"));
    result_free(&r);
    char before[256], after[256], v[256];
    death_ids(before, sizeof before);
    query("SELECT date_of_birth || ' ' || sex || ' ' || date_of_death FROM linkage.death "
          "WHERE forename = 'Bob'",
          v, sizeof v);
    assert_string_equal(v, "1940-01-01 1 2024-02-01");

    /* the same file again, rows in another order and dates written otherwise: nothing changes */
    r = load_deaths(HEADER "7000000015,Flo,Gee,07/06/1950,2,zz993vz,20240401\n"
                           ",Eve,Fox,,,,2024-03-05\n"
                           "4857773457,Bob,Ray,1940-01-01,1,,2024-02-01\n"
                           "401 023 2137,Ann,Lee,1935-02-03,2,ls14ap,2024-01-05\n");
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "added:      0\n");
    assert_summary(&r, "removed:    0\n");
    result_free(&r);
    death_ids(after, sizeof after);
    assert_string_equal(after, before);

    /* Bob's date of death corrected, Eve gone, Gus new: Ann and Flo keep their ids */
    r = load_deaths(HEADER "4010232137,Ann,Lee,1935-02-03,F,LS1 4AP,2024-01-05\n"
                           "4857773457,Bob,Ray,1940-01-01,M,,2024-02-02\n"
                           "7000000015,Flo,Gee,1950-06-07,2,ZZ99 3VZ,2024-04-01\n"
                           ",Gus,Hay,,,,2024-05-01\n");
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "loaded:     4 (now held)\n");
    assert_summary(&r, "added:      2\n");
    assert_summary(&r, "removed:    2\n");
    result_free(&r);
    death_ids(after, sizeof after);
    char id_before[32], id_after[32];
    for (const char *const *who = (const char *const[]){"Ann=", "Flo=", NULL}; *who; who++) {
        sscanf(strstr(before, *who), "%31[^,]", id_before);
        sscanf(strstr(after, *who), "%31[^,]", id_after);
        assert_string_equal(id_after, id_before);
    }
    sscanf(strstr(before, "Bob="), "%31[^,]", id_before);
    sscanf(strstr(after, "Bob="), "%31[^,]", id_after);
    assert_string_not_equal(id_after, id_before);
    assert_null(strstr(after, "Eve="));
    assert_non_null(strstr(after, "Gus="));

    /* a wrong header loads nothing and says so */
    r = load_deaths("nhs_number,forename,surname,date_of_birth,sex,postcode\n"
                    "4010232137,Ann,Lee,1935-02-03,F,LS1 4AP\n");
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "nothing loaded"));
    assert_non_null(strstr(r.err, "column \"date_of_death\" is missing"));
    result_free(&r);
    char again[256];
    death_ids(again, sizeof again);
    assert_string_equal(again, after);
    query("SELECT count(*) FROM linkage.refdata_load WHERE kind = 'deaths'", v, sizeof v);
    assert_string_equal(v, "3");
}

static void test_optouts_replace(void **state)
{
    (void)state;
    ncap_require_pg();
    char path[64], v[256];
    temp_file(path, "nhs_number\r\n401 023 2137\r\n4857773457\r\n4857773458\r\n4857773457\r\n");
    result_t r = refdata("load", "optouts", path, NULL);
    unlink(path);
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "added:      2\n");
    assert_summary(&r, "duplicates: 1 (kept once)\n");
    assert_summary(&r, "skipped:    1 (nhs_number 1)\n");
    result_free(&r);
    temp_file(path, "nhs_number\n4857773457\n6400123458\n");
    r = refdata("load", "optouts", path, NULL);
    unlink(path);
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "added:      1\n");
    assert_summary(&r, "removed:    1\n");
    result_free(&r);
    query("SELECT string_agg(nhs_number, ',' ORDER BY nhs_number) FROM linkage.optout", v,
          sizeof v);
    assert_string_equal(v, "4857773457,6400123458");
}

/* Loading file as kind again changes nothing, and `status` shows the load: held (e.g. "imd
 * 32844") and the file. */
static void assert_reload_changes_nothing(const char *kind, const char *file, const char *held)
{
    result_t r = refdata("load", kind, file, NULL);
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "added:      0\n");
    assert_summary(&r, "removed:    0\n");
    assert_summary(&r, "changed:    0\n");
    result_free(&r);
    r = refdata("status", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, held));
    assert_non_null(strstr(r.out, strrchr(file, '/')));
    result_free(&r);
}

static void test_imd_real_file(void **state)
{
    (void)state;
    ncap_require_pg();
    result_t r = refdata("load", "imd", IMD_FILE, NULL);
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "rows read:  32844\n");
    assert_summary(&r, "loaded:     32844 (now held)\n");
    assert_summary(&r, "skipped:    0\n");
    result_free(&r);
    char v[256];
    query("SELECT count(*) || ' ' || count(DISTINCT imd_decile) || ' ' || min(imd_decile) || '-' "
          "|| max(imd_decile) || ' ' || count(DISTINCT imd_quintile) || ' ' || min(imd_quintile) "
          "|| '-' || max(imd_quintile) FROM linkage.imd",
          v, sizeof v);
    assert_string_equal(v, "32844 10 1-10 5 1-5");
    /* the first LSOA in the file (E01000001, City of London: rank 29199) */
    query("SELECT imd_rank || ' ' || imd_decile || ' ' || imd_quintile FROM linkage.imd "
          "WHERE lsoa = 'E01000001'",
          v, sizeof v);
    assert_string_equal(v, "29199 9 5");

    assert_reload_changes_nothing("imd", IMD_FILE, "imd          32844");
}

/* organisations, by code, as "CODE NAME REGION;..." */
static void organisations(char *out, size_t outlen)
{
    query("SELECT string_agg(code || ' ' || name || ' ' || region, ';' ORDER BY code) FROM "
          "publish.organisation",
          out, outlen);
}

static result_t load_ods(const char *text)
{
    char path[64];
    temp_file(path, text);
    result_t r = refdata("load", "ods", path, NULL);
    unlink(path);
    return r;
}

static void test_ods_small_file(void **state)
{
    (void)state;
    ncap_require_pg();
    /* the etr layout: no header; code, name, national grouping, geography, address, ... */
    result_t r = load_ods("RR8,LEEDS TEACHING HOSPITALS NHS TRUST,Y54,Q72,ST. JAMES'S UNIVERSITY "
                          "HOSPITAL,BECKETT STREET,,LEEDS,WEST YORKSHIRE,LS9 7TF,19980401,,,,,,"
                          ",,,,,0,,B\n"
                          "RJ1,\"GUY'S AND ST THOMAS', NHS FOUNDATION TRUST\",Y56,Q71\r\n"
                          "R0A,MANCHESTER UNIVERSITY NHS FOUNDATION TRUST,,,,,,,,M13 9WL\n"
                          "RX12,FIVE CHARACTERS,Y55,Q77\n"
                          "rh8,LOWER CASE,Y57,Q70\n"
                          "RQ3,,Y55,Q76\n"
                          "RQ4,NO GROUPING SHAPE,Y5,Q76\n"
                          "RQ5,ONLY TWO COLUMNS\n"
                          "\n"
                          "RR8,LEEDS AGAIN,Y63\n"
                          "RYT,PUBLIC HEALTH WALES NHS TRUST,W00,Q99\n");
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "rows read:  10\n");
    assert_summary(&r, "loaded:     4 (now held)\n");
    assert_summary(&r, "added:      4\n");
    assert_summary(&r, "duplicates: 1 (kept once)\n");
    assert_summary(&r, "skipped:    5 (code 2, name 1, national_grouping 1, row 1)\n");
    assert_summary(&r, "regions:    W00 Wales 1, Y54 North of England 1, Y56 London 1, unknown 1");
    assert_non_null(strstr(r.err, "skipped line 4: code \"RX12\" is not a trust's ODS code: "
                                  "expected 3 capital letters and digits starting with a letter, "
                                  "such as RH8"));
    assert_non_null(strstr(r.err, "skipped line 5: code \"rh8\" is not a trust's ODS code"));
    assert_non_null(strstr(r.err, "skipped line 6: trust RQ3 has no name (second column)"));
    assert_non_null(strstr(r.err, "skipped line 7: national grouping \"Y5\" of trust RQ4 is not a "
                                  "code such as Y56 (a capital letter and two digits), nor empty"));
    assert_non_null(strstr(r.err, "skipped line 8: found 2 columns, expected at least 3 (code, "
                                  "name, national grouping, ...) as in the ODS etr extract"));
    result_free(&r);
    char v[1024];
    organisations(v, sizeof v);
    assert_string_equal(v, "R0A MANCHESTER UNIVERSITY NHS FOUNDATION TRUST unknown;"
                           "RJ1 GUY'S AND ST THOMAS', NHS FOUNDATION TRUST Y56;"
                           "RR8 LEEDS TEACHING HOSPITALS NHS TRUST Y54;"
                           "RYT PUBLIC HEALTH WALES NHS TRUST W00");

    /* the table is replaced: a trust renamed and moved, one gone, one new */
    r = load_ods("RR8,LEEDS TEACHING HOSPITALS NHS TRUST,Y63\n"
                 "RJ1,\"GUY'S AND ST THOMAS', NHS FOUNDATION TRUST\",Y56\n"
                 "RH8,ROYAL DEVON UNIVERSITY HEALTHCARE NHS FOUNDATION TRUST,Y58\n"
                 "R0A,MANCHESTER UNIVERSITY NHS FOUNDATION TRUST,Y62\n");
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "loaded:     4 (now held)\n");
    assert_summary(&r, "added:      1\n");
    assert_summary(&r, "removed:    1\n");
    assert_summary(&r, "changed:    2\n");
    assert_summary(&r, "regions:    Y56 London 1, Y58 South West 1, Y62 North West 1, "
                       "Y63 North East and Yorkshire 1\n");
    result_free(&r);

    /* a file with no good row (another kind, or cut short) loads nothing */
    organisations(v, sizeof v);
    r = load_ods("lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\n"
                 "E01000001,29199,9,5\n");
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "nothing loaded"));
    assert_non_null(strstr(r.err, "no trust in the file (2 rows, none good): expected the ODS etr "
                                  "layout"));
    result_free(&r);
    char again[1024];
    organisations(again, sizeof again);
    assert_string_equal(again, v);
}

/* The whole extract shipped in deploy/refdata: every trust, with its region */
static void test_ods_real_file(void **state)
{
    (void)state;
    ncap_require_pg();
    result_t r = refdata("load", "ods", ODS_FILE, NULL);
    assert_int_equal(r.rc, 0);
    assert_summary(&r, "rows read:  241\n");
    assert_summary(&r, "loaded:     241 (now held)\n");
    assert_summary(&r, "skipped:    0\n");
    assert_summary(&r, "regions:    W00 Wales 3, Y54 North of England 71, Y55 Midlands and East of "
                       "England 73, Y56 London 36, Y57 South of England 56, unknown 2\n");
    result_free(&r);
    char v[256];
    query("SELECT name || ' ' || region FROM publish.organisation WHERE code = 'R1F'", v, sizeof v);
    assert_string_equal(v, "ISLE OF WIGHT NHS TRUST Y57");
    assert_reload_changes_nothing("ods", ODS_FILE, "ods            241");
}

/* The shipped copies are the public files, byte for byte */
static void assert_same_file(const char *shipped, const char *shared)
{
    ncap_require_shared_file(shared);
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(file_read_all(shipped, &a, &na), 0);
    assert_int_equal(file_read_all(shared, &b, &nb), 0);
    if (na != nb || memcmp(a, b, na) != 0)
        fail_msg("%s differs from %s", shipped, shared);
    free(a);
    free(b);
}

static void test_shipped_copies_are_the_public_files(void **state)
{
    (void)state;
    assert_same_file(ODS_FILE, SHARED_ODS_FILE);
    assert_same_file(IMD_FILE, SHARED_IMD_FILE);
}

static void test_usage(void **state)
{
    (void)state;
    result_t r = refdata("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap refdata load deaths|optouts|imd|ods FILE"));
    result_free(&r);
    r = refdata("load", "births", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);
    r = refdata("load", "deaths", "/nonexistent/deaths.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read \"/nonexistent/deaths.csv\""));
    result_free(&r);
    r = refdata("purge", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown action \"purge\""));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_deaths_load_reload_and_bad_rows),
        cmocka_unit_test(test_optouts_replace),
        cmocka_unit_test(test_imd_real_file),
        cmocka_unit_test(test_ods_small_file),
        cmocka_unit_test(test_ods_real_file),
        cmocka_unit_test(test_shipped_copies_are_the_public_files),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
