/*
 * util.c: the host's own memory helpers (never used for buffers handed to
 * the add-in: those come from memory.c), growable strings and reading files.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory in the host itself is not something a test can recover
 * from; stop with a clear message instead of crashing later. */
static void out_of_memory(size_t n)
{
    fprintf(stderr, "%s: out of memory (%llu bytes)\n", program_name, (unsigned long long)n);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(p, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    return p;
}

void sb_reserve(strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
    sb->data = xrealloc(sb->data, cap);
    sb->data[sb->len] = '\0';
    sb->cap = cap;
}

void sb_append(strbuf *sb, const char *s, size_t n)
{
    sb_reserve(sb, n);
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void sb_puts(strbuf *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

void sb_putc(strbuf *sb, char c)
{
    sb_append(sb, &c, 1);
}

void sb_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_reserve(sb, (size_t)n);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
        sb->len += (size_t)n;
    } else {
        sb_reserve(sb, 0);
    }
    va_end(ap2);
}

const char *sb_str(strbuf *sb)
{
    return sb->data ? sb->data : "";
}

void sb_free(strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

bool read_file_all(const char *utf8_path, char **data, size_t *len, char **error)
{
    *data = NULL;
    *len = 0;
    *error = NULL;
    FILE *f = host_fopen(utf8_path, "rb");
    if (!f) {
        *error = xprintf("cannot open %s: %s", utf8_path, strerror(errno));
        return false;
    }
    /* Read in chunks: works for pipes and files alike, no size limit. */
    strbuf sb = {0};
    for (;;) {
        sb_reserve(&sb, 1 << 16);
        size_t got = fread(sb.data + sb.len, 1, sb.cap - sb.len - 1, f);
        sb.len += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        sb_free(&sb);
        *error = xprintf("cannot read %s", utf8_path);
        return false;
    }
    sb.data[sb.len] = '\0';   /* fread does not write it */
    *data = sb.data;
    *len = sb.len;
    return true;
}
