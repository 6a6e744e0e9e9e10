/* csv.c - RFC 4180 CSV reader over a buffer in memory, and a writer that quotes only when needed.
 *
 * The reader makes one pass over the data. A row's fields are copied, each followed by a NUL,
 * into one buffer that grows as needed and is reused for every row; fields[] holds offsets into
 * it, so nothing is allocated per field or, once the buffers have grown, per row. With limits
 * (csv_reader_limit), a row over them is still read to its end, to find where the next row
 * starts, but nothing past a limit is copied: the buffers never exceed the limits. */
#include "csv.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader_t {
    const char *data;
    size_t len;
    size_t pos;      /* next byte to read */
    size_t line;     /* line of data[pos], from 1 */
    size_t row_line; /* line where the current row starts */
    bool trim;
    char *buf; /* the current row's fields, each NUL-terminated */
    size_t buf_len;
    size_t buf_cap;
    size_t *fields; /* offset of each field in buf */
    size_t nfields;
    size_t fields_cap;
    size_t max_fields, max_field_bytes; /* 0: no limit */
    size_t field_start;                 /* offset in buf of the field being read */
    csv_error_t over;                   /* the first limit the current row went over */
    size_t over_field;                  /* 1-based field that went over max_field_bytes */
    csv_error_t error_kind;
    char error[160];
};

