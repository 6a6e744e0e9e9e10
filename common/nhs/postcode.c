/* postcode.c - UK postcodes: outward code A9, A99, AA9, AA99, A9A or AA9A, then inward code 9AA,
 * with the letter positions Royal Mail leaves unused refused; plus the NHS ZZ99 pseudo-postcodes.
 */
#include "postcode.h"

#include <ctype.h>
#include <string.h>

/* Letters each position may hold, by Royal Mail's rules. */
static const char *const FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ";  /* not Q V X */
static const char *const SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"; /* not I J Z */
static const char *const THIRD_A9A = "ABCDEFGHJKPSTUW";      /* A9A */
static const char *const FOURTH_AA9A = "ABEHMNPRVWXY";       /* AA9A */
static const char *const INWARD = "ABDEFGHJLNPQRSTUWXYZ";    /* not C I K M O V */

static int in_set(const char *set, char c)
{
    return c != '\0' && strchr(set, c) != NULL;
}

/* The outward code c[0..n) as letters (A) and digits (9), checked letter by letter. */
static int outward_ok(const char *c, size_t n)
{
    char shape[5];
    if (n < 2 || n > 4)
        return 0;
    for (size_t i = 0; i < n; i++)
        shape[i] = isdigit((unsigned char)c[i]) ? '9' : 'A';
    shape[n] = '\0';
    if (strcmp(shape, "A9") == 0 || strcmp(shape, "A99") == 0)
        return in_set(FIRST, c[0]);
    if (strcmp(shape, "AA9") == 0 || strcmp(shape, "AA99") == 0)
        return in_set(FIRST, c[0]) && in_set(SECOND, c[1]);
    if (strcmp(shape, "A9A") == 0)
        return in_set(FIRST, c[0]) && in_set(THIRD_A9A, c[2]);
    if (strcmp(shape, "AA9A") == 0)
        return in_set(FIRST, c[0]) && in_set(SECOND, c[1]) && in_set(FOURTH_AA9A, c[3]);
    return 0;
}

postcode_status_t postcode_check(const char *s, char out[9])
{
    char c[8];
    size_t n = 0;
    out[0] = '\0';
    if (!s)
        return POSTCODE_EMPTY;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return POSTCODE_EMPTY;
    /* letters and digits only; spaces only where the inward code (last 3) begins */
    size_t alnum = 0;
    for (size_t i = 0; i < len; i++)
        alnum += isalnum((unsigned char)s[i]) != 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') {
            if (n != alnum - 3)
                return POSTCODE_FORMAT;
            continue;
        }
        if (!isalnum((unsigned char)s[i]) || n == sizeof c - 1)
            return POSTCODE_FORMAT;
        c[n++] = (char)toupper((unsigned char)s[i]);
    }
    c[n] = '\0';
    if (n < 5 || n > 7)
        return POSTCODE_FORMAT;
    const char *in = c + n - 3;
    postcode_status_t st = POSTCODE_VALID;
    if (n == 7 && strncmp(c, "ZZ99", 4) == 0) {
        if (!isdigit((unsigned char)in[0]) || !isupper((unsigned char)in[1]) || in[2] != 'Z')
            return POSTCODE_FORMAT;
        st = strcmp(in, "3VZ") == 0   ? POSTCODE_NO_FIXED_ABODE
             : strcmp(in, "3WZ") == 0 ? POSTCODE_NOT_KNOWN
                                      : POSTCODE_PSEUDO;
    } else if (strcmp(c, "GIR0AA") != 0) { /* GIR 0AA: Girobank, the one historic exception */
        if (!isdigit((unsigned char)in[0]) || !in_set(INWARD, in[1]) || !in_set(INWARD, in[2]) ||
            !outward_ok(c, n - 3))
            return POSTCODE_FORMAT;
    }
    memcpy(out, c, n - 3);
    out[n - 3] = ' ';
    memcpy(out + n - 2, in, 4);
    return st;
}

const char *postcode_status_text(postcode_status_t st)
{
    switch (st) {
    case POSTCODE_VALID:
        return "valid";
    case POSTCODE_EMPTY:
        return "missing";
    case POSTCODE_FORMAT:
        return "not a UK postcode such as LS1 4AP";
    case POSTCODE_NO_FIXED_ABODE:
        return "pseudo-postcode: no fixed abode";
    case POSTCODE_NOT_KNOWN:
        return "pseudo-postcode: not known";
    case POSTCODE_PSEUDO:
        return "pseudo-postcode: country or region of residence";
    }
    return "unknown status";
}
