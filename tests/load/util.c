/*
 * util.c: allocation, UTF-8/UTF-16, files, the clock, RSS and error lines.
 */
#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long abi_errors;

void util_init(void)
{
    atomic_store(&abi_errors, 0);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("webhook1c-load: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fputs("webhook1c-load: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* One UTF-8 sequence at s[0..len): the code point and the bytes used;
 * malformed input gives U+FFFD and consumes one byte. */
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

WCHAR_T *utf16_dup(const char *s, size_t len, size_t *units)
{
    size_t n = utf8_to_utf16(s, len, NULL);
    WCHAR_T *w = xmalloc((n + 1) * sizeof(WCHAR_T));
    utf8_to_utf16(s, len, w);
    w[n] = 0;
    if (units)
        *units = n;
    return w;
}

char *utf8_dup(const WCHAR_T *s, size_t units)
{
    char *out = xmalloc(units * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units && s[i + 1] >= 0xDC00 &&
            s[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        /* A pair takes 2 units and 4 bytes: within the 3-per-unit budget. */
        if (cp < 0x80) {
            out[n++] = (char)cp;
        } else if (cp < 0x800) {
            out[n++] = (char)(0xC0 | (cp >> 6));
            out[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[n++] = (char)(0xE0 | (cp >> 12));
            out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[n++] = (char)(0xF0 | (cp >> 18));
            out[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[n] = '\0';
    return out;
}

size_t utf16_len_bounded(const WCHAR_T *s, size_t max, bool *terminated)
{
    size_t n = 0;
    while (n < max && s[n] != 0)
        n++;
    *terminated = n < max;
    return n;
}

bool read_file(const char *path, char **data, size_t *len, char **error)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *error = xprintf("cannot open %s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                *error = xprintf("%s: out of memory", path);
                return false;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        *error = xprintf("cannot read %s", path);
        return false;
    }
    *data = buf;
    *len = n;
    return true;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&report_lock);
    fputs("webhook1c-load: ", stderr);
    if (prefix)
        fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&report_lock);
}

void report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(NULL, fmt, ap);
    va_end(ap);
}

void abi_error(const char *fmt, ...)
{
    atomic_fetch_add(&abi_errors, 1);
    va_list ap;
    va_start(ap, fmt);
    vreport("ABI ERROR: ", fmt, ap);
    va_end(ap);
}

long abi_error_count(void)
{
    return atomic_load(&abi_errors);
}
