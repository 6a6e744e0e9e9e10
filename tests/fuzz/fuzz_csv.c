/* fuzz_csv.c - the CSV reader (common/base/csv.c) over any bytes, trimming and not, and the
 * writer read back: every row the reader gives, written with csv_write_row and read again
 * without trimming, gives the same fields. Also: line numbers never go back and never pass the
 * lines of the data; a failed row has no fields and a message; and under limits (fields per row,
 * bytes per field, from the input's first two bytes) the reader gives, row for row up to the
 * first malformed one, what it gives without them, but for the rows over a limit, each refused
 * with that limit's kind, and goes on after them in step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "harness.h"

/* Writes the current row of csv and reads it back. */
static void round_trip(const csv_reader_t *csv)
{
    size_t n = csv_reader_nfields(csv);
    const char **fields = malloc((n + 1) * sizeof *fields);
    char *out = NULL;
    size_t out_len = 0;
    FILE *mem = open_memstream(&out, &out_len);
    if (!fields || !mem)
        abort();
    for (size_t i = 0; i < n; i++)
        fields[i] = csv_reader_field(csv, i);
    csv_write_row(mem, fields, n);
    fclose(mem);
    /* A reader drops a byte-order mark at the very start of its data: a first field that begins
     * with one cannot come back from a file of its own (no writer can help that). */
    if (!(out_len >= 3 && memcmp(out, "\xEF\xBB\xBF", 3) == 0)) {
        csv_reader_t *back = csv_reader_new(out, out_len, false);
        int rc = csv_reader_next(back);
        HARNESS_CHECK(rc == 1, "row written as \"%s\" reads back as %d: %s", out, rc,
                      csv_reader_error(back));
        HARNESS_CHECK(csv_reader_nfields(back) == n, "%zu fields written as \"%s\", %zu read back",
                      n, out, csv_reader_nfields(back));
        for (size_t i = 0; i < n; i++)
            HARNESS_CHECK(strcmp(csv_reader_field(back, i), fields[i]) == 0,
                          "field %zu \"%s\" written as \"%s\" reads back as \"%s\"", i, fields[i],
                          out, csv_reader_field(back, i));
        HARNESS_CHECK(csv_reader_next(back) == 0, "one row written as \"%s\" reads back as more",
                      out);
        csv_reader_destroy(&back);
    }
    free(out);
    free(fields);
}

static void read_all(const char *data, size_t size, bool trim)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    csv_reader_t *csv = csv_reader_new(data, size, trim);
    if (!csv)
        abort();
    size_t last_line = 0;
    int rc;
    while ((rc = csv_reader_next(csv)) != 0) {
        size_t line = csv_reader_line(csv);
        HARNESS_CHECK(line >= last_line && line <= lines, "row at line %zu after line %zu of %zu",
                      line, last_line, lines);
        last_line = line;
        if (rc < 0) {
            HARNESS_CHECK(csv_reader_nfields(csv) == 0 && csv_reader_error(csv)[0],
                          "a failed row with %zu fields and message \"%s\"",
                          csv_reader_nfields(csv), csv_reader_error(csv));
            continue;
        }
        HARNESS_CHECK(csv_reader_nfields(csv) > 0, "a row of no fields at line %zu", line);
        if (!trim)
            round_trip(csv);
    }
    csv_reader_destroy(&csv);
}

static bool within(const csv_reader_t *csv, size_t max_fields, size_t max_bytes, csv_error_t *over)
{
    if (csv_reader_nfields(csv) > max_fields) {
        *over = CSV_ERROR_TOO_MANY_FIELDS;
        return false;
    }
    for (size_t i = 0; i < csv_reader_nfields(csv); i++)
        if (strlen(csv_reader_field(csv, i)) > max_bytes) {
            *over = CSV_ERROR_FIELD_TOO_LONG;
            return false;
        }
    return true;
}

static void read_limited(const char *data, size_t size, size_t max_fields, size_t max_bytes)
{
    csv_reader_t *all = csv_reader_new(data, size, false), *lim = csv_reader_new(data, size, false);
    if (!all || !lim)
        abort();
    csv_reader_limit(lim, max_fields, max_bytes);
    for (;;) {
        int a = csv_reader_next(all), l = csv_reader_next(lim);
        if (a < 0)
            break; /* after a malformed row the two may resume in different places */
        HARNESS_CHECK(a != 0 || l == 0, "the limited reader goes on past the end (%d)", l);
        if (a == 0)
            break;
        HARNESS_CHECK(csv_reader_line(all) == csv_reader_line(lim),
                      "limited reader at line %zu, unlimited at line %zu", csv_reader_line(lim),
                      csv_reader_line(all));
        csv_error_t over = CSV_ERROR_NONE;
        if (within(all, max_fields, max_bytes, &over)) {
            HARNESS_CHECK(l == 1 && csv_reader_nfields(lim) == csv_reader_nfields(all),
                          "line %zu within the limits (%zu fields, %zu bytes) gives %d: %s",
                          csv_reader_line(all), max_fields, max_bytes, l, csv_reader_error(lim));
            for (size_t i = 0; i < csv_reader_nfields(all); i++)
                HARNESS_CHECK(strcmp(csv_reader_field(all, i), csv_reader_field(lim, i)) == 0,
                              "line %zu field %zu differs under limits", csv_reader_line(all), i);
        } else {
            csv_error_t kind = csv_reader_error_kind(lim);
            HARNESS_CHECK(
                l == -1 &&
                    (kind == CSV_ERROR_TOO_MANY_FIELDS || kind == CSV_ERROR_FIELD_TOO_LONG) &&
                    csv_reader_error(lim)[0],
                "line %zu over the limits (%zu fields, %zu bytes: %d) gives %d, kind %d",
                csv_reader_line(all), max_fields, max_bytes, over, l, kind);
        }
    }
    csv_reader_destroy(&all);
    csv_reader_destroy(&lim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: ASan sees any read past the end of the data */
    char *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    read_all(copy, size, false);
    read_all(copy, size, true);
    read_limited(copy, size, 1 + (size > 0 ? data[0] % 8 : 0), 1 + (size > 1 ? data[1] % 32 : 0));
    free(copy);
    return 0;
}
