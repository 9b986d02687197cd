/*
 * output.c: every line the host prints goes through here, under one lock,
 * because AddError and ExternalEvent may arrive from the add-in's own
 * threads while the main thread is printing.
 */
#include "host.h"

#include <stdlib.h>
#include <string.h>

static host_mutex *out_lock;
static long abi_errors;
static long command_errors;

/* Exception tracking (see exc_begin). */
static bool exc_seen;
static char *exc_descr;

void output_init(void)
{
    out_lock = host_mutex_new();
}

void output_done(void)
{
    free(exc_descr);
    exc_descr = NULL;
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

void exc_begin(void)
{
    host_mutex_lock(out_lock);
    exc_seen = false;
    free(exc_descr);
    exc_descr = NULL;
    host_mutex_unlock(out_lock);
}

void exc_note_error(const char *descr_utf8)
{
    char *copy = xstrndup(descr_utf8, strlen(descr_utf8));
    host_mutex_lock(out_lock);
    exc_seen = true;
    free(exc_descr);
    exc_descr = copy;
    host_mutex_unlock(out_lock);
}

char *exc_end(void)
{
    host_mutex_lock(out_lock);
    char *d = exc_seen ? exc_descr : NULL;
    if (exc_seen)
        exc_descr = NULL;
    exc_seen = false;
    host_mutex_unlock(out_lock);
    return d;
}

bool exc_report(bool ok, char *descr)
{
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
