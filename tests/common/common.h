/*
 * common.h: what the test host (tests/host/) and the load host (tests/load/)
 * share: the OS services, host-side allocation and text helpers, the
 * tracking IMemoryManager and the IAddInDefBaseEx connection.  Include it
 * (through host.h or load.h) first in every .c file: it sets the feature
 * macros the system headers look at.
 *
 * Each program defines the few functions declared under "Provided by each
 * program" below: its name, how it reports an ABI error, and what it does
 * with the messages the add-in sends through the connection.
 */
#ifndef WEBHOOK1C_COMMON_H
#define WEBHOOK1C_COMMON_H

#ifdef _WIN32
/* mingw: use its C99 printf (%zu, %lld, %g behave as on Linux). */
#ifndef __USE_MINGW_ANSI_STDIO
#define __USE_MINGW_ANSI_STDIO 1
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#else
/* nanosleep, dlopen, posix_spawn and pthreads under -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../host/addin_host.h"

/* The destructor slots of a host object's vtable: two in the Itanium C++
 * ABI, one in MSVC's.  The add-in must never call them. */
#ifdef _WIN32
#define HOST_DTOR_SLOTS(fn) .dtor_deleting = (fn)
#else
#define HOST_DTOR_SLOTS(fn) .dtor_complete = (fn), .dtor_deleting = (fn)
#endif

#if defined(__GNUC__)
#define HOST_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HOST_PRINTF(fmt_index, first_arg)
#endif

/* ---- Provided by each program ------------------------------------------- */

/* "webhook1c-host" or "webhook1c-load", for fatal messages on stderr. */
extern const char program_name[];
/* A contract violation by the add-in: reported and counted. */
void abi_error(const char *fmt, ...) HOST_PRINTF(1, 2);

/* ---- platform.c: the few OS services that differ between Linux/Windows -- */

typedef struct host_mutex host_mutex;
host_mutex *host_mutex_new(void);
void host_mutex_free(host_mutex *m);
void host_mutex_lock(host_mutex *m);
void host_mutex_unlock(host_mutex *m);

typedef void (*host_generic_fn)(void);
typedef struct host_library host_library;
/* Loads a library by UTF-8 path; on failure returns NULL and a malloc'ed
 * message in *error. */
host_library *host_library_open(const char *utf8_path, char **error);
host_generic_fn host_library_symbol(host_library *lib, const char *name);
void host_library_close(host_library *lib);

FILE *host_fopen(const char *utf8_path, const char *mode);
/* The DACL of a file or folder as SDDL ("D:P(A;OICI;FA;;;S-1-5-21-...)"),
 * host-malloc'ed; NULL with a host-malloc'ed message in *error, also on
 * systems without ACLs (everything but Windows). */
char *host_path_dacl(const char *utf8_path, char **error);
void host_sleep_seconds(double seconds);
/* The process's resident memory in KiB: VmRSS from /proc/self/status on
 * Linux, the working set on Windows; -1 when it cannot be read. */
long long host_rss_kb(void);
/* CPU time (user and system) the process has used so far, in seconds;
 * -1 when the system does not say. */
double host_cpu_seconds(void);
/* Prepares stdout (UTF-8, binary) and, on Windows, replaces argv by UTF-8
 * copies of the wide command line.  host_platform_done frees those. */
void host_platform_init(int *argc, char ***argv);
void host_platform_done(void);

/* ---- util.c: growable buffers and checked allocation (host memory) ------ */

/* Out of memory in the host itself ends the process (status 2). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);
/* malloc'ed formatted string. */
char *xprintf(const char *fmt, ...) HOST_PRINTF(1, 2);

typedef struct strbuf {
    char *data;     /* NUL-terminated once anything was reserved or appended */
    size_t len;
    size_t cap;
} strbuf;

void sb_reserve(strbuf *sb, size_t extra);
void sb_append(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) HOST_PRINTF(2, 3);
const char *sb_str(strbuf *sb);  /* "" for an empty buffer */
void sb_free(strbuf *sb);

/* Reads a whole file into host memory (NUL-terminated).  Returns false with
 * errno-based text in *error (malloc'ed) on failure. */
bool read_file_all(const char *utf8_path, char **data, size_t *len, char **error);

/* ---- text.c: UTF-8 / UTF-16 conversions and escaping -------------------- */

