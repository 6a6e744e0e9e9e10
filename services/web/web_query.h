/* web_query.h - a read API request's query string, checked: which parameters a route takes, each
 * value's grammar, paging bounds, and the representation asked for (?format= or Accept).
 *
 * Every value is checked before any SQL is built, against a grammar narrower than what the
 * release files hold (codes, identifiers and periods), so that a malformed query is answered 400
 * saying which parameter, what was found and what was expected, and a well-formed one reads at
 * most `limit` rows (WEB_QUERY_LIMIT_MAX) after the cursor `after`. Pure. */
#ifndef NCAP_WEB_QUERY_H
#define NCAP_WEB_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_QUERY_LIMIT_DEFAULT 1000
#define WEB_QUERY_LIMIT_MAX 10000
#define WEB_QUERY_VALUE_MAX 64

/* One query parameter as received (still percent-encoded); value NULL for a bare "?x". */
typedef struct {
    const char *key, *value;
} web_kv_t;

typedef enum { WEB_FORMAT_JSON, WEB_FORMAT_CSV } web_format_t;

/* The parameters a route takes: a mask of these. */
enum {
    WQ_PERIOD = 1 << 0,
    WQ_REVISION = 1 << 1,
    WQ_LEVEL = 1 << 2,
    WQ_AREA = 1 << 3,
    WQ_METRIC = 1 << 4,
    WQ_BREAKDOWN = 1 << 5,
    WQ_LIMIT = 1 << 6,  /* limit and after */
    WQ_FORMAT = 1 << 7, /* format */
    WQ_AUDIT = 1 << 8,  /* the trusts' routes: audit (and trust for a submission) */
    WQ_TRUST = 1 << 9,
};

typedef struct {
    char period[WEB_QUERY_VALUE_MAX + 1], level[16], area[WEB_QUERY_VALUE_MAX + 1],
        metric[WEB_QUERY_VALUE_MAX + 1], breakdown[WEB_QUERY_VALUE_MAX + 1],
        audit[WEB_QUERY_VALUE_MAX + 1], trust[WEB_QUERY_VALUE_MAX + 1];
    int revision;      /* 0: the period's latest provisional revision */
    long limit;        /* WEB_QUERY_LIMIT_DEFAULT unless given */
    long long after;   /* the cursor: rows after this ordinal (0: from the first) */
    bool format_given; /* ?format= was given (it wins over Accept) */
    web_format_t format;
} web_query_t;

/* Checks the n parameters against the mask allowed. Returns 0, or -1 with err naming the
 * parameter, what was found and what was expected (an unknown or repeated parameter too). */
int web_query_parse(const web_kv_t *kv, size_t n, unsigned allowed, web_query_t *q, char *err,
                    size_t errlen);

/* The representation for a request: q->format when ?format= was given, else the first media
 * range of accept (NULL or empty: JSON) that one of them satisfies (application/json,
 * application/any, any/any: JSON; text/csv, text/any: CSV), csv_ok false leaving CSV out. Returns
 * 0, or -1 (406) with err listing what is offered. */
int web_query_format(const web_query_t *q, const char *accept, bool csv_ok, web_format_t *out,
                     char *err, size_t errlen);

/* Whether s is a valid name of the grammar of a path parameter: an audit ([a-z0-9_-], 1-64),
 * a submission id (digits, 1-18). */
bool web_query_is_audit(const char *s);
bool web_query_is_id(const char *s);

#endif
