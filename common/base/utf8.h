/* utf8.h - is this text well-formed UTF-8? (what PostgreSQL and JSON require); letters lowered
 * beyond ASCII */
#ifndef NCAP_UTF8_H
#define NCAP_UTF8_H

#include <stddef.h>

/* Returns 0 when s is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF);
 * otherwise the 1-based byte offset of the first bad byte. */
size_t utf8_invalid_at(const char *s);
/* The length in bytes (1-4) of the well-formed character s starts with; 0 when it is not one
 * (or s is at its end). */
size_t utf8_seq_len(const char *s);
/* n, less the bytes of a character its first n bytes of s cut short at their end: the length of
 * a prefix of s cut at a character's boundary (what a byte limit on a name leaves, kept well
 * formed). Malformed bytes before that are left as they are. */
size_t utf8_trim_partial(const char *s, size_t n);
/* Each byte of s that does not begin a well-formed character (a character cut by a byte limit on
 * a "%.40s", a byte of another encoding echoed in a message) becomes '?', in place: a message
 * PostgreSQL will store as text (it refuses malformed UTF-8). Returns s. */
char *utf8_mend(char *s);
/* The lower-case letter of capital letter cp when both are two bytes in UTF-8 (U+0080-U+07FF:
 * "Ë" U+00CB -> "ë", "Ÿ" U+0178 -> "ÿ", "Ж" U+0416 -> "ж"); any other code point as it is
 * ("İ", whose lower case is two characters, among them). What linkage lower-cases names with
 * beyond ASCII (fs_model.c): "ZOË" and "Zoë" are one name. */
unsigned utf8_lower(unsigned cp);
/* The pairs utf8_lower maps (at most max of them into upper and lower, in order); returns how
 * many there are. For tests. */
size_t utf8_lower_pairs(unsigned *upper, unsigned *lower, size_t max);

#endif
