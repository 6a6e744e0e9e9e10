/* postcode.h - UK postcodes in the NHS Data Dictionary's format, and the NHS pseudo-postcodes
 * (ZZ99 3VZ no fixed abode, ZZ99 3WZ not known, ZZ99 9AZ for a country or region of residence). */
#ifndef NCAP_POSTCODE_H
#define NCAP_POSTCODE_H

typedef enum {
    POSTCODE_VALID = 0,      /* a real postcode's shape, e.g. LS1 4AP */
    POSTCODE_EMPTY,          /* nothing given */
    POSTCODE_FORMAT,         /* not the shape of a UK postcode */
    POSTCODE_NO_FIXED_ABODE, /* ZZ99 3VZ */
    POSTCODE_NOT_KNOWN,      /* ZZ99 3WZ */
    POSTCODE_PSEUDO          /* another ZZ99 form: a country or region, not an address */
} postcode_status_t;

/* Checks s: letters in either case, blanks around it, and none, one or more spaces between the
 * outward and inward codes. Unless the status is EMPTY or FORMAT, writes the normalised form
 * (capitals, one space before the inward code, e.g. "SW1A 1AA") to out; otherwise out is "". */
postcode_status_t postcode_check(const char *s, char out[9]);
const char *postcode_status_text(postcode_status_t st);

#endif
