/* blocking.c - blocking rules from the kinds of field, their union as candidate pairs. */
#include "blocking.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "string_compare.h"

typedef struct {
    uint64_t hash;
    size_t record;
} entry_t;

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return (h ^ 0xff) * 1099511628211u; /* separator between parts */
}

bool blocking_rule_key(const fs_data_t *d, const blocking_rule_t *rule, size_t r, uint64_t *hash)
{
    uint64_t h = 1469598103934665603u;
    if (rule->part[0] == BLOCKING_PART_SOUNDEX_EITHER_ORDER) {
        const char *v0 = d->values[r * d->nfields + rule->field[0]];
        const char *v1 = d->values[r * d->nfields + rule->field[1]];
        char c0[5], c1[5];
        if (!v0 || !v1)
            return false;
        string_soundex(v0, c0);
        string_soundex(v1, c1);
        if (!c0[0] || !c1[0])
            return false;
        bool swap = strcmp(c0, c1) > 0;
        h = fnv(h, swap ? c1 : c0, strlen(c0));
        *hash = fnv(h, swap ? c0 : c1, strlen(c1));
        return true;
    }
    for (size_t p = 0; p < rule->nparts; p++) {
        const char *v = d->values[r * d->nfields + rule->field[p]];
        if (!v || !*v)
            return false;
        switch (rule->part[p]) {
        case BLOCKING_PART_VALUE:
            h = fnv(h, v, strlen(v));
            break;
        case BLOCKING_PART_SOUNDEX: {
            char code[5];
            string_soundex(v, code);
            if (!code[0])
                return false;
            h = fnv(h, code, strlen(code));
            break;
        }
        case BLOCKING_PART_YEAR:
            h = fnv(h, v, 4);
            break;
        case BLOCKING_PART_SOUNDEX_EITHER_ORDER:
            return false; /* handled above */
        case BLOCKING_PART_DISTRICT: {
            const char *sp = strchr(v, ' ');
            h = fnv(h, v, sp ? (size_t)(sp - v) : strlen(v));
            break;
        }
        }
    }
    *hash = h;
    return true;
}

static void add_rule(blocking_rule_t *rules, size_t *n, size_t f1, blocking_part_t p1, long f2,
                     blocking_part_t p2)
{
    if (*n >= BLOCKING_MAX_RULES)
        return;
    blocking_rule_t *r = &rules[(*n)++];
    r->nparts = f2 >= 0 ? 2 : 1;
    r->field[0] = f1;
    r->part[0] = p1;
    r->field[1] = f2 >= 0 ? (size_t)f2 : 0;
    r->part[1] = p2;
}

static long first_field(const fs_data_t *d, fs_kind_t kind)
{
    for (size_t f = 0; f < d->nfields; f++)
        if (d->kinds[f] == kind)
            return (long)f;
    return -1;
}

/* Whether number field f holds identifier-like values (most of 5 characters or more). */
static bool long_numbers(const fs_data_t *d, size_t f)
{
    size_t longer = 0, present = 0;
    for (size_t r = 0; r < d->nrecords; r++) {
        const char *v = d->values[r * d->nfields + f];
        if (v) {
            present++;
            longer += strlen(v) >= 5;
        }
    }
    return present > 0 && longer * 2 > present;
}

