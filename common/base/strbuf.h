/* strbuf.h - a growable NUL-terminated string */
#ifndef NCAP_STRBUF_H
#define NCAP_STRBUF_H

#include <stddef.h>

typedef struct {
    char *s;
    size_t len;
    size_t cap;
    int oom; /* set when an allocation failed; later appends do nothing */
} strbuf_t;

void strbuf_init(strbuf_t *b);
void strbuf_free(strbuf_t *b);
void strbuf_reset(strbuf_t *b);
void strbuf_append(strbuf_t *b, const char *s);
void strbuf_append_n(strbuf_t *b, const char *s, size_t n);
void strbuf_appendf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends one element to a PostgreSQL array literal being built as {a,b,...}: call
 * strbuf_pg_array_open first, then this per element (value NULL for SQL NULL), then close. */
void strbuf_pg_array_open(strbuf_t *b);
void strbuf_pg_array_elem(strbuf_t *b, const char *value);
void strbuf_pg_array_close(strbuf_t *b);
/* Appends value as one field of COPY's text format (backslash, tab, newline and carriage return
 * escaped); NULL for SQL NULL (\N). */
void strbuf_copy_field(strbuf_t *b, const char *value);

#endif
