/* csv.h - RFC 4180 CSV: quoted fields with "" escapes and embedded newlines, LF or CRLF, last
 * newline optional. The reader works over a buffer in memory and reports line numbers as a text
 * editor shows them (a quoted field spanning lines counts every line). */
#ifndef NCAP_CSV_H
#define NCAP_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct csv_reader_t csv_reader_t;

/* Reads from data[0..len) (not copied: it must outlive the reader). trim: strip spaces and tabs
 * around unquoted fields (and outside quotes). */
csv_reader_t *csv_reader_new(const char *data, size_t len, bool trim);
void csv_reader_destroy(csv_reader_t **self_p);
/* Reads the next row. Returns 1 with a row, 0 at the end, -1 on a malformed row (an unterminated
 * quote, or text after a closing quote), with a message in csv_reader_error(). After an error the
 * reader skips to the next line so the caller can go on. Fields stay valid until the next call. */
int csv_reader_next(csv_reader_t *self);
size_t csv_reader_nfields(const csv_reader_t *self);
const char *csv_reader_field(const csv_reader_t *self, size_t i); /* NUL-terminated */
/* Line where the current row starts, from 1. */
size_t csv_reader_line(const csv_reader_t *self);
const char *csv_reader_error(const csv_reader_t *self);

/* Writes one field, quoting only when it holds a comma, quote, CR or LF, or leading/trailing
 * space. */
void csv_write_field(FILE *out, const char *value);
/* Writes fields joined by commas and a "\n". */
void csv_write_row(FILE *out, const char *const *fields, size_t n);

#endif