/* Converts UTF-8 to UTF-16 (invalid bytes become U+FFFD).  With out == NULL
 * only counts the code units. */
size_t utf8_to_utf16(const char *s, size_t len, WCHAR_T *out);
/* Host-malloc'ed NUL-terminated UTF-16 copy of a UTF-8 string. */
WCHAR_T *utf16_from_utf8(const char *s, size_t len, size_t *out_units);
/* Appends UTF-16 as UTF-8; unpaired surrogates become U+FFFD. */
void sb_append_utf16(strbuf *sb, const WCHAR_T *s, size_t units);
/* Host-malloc'ed UTF-8 copy of `units` UTF-16 code units. */
char *utf8_from_utf16(const WCHAR_T *s, size_t units);
/* Appends UTF-16 as the inside of a JSON string: \" \\ \n \r \t, other
 * controls \u00XX, unpaired surrogates \udXXX, valid pairs as UTF-8. */
void sb_append_json_utf16(strbuf *sb, const WCHAR_T *s, size_t units);
/* Appends "..." with JSON escaping, or null for a NULL pointer. */
void sb_append_quoted_utf16z(strbuf *sb, const WCHAR_T *s);
/* Length of a NUL-terminated UTF-16 string, scanning at most max_units; sets
 * *terminated to whether the NUL was found within the limit. */
size_t utf16_len_bounded(const WCHAR_T *s, size_t max_units, bool *terminated);
/* Case mapping for name lookup checks: ASCII and Cyrillic А-Я/а-я, Ё/ё. */
WCHAR_T *utf16_case_copy(const WCHAR_T *s, size_t units, bool upper);
bool utf16_equal(const WCHAR_T *a, size_t alen, const WCHAR_T *b, size_t blen);

/* ---- memory.c: the tracking IMemoryManager ------------------------------ */

/* Safe to call from any thread.  memory_init before the first use. */
IMemoryManager *memory_manager(void);
void memory_init(void);
/* Host-side allocation through the same tracked ledger (NULL when out of
 * memory, as AllocMemory). */
void *mm_alloc(size_t n);
/* Same checks as IMemoryManager::FreeMemory: NULL is fine, a pointer that
 * mm_alloc did not return (or that was freed already) is a foreign free. */
void mm_free(void **p);
/* Size of the live block starting at p, or -1 when p is not one. */
long long mm_block_size(const void *p);
typedef struct mm_stats {
    unsigned long long allocations, frees, live, foreign_frees;
} mm_stats;
mm_stats memory_stats(void);
/* Frees the blocks still live (the add-in's or the host's leaks), calling
 * each (when not NULL) with every block before it goes. */
void memory_release_live(void (*each)(const void *p, size_t size, void *ctx), void *ctx);
void memory_done(void);

/* ---- connection.c: IAddInDefBaseEx and the extended interfaces ---------- */

typedef struct connection connection;
/* The Application the host's IPlatformInfo reports (eAppThinClient...);
 * the same for every connection. */
void connection_set_application(int app_type);
connection *connection_new(void);
void connection_free(connection *c);
IAddInDefBaseEx *connection_interface(connection *c);
/* Number of AddError calls with scode != 0 (1C exceptions) so far. */
unsigned long connection_exceptions(connection *c);
/* Hands the events waiting in the buffer to on_external_event, as 1C does
 * when none of the 1C code's own calls runs; and how many ExternalEvent
 * calls found the buffer full. */
void connection_deliver_events(connection *c);
unsigned long connection_events_dropped(connection *c);
/* malloc'ed UTF-8 text of the last exception if there was one after
 * connection_exceptions returned `mark`, else NULL. */
char *connection_exception_since(connection *c, unsigned long mark);

/* Provided by each program: what it does with the add-in's calls, after the
 * connection has checked the arguments (a NULL one is an ABI error already
 * reported; it is passed on as NULL) and counted an exception. */
void on_add_error(connection *c, unsigned short wcode, const WCHAR_T *source,
                  const WCHAR_T *descr, long scode);
void on_external_event(connection *c, const WCHAR_T *source, const WCHAR_T *message,
                       const WCHAR_T *data);
/* kind: "confirm" (answered OK) or "alert". */
void on_msgbox(const char *kind, const WCHAR_T *text);

#endif /* WEBHOOK1C_COMMON_H */
