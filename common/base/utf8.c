/* utf8.c - UTF-8 well-formedness (RFC 3629) */
#include "utf8.h"

size_t utf8_seq_len(const char *str)
{
    const unsigned char *p = (const unsigned char *)str;
    unsigned c = *p;
    int n;
    unsigned min, cp;
    if (c < 0x80) {
        return c ? 1 : 0;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return (size_t)n + 1;
}

size_t utf8_invalid_at(const char *str)
{
    const char *p = str;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (!n)
            return (size_t)(p - str) + 1;
        p += n;
    }
    return 0;
}

size_t utf8_trim_partial(const char *str, size_t n)
{
    const unsigned char *p = (const unsigned char *)str;
    size_t lead = n;
    while (lead > 0 && n - lead < 3 && (p[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return n;
    unsigned c = p[lead - 1];
    size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return n - (lead - 1) < want ? lead - 1 : n;
}

char *utf8_mend(char *s)
{
    for (char *p = s; *p;) {
        size_t n = utf8_seq_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
    return s;
}
