/* ods_code.h - Organisation Data Service codes of NHS organisations: a trust has 3 characters
 * (e.g. RH8), one of its sites 5, the trust's code followed by two more (e.g. RH802). */
#ifndef NCAP_ODS_CODE_H
#define NCAP_ODS_CODE_H

#include <stdbool.h>

typedef enum {
    ODS_CODE_INVALID = 0, /* not 3 or 5 capital letters and digits starting with a letter */
    ODS_CODE_TRUST,       /* 3 characters */
    ODS_CODE_SITE         /* 5 characters */
} ods_code_kind_t;

/* What s is, taken exactly as written (no trimming, capitals only). */
ods_code_kind_t ods_code_kind(const char *s);
/* True when site is a 5-character site code and trust the 3-character code it begins with. */
bool ods_code_site_of(const char *site, const char *trust);

#endif
