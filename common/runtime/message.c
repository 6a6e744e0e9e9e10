/* message.c - records <-> the JSON payloads stored in PostgreSQL.
 *
 * Every stage reads and writes a payload per record, so both directions have a direct path for
 * the flat objects of strings ncap writes (and PostgreSQL's jsonb printed back, in the rows stored
 * before migration 0051): no JSON tree, one scratch buffer per record. Reading defers to jansson
 * for anything else (a value that is not a string, a \u escape, anything malformed), so what is
 * accepted, and how, is jansson's verdict; the direct path accepts only what jansson accepts, with
 * the same result (test_message.c compares the two). */
#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "utf8.h"

/* JSON's escape for a byte below 0x20, '"' or '\\' as jansson writes it (JSON_COMPACT, no
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH), or 0 when the byte is written as it is. */
static char short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

/* Appends s as a JSON string. Returns 0, or -1 when s is not UTF-8 (sb's oom says out of
 * memory). */
static int put_string(strbuf_t *sb, const char *s)
{
    if (utf8_invalid_at(s) != 0)
        return -1;
    strbuf_append_n(sb, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        strbuf_append_n(sb, run, (size_t)((const char *)p - run));
        if (!*p)
            break;
        char e = short_escape(*p);
        if (e) {
            char seq[2] = {'\\', e};
            strbuf_append_n(sb, seq, 2);
        } else {
            strbuf_appendf(sb, "\\u%04X", *p);
        }
        run = (const char *)p + 1;
    }
    strbuf_append_n(sb, "\"", 1);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const ncap_field_t *const *)a)->name, (*(const ncap_field_t *const *)b)->name);
}

char *message_record_to_json(const ncap_record_t *rec)
{
    /* jansson's JSON_COMPACT | JSON_SORT_KEYS: names in strcmp order, no spaces */
    const ncap_field_t *stack[64], **order = stack;
    if (rec->n > sizeof stack / sizeof *stack && !(order = malloc(rec->n * sizeof *order)))
        return NULL;
    for (size_t i = 0; i < rec->n; i++)
        order[i] = &rec->fields[i];
    qsort(order, rec->n, sizeof *order, by_name);
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_append_n(&sb, "{", 1);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < rec->n; i++) {
        if (i)
            strbuf_append_n(&sb, ",", 1);
        rc = put_string(&sb, order[i]->name);
        strbuf_append_n(&sb, ":", 1);
        rc |= put_string(&sb, order[i]->value);
    }
    strbuf_append_n(&sb, "}", 1);
    if (order != stack)
        free(order);
    if (rc != 0 || sb.oom) {
        strbuf_free(&sb);
        return NULL;
    }
    return sb.s; /* the caller's, freed with free() */
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Decodes the JSON string whose opening quote p is at into *out (NUL-terminated), moving *out
 * past it. Returns the position after the closing quote, or NULL for what the direct path leaves
 * to jansson: a \u escape, a control character, text that is not UTF-8, the end of the text. */
static const char *scan_string(const char *p, char **out)
{
    char *o = *out;
    p++;
    for (;;) {
        const char *run = p;
        while ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' && *p != '\\')
            p++;
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *o++ = '\0';
            *out = o;
            return p + 1;
        } else if (c == '\\') {
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
                *o++ = p[1];
                break;
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            default: /* \u, or not an escape */
                return NULL;
            }
            p += 2;
        } else if (c >= 0x80) {
            size_t n = utf8_seq_len(p);
            if (!n)
                return NULL;
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            return NULL; /* a control character, or the end of the text */
        }
    }
}

/* The direct path: json as an object of strings. Returns 0 when it read all of it into rec,
 * -1 when out of memory, 1 when json is anything else (rec then holds part of it). */
static int from_json_direct(const char *json, ncap_record_t *rec)
{
    size_t len = strlen(json);
    char stack[4096], *buf = len < sizeof stack ? stack : malloc(len + 1);
    if (!buf)
        return -1;
    int rc = 1;
    const char *p = skip_space(json);
    if (*p++ != '{')
        goto done;
    p = skip_space(p);
    if (*p == '}') {
        rc = *skip_space(p + 1) ? 1 : 0;
        goto done;
    }
    for (;;) {
        char *o = buf, *name = o;
        if (*p != '"' || !(p = scan_string(p, &o)))
            goto done;
        p = skip_space(p);
        if (*p != ':')
            goto done;
        p = skip_space(p + 1);
        char *value = o;
        if (*p != '"' || !(p = scan_string(p, &o)))
            goto done;
        if (ncap_record_set(rec, name, value) != 0) {
            rc = -1;
            goto done;
        }
        p = skip_space(p);
        if (*p == '}')
            break;
        if (*p != ',')
            goto done;
        p = skip_space(p + 1);
    }
    rc = *skip_space(p + 1) ? 1 : 0;
done:
    if (buf != stack)
        free(buf);
    return rc;
}

int message_record_from_json(const char *json, ncap_record_t *rec)
{
    ncap_record_clear(rec);
    int direct = from_json_direct(json, rec);
    if (direct <= 0)
        return direct;
    ncap_record_clear(rec);
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(o, k, v)
    {
        if (ncap_record_set(rec, k, json_is_string(v) ? json_string_value(v) : "") != 0)
            rc = -1;
    }
    json_decref(o);
    return rc;
}
