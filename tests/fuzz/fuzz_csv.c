/* fuzz_csv.c - the CSV reader (common/base/csv.c) over any bytes, trimming and not, and the
 * writer read back: every row the reader gives, written with csv_write_row and read again
 * without trimming, gives the same fields. Also: line numbers never go back and never pass the
 * lines of the data; a failed row has no fields and a message. */
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
    free(copy);
    return 0;
}
