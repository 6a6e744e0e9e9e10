/* string_compare.c - Jaro, Jaro-Winkler, Levenshtein, optimal string alignment, Soundex. */
#include "string_compare.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static size_t clamp_len(const char *s)
{
    size_t n = strlen(s);
    return n > STRING_COMPARE_MAX ? STRING_COMPARE_MAX : n;
}

double string_jaro(const char *a, const char *b)
{
    size_t la = clamp_len(a), lb = clamp_len(b);
    if (la == 0 && lb == 0)
        return 1.0;
    if (la == 0 || lb == 0)
        return 0.0;
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
    double m = (double)matches;
    double t = (double)(half_transpositions / 2);
    return (m / (double)la + m / (double)lb + (m - t) / m) / 3.0;
}

double string_jaro_winkler(const char *a, const char *b)
{
    double j = string_jaro(a, b);
    size_t prefix = 0;
    while (prefix < 4 && a[prefix] && a[prefix] == b[prefix])
        prefix++;
    return j + (double)prefix * 0.1 * (1.0 - j);
}

static size_t min3(size_t x, size_t y, size_t z)
{
    size_t m = x < y ? x : y;
    return m < z ? m : z;
}

/* Both distances with three rolling rows; transpositions when osa. */
static size_t edit_distance(const char *a, const char *b, bool osa)
{
    size_t la = clamp_len(a), lb = clamp_len(b);
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
