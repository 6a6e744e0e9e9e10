/* completeness_query.c - latest record versions and their problems, through a cursor */
#include "completeness_query.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* True when line (one of the '\n'-separated items of list) equals item. */
static bool listed(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, item, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

/* The state of identifier field from linkage's problems, "field:rule" lines: missing wins. */
static completeness_state_t identifier_state(const char *list, const char *field)
{
    completeness_state_t st = COMPLETENESS_PRESENT;
    size_t n = strlen(field);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && memcmp(p, field, n) == 0 && p[n] == ':') {
            char rule[64];
            snprintf(rule, sizeof rule, "%.*s", (int)(len - n - 1), p + n + 1);
            completeness_state_t s = completeness_state_of_linkage_rule(rule);
            if (s == COMPLETENESS_MISSING || st == COMPLETENESS_PRESENT)
                st = s;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return st;
}

static bool month_wanted(const completeness_query_t *q, const char *month)
{
    if (!q->months)
        return true;
    for (size_t i = 0; i < q->n_months; i++)
        if (strcmp(q->months[i], month) == 0)
            return true;
    return false;
}

/* What add_row counts into, and where it says why it failed. */
typedef struct {
    const completeness_query_t *q;
    completeness_state_t *state;
    completeness_t *table;
    char *err;
    size_t errlen;
} add_ctx_t;

/* Counts one fetched row (db_each_row's row): trust, payload, validation's error fields,
 * linkage's field:rule. */
static int add_row(void *ctx, const PGresult *r, int i)
{
    const add_ctx_t *c = ctx;
    const completeness_query_t *q = c->q;
    completeness_state_t *state = c->state;
    char *err = c->err;
    size_t errlen = c->errlen;
    json_error_t jerr;
    json_t *payload = json_loads(PQgetvalue(r, i, 1), 0, &jerr);
    if (!payload || !json_is_object(payload)) {
        json_decref(payload);
        snprintf(err, errlen, "record payload is not a JSON object: %s", jerr.text);
        return -1;
    }
    const char *errors = PQgetvalue(r, i, 2), *linkage = PQgetvalue(r, i, 3);
    char month[8] = "";
    const char *when = json_string_value(json_object_get(payload, q->def->period_field));
    completeness_month(when, month);
    if (!month_wanted(q, month)) {
        json_decref(payload);
        return 0;
    }
    for (size_t f = 0; f < q->n_fields; f++) {
        const audit_field_t *fd = q->fields[f];
        if (fd->identifier)
            state[f] = identifier_state(linkage, fd->name);
        else
            state[f] = completeness_state_of_value(
                json_string_value(json_object_get(payload, fd->name)), listed(errors, fd->name));
    }
    json_decref(payload);
    if (completeness_add(c->table, PQgetvalue(r, i, 0), month, state) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int completeness_read(PGconn *db, const completeness_query_t *q, completeness_t *table, char *err,
                      size_t errlen)
{
    completeness_state_t *state = calloc(q->n_fields + 1, sizeof *state);
    if (!state) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    if (db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) != 0)
        goto out;
    const char *p[] = {q->def->audit, q->trust ? q->trust : ""};
    add_ctx_t ctx = {q, state, table, err, errlen};
    if (db_each_row(
            db,
            " WITH latest AS ("
            "  SELECT DISTINCT ON (record_id) record_id, version, trust, payload"
            "  FROM validation.record WHERE audit = $1 AND ($2 = '' OR trust = $2)"
            "  ORDER BY record_id, version DESC)"
            " SELECT l.trust, l.payload::text,"
            "  COALESCE((SELECT string_agg(DISTINCT v.field, E'\\n') FROM validation.problem v"
            "    WHERE v.record_id = l.record_id AND v.version = l.version"
            "    AND v.severity = 'error'), ''),"
            "  COALESCE((SELECT string_agg(k.field || ':' || k.rule, E'\\n')"
            "    FROM linkage.problem k"
            "    WHERE k.record_id = l.record_id AND k.version = l.version), '')"
            " FROM latest l",
            2, p, add_row, &ctx, err, errlen) != 0)
        goto rollback;
    rc = db_exec(db, "COMMIT", err, errlen);
    goto out;
rollback:
    db_exec(db, "ROLLBACK", NULL, 0);
out:
    free(state);
    return rc;
}
