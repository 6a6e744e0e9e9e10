/* string_compare.c - Jaro, Jaro-Winkler, Levenshtein, optimal string alignment, Soundex. */
#include "string_compare.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static size_t clamp(size_t n)
{
    return n > STRING_COMPARE_MAX ? STRING_COMPARE_MAX : n;
}

static double jaro_score(size_t matches, size_t half_transpositions, size_t la, size_t lb)
{
    double m = (double)matches;
    double t = (double)(half_transpositions / 2);
    return (m / (double)la + m / (double)lb + (m - t) / m) / 3.0;
}

/* Strings of up to 64 bytes: pos[c] has bit j set where b[j] == c, so the first free match of
 * a[i] within the window is the lowest bit of pos[a[i]] & window & ~taken. Only the entries of
 * bytes in a or b are written, and only those are read. */
static double jaro_short(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
    uint64_t pos[256];
    for (size_t i = 0; i < la; i++)
        pos[a[i]] = 0;
    for (size_t j = 0; j < lb; j++)
        pos[b[j]] = 0;
    for (size_t j = 0; j < lb; j++)
        pos[b[j]] |= (uint64_t)1 << j;
    size_t longer = la > lb ? la : lb;
    size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
    uint64_t amatch = 0, bmatch = 0;
    size_t matches = 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        if (lo >= hi)
            continue;
        uint64_t span = (hi - lo == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (hi - lo)) - 1)) << lo;
        uint64_t free_match = pos[a[i]] & span & ~bmatch;
        if (free_match) {
            bmatch |= free_match & (~free_match + 1);
            amatch |= (uint64_t)1 << i;
            matches++;
        }
    }
    if (matches == 0)
        return 0.0;
    size_t half_transpositions = 0;
    while (amatch) {
        size_t i = (size_t)__builtin_ctzll(amatch), j = (size_t)__builtin_ctzll(bmatch);
        half_transpositions += a[i] != b[j];
        amatch &= amatch - 1;
        bmatch &= bmatch - 1;
    }
    return jaro_score(matches, half_transpositions, la, lb);
}

static double jaro_long(const char *a, size_t la, const char *b, size_t lb)
{
    size_t longer = la > lb ? la : lb;
    size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
    bool amatch[STRING_COMPARE_MAX] = {false}, bmatch[STRING_COMPARE_MAX] = {false};
    size_t matches = 0;
    for (size_t i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        for (size_t j = lo; j < hi; j++) {
            if (!bmatch[j] && a[i] == b[j]) {
                amatch[i] = bmatch[j] = true;
                matches++;
                break;
            }
        }
    }
    if (matches == 0)
        return 0.0;
    size_t half_transpositions = 0;
    for (size_t i = 0, j = 0; i < la; i++) {
        if (!amatch[i])
            continue;
        while (!bmatch[j])
            j++;
        if (a[i] != b[j])
            half_transpositions++;
        j++;
    }
    return jaro_score(matches, half_transpositions, la, lb);
}

double string_jaro_n(const char *a, size_t la, const char *b, size_t lb)
{
    la = clamp(la);
    lb = clamp(lb);
    if (la == 0 && lb == 0)
        return 1.0;
    if (la == 0 || lb == 0)
        return 0.0;
    if (la <= 64 && lb <= 64)
        return jaro_short((const unsigned char *)a, la, (const unsigned char *)b, lb);
    return jaro_long(a, la, b, lb);
}

double string_jaro(const char *a, const char *b)
{
    return string_jaro_n(a, strlen(a), b, strlen(b));
}

static size_t common_prefix(const char *a, size_t la, const char *b, size_t lb)
{
    size_t prefix = 0;
    while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix])
        prefix++;
    return prefix;
}

static double winkler(double jaro, size_t prefix)
{
    return jaro + (double)prefix * 0.1 * (1.0 - jaro);
}

double string_jaro_winkler_n(const char *a, size_t la, const char *b, size_t lb)
{
    return winkler(string_jaro_n(a, la, b, lb), common_prefix(a, la, b, lb));
}

double string_jaro_winkler(const char *a, const char *b)
{
    return string_jaro_winkler_n(a, strlen(a), b, strlen(b));
}

double string_jaro_winkler_at_least(const char *a, size_t la, const char *b, size_t lb,
                                    double at_least)
{
    size_t ca = clamp(la), cb = clamp(lb);
    if (ca > 0 && cb > 0) {
        /* at most min(la, lb) matches and no transposition */
        double shorter = (double)(ca < cb ? ca : cb);
        double bound = (shorter / (double)ca + shorter / (double)cb + 1.0) / 3.0;
        if (winkler(bound, common_prefix(a, la, b, lb)) < at_least)
            return 0.0;
    }
    return string_jaro_winkler_n(a, la, b, lb);
}

