/*
 * value.c: the script's value syntax -> tVariant, and tVariant -> the text
 * the host prints.  Buffers of values passed to the add-in are allocated
 * through the tracking memory manager, as 1C does, so that the add-in may
 * legitimately FreeMemory an in/out parameter it replaces.
 *
 * No libm here: the build command does not link -lm.
 */
#include "host.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

#define FNV1A64_INIT 0xcbf29ce484222325ULL

static uint64_t fnv1a64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static bool equals(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses a non-negative decimal count ("52428800") for repeat:/zeros:. */
static bool parse_count(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *out = n;
    return true;
}

/* Days since 1970-01-01 for a proleptic Gregorian date, and back
 * (H. Hinnant's algorithms; exact for any year). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

/* ------------------------------------------------------------------------ */
/* Allocation of buffers handed to the add-in                                */
/* ------------------------------------------------------------------------ */

/* Makes *v a PWSTR of `units` code units (plus a NUL, which is harmless and
 * what the SDK template does).  Returns the buffer to fill. */
static WCHAR_T *make_string(tVariant *v, uint64_t units, char **error)
{
    /* wstrLen is 32-bit, and AllocMemory takes an unsigned long (32-bit on
     * Windows). */
    uint64_t bytes = (units + 1) * sizeof(WCHAR_T);
    if (units > UINT32_MAX || bytes > (uint64_t)ULONG_MAX || bytes > (uint64_t)SIZE_MAX) {
        *error = xprintf("string of %llu code units is too long", (unsigned long long)units);
        return NULL;
    }
    WCHAR_T *buf = mm_alloc((size_t)bytes);
    if (!buf) {
        *error = xprintf("cannot allocate %llu bytes", (unsigned long long)bytes);
        return NULL;
    }
    buf[units] = 0;
    v->pwstrVal = buf;
    v->wstrLen = (uint32_t)units;
    v->vt = VTYPE_PWSTR;
    return buf;
}

/* Makes *v a BLOB of n bytes.  An empty blob has a NULL pointer. */
static char *make_blob(tVariant *v, uint64_t n, char **error)
{
    if (n > UINT32_MAX || n > (uint64_t)ULONG_MAX || n > (uint64_t)SIZE_MAX) {
        *error = xprintf("binary of %llu bytes is too long", (unsigned long long)n);
        return NULL;
    }
    char *buf = NULL;
    if (n > 0) {
        buf = mm_alloc((size_t)n);
        if (!buf) {
            *error = xprintf("cannot allocate %llu bytes", (unsigned long long)n);
            return NULL;
        }
    }
    v->pstrVal = buf;
    v->strLen = (uint32_t)n;
    v->vt = VTYPE_BLOB;
    return buf;
}

static bool string_from_utf8(tVariant *v, const char *s, size_t len, char **error)
{
    size_t units = utf8_to_utf16(s, len, NULL);
    WCHAR_T *buf = make_string(v, units, error);
    if (!buf)
        return false;
    utf8_to_utf16(s, len, buf);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Quoted strings                                                            */
/* ------------------------------------------------------------------------ */

/* Decodes "..." (tok[0] == '"') into UTF-16.  With out == NULL only counts.
 * \uXXXX inserts that raw code unit, so lone surrogates can be produced. */
static bool decode_quoted(const char *tok, size_t len, WCHAR_T *out, size_t *units,
                          char **error)
{
    size_t n = 0;
    size_t i = 1;
    while (i < len) {
        char c = tok[i];
        if (c == '"') {
            if (i != len - 1) {
                *error = xprintf("text after the closing quote");
                return false;
            }
            *units = n;
            return true;
        }
        if (c != '\\') {
            /* A run of literal UTF-8 up to the next escape or quote. */
            size_t start = i;
            while (i < len && tok[i] != '\\' && tok[i] != '"')
                i++;
            n += utf8_to_utf16(tok + start, i - start, out ? out + n : NULL);
            continue;
        }
        if (i + 1 >= len)
            break;
        char e = tok[i + 1];
        WCHAR_T unit;
        switch (e) {
        case '"': unit = '"'; break;
        case '\\': unit = '\\'; break;
        case 'n': unit = '\n'; break;
        case 'r': unit = '\r'; break;
        case 't': unit = '\t'; break;
        case 'u': {
            if (i + 6 > len) {
                *error = xprintf("\\u needs 4 hex digits");
                return false;
            }
            unsigned u = 0;
            for (size_t k = 0; k < 4; k++) {
                int h = hex_digit(tok[i + 2 + k]);
                if (h < 0) {
                    *error = xprintf("\\u needs 4 hex digits");
                    return false;
                }
                u = u * 16 + (unsigned)h;
            }
            unit = (WCHAR_T)u;
            i += 4;
            break;
        }
        default:
            *error = xprintf("unknown escape \\%c", e);
            return false;
        }
        if (out)
            out[n] = unit;
        n++;
        i += 2;
    }
    *error = xprintf("unterminated string");
    return false;
}

static bool quoted_value(const char *tok, size_t len, tVariant *v, char **error)
{
    size_t units;
    if (!decode_quoted(tok, len, NULL, &units, error))
        return false;
    WCHAR_T *buf = make_string(v, units, error);
    if (!buf)
        return false;
    decode_quoted(tok, len, buf, &units, error);
    return true;
}

WCHAR_T *name_from_token(const char *tok, size_t len, char **error)
{
    *error = NULL;
    if (len > 0 && tok[0] == '"') {
        size_t units;
        if (!decode_quoted(tok, len, NULL, &units, error))
            return NULL;
        WCHAR_T *w = xmalloc((units + 1) * sizeof(WCHAR_T));
        decode_quoted(tok, len, w, &units, error);
        w[units] = 0;
        return w;
    }
    return utf16_from_utf8(tok, len, NULL);
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */
/* ------------------------------------------------------------------------ */

static size_t skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* [+-]digits */
static bool is_integer_literal(const char *s, size_t len)
{
    size_t i = (len > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    size_t end = skip_digits(s, i, len);
    return end > i && end == len;
}

/* [+-](digits[.digits]|.digits)[(e|E)[+-]digits]: decimal only, so that
 * words like "inf" or "nan" stay strings. */
static bool is_number_literal(const char *s, size_t len)
{
    size_t i = (len > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    size_t int_end = skip_digits(s, i, len);
    size_t digits = int_end - i;
    i = int_end;
    if (i < len && s[i] == '.') {
        size_t frac_end = skip_digits(s, i + 1, len);
        digits += frac_end - (i + 1);
        i = frac_end;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            j++;
        size_t exp_end = skip_digits(s, j, len);
        if (exp_end == j)
            return false;
        i = exp_end;
    }
    return i == len;
}

/* 1C passes integral numbers that fit as I4 and everything else as R8. */
static bool number_value(const char *tok, size_t len, tVariant *v)
{
    if (is_integer_literal(tok, len)) {
        errno = 0;
        long long n = strtoll(tok, NULL, 10);
        if (errno == 0 && n >= INT32_MIN && n <= INT32_MAX) {
            v->lVal = (int32_t)n;
            v->vt = VTYPE_I4;
            return true;
        }
    }
    if (is_integer_literal(tok, len) || is_number_literal(tok, len)) {
        v->dblVal = strtod(tok, NULL);
        v->vt = VTYPE_R8;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Prefixed forms                                                            */
/* ------------------------------------------------------------------------ */

static bool parse_fixed_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* date:YYYY-MM-DDTHH:MM:SS -> VTYPE_TM, the way 1C passes a Date. */
static bool date_value(const char *s, size_t len, tVariant *v, char **error)
{
    static const unsigned days_in_month[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;
    bool shape = len == 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
                 s[16] == ':' && parse_fixed_digits(s, 4, &y) &&
                 parse_fixed_digits(s + 5, 2, &mo) && parse_fixed_digits(s + 8, 2, &d) &&
                 parse_fixed_digits(s + 11, 2, &h) && parse_fixed_digits(s + 14, 2, &mi) &&
                 parse_fixed_digits(s + 17, 2, &se);
    if (!shape || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month[mo - 1] || h > 23 ||
        mi > 59 || se > 59) {
        *error = xprintf("a date must look like date:2024-01-31T23:59:59");
        return false;
    }
    long long days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    long long check_y;
    unsigned check_m, check_d;
    civil_from_days(days, &check_y, &check_m, &check_d);
    if (check_m != (unsigned)mo || check_d != (unsigned)d) {
        *error = xprintf("no such day: %.10s", s);   /* e.g. 2023-02-29 */
        return false;
    }
    struct tm *t = &v->tmVal;
    t->tm_year = y - 1900;
    t->tm_mon = mo - 1;
    t->tm_mday = d;
    t->tm_hour = h;
    t->tm_min = mi;
    t->tm_sec = se;
    t->tm_wday = (int)(((days % 7) + 11) % 7);  /* 1970-01-01 was a Thursday (4) */
    t->tm_yday = (int)(days - days_from_civil(y, 1, 1));
    t->tm_isdst = 0;
    v->vt = VTYPE_TM;
    return true;
}

static bool hex_value(const char *s, size_t len, tVariant *v, char **error)
{
    if (len % 2 != 0) {
        *error = xprintf("hex: needs an even number of hex digits");
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (hex_digit(s[i]) < 0) {
            *error = xprintf("hex: contains a non-hex character");
            return false;
        }
    }
    char *buf = make_blob(v, len / 2, error);
    if (!buf && len > 0)
        return false;
    for (size_t i = 0; i < len / 2; i++)
        buf[i] = (char)(hex_digit(s[2 * i]) * 16 + hex_digit(s[2 * i + 1]));
    return true;
}

static bool file_value(const char *path, size_t len, bool as_text, tVariant *v, char **error)
{
    char *p = xstrndup(path, len);
    char *data;
    size_t size;
    bool ok = read_file_all(p, &data, &size, error);
    free(p);
    if (!ok)
        return false;
    if (as_text) {
        ok = string_from_utf8(v, data, size, error);
    } else {
        char *buf = make_blob(v, size, error);
        ok = buf != NULL || (size == 0 && v->vt == VTYPE_BLOB);
        if (buf)
            memcpy(buf, data, size);
    }
    free(data);
    return ok;
}

/* repeat:N:C -> a string of N copies of the ASCII character C. */
static bool repeat_value(const char *s, size_t len, tVariant *v, char **error)
{
    const char *colon = memchr(s, ':', len);
    uint64_t n;
    if (!colon || !parse_count(s, (size_t)(colon - s), &n) || (size_t)(s + len - colon) != 2 ||
        (unsigned char)colon[1] >= 0x80) {
        *error = xprintf("repeat: must look like repeat:1000:a (one ASCII character)");
        return false;
    }
    WCHAR_T *buf = make_string(v, n, error);
    if (!buf)
        return false;
    for (uint64_t i = 0; i < n; i++)
        buf[i] = (WCHAR_T)(unsigned char)colon[1];
    return true;
}

static bool zeros_value(const char *s, size_t len, tVariant *v, char **error)
{
    uint64_t n;
    if (!parse_count(s, len, &n)) {
        *error = xprintf("zeros: must look like zeros:1024");
        return false;
    }
    char *buf = make_blob(v, n, error);
    if (!buf && n > 0)
        return false;
    if (buf)
        memset(buf, 0, (size_t)n);
    return true;
}

bool value_from_token(const char *tok, size_t len, tVariant *v, char **error)
{
    memset(v, 0, sizeof *v);
    *error = NULL;
    bool ok;
    if (len > 0 && tok[0] == '"')
        ok = quoted_value(tok, len, v, error);
    else if (number_value(tok, len, v))
        ok = true;
    else if (equals(tok, len, "true") || equals(tok, len, "Истина") ||
             equals(tok, len, "false") || equals(tok, len, "Ложь")) {
        v->bVal = equals(tok, len, "true") || equals(tok, len, "Истина");
        v->vt = VTYPE_BOOL;
        ok = true;
    } else if (equals(tok, len, "undefined") || equals(tok, len, "Неопределено")) {
        v->vt = VTYPE_EMPTY;
        ok = true;
    } else if (equals(tok, len, "null")) {
        v->vt = VTYPE_NULL;
        ok = true;
    } else if (has_prefix(tok, len, "date:"))
        ok = date_value(tok + 5, len - 5, v, error);
    else if (has_prefix(tok, len, "hex:"))
        ok = hex_value(tok + 4, len - 4, v, error);
    else if (has_prefix(tok, len, "file:"))
        ok = file_value(tok + 5, len - 5, false, v, error);
    else if (has_prefix(tok, len, "textfile:"))
        ok = file_value(tok + 9, len - 9, true, v, error);
    else if (has_prefix(tok, len, "repeat:"))
        ok = repeat_value(tok + 7, len - 7, v, error);
    else if (has_prefix(tok, len, "zeros:"))
        ok = zeros_value(tok + 6, len - 6, v, error);
    else
        ok = string_from_utf8(v, tok, len, error);
    if (!ok) {
        value_free(v);
        if (!*error)
            *error = xprintf("bad value");
    }
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Reading values the add-in produced                                        */
/* ------------------------------------------------------------------------ */

/* The buffer of a PWSTR/PSTR/BLOB value, in bytes, checked against the
 * tracked block so that a wrong length cannot make the host read past it.
 * Foreign buffers are read as they are (their free is reported later). */
static const void *value_buffer(const tVariant *v, uint64_t *bytes, bool report)
{
    const void *p;
    uint64_t n;
    if (v->vt == VTYPE_PWSTR) {
        p = v->pwstrVal;
        n = (uint64_t)v->wstrLen * sizeof(WCHAR_T);
    } else {
        p = v->pstrVal;
        n = v->strLen;
    }
    if (n > 0 && !p) {
        if (report)
            abi_error("value of type %u has length %llu bytes but a NULL pointer", (unsigned)v->vt,
                      (unsigned long long)n);
        *bytes = 0;
        return NULL;
    }
    long long block = p ? mm_block_size(p) : -1;
    if (block >= 0 && (uint64_t)block < n) {
        if (report)
            abi_error("value of type %u has length %llu bytes but its AllocMemory block is %lld bytes",
                      (unsigned)v->vt, (unsigned long long)n, block);
        n = (uint64_t)block;
    }
    *bytes = n;
    return p;
}

/* Shortest text that reads back as the same value ("1.5", "30", "1000",
 * "1e+20"): plain notation for decimal exponents -5..16, like JSON
 * serializers, exponent notation beyond. */
static void format_real(strbuf *sb, double d, bool single)
{
    if (d != d) {
        sb_puts(sb, "nan");
        return;
    }
    if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
        sb_puts(sb, d > 0 ? "inf" : "-inf");
        return;
    }
    char buf[64];
    int digits = 17;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)d : back == d) {
            digits = prec;
            break;
        }
    }
    snprintf(buf, sizeof buf, "%.*e", digits - 1, d);
    const char *e = strchr(buf, 'e');
    long exponent = e ? strtol(e + 1, NULL, 10) : 0;
    int precision = digits;
    if (exponent >= -5 && exponent < 17 && exponent + 1 > precision)
        precision = (int)exponent + 1;  /* %g would switch to 1e+03 otherwise */
    snprintf(buf, sizeof buf, "%.*g", precision, d);
    sb_puts(sb, buf);
}

static void format_date_parts(strbuf *sb, long long y, int mo, int d, int h, int mi, int s)
{
    sb_printf(sb, "date %04lld-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s);
}

/* OLE automation date: days since 1899-12-30; the fraction is the time of
 * day, and for negative values it counts forward from the (earlier) day. */
static void format_ole_date(strbuf *sb, double date)
{
    if (!(date > -3e6 && date < 3e6)) {
        sb_printf(sb, "type %u", (unsigned)VTYPE_DATE);
        return;
    }
    long long day = (long long)date;     /* truncates toward zero */
    double frac = date - (double)day;
    if (frac < 0)
        frac = -frac;
    long long secs = (long long)(frac * 86400.0 + 0.5);
    if (secs >= 86400) {
        secs -= 86400;
        day += date < 0 ? -1 : 1;
    }
    long long y;
    unsigned m, d;
    civil_from_days(day - 25569, &y, &m, &d);   /* 25569 = 1899-12-30 .. 1970-01-01 */
    format_date_parts(sb, y, (int)m, (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
                      (int)(secs % 60));
}

static void format_binary(strbuf *sb, const tVariant *v)
{
    uint64_t n;
    const unsigned char *p = value_buffer(v, &n, true);
    sb_printf(sb, "binary %llu", (unsigned long long)n);
    if (n > 0)
        sb_putc(sb, ' ');   /* no trailing space after "binary 0" */
    if (n > 4096) {
        sb_printf(sb, "fnv1a64=%016llx", (unsigned long long)fnv1a64(p, (size_t)n, FNV1A64_INIT));
        return;
    }
    static const char digits[] = "0123456789abcdef";
    sb_reserve(sb, (size_t)n * 2);
    for (uint64_t i = 0; i < n; i++) {
        sb->data[sb->len++] = digits[p[i] >> 4];
        sb->data[sb->len++] = digits[p[i] & 15];
    }
    sb->data[sb->len] = '\0';
}

void value_format(strbuf *sb, const tVariant *v)
{
    switch (v->vt) {
    case VTYPE_EMPTY: sb_puts(sb, "undefined"); break;
    case VTYPE_NULL: sb_puts(sb, "null"); break;
    case VTYPE_I1: sb_printf(sb, "number %d", (int)v->i8Val); break;
    case VTYPE_I2: sb_printf(sb, "number %d", (int)v->shortVal); break;
    case VTYPE_I4: sb_printf(sb, "number %ld", (long)v->lVal); break;
    case VTYPE_INT: sb_printf(sb, "number %d", v->intVal); break;
    case VTYPE_I8: sb_printf(sb, "number %lld", (long long)v->llVal); break;
    case VTYPE_UI1: sb_printf(sb, "number %u", (unsigned)v->ui8Val); break;
    case VTYPE_UI2: sb_printf(sb, "number %u", (unsigned)v->ushortVal); break;
    case VTYPE_UI4: sb_printf(sb, "number %lu", (unsigned long)v->ulVal); break;
    case VTYPE_UINT: sb_printf(sb, "number %u", v->uintVal); break;
    case VTYPE_UI8: sb_printf(sb, "number %llu", (unsigned long long)v->ullVal); break;
    case VTYPE_R4:
        sb_puts(sb, "number ");
        format_real(sb, v->fltVal, true);
        break;
    case VTYPE_R8:
        sb_puts(sb, "number ");
        format_real(sb, v->dblVal, false);
        break;
    case VTYPE_BOOL: {
        /* Read the byte: a C++ bool other than 0/1 would be UB as _Bool. */
        unsigned char b;
        memcpy(&b, &v->bVal, 1);
        sb_puts(sb, b ? "bool true" : "bool false");
        break;
    }
    case VTYPE_DATE: format_ole_date(sb, v->date); break;
    case VTYPE_TM:
        format_date_parts(sb, (long long)v->tmVal.tm_year + 1900, v->tmVal.tm_mon + 1,
                          v->tmVal.tm_mday, v->tmVal.tm_hour, v->tmVal.tm_min, v->tmVal.tm_sec);
        break;
    case VTYPE_PWSTR: {
        uint64_t bytes;
        const WCHAR_T *p = value_buffer(v, &bytes, true);
        sb_puts(sb, "string \"");
        sb_append_json_utf16(sb, p, (size_t)(bytes / sizeof(WCHAR_T)));
        sb_putc(sb, '"');
        break;
    }
    case VTYPE_BLOB: format_binary(sb, v); break;
    default: sb_printf(sb, "type %u", (unsigned)v->vt); break;
    }
}

static bool owns_buffer(const tVariant *v)
{
    return v->vt == VTYPE_PWSTR || v->vt == VTYPE_PSTR || v->vt == VTYPE_BLOB;
}

void value_free(tVariant *v)
{
    if (owns_buffer(v)) {
        /* pwstrVal and pstrVal share offset 0. */
        void *p = v->vt == VTYPE_PWSTR ? (void *)v->pwstrVal : (void *)v->pstrVal;
        mm_free(&p);
    }
    memset(v, 0, sizeof *v);
}

value_fingerprint value_fingerprint_of(const tVariant *v)
{
    value_fingerprint f = { v->vt, 0, 0 };
    switch (v->vt) {
    case VTYPE_EMPTY:
    case VTYPE_NULL: break;
    case VTYPE_I1: f.bits = (uint64_t)(int64_t)v->i8Val; break;
    case VTYPE_I2: f.bits = (uint64_t)(int64_t)v->shortVal; break;
    case VTYPE_I4: f.bits = (uint64_t)(int64_t)v->lVal; break;
    case VTYPE_INT: f.bits = (uint64_t)(int64_t)v->intVal; break;
    case VTYPE_I8: f.bits = (uint64_t)v->llVal; break;
    case VTYPE_UI1: f.bits = v->ui8Val; break;
    case VTYPE_UI2: f.bits = v->ushortVal; break;
    case VTYPE_UI4: f.bits = v->ulVal; break;
    case VTYPE_UINT: f.bits = v->uintVal; break;
    case VTYPE_UI8: f.bits = v->ullVal; break;
    case VTYPE_R4: { uint32_t b; memcpy(&b, &v->fltVal, 4); f.bits = b; break; }
    case VTYPE_R8:
    case VTYPE_DATE: memcpy(&f.bits, &v->dblVal, 8); break;
    case VTYPE_BOOL: { unsigned char b; memcpy(&b, &v->bVal, 1); f.bits = b != 0; break; }
    case VTYPE_TM: {
        int parts[6] = { v->tmVal.tm_year, v->tmVal.tm_mon, v->tmVal.tm_mday,
                         v->tmVal.tm_hour, v->tmVal.tm_min, v->tmVal.tm_sec };
        f.bits = fnv1a64(parts, sizeof parts, FNV1A64_INIT);
        break;
    }
    case VTYPE_PWSTR:
    case VTYPE_PSTR:
    case VTYPE_BLOB: {
        uint64_t n;
        const void *p = value_buffer(v, &n, false);
        f.len = n;
        f.bits = fnv1a64(p, (size_t)n, FNV1A64_INIT);
        break;
    }
    default:
        f.bits = fnv1a64(v, offsetof(tVariant, cbElements), FNV1A64_INIT);
        break;
    }
    return f;
}

bool value_fingerprint_equal(const value_fingerprint *a, const value_fingerprint *b)
{
    return a->vt == b->vt && a->bits == b->bits && a->len == b->len;
}
