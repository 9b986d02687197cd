/*
 * report.c: error lines on stderr, the ABI error count, what the add-in
 * sends through the connection, and the clock.
 */
#include "load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

const char program_name[] = "webhook1c-load";

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long abi_errors;

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&report_lock);
    fprintf(stderr, "%s: %s", program_name, prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&report_lock);
}

void report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
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

/* The connection counts exceptions; a message without one is unexpected in
 * these runs, and events and message boxes are not printed. */
void on_add_error(connection *c, unsigned short wcode, const WCHAR_T *source,
                  const WCHAR_T *descr, long scode)
{
    (void)c; (void)wcode; (void)source;
    if (scode != 0 || !descr)
        return;
    bool terminated;
    char *text = utf8_from_utf16(descr, utf16_len_bounded(descr, SIZE_MAX, &terminated));
    report("AddError without an exception: %s", text);
    free(text);
}

void on_external_event(connection *c, const WCHAR_T *source, const WCHAR_T *message,
                       const WCHAR_T *data)
{
    (void)c; (void)source; (void)message; (void)data;
}

void on_msgbox(const char *kind, const WCHAR_T *text)
{
    (void)kind; (void)text;
}
