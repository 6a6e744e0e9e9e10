/* refdata_expected.c - the expected cases of each trust and period, for case ascertainment */
#include "refdata_expected.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_db.h"
#include "csv.h"
#include "db.h"
#include "file_read.h"
#include "pg_columns.h"
#include "str_map.h"
#include "strbuf.h"

static bool all_of(const char *s, size_t n, int (*is)(int))
{
    for (size_t i = 0; i < n; i++)
        if (!is((unsigned char)s[i]))
            return false;
    return true;
}

static int is_code_char(int c)
{
    return isupper(c) || isdigit(c);
}

/* Why a row is bad (into why), or "" when it is good. */
static void check_row(const char *trust, const char *period, const char *expected, char *why,
                      size_t len)
{
    size_t np = strlen(period), ne = strlen(expected);
    why[0] = '\0';
    if (strlen(trust) != 3 || !all_of(trust, 3, is_code_char))
        snprintf(why, len, "trust \"%.40s\", expected a 3-character ODS code (e.g. RGT)", trust);
    else if (!((np == 4 && all_of(period, 4, isdigit)) ||
               (np == 6 && all_of(period, 4, isdigit) && period[4] == 'Q' && period[5] >= '1' &&
                period[5] <= '4')))
        snprintf(why, len, "period \"%.40s\", expected a quarter YYYYQn (e.g. 2025Q3) or a year",
                 period);
    else if (ne == 0 || ne > 12 || !all_of(expected, ne, isdigit))
        snprintf(why, len, "expected \"%.40s\", expected a whole number of cases >= 0", expected);
}

