/* ods_code.c - trust and site ODS codes */
#include "ods_code.h"

#include <string.h>

static bool upper_or_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

ods_code_kind_t ods_code_kind(const char *s)
{
    if (!s)
        return ODS_CODE_INVALID;
    size_t len = strlen(s);
    if ((len != 3 && len != 5) || !(s[0] >= 'A' && s[0] <= 'Z'))
        return ODS_CODE_INVALID;
    for (size_t i = 1; i < len; i++)
        if (!upper_or_digit(s[i]))
            return ODS_CODE_INVALID;
    return len == 3 ? ODS_CODE_TRUST : ODS_CODE_SITE;
}

bool ods_code_site_of(const char *site, const char *trust)
{
    return ods_code_kind(site) == ODS_CODE_SITE && ods_code_kind(trust) == ODS_CODE_TRUST &&
           strncmp(site, trust, 3) == 0;
}