/* Bytes that end a run of ordinary bytes in an unquoted field: , " CR LF NUL. */
static const uint8_t unquoted_special[256] = {
    [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1, ['\0'] = 1,
};

/* Bytes that end a run of ordinary bytes in a quoted field: " LF NUL. */
static const uint8_t quoted_special[256] = {
    ['"'] = 1,
    ['\n'] = 1,
    ['\0'] = 1,
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

csv_reader_t *csv_reader_new(const char *data, size_t len, bool trim)
{
    assert(data || len == 0);
    csv_reader_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->data = data;
    self->len = len;
    self->line = 1;
    self->trim = trim;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;
    return self;
}

void csv_reader_limit(csv_reader_t *self, size_t max_fields, size_t max_field_bytes)
{
    assert(self);
    self->max_fields = max_fields;
    self->max_field_bytes = max_field_bytes;
}

void csv_reader_destroy(csv_reader_t **self_p)
{
    assert(self_p);
    csv_reader_t *self = *self_p;
    if (!self)
        return;
    free(self->buf);
    free(self->fields);
    free(self);
    *self_p = NULL;
}

/* Makes room for extra more bytes in buf. Returns 0, or -1 when out of memory. */
static int buf_reserve(csv_reader_t *self, size_t extra)
{
    if (self->buf_cap - self->buf_len >= extra)
        return 0;
    size_t cap = self->buf_cap ? self->buf_cap : 256;
    while (cap - self->buf_len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *buf = realloc(self->buf, cap);
    if (!buf)
        return -1;
    self->buf = buf;
    self->buf_cap = cap;
    return 0;
}

static int buf_append(csv_reader_t *self, const char *s, size_t n)
{
    if (buf_reserve(self, n) != 0)
        return -1;
    memcpy(self->buf + self->buf_len, s, n);
    self->buf_len += n;
    return 0;
}

static int buf_putc(csv_reader_t *self, char c)
{
    if (self->buf_len == self->buf_cap && buf_reserve(self, 1) != 0)
        return -1;
    self->buf[self->buf_len++] = c;
    return 0;
}

/* Appends n bytes of the current field's text, short of max_field_bytes (noting the row as over
 * the limit when they do not fit). */
static int field_add(csv_reader_t *self, const char *s, size_t n)
{
    size_t have = self->buf_len - self->field_start;
    if (self->max_field_bytes && have + n > self->max_field_bytes) {
        if (!self->over) {
            self->over = CSV_ERROR_FIELD_TOO_LONG;
            self->over_field = self->nfields;
        }
        n = have < self->max_field_bytes ? self->max_field_bytes - have : 0;
    }
    return n ? buf_append(self, s, n) : 0;
}

/* Starts a new field at the end of buf; past max_fields, the last field is read again in place
 * (the row is over the limit). */
static int field_open(csv_reader_t *self)
{
    if (self->max_fields && self->nfields == self->max_fields) {
        if (!self->over)
            self->over = CSV_ERROR_TOO_MANY_FIELDS;
        self->buf_len = self->field_start = self->fields[self->nfields - 1];
        return 0;
    }
    if (self->nfields == self->fields_cap) {
        size_t cap = self->fields_cap ? self->fields_cap * 2 : 32;
        size_t *fields = realloc(self->fields, cap * sizeof *fields);
        if (!fields)
            return -1;
        self->fields = fields;
        self->fields_cap = cap;
    }
    self->fields[self->nfields++] = self->field_start = self->buf_len;
    return 0;
}

/* Moves pos past the next LF at or after from, counting that line. */
static void skip_line(csv_reader_t *self, size_t from)
{
    const char *lf = from < self->len ? memchr(self->data + from, '\n', self->len - from) : NULL;
    if (lf) {
        self->pos = (size_t)(lf - self->data) + 1;
        self->line++;
    } else {
        self->pos = self->len;
    }
}

/* Fails the current row: no fields, and the message in error. */
static int fail(csv_reader_t *self)
{
    if (!self->error_kind)
        self->error_kind = CSV_ERROR_SYNTAX;
    self->nfields = 0;
    self->buf_len = 0;
    return -1;
}

static int fail_oom(csv_reader_t *self)
{
    snprintf(self->error, sizeof self->error, "line %zu: out of memory reading row",
             self->row_line);
    self->error_kind = CSV_ERROR_NO_MEMORY;
    self->pos = self->len;
    return fail(self);
}

/* Skips empty lines (and, when trimming, lines of only spaces and tabs) at pos. Returns false at
 * the end of the data. */
static bool skip_empty_lines(csv_reader_t *self)
{
    const char *d = self->data;
    for (;;) {
        size_t p = self->pos;
        if (self->trim)
            while (p < self->len && is_blank(d[p]))
                p++;
        if (p == self->len) {
            self->pos = p;
            return false;
        }
        if (d[p] == '\n') {
            self->pos = p + 1;
            self->line++;
        } else if (d[p] == '\r' && (p + 1 == self->len || d[p + 1] == '\n')) {
            self->pos = p + 1;
        } else {
            return true;
        }
    }
}

/* Whether data[p] ends a row: LF, or CR followed by LF or by the end of the data. */
static bool at_row_end(const csv_reader_t *self, size_t p)
{
    char c = self->data[p];
    return c == '\n' || (c == '\r' && (p + 1 == self->len || self->data[p + 1] == '\n'));
}

/* Consumes the row end at pos (LF, CRLF or a final CR). */
static void eat_row_end(csv_reader_t *self)
{
    if (self->data[self->pos] == '\r')
        self->pos++;
    if (self->pos < self->len) {
        self->pos++; /* the LF */
        self->line++;
    }
}

int csv_reader_next(csv_reader_t *self)
{
    assert(self);
    const char *d = self->data;
    const size_t len = self->len;
    self->nfields = 0;
    self->buf_len = 0;
    self->error[0] = '\0';
    self->error_kind = CSV_ERROR_NONE;
    self->over = CSV_ERROR_NONE;
    if (!skip_empty_lines(self))
        return 0;
    self->row_line = self->line;

    size_t nul_field = 0; /* 1-based field holding the first NUL byte, 0 when none */
    for (;;) {
        /* one field per pass, pos at its first byte */
        if (field_open(self) != 0)
            return fail_oom(self);
        size_t start = self->buf_len;
        size_t p = self->pos;
        if (self->trim)
            while (p < len && is_blank(d[p]))
                p++;

        bool row_done;
        if (p < len && d[p] == '"') {
            size_t quote_pos = p, quote_line = self->line;
            p++;
            for (;;) {
                size_t run = p;
                while (p < len && !quoted_special[(unsigned char)d[p]])
                    p++;
                if (p > run && field_add(self, d + run, p - run) != 0)
                    return fail_oom(self);
                if (p == len) {
                    snprintf(self->error, sizeof self->error, "line %zu: unterminated quoted field",
                             self->row_line);
                    /* go on after the line where the open quote stands, the likeliest place
                     * for the rest of the data to make sense again */
                    self->line = quote_line;
                    skip_line(self, quote_pos);
                    return fail(self);
                }
                char c = d[p];
                if (c == '"') {
                    if (p + 1 < len && d[p + 1] == '"') {
                        if (field_add(self, "\"", 1) != 0)
                            return fail_oom(self);
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (c == '\n') {
                    if (field_add(self, "\n", 1) != 0)
                        return fail_oom(self);
                    self->line++;
                } else if (nul_field == 0) { /* NUL */
                    nul_field = self->nfields;
                }
                p++;
            }
            while (p < len && is_blank(d[p]))
                p++;
            self->pos = p;
            if (p == len) {
                row_done = true;
            } else if (d[p] == ',') {
                self->pos = p + 1;
                row_done = false;
            } else if (at_row_end(self, p)) {
                eat_row_end(self);
                row_done = true;
            } else {
                unsigned char c = (unsigned char)d[p];
                if (c >= 0x20 && c < 0x7f)
                    snprintf(self->error, sizeof self->error,
                             "line %zu: unexpected character '%c' after closing quote in field %zu",
                             self->row_line, c, self->nfields);
                else
                    snprintf(self->error, sizeof self->error,
                             "line %zu: unexpected byte 0x%02x after closing quote in field %zu",
                             self->row_line, c, self->nfields);
                skip_line(self, p);
                return fail(self);
            }
        } else {
            for (;;) {
                size_t run = p;
                while (p < len && !unquoted_special[(unsigned char)d[p]])
                    p++;
                if (p > run && field_add(self, d + run, p - run) != 0)
                    return fail_oom(self);
                if (p == len || d[p] == ',' || at_row_end(self, p))
                    break;
                if (d[p] == '\0') {
                    if (nul_field == 0)
                        nul_field = self->nfields;
                } else if (field_add(self, d + p, 1) != 0) { /* a quote, or a CR inside a line */
                    return fail_oom(self);
                }
                p++;
            }
            if (self->trim)
                while (self->buf_len > start && is_blank(self->buf[self->buf_len - 1]))
                    self->buf_len--;
            self->pos = p;
            if (p == len) {
                row_done = true;
            } else if (d[p] == ',') {
                self->pos = p + 1;
                row_done = false;
            } else {
                eat_row_end(self);
                row_done = true;
            }
        }
        if (buf_putc(self, '\0') != 0)
            return fail_oom(self);
        if (row_done)
            break;
    }

    if (nul_field != 0) {
        snprintf(self->error, sizeof self->error, "line %zu: unexpected NUL byte in field %zu",
                 self->row_line, nul_field);
        return fail(self);
    }
    if (self->over == CSV_ERROR_TOO_MANY_FIELDS)
        snprintf(self->error, sizeof self->error, "line %zu: more than %zu fields", self->row_line,
                 self->max_fields);
    else if (self->over == CSV_ERROR_FIELD_TOO_LONG)
        snprintf(self->error, sizeof self->error, "line %zu: field %zu is longer than %zu bytes",
                 self->row_line, self->over_field, self->max_field_bytes);
    if (self->over) {
        self->error_kind = self->over;
        return fail(self);
    }
    return 1;
}

size_t csv_reader_nfields(const csv_reader_t *self)
{
    assert(self);
    return self->nfields;
}

const char *csv_reader_field(const csv_reader_t *self, size_t i)
{
    assert(self);
    assert(i < self->nfields);
    return self->buf + self->fields[i];
}

size_t csv_reader_line(const csv_reader_t *self)
{
    assert(self);
    return self->row_line;
}

const char *csv_reader_error(const csv_reader_t *self)
{
    assert(self);
    return self->error;
}

csv_error_t csv_reader_error_kind(const csv_reader_t *self)
{
    assert(self);
    return self->error_kind;
}

size_t csv_reader_error_field(const csv_reader_t *self)
{
    assert(self);
    return self->error_kind == CSV_ERROR_FIELD_TOO_LONG ? self->over_field : 0;
}

static bool needs_quotes(const char *value, size_t n)
{
    if (n == 0)
        return false;
    if (is_blank(value[0]) || is_blank(value[n - 1]))
        return true;
    return strpbrk(value, ",\"\r\n") != NULL;
}

void csv_write_field(FILE *out, const char *value)
{
    assert(out);
    if (!value)
        value = "";
    size_t n = strlen(value);
    if (!needs_quotes(value, n)) {
        fwrite(value, 1, n, out);
        return;
    }
    fputc('"', out);
    const char *s = value;
    const char *q;
    while ((q = strchr(s, '"')) != NULL) {
        fwrite(s, 1, (size_t)(q - s) + 1, out);
        fputc('"', out);
        s = q + 1;
    }
    fputs(s, out);
    fputc('"', out);
}

void csv_write_row(FILE *out, const char *const *fields, size_t n)
{
    assert(out);
    /* a lone empty field would be an empty line, which readers skip */
    if (n == 1 && (!fields[0] || fields[0][0] == '\0')) {
        fputs("\"\"\n", out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            fputc(',', out);
        csv_write_field(out, fields[i]);
    }
    fputc('\n', out);
}
