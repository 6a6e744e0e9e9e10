/* blocking.c - blocking rules from the kinds of field, their union as candidate pairs. */
#include "blocking.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str_map.h"
#include "string_compare.h"

/* Room for a record's key under a rule, as text. */
typedef struct {
    char *s;
    size_t cap;
} keybuf_t;

/* Record r's key under rule into *key: a one-part key is the part's text; a two-part key the
 * first part's length (one byte 1-254 for 0-253, else 255, decimal digits and ':'), the first
 * part and the second, so that no two pairs of parts give one key. Points into the data when a
 * value is the key as it stands, else into k. Returns 1, 0 when a part of it is null, -1 when out
 * of memory. */
static int rule_key(const fs_data_t *d, const blocking_rule_t *rule, size_t r, keybuf_t *k,
                    const char **key)
{
    const char *part[2] = {"", ""};
    size_t len[2] = {0, 0};
    char code[2][5];
    for (size_t p = 0; p < rule->nparts; p++) {
        const char *v = d->values[r * d->nfields + rule->field[p]];
        if (!v || !*v)
            return 0;
        part[p] = v;
        len[p] = strlen(v);
        switch (rule->part[p]) {
        case BLOCKING_PART_VALUE:
            break;
        case BLOCKING_PART_SOUNDEX:
        case BLOCKING_PART_SOUNDEX_EITHER_ORDER:
            string_soundex(v, code[p]);
            if (!code[p][0])
                return 0;
            part[p] = code[p];
            len[p] = strlen(code[p]);
            break;
        case BLOCKING_PART_YEAR:
            len[p] = len[p] < 4 ? len[p] : 4;
            break;
        case BLOCKING_PART_DISTRICT: {
            const char *sp = strchr(v, ' ');
            len[p] = sp ? (size_t)(sp - v) : len[p];
            break;
        }
        }
    }
    if (rule->nparts == 1 && part[0][len[0]] == '\0' && part[0] != code[0]) {
        *key = part[0];
        return 1;
    }
    /* forename and surname swapped give one key: the sound codes in sorted order */
    if (rule->nparts == 2 && rule->part[0] == BLOCKING_PART_SOUNDEX_EITHER_ORDER &&
        strcmp(part[0], part[1]) > 0) {
        const char *t = part[0];
        part[0] = part[1], part[1] = t;
        size_t tl = len[0];
        len[0] = len[1], len[1] = tl;
    }
    size_t need = 24 + len[0] + (rule->nparts == 2 ? len[1] : 0) + 1;
    if (need > k->cap) {
        char *more = realloc(k->s, need * 2);
        if (!more)
            return -1;
        k->s = more;
        k->cap = need * 2;
    }
    size_t n = 0;
    if (rule->nparts == 2) {
        if (len[0] < 254)
            k->s[n++] = (char)(len[0] + 1);
        else
            n += (size_t)snprintf(k->s, 24, "\xff%zu:", len[0]);
    }
    memcpy(k->s + n, part[0], len[0]);
    n += len[0];
    if (rule->nparts == 2) {
        memcpy(k->s + n, part[1], len[1]);
        n += len[1];
    }
    k->s[n] = '\0';
    *key = k->s;
    return 1;
}

long blocking_rule_blocks(const fs_data_t *d, const blocking_rule_t *rule, uint32_t *block)
{
    str_map_t *keys = str_map_new(d->nrecords);
    keybuf_t k = {0};
    long rc = keys ? 0 : -1;
    for (size_t r = 0; r < d->nrecords && rc == 0; r++) {
        size_t b;
        const char *key;
        int has = rule_key(d, rule, r, &k, &key);
        if (has < 0 || (has && str_map_put(keys, key, &b) < 0))
            rc = -1;
        else
            block[r] = has ? (uint32_t)b : BLOCKING_NONE;
    }
    if (rc == 0)
        rc = (long)str_map_size(keys);
    str_map_destroy(&keys);
    free(k.s);
    return rc;
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

static int by_pair(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Sorts pairs: least significant digit radix sort, 16 bits a pass, passes over digits all pairs
 * share skipped (tens of millions of candidates: qsort's comparisons were a tenth of the run);
 * qsort when there is no memory for the second buffer. */
static void sort_pairs(uint64_t *pairs, size_t n)
{
    uint64_t *tmp = malloc(n * sizeof *tmp);
    size_t *count = malloc((1u << 16) * sizeof *count);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        qsort(pairs, n, sizeof *pairs, by_pair);
        return;
    }
    uint64_t *src = pairs, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(count, 0, (1u << 16) * sizeof *count);
        for (size_t k = 0; k < n; k++)
            count[(src[k] >> shift) & 0xffff]++;
        if (count[(src[0] >> shift) & 0xffff] == n)
            continue; /* one digit for all */
        for (size_t d = 0, sum = 0; d < (1u << 16); d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t k = 0; k < n; k++)
            dst[count[(src[k] >> shift) & 0xffff]++] = src[k];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != pairs)
        memcpy(pairs, src, n * sizeof *pairs);
    free(tmp);
    free(count);
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
    uint32_t *block = malloc((n + 1) * sizeof *block);
    size_t *member = malloc((n + 1) * sizeof *member); /* records by block */
    size_t *start = malloc((n + 2) * sizeof *start);   /* block b's in member[start[b]..) */
    uint64_t *out = NULL;
    size_t nout = 0, cap = 0;
    int rc = block && member && start ? 0 : -1;
    for (size_t r = 0; r < nr && rc == 0; r++) {
        long nb = blocking_rule_blocks(data, &rules[r], block);
        if (nb < 0) {
            rc = -1;
            break;
        }
        /* counting sort: each block's records in member, in record order */
        memset(start, 0, ((size_t)nb + 2) * sizeof *start);
        for (size_t i = 0; i < n; i++)
            if (block[i] != BLOCKING_NONE)
                start[block[i] + 2]++;
        for (size_t b = 2; b < (size_t)nb + 2; b++)
            start[b] += start[b - 1];
        for (size_t i = 0; i < n; i++)
            if (block[i] != BLOCKING_NONE)
                member[start[block[i] + 1]++] = i;
        for (size_t b = 0; b < (size_t)nb && rc == 0; b++) {
            size_t s = start[b], e = start[b + 1];
            if (e - s > BLOCKING_MAX_BLOCK)
                continue;
            for (size_t a = s; a < e && rc == 0; a++)
                for (size_t c = a + 1; c < e; c++) {
                    size_t i = member[a], j = member[c];
                    if (nl && !(i < nl && j >= nl))
                        continue;
                    if (push(&out, &nout, &cap, FS_PAIR(i, j)) != 0) {
                        rc = -1;
                        break;
                    }
                }
        }
    }
    free(block);
    free(member);
    free(start);
    if (rc != 0) {
        free(out);
        return -1;
    }
    if (nout > 0)
        sort_pairs(out, nout);
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
