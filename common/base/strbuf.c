/* strbuf.c - a growable string */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf_t *b)
{
    memset(b, 0, sizeof *b);
}

void strbuf_free(strbuf_t *b)
{
    free(b->s);
    strbuf_init(b);
}

void strbuf_reset(strbuf_t *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static int grow(strbuf_t *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void strbuf_append_n(strbuf_t *b, const char *s, size_t n)
{
    if (grow(b, n) != 0)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void strbuf_append(strbuf_t *b, const char *s)
{
    strbuf_append_n(b, s, strlen(s));
}

void strbuf_appendf(strbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void strbuf_pg_array_open(strbuf_t *b)
{
    strbuf_append(b, "{");
}

void strbuf_pg_array_elem(strbuf_t *b, const char *value)
{
    if (b->len > 0 && b->s[b->len - 1] != '{')
        strbuf_append(b, ",");
    if (!value) {
        strbuf_append(b, "NULL");
        return;
    }
    strbuf_append(b, "\"");
    /* the runs between quotes and backslashes whole, each of those after a backslash */
    for (const char *p = value; *p;) {
        const char *q = p;
        while (*q && *q != '"' && *q != '\\')
            q++;
        strbuf_append_n(b, p, (size_t)(q - p));
        p = q;
        if (*p) {
            const char escaped[2] = {'\\', *p++};
            strbuf_append_n(b, escaped, 2);
        }
    }
    strbuf_append(b, "\"");
}

void strbuf_pg_array_close(strbuf_t *b)
{
    strbuf_append(b, "}");
}

void strbuf_copy_field(strbuf_t *b, const char *value)
{
    if (!value) {
        strbuf_append(b, "\\N");
        return;
    }
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\':
            strbuf_append(b, "\\\\");
            break;
        case '\t':
            strbuf_append(b, "\\t");
            break;
        case '\n':
            strbuf_append(b, "\\n");
            break;
        case '\r':
            strbuf_append(b, "\\r");
            break;
        default:
            strbuf_append_n(b, p, 1);
        }
    }
}
