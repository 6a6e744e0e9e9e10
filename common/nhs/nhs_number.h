/* nhs_number.h - the NHS number: 10 digits, Modulus 11 check digit. */
#ifndef NCAP_NHS_NUMBER_H
#define NCAP_NHS_NUMBER_H

#include <stddef.h>

typedef enum {
    NHS_NUMBER_VALID = 0,
    NHS_NUMBER_EMPTY,    /* nothing given */
    NHS_NUMBER_FORMAT,   /* not 10 digits (spaces or hyphens allowed only in the 3-3-4 pattern) */
    NHS_NUMBER_CHECKSUM, /* check digit wrong, or the remainder gives 10 */
    NHS_NUMBER_PLACEHOLDER, /* passes the check but is one repeated digit, e.g. 4444444444 */
    NHS_NUMBER_TEST         /* passes the check but starts with 9: test range, never issued */
} nhs_number_status_t;

/* Checks s and, when it has 10 digits in an accepted layout, writes them to digits (11 bytes with
 * NUL) even if the check digit is wrong. PLACEHOLDER and TEST numbers are well formed: callers
 * decide whether they are warnings. */
nhs_number_status_t nhs_number_check(const char *s, char digits[11]);
/* The check digit for nine digits, 0-9, or 10 when no valid number has these nine digits. */
int nhs_number_check_digit(const char nine[9]);
const char *nhs_number_status_text(nhs_number_status_t st);

#endif
