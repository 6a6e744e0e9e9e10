/* nhs_number.c - the NHS number: 10 digits, Modulus 11 check digit. */
#include "nhs_number.h"

#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int nhs_number_check_digit(const char nine[9])
{
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (nine[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    return check == 11 ? 0 : check;
}

/* Copies the ten digits of s[0..n) to digits when the layout is "dddddddddd", or "ddd ddd dddd"
 * with a space or a hyphen at each of the two breaks. Returns 0, or -1 for any other layout. */
static int take_digits(const char *s, size_t n, char digits[11])
{
    size_t k = 0;
    if (n == 10) {
        for (size_t i = 0; i < n; i++) {
            if (!is_digit(s[i]))
                return -1;
            digits[k++] = s[i];
        }
    } else if (n == 12) {
        for (size_t i = 0; i < n; i++) {
            if (i == 3 || i == 7) {
                if (s[i] != ' ' && s[i] != '-')
                    return -1;
            } else {
                if (!is_digit(s[i]))
                    return -1;
                digits[k++] = s[i];
            }
        }
    } else {
        return -1;
    }
    digits[k] = '\0';
    return 0;
}

nhs_number_status_t nhs_number_check(const char *s, char digits[11])
{
    char buf[11];
    char *d = digits ? digits : buf;
    d[0] = '\0';
    if (!s)
        return NHS_NUMBER_EMPTY;
    /* blanks around the number are not part of it (a CSV reader may not trim) */
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n == 0)
        return NHS_NUMBER_EMPTY;
    if (take_digits(s, n, d) != 0) {
        d[0] = '\0';
        return NHS_NUMBER_FORMAT;
    }
    if (nhs_number_check_digit(d) != d[9] - '0')
        return NHS_NUMBER_CHECKSUM;
    int same = 1;
    for (int i = 1; i < 10; i++)
        if (d[i] != d[0])
            same = 0;
    /* every one-digit number passes the check (the weights sum to 54, which is 10 mod 11) */
    if (same)
        return NHS_NUMBER_PLACEHOLDER;
    if (d[0] == '9')
        return NHS_NUMBER_TEST;
    return NHS_NUMBER_VALID;
}

const char *nhs_number_status_text(nhs_number_status_t st)
{
    switch (st) {
    case NHS_NUMBER_VALID:
        return "valid";
    case NHS_NUMBER_EMPTY:
        return "missing";
    case NHS_NUMBER_FORMAT:
        return "not 10 digits in the form 9999999999 or 999 999 9999";
    case NHS_NUMBER_CHECKSUM:
        return "check digit does not match";
    case NHS_NUMBER_PLACEHOLDER:
        return "placeholder number (one repeated digit)";
    case NHS_NUMBER_TEST:
        return "test-range number (starts with 9)";
    }
    return "unknown status";
}
