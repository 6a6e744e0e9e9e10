/* csv.h - RFC 4180 CSV: quoted fields with "" escapes and embedded newlines, LF or CRLF, last
 * newline optional. The reader works over a buffer in memory and reports line numbers as a text
 * editor shows them (a quoted field spanning lines counts every line). */
#ifndef NCAP_CSV_H
#define NCAP_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct csv_reader_t csv_reader_t;

/* Why the last row was refused (csv_reader_next returned -1). */
typedef enum {
    CSV_ERROR_NONE,
    CSV_ERROR_SYNTAX,          /* an unterminated quote, text after a closing quote, a NUL byte */
    CSV_ERROR_TOO_MANY_FIELDS, /* more fields than the limit */
    CSV_ERROR_FIELD_TOO_LONG,  /* a field longer than the limit */
    CSV_ERROR_NO_MEMORY,
} csv_error_t;

/* Reads from data[0..len) (not copied: it must outlive the reader). trim: strip spaces and tabs
 * around unquoted fields (and outside quotes). No limits until csv_reader_limit says. */
csv_reader_t *csv_reader_new(const char *data, size_t len, bool trim);
void csv_reader_destroy(csv_reader_t **self_p);
/* Limits every later row to max_fields fields of at most max_field_bytes bytes each (0: no limit).
 * A row over a limit is read to its end without keeping what is over (the reader's memory stays
 * about max_fields x max_field_bytes whatever the input) and refused: -1, with
 * CSV_ERROR_TOO_MANY_FIELDS or CSV_ERROR_FIELD_TOO_LONG. */
void csv_reader_limit(csv_reader_t *self, size_t max_fields, size_t max_field_bytes);
/* Reads the next row. Returns 1 with a row, 0 at the end, -1 on a malformed row (an unterminated
 * quote, or text after a closing quote) or one over a limit, with a message in csv_reader_error()
 * and the kind in csv_reader_error_kind(). After a malformed row the reader skips to the next
 * line, after one over a limit to the row's end, so the caller can go on. Fields stay valid until
 * the next call. */
int csv_reader_next(csv_reader_t *self);
size_t csv_reader_nfields(const csv_reader_t *self);
const char *csv_reader_field(const csv_reader_t *self, size_t i); /* NUL-terminated */
/* Line where the current row starts, from 1. */
size_t csv_reader_line(const csv_reader_t *self);
const char *csv_reader_error(const csv_reader_t *self);
csv_error_t csv_reader_error_kind(const csv_reader_t *self);
/* The 1-based field a refused row's error is about (the one over max_field_bytes), else 0. */
size_t csv_reader_error_field(const csv_reader_t *self);

/* Writes one field, quoting only when it holds a comma, quote, CR or LF, or leading/trailing
 * space. */
void csv_write_field(FILE *out, const char *value);
/* Writes fields joined by commas and a "\n". */
void csv_write_row(FILE *out, const char *const *fields, size_t n);

#endif