size_t blocking_rules(const fs_data_t *d, blocking_rule_t *rules)
{
    size_t n = 0;
    long fore = first_field(d, FS_KIND_FORENAME), sur = first_field(d, FS_KIND_SURNAME);
    long name = first_field(d, FS_KIND_NAME), dob = first_field(d, FS_KIND_DOB);
    long pc = first_field(d, FS_KIND_POSTCODE);
    for (size_t f = 0; f < d->nfields; f++)
        if (d->kinds[f] == FS_KIND_NHS_NUMBER ||
            (d->kinds[f] == FS_KIND_NUMBER && long_numbers(d, f)))
            add_rule(rules, &n, f, BLOCKING_PART_VALUE, -1, BLOCKING_PART_VALUE);
    if (dob >= 0)
        add_rule(rules, &n, (size_t)dob, BLOCKING_PART_VALUE, -1, BLOCKING_PART_VALUE);
    if (sur >= 0 && dob >= 0)
        add_rule(rules, &n, (size_t)sur, BLOCKING_PART_SOUNDEX, dob, BLOCKING_PART_YEAR);
    if (fore >= 0 && dob >= 0)
        add_rule(rules, &n, (size_t)fore, BLOCKING_PART_VALUE, dob, BLOCKING_PART_YEAR);
    if (fore >= 0 && sur >= 0)
        add_rule(rules, &n, (size_t)fore, BLOCKING_PART_SOUNDEX_EITHER_ORDER, sur,
                 BLOCKING_PART_SOUNDEX);
    long names[3] = {sur, fore, name};
    for (size_t k = 0; k < 3; k++) {
        if (names[k] < 0)
            continue;
        if (pc >= 0)
            add_rule(rules, &n, (size_t)names[k], BLOCKING_PART_SOUNDEX, pc,
                     BLOCKING_PART_DISTRICT);
        for (size_t f = 0; f < d->nfields; f++)
            if (d->kinds[f] == FS_KIND_NUMBER)
                add_rule(rules, &n, (size_t)names[k], BLOCKING_PART_SOUNDEX, (long)f,
                         BLOCKING_PART_VALUE);
    }
    if (name >= 0 && dob >= 0)
        add_rule(rules, &n, (size_t)name, BLOCKING_PART_SOUNDEX, dob, BLOCKING_PART_YEAR);
    return n;
}

static int by_hash(const void *x, const void *y)
{
    const entry_t *a = x, *b = y;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return (a->record > b->record) - (a->record < b->record);
}

static int by_pair(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static int push(uint64_t **pairs, size_t *n, size_t *cap, uint64_t p)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        uint64_t *np = realloc(*pairs, ncap * sizeof *np);
        if (!np)
            return -1;
        *pairs = np;
        *cap = ncap;
    }
    (*pairs)[(*n)++] = p;
    return 0;
}

int blocking_candidates(const fs_data_t *data, uint64_t **pairs, size_t *npairs, size_t *nrules)
{
    blocking_rule_t rules[BLOCKING_MAX_RULES];
    size_t nr = blocking_rules(data, rules);
    size_t n = data->nrecords;
    size_t nl = data->nleft > 0 && data->nleft < n ? data->nleft : 0;
    entry_t *entries = malloc((n + 1) * sizeof *entries);
    uint64_t *out = NULL;
    size_t nout = 0, cap = 0;
    if (!entries)
        return -1;
    for (size_t r = 0; r < nr; r++) {
        size_t ne = 0;
        for (size_t i = 0; i < n; i++)
            if (blocking_rule_key(data, &rules[r], i, &entries[ne].hash))
                entries[ne++].record = i;
        qsort(entries, ne, sizeof *entries, by_hash);
        for (size_t s = 0; s < ne;) {
            size_t e = s + 1;
            while (e < ne && entries[e].hash == entries[s].hash)
                e++;
            if (e - s <= BLOCKING_MAX_BLOCK)
                for (size_t a = s; a < e; a++)
                    for (size_t b = a + 1; b < e; b++) {
                        size_t i = entries[a].record, j = entries[b].record;
                        if (nl && !(i < nl && j >= nl))
                            continue;
                        if (push(&out, &nout, &cap, FS_PAIR(i, j)) != 0) {
                            free(entries);
                            free(out);
                            return -1;
                        }
                    }
            s = e;
        }
    }
    free(entries);
    if (nout > 0)
        qsort(out, nout, sizeof *out, by_pair);
    size_t u = 0;
    for (size_t k = 0; k < nout; k++)
        if (u == 0 || out[u - 1] != out[k])
            out[u++] = out[k];
    *pairs = out;
    *npairs = u;
    if (nrules)
        *nrules = nr;
    return 0;
}