int refdata_expected_parse(const char *data, size_t len, char ***trusts, char ***periods,
                           char ***expected, char **strings, size_t *n, size_t *skipped, char *err,
                           size_t errlen)
{
    *trusts = *periods = *expected = NULL;
    *strings = NULL;
    *n = *skipped = 0;
    csv_reader_t *csv = csv_reader_new(data, len, true);
    str_map_t *seen = str_map_new(0);
    strbuf_t b;
    strbuf_init(&b);
    size_t *offsets = NULL, cap = 0;
    int rc = -1;
    if (!csv || !seen) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (csv_reader_next(csv) != 1 || csv_reader_nfields(csv) != 3 ||
        strcmp(csv_reader_field(csv, 0), "trust") != 0 ||
        strcmp(csv_reader_field(csv, 1), "period") != 0 ||
        strcmp(csv_reader_field(csv, 2), "expected") != 0) {
        snprintf(err, errlen,
                 "the header is not \"trust,period,expected\": expected a trust's ODS "
                 "code, a period and its expected cases a line");
        goto done;
    }
    int got;
    while ((got = csv_reader_next(csv)) != 0) {
        size_t line = csv_reader_line(csv);
        char why[200] = "";
        if (got < 0 || csv_reader_nfields(csv) != 3)
            snprintf(why, sizeof why, "expected 3 fields: trust,period,expected");
        else
            check_row(csv_reader_field(csv, 0), csv_reader_field(csv, 1), csv_reader_field(csv, 2),
                      why, sizeof why);
        char key[64];
        if (!why[0]) {
            snprintf(key, sizeof key, "%s %s", csv_reader_field(csv, 0), csv_reader_field(csv, 1));
            int added = str_map_put(seen, key, NULL);
            if (added < 0) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            if (added == 0)
                snprintf(why, sizeof why, "trust %s, period %s given again (the first row kept)",
                         csv_reader_field(csv, 0), csv_reader_field(csv, 1));
        }
        if (why[0]) {
            fprintf(stderr, "ncap refdata: skipped line %zu: %s\n", line, why);
            (*skipped)++;
            continue;
        }
        if (*n + 1 > cap) {
            cap = cap ? 2 * cap : 64;
            size_t *o = realloc(offsets, 3 * cap * sizeof *o);
            if (!o) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            offsets = o;
        }
        for (int k = 0; k < 3; k++) {
            offsets[3 * *n + (size_t)k] = b.len;
            strbuf_append(&b, csv_reader_field(csv, (size_t)k));
            strbuf_append(&b, "\x1f");
        }
        (*n)++;
    }
    if (b.oom || !(*trusts = calloc(*n + 1, sizeof **trusts)) ||
        !(*periods = calloc(*n + 1, sizeof **periods)) ||
        !(*expected = calloc(*n + 1, sizeof **expected))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    *strings = b.s ? b.s : strdup("");
    b.s = NULL;
    for (char *p = *strings; *strings && (p = strchr(p, '\x1f')); p++)
        *p = '\0';
    char **cols[3] = {*trusts, *periods, *expected};
    for (size_t i = 0; *strings && i < *n; i++)
        for (int k = 0; k < 3; k++)
            cols[k][i] = *strings + offsets[3 * i + (size_t)k];
    rc = *strings ? 0 : -1;
done:
    if (rc != 0) {
        free(*trusts);
        free(*periods);
        free(*expected);
        free(*strings);
        *trusts = *periods = *expected = NULL;
        *strings = NULL;
    }
    free(offsets);
    strbuf_free(&b);
    str_map_destroy(&seen);
    csv_reader_destroy(&csv);
    return rc;
}

int refdata_load_expected(const char *audit, const char *path)
{
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len) != 0) {
        fprintf(stderr, "ncap refdata: could not read \"%s\": %s\n", path, strerror(errno));
        return 2;
    }
    char err[1024];
    char **trusts, **periods, **expected, *strings;
    size_t n, skipped;
    if (refdata_expected_parse(data, len, &trusts, &periods, &expected, &strings, &n, &skipped, err,
                               sizeof err) != 0) {
        fprintf(stderr, "ncap refdata: nothing loaded from \"%s\": %s\n", path, err);
        free(data);
        return 1;
    }
    free(data);
    int rc = 1;
    PGconn *db = n > 0 ? command_db_connect("refdata") : NULL;
    if (n == 0)
        fprintf(stderr, "ncap refdata: nothing loaded from \"%s\": no good row\n", path);
    pg_columns_t q;
    pg_columns_open(&q, 3);
    for (size_t i = 0; i < n; i++) {
        const char *v[3] = {trusts[i], periods[i], expected[i]};
        pg_columns_row(&q, v);
    }
    char *abs = realpath(path, NULL);
    char rows[32];
    snprintf(rows, sizeof rows, "%zu", n);
    const char *lp[] = {abs ? abs : path, rows, audit};
    if (db && pg_columns_close(&q) == 0) {
        const char *p[] = {audit, q.params[0], q.params[1], q.params[2]};
        long long removed = 0;
        PGresult *del = NULL;
        if (db_exec(db, "BEGIN", err, sizeof err) == 0 &&
            (del = db_query(db,
                            "WITH d AS (DELETE FROM publish.expected_cases WHERE audit = $1"
                            " RETURNING 1) SELECT count(*) FROM d",
                            1, p, err, sizeof err)) != NULL &&
            db_execp(db,
                     "INSERT INTO publish.expected_cases (audit, trust, period, expected)"
                     " SELECT $1, t, p, e FROM unnest($2::text[], $3::text[], $4::bigint[])"
                     " AS s(t, p, e)",
                     4, p, err, sizeof err) == 0 &&
            db_execp(db,
                     "INSERT INTO linkage.refdata_load (kind, file, rows, added, removed)"
                     " VALUES ('expected', $1 || ' (audit ' || $3 || ')', $2::integer,"
                     " $2::integer, 0)",
                     3, lp, err, sizeof err) == 0 &&
            db_exec(db, "COMMIT", err, sizeof err) == 0) {
            removed = strtoll(PQgetvalue(del, 0, 0), NULL, 10);
            printf("loaded expected cases of %s from %s\n", audit, abs ? abs : path);
            printf("  loaded:     %zu (trust and period, now held for %s)\n", n, audit);
            printf("  replaced:   %lld (the audit's rows before)\n", removed);
            printf("  skipped:    %zu\n", skipped);
            rc = 0;
        } else {
            fprintf(stderr, "ncap refdata: nothing loaded from \"%s\": %s\n", path, err);
        }
        PQclear(del);
    }
    pg_columns_free(&q);
    if (db)
        PQfinish(db);
    free(abs);
    free(trusts);
    free(periods);
    free(expected);
    free(strings);
    return rc;
}
