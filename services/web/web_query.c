/* web_query.c - a read API request's query string, checked */
#include "web_query.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_path.h"

typedef enum { G_PERIOD, G_LEVEL, G_CODE, G_IDENT, G_INT, G_FORMAT } grammar_t;

static const struct {
    const char *name;
    unsigned bit;
    grammar_t grammar;
    const char *expected;
} params[] = {
    {"period", WQ_PERIOD, G_PERIOD, "a period such as 2026Q1 or 2026 (letters, digits, -)"},
    {"revision", WQ_REVISION, G_INT, "a revision number from 1"},
    {"level", WQ_LEVEL, G_LEVEL, "one of england, region, trust, site"},
    {"area", WQ_AREA, G_CODE, "an area code: letters and digits, 1-16"},
    {"metric", WQ_METRIC, G_IDENT, "a metric id: a-z, 0-9, _, 1-64"},
    {"breakdown", WQ_BREAKDOWN, G_IDENT, "a breakdown: all, imd, ethnicity, sex, age, sii, ..."},
    {"limit", WQ_LIMIT, G_INT, "a whole number from 1 to 10000"},
    {"after", WQ_LIMIT, G_INT, "a cursor: the \"next\" of the page before (a whole number)"},
    {"format", WQ_FORMAT, G_FORMAT, "json or csv"},
    {"audit", WQ_AUDIT, G_IDENT, "an audit id: a-z, 0-9, _, -, 1-64"},
    {"trust", WQ_TRUST, G_CODE, "an ODS trust code: letters and digits, 1-16"},
};
#define N_PARAMS (sizeof params / sizeof *params)

static bool all_of(const char *s, size_t min, size_t max, const char *extra, bool upper)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(isdigit(c) || (c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') ||
              (extra && c && strchr(extra, c))))
            return false;
    }
    return true;
}

bool web_query_is_audit(const char *s)
{
    return all_of(s, 1, 64, "_-", false);
}

bool web_query_is_id(const char *s)
{
    return all_of(s, 1, 18, NULL, false) && strspn(s, "0123456789") == strlen(s);
}

static bool valid(grammar_t g, const char *v, long long *num)
{
    switch (g) {
    case G_PERIOD:
        return all_of(v, 1, 16, "-", true);
    case G_LEVEL:
        return strcmp(v, "england") == 0 || strcmp(v, "region") == 0 || strcmp(v, "trust") == 0 ||
               strcmp(v, "site") == 0;
    case G_CODE:
        return all_of(v, 1, 16, NULL, true);
    case G_IDENT:
        return all_of(v, 1, 64, "_-", false);
    case G_INT: {
        if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15)
            return false;
        *num = strtoll(v, NULL, 10);
        return true;
    }
    case G_FORMAT:
        return strcmp(v, "json") == 0 || strcmp(v, "csv") == 0;
    }
    return false;
}

/* A value as it may be shown back in a message: printable ASCII only, cut at 40. */
static void shown(const char *v, char *out, size_t outlen)
{
    size_t n = 0;
    for (; *v && n + 1 < outlen && n < 40; v++)
        out[n++] = (*v >= 0x20 && *v < 0x7f) ? *v : '?';
    out[n] = '\0';
}

static void set(web_query_t *q, const char *name, const char *v, long long num)
{
    if (strcmp(name, "period") == 0)
        snprintf(q->period, sizeof q->period, "%s", v);
    else if (strcmp(name, "revision") == 0)
        q->revision = (int)num;
    else if (strcmp(name, "level") == 0)
        snprintf(q->level, sizeof q->level, "%s", v);
    else if (strcmp(name, "area") == 0)
        snprintf(q->area, sizeof q->area, "%s", v);
    else if (strcmp(name, "metric") == 0)
        snprintf(q->metric, sizeof q->metric, "%s", v);
    else if (strcmp(name, "breakdown") == 0)
        snprintf(q->breakdown, sizeof q->breakdown, "%s", v);
    else if (strcmp(name, "limit") == 0)
        q->limit = (long)num;
    else if (strcmp(name, "after") == 0)
        q->after = num;
    else if (strcmp(name, "audit") == 0)
        snprintf(q->audit, sizeof q->audit, "%s", v);
    else if (strcmp(name, "trust") == 0)
        snprintf(q->trust, sizeof q->trust, "%s", v);
    else if (strcmp(name, "format") == 0) {
        q->format_given = true;
        q->format = strcmp(v, "csv") == 0 ? WEB_FORMAT_CSV : WEB_FORMAT_JSON;
    }
}

