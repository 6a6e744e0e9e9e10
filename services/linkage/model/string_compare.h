/* string_compare.h - how alike two strings are: Jaro, Jaro-Winkler, Levenshtein, Damerau-
 * Levenshtein (optimal string alignment) and the Soundex sound code. Bytes are compared as they
 * are (callers fold case first); strings longer than STRING_COMPARE_MAX bytes are compared on
 * their first STRING_COMPARE_MAX bytes. */
#ifndef NCAP_STRING_COMPARE_H
#define NCAP_STRING_COMPARE_H

#include <stddef.h>

#define STRING_COMPARE_MAX 255

/* 1 for equal strings, 0 for nothing in common (and when either is empty but not both). */
double string_jaro(const char *a, const char *b);
/* The same for strings of known lengths (no terminator needed); strings of up to 64 bytes are
 * matched with bit masks, several times faster. */
double string_jaro_n(const char *a, size_t la, const char *b, size_t lb);
/* Jaro boosted by the common prefix (up to 4 bytes, scale 0.1): MARTHA/MARHTA 0.961. */
double string_jaro_winkler(const char *a, const char *b);
double string_jaro_winkler_n(const char *a, size_t la, const char *b, size_t lb);
/* Jaro-Winkler of a and b when it may reach at_least, else 0 without comparing the strings:
 * lengths alone bound it (JONATHAN/JO cannot reach 0.80). */
double string_jaro_winkler_at_least(const char *a, size_t la, const char *b, size_t lb,
                                    double at_least);
/* Insertions, deletions and substitutions to turn a into b. */
size_t string_levenshtein(const char *a, const char *b);
/* As Levenshtein, and a swap of two adjacent bytes counts as one edit (no substring edited
 * twice). */
size_t string_damerau_levenshtein(const char *a, const char *b);
/* Damerau-Levenshtein (optimal string alignment) of strings of known lengths when it is max or
 * less, else max + 1, found without the whole table: a length difference above max or a row of
 * the table all above max stops early. */
size_t string_damerau_levenshtein_bounded(const char *a, size_t la, const char *b, size_t lb,
                                          size_t max);
/* American Soundex of the letters of s (others skipped): a letter and three digits, e.g.
 * Robert R163, Tymczak T522, Pfister P236; "" when s has no letter. */
void string_soundex(const char *s, char out[5]);

#endif
