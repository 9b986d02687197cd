/*
 * output.c: every line the host prints goes through here, under one lock,
 * because AddError and ExternalEvent may arrive from the add-in's own
 * threads while the main thread is printing.  That includes what the
 * connection passes on (on_add_error, on_external_event, on_msgbox) and
 * the list of blocks leaked at exit.
 */
#include "host.h"

#include <stdlib.h>
#include <string.h>

static host_mutex *out_lock;
static long abi_errors;
static long command_errors;

void output_init(void)
{
    out_lock = host_mutex_new();
}

void output_done(void)
{
    host_mutex_free(out_lock);
    out_lock = NULL;
}

static void vprint_line(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    if (prefix)
        fputs(prefix, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void out_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_mutex_lock(out_lock);
    vprint_line(stdout, NULL, fmt, ap);
    host_mutex_unlock(out_lock);
    va_end(ap);
}

void out_line_sb(const char *prefix, strbuf *sb)
{
    host_mutex_lock(out_lock);
    fputs(prefix, stdout);
    fwrite(sb_str(sb), 1, sb->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    host_mutex_unlock(out_lock);
}

void abi_error(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    host_mutex_lock(out_lock);
    abi_errors++;
    vprint_line(stdout, "ABI ERROR: ", fmt, ap);
    vprint_line(stderr, "ABI ERROR: ", fmt, ap2);
    host_mutex_unlock(out_lock);
    va_end(ap2);
    va_end(ap);
}

void command_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_mutex_lock(out_lock);
    command_errors++;
    vprint_line(stdout, "! ", fmt, ap);
    host_mutex_unlock(out_lock);
    va_end(ap);
}

long abi_error_count(void)
{
    host_mutex_lock(out_lock);
    long n = abi_errors;
    host_mutex_unlock(out_lock);
    return n;
}

long command_error_count(void)
{
    host_mutex_lock(out_lock);
    long n = command_errors;
    host_mutex_unlock(out_lock);
    return n;
}

bool exc_report(connection *conn, unsigned long mark, bool ok)
{
    char *descr = connection_exception_since(conn, mark);
    bool raised = !ok || descr != NULL;
    if (descr) {
        out_line("! %s", descr);
    } else if (!ok) {
        /* 1C raises an exception without any text here; the product must
         * always say why, so this counts against the add-in. */
        out_line("! (the add-in returned false without AddError)");
        abi_error("the add-in returned false without AddError");
    }
    free(descr);
    return raised;
}

/* ------------------------------------------------------------------------ */
/* What the add-in sends through the connection                             */
/* ------------------------------------------------------------------------ */

void on_add_error(connection *c, unsigned short wcode, const WCHAR_T *source,
                  const WCHAR_T *descr, long scode)
{
    (void)c;
    strbuf line = {0};
    sb_printf(&line, "wcode=%u scode=%ld source=", (unsigned)wcode, scode);
    sb_append_quoted_utf16z(&line, source);
    sb_puts(&line, " descr=");
    sb_append_quoted_utf16z(&line, descr);
    out_line_sb("# AddError ", &line);
    sb_free(&line);
}

void on_external_event(connection *c, const WCHAR_T *source, const WCHAR_T *message,
                       const WCHAR_T *data)
{
    (void)c;
    strbuf line = {0};
    sb_append_quoted_utf16z(&line, source);
    sb_putc(&line, ' ');
    sb_append_quoted_utf16z(&line, message);
    sb_putc(&line, ' ');
    sb_append_quoted_utf16z(&line, data);
    out_line_sb("* event ", &line);
    sb_free(&line);
}

void on_msgbox(const char *kind, const WCHAR_T *text)
{
    strbuf line = {0};
    sb_printf(&line, "* msgbox %s ", kind);
    sb_append_quoted_utf16z(&line, text);
    out_line_sb("", &line);
    sb_free(&line);
}

/* ------------------------------------------------------------------------ */
/* Leaks                                                                     */
/* ------------------------------------------------------------------------ */

#define LEAKS_LISTED 20

static void list_leak(const void *p, size_t size, void *ctx)
{
    size_t *count = ctx;
    if ((*count)++ >= LEAKS_LISTED)
        return;
    /* A short hex preview usually identifies the leaked value. */
    strbuf sb = {0};
    size_t show = size < 32 ? size : 32;
    const unsigned char *b = p;
    for (size_t k = 0; k < show; k++)
        sb_printf(&sb, "%02x", b[k]);
    out_line("# leaked block: %llu bytes: %s%s", (unsigned long long)size, sb_str(&sb),
             show < size ? "..." : "");
    sb_free(&sb);
}

void memory_report_and_release_live(void)
{
    size_t count = 0;
    memory_release_live(list_leak, &count);
    if (count > LEAKS_LISTED)
        out_line("# leaked blocks not listed: %llu", (unsigned long long)(count - LEAKS_LISTED));
}
