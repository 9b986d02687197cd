/*
 * text.c: UTF-8 <-> UTF-16 conversion, JSON-style escaping and the case
 * mapping used to check the add-in's case-insensitive name lookup.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s[0..len).  Returns the code point and the
 * number of bytes used; malformed input gives U+FFFD and consumes 1 byte so
 * that the next valid character is not lost. */
static uint32_t utf8_decode(const unsigned char *s, size_t len, size_t *used)
{
    unsigned char c = s[0];
    *used = 1;
    if (c < 0x80)
        return c;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2; cp = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3; cp = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if (n > len)
        return 0xFFFD;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    *used = n;
    return cp;
}

size_t utf8_to_utf16(const char *s, size_t len, WCHAR_T *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        size_t used;
        uint32_t cp = utf8_decode(p + i, len - i, &used);
        i += used;
        if (cp >= 0x10000) {
            if (out) {
                cp -= 0x10000;
                out[units] = (WCHAR_T)(0xD800 + (cp >> 10));
                out[units + 1] = (WCHAR_T)(0xDC00 + (cp & 0x3FF));
            }
            units += 2;
        } else {
            if (out)
                out[units] = (WCHAR_T)cp;
            units++;
        }
    }
    return units;
}

WCHAR_T *utf16_from_utf8(const char *s, size_t len, size_t *out_units)
{
    size_t n = utf8_to_utf16(s, len, NULL);
    WCHAR_T *w = xmalloc((n + 1) * sizeof(WCHAR_T));
    utf8_to_utf16(s, len, w);
    w[n] = 0;
    if (out_units)
        *out_units = n;
    return w;
}

static void sb_put_code_point(strbuf *sb, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_append(sb, b, n);
}

/* Reads the character at s[*i], combining a valid surrogate pair.  Returns
 * the code point, or the lone surrogate itself with *lone set. */
static uint32_t utf16_next(const WCHAR_T *s, size_t units, size_t *i, bool *lone)
{
    uint32_t u = s[*i];
    *lone = false;
    (*i)++;
    if (u >= 0xD800 && u <= 0xDBFF && *i < units && s[*i] >= 0xDC00 && s[*i] <= 0xDFFF) {
        uint32_t lo = s[*i];
        (*i)++;
        return 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (u >= 0xD800 && u <= 0xDFFF)
        *lone = true;
    return u;
}

void sb_append_utf16(strbuf *sb, const WCHAR_T *s, size_t units)
{
    sb_reserve(sb, units);
    for (size_t i = 0; i < units;) {
        bool lone;
        uint32_t cp = utf16_next(s, units, &i, &lone);
        sb_put_code_point(sb, lone ? 0xFFFD : cp);
    }
}

char *utf8_from_utf16(const WCHAR_T *s, size_t units)
{
    strbuf sb = {0};
    sb_append_utf16(&sb, s, units);
    return sb.data;
}

void sb_append_json_utf16(strbuf *sb, const WCHAR_T *s, size_t units)
{
    sb_reserve(sb, units + units / 8);
    for (size_t i = 0; i < units;) {
        bool lone;
        uint32_t cp = utf16_next(s, units, &i, &lone);
        switch (cp) {
        case '"': sb_append(sb, "\\\"", 2); continue;
        case '\\': sb_append(sb, "\\\\", 2); continue;
        case '\n': sb_append(sb, "\\n", 2); continue;
        case '\r': sb_append(sb, "\\r", 2); continue;
        case '\t': sb_append(sb, "\\t", 2); continue;
        default: break;
        }
        if (lone || cp < 0x20 || cp == 0x7F)
            sb_printf(sb, "\\u%04x", (unsigned)cp);
        else
            sb_put_code_point(sb, cp);
    }
}

size_t utf16_len_bounded(const WCHAR_T *s, size_t max_units, bool *terminated)
{
    size_t n = 0;
    while (n < max_units && s[n] != 0)
        n++;
    *terminated = n < max_units;
    return n;
}

void sb_append_quoted_utf16z(strbuf *sb, const WCHAR_T *s)
{
    if (!s) {
        sb_puts(sb, "null");
        return;
    }
    bool terminated;
    size_t n = utf16_len_bounded(s, SIZE_MAX, &terminated);
    sb_putc(sb, '"');
    sb_append_json_utf16(sb, s, n);
    sb_putc(sb, '"');
}

static WCHAR_T case_map(WCHAR_T c, bool upper)
{
    if (upper) {
        if (c >= 'a' && c <= 'z')
            return (WCHAR_T)(c - 0x20);
        if (c >= 0x0430 && c <= 0x044F)     /* а-я -> А-Я */
            return (WCHAR_T)(c - 0x20);
        if (c == 0x0451)                    /* ё -> Ё */
            return 0x0401;
    } else {
        if (c >= 'A' && c <= 'Z')
            return (WCHAR_T)(c + 0x20);
        if (c >= 0x0410 && c <= 0x042F)     /* А-Я -> а-я */
            return (WCHAR_T)(c + 0x20);
        if (c == 0x0401)                    /* Ё -> ё */
            return 0x0451;
    }
    return c;
}

WCHAR_T *utf16_case_copy(const WCHAR_T *s, size_t units, bool upper)
{
    WCHAR_T *d = xmalloc((units + 1) * sizeof(WCHAR_T));
    for (size_t i = 0; i < units; i++)
        d[i] = case_map(s[i], upper);
    d[units] = 0;
    return d;
}

bool utf16_equal(const WCHAR_T *a, size_t alen, const WCHAR_T *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen * sizeof(WCHAR_T)) == 0);
}