static void list_allowed(unsigned allowed, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_PARAMS; i++)
        if (allowed & params[i].bit)
            n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", n ? ", " : "",
                                  params[i].name);
    if (n == 0)
        snprintf(out, outlen, "none");
}

int web_query_parse(const web_kv_t *kv, size_t n, unsigned allowed, web_query_t *q, char *err,
                    size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->limit = WEB_QUERY_LIMIT_DEFAULT;
    unsigned seen_bits[N_PARAMS] = {0};
    char key[WEB_QUERY_VALUE_MAX + 1], val[WEB_QUERY_VALUE_MAX * 3 + 1], msg[160], show[48];
    for (size_t i = 0; i < n; i++) {
        char names[200];
        list_allowed(allowed, names, sizeof names);
        if (web_url_decode(kv[i].key, strlen(kv[i].key), true, key, sizeof key, msg, sizeof msg) <
            0) {
            snprintf(err, errlen, "malformed query parameter name: %s", msg);
            return -1;
        }
        size_t p = 0;
        while (p < N_PARAMS && !(strcmp(params[p].name, key) == 0 && (allowed & params[p].bit)))
            p++;
        if (p == N_PARAMS) {
            shown(key, show, sizeof show);
            snprintf(err, errlen, "unknown query parameter \"%s\": this path takes %s", show,
                     names);
            return -1;
        }
        if (seen_bits[p]++) {
            snprintf(err, errlen, "query parameter \"%s\" given twice: expected it once",
                     params[p].name);
            return -1;
        }
        const char *raw = kv[i].value ? kv[i].value : "";
        if (web_url_decode(raw, strlen(raw), true, val, sizeof val, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "malformed value of \"%s\": %s", params[p].name, msg);
            return -1;
        }
        long long num = 0;
        if (!valid(params[p].grammar, val, &num)) {
            shown(val, show, sizeof show);
            snprintf(err, errlen, "invalid value \"%s\" for \"%s\": expected %s", show,
                     params[p].name, params[p].expected);
            return -1;
        }
        if ((strcmp(key, "limit") == 0 && (num < 1 || num > WEB_QUERY_LIMIT_MAX)) ||
            (strcmp(key, "revision") == 0 && num < 1)) {
            snprintf(err, errlen, "invalid value \"%s\" for \"%s\": expected %s", val,
                     params[p].name, params[p].expected);
            return -1;
        }
        set(q, key, val, num);
    }
    return 0;
}

/* The media range [s, e) without parameters, and whether it says q=0 (refused). */
static bool refused(const char *semi, const char *e)
{
    for (const char *p = semi; p && p < e; p++)
        if ((*p == ';' || *p == ' ') && p + 3 < e + 1 && strncasecmp(p + 1, "q=0", 3) == 0) {
            const char *r = p + 4;
            while (r < e && (*r == '0' || *r == '.'))
                r++;
            if (r >= e || *r == ';' || *r == ' ' || *r == ',')
                return true;
        }
    return false;
}

int web_query_format(const web_query_t *q, const char *accept, bool csv_ok, web_format_t *out,
                     char *err, size_t errlen)
{
    if (q && q->format_given) {
        if (q->format == WEB_FORMAT_CSV && !csv_ok) {
            snprintf(err, errlen, "format csv is not offered here: this path answers json");
            return -1;
        }
        *out = q->format;
        return 0;
    }
    *out = WEB_FORMAT_JSON;
    if (!accept || !*accept)
        return 0;
    const char *s = accept;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        const char *semi = memchr(s, ';', (size_t)(e - s));
        const char *te = semi ? semi : e;
        while (te > s && te[-1] == ' ')
            te--;
        size_t n = (size_t)(te - s);
#define IS(lit) (n == sizeof lit - 1 && strncasecmp(s, lit, n) == 0)
        if (n && !refused(semi, e)) {
            if (IS("application/json") || IS("application/*") || IS("*/*") ||
                IS("application/problem+json")) {
                *out = WEB_FORMAT_JSON;
                return 0;
            }
            if (csv_ok && (IS("text/csv") || IS("text/*"))) {
                *out = WEB_FORMAT_CSV;
                return 0;
            }
        }
#undef IS
        s = e;
    }
    snprintf(err, errlen, "no representation matches Accept: this path offers application/json%s",
             csv_ok ? " and text/csv (or ?format=json|csv)" : "");
    return -1;
}