static size_t min3(size_t x, size_t y, size_t z)
{
    size_t m = x < y ? x : y;
    return m < z ? m : z;
}

/* Both distances with three rolling rows; transpositions when osa. */
static size_t edit_distance(const char *a, const char *b, bool osa)
{
    size_t la = clamp(strlen(a)), lb = clamp(strlen(b));
    size_t rows[3][STRING_COMPARE_MAX + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (osa && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

size_t string_levenshtein(const char *a, const char *b)
{
    return edit_distance(a, b, false);
}

size_t string_damerau_levenshtein(const char *a, const char *b)
{
    return edit_distance(a, b, true);
}

size_t string_damerau_levenshtein_bounded(const char *a, size_t la, const char *b, size_t lb,
                                          size_t max)
{
    la = clamp(la);
    lb = clamp(lb);
    if ((la > lb ? la - lb : lb - la) > max)
        return max + 1;
    if (la == lb && max <= 1) {
        /* same length, at most one edit: one substitution or one adjacent transposition (an
         * insertion needs a deletion too); dates and NHS numbers, compared by the million */
        size_t i = 0;
        while (i < la && a[i] == b[i])
            i++;
        if (i == la)
            return 0;
        if (max == 0)
            return 1;
        if (memcmp(a + i + 1, b + i + 1, la - i - 1) == 0)
            return 1;
        return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
                       memcmp(a + i + 2, b + i + 2, la - i - 2) == 0
                   ? 1
                   : 2;
    }
    /* An edit changes the counts of bytes (in 16 bins, bytes folded by their low bits) by at most
     * 2 in all: counts further apart than 2 * max need more than max edits. */
    int bins[16] = {0}, apart = 0;
    for (size_t i = 0; i < la; i++)
        bins[(unsigned char)a[i] & 15]++;
    for (size_t j = 0; j < lb; j++)
        bins[(unsigned char)b[j] & 15]--;
    for (size_t k = 0; k < 16; k++)
        apart += bins[k] < 0 ? -bins[k] : bins[k];
    if ((size_t)apart > 2 * max)
        return max + 1;
    /* Cells hold min(distance, max + 1), which still fits the recurrence: every step adds 0 or 1
     * and a capped cell can only give capped cells. */
    unsigned short rows[3][STRING_COMPARE_MAX + 1];
    unsigned short *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    unsigned short cap =
        (unsigned short)(max + 1 > STRING_COMPARE_MAX + 1 ? STRING_COMPARE_MAX + 1 : max + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned short)(j < cap ? j : cap);
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned short)(i < cap ? i : cap);
        unsigned short low = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            unsigned short v = (unsigned short)(prev[j - 1] + (a[i - 1] != b[j - 1]));
            if (prev[j] + 1 < v)
                v = (unsigned short)(prev[j] + 1);
            if (cur[j - 1] + 1 < v)
                v = (unsigned short)(cur[j - 1] + 1);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = (unsigned short)(prev2[j - 2] + 1);
            cur[j] = v < cap ? v : cap;
            if (cur[j] < low)
                low = cur[j];
        }
        if (low >= cap)
            return max + 1;
        unsigned short *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] < cap ? prev[lb] : max + 1;
}

static char soundex_digit(int c)
{
    switch (c) {
    case 'B':
    case 'F':
    case 'P':
    case 'V':
        return '1';
    case 'C':
    case 'G':
    case 'J':
    case 'K':
    case 'Q':
    case 'S':
    case 'X':
    case 'Z':
        return '2';
    case 'D':
    case 'T':
        return '3';
    case 'L':
        return '4';
    case 'M':
    case 'N':
        return '5';
    case 'R':
        return '6';
    default:
        return '0'; /* vowels, Y; H and W are handled by the caller */
    }
}

void string_soundex(const char *s, char out[5])
{
    size_t n = 0;
    char last = 0;
    for (; *s && n < 4; s++) {
        int c = toupper((unsigned char)*s);
        if (c < 'A' || c > 'Z')
            continue;
        char d = soundex_digit(c);
        if (n == 0) {
            out[n++] = (char)c;
            last = d;
            continue;
        }
        if (c == 'H' || c == 'W')
            continue; /* letters either side with the same code count once */
        if (d != '0' && d != last)
            out[n++] = d;
        last = d;
    }
    if (n > 0)
        while (n < 4)
            out[n++] = '0';
    out[n] = '\0';
}
