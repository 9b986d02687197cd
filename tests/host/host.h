/*
 * host.h: declarations shared by the test host's own modules (not part of
 * the add-in ABI; that is addin_host.h).  Include this header first in every
 * .c file: it sets the feature macros the system headers look at.
 */
#ifndef WEBHOOK1C_HOST_H
#define WEBHOOK1C_HOST_H

#ifdef _WIN32
/* mingw: use its C99 printf (%zu, %lld, %g behave as on Linux). */
#ifndef __USE_MINGW_ANSI_STDIO
#define __USE_MINGW_ANSI_STDIO 1
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#else
/* nanosleep, dlopen and pthreads under -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addin_host.h"

#if defined(__GNUC__)
#define HOST_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HOST_PRINTF(fmt_index, first_arg)
#endif

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
/* Creates a new private directory under the system's temporary directory
 * ($TMPDIR or /tmp; GetTempPathW on Windows).  Returns its malloc'ed UTF-8
 * path (no trailing separator), or NULL with a malloc'ed message in *error. */
char *host_make_temp_dir(const char *prefix, char **error);
/* Remove a file / an empty directory by UTF-8 path; false on failure. */
bool host_remove_file(const char *utf8_path);
bool host_remove_dir(const char *utf8_path);
/* Windows: removes the temporary directories (made with this prefix) of
 * host processes that are gone; call it before making this run's own.  A loaded DLL cannot be deleted, and an
 * add-in that pins itself stays loaded after FreeLibrary, so its run could
 * not remove its own.  Linux: nothing to do. */
void host_sweep_temp_dirs(const char *prefix);
/* The separator host_make_temp_dir's paths use. */
#ifdef _WIN32
#define HOST_PATH_SEP '\\'
#else
#define HOST_PATH_SEP '/'
#endif
void host_sleep_seconds(double seconds);
/* The process's resident memory in KiB: VmRSS from /proc/self/status on
 * Linux, the working set on Windows; -1 when it cannot be read. */
long long host_rss_kb(void);
/* Prepares stdout (UTF-8, binary) and, on Windows, replaces argv by UTF-8
 * copies of the wide command line.  host_platform_done frees those. */
void host_platform_init(int *argc, char ***argv);
void host_platform_done(void);

/* ---- util.c: growable buffers and checked allocation (host memory) ------ */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);

typedef struct strbuf {
    char *data;     /* always NUL-terminated once anything was appended */
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

/* Reads a whole file into host memory.  Returns false with errno-based text
 * in *error (malloc'ed) on failure. */
bool read_file_all(const char *utf8_path, char **data, size_t *len, char **error);

uint64_t fnv1a64(const void *data, size_t len, uint64_t seed);
#define FNV1A64_INIT 0xcbf29ce484222325ULL

/* ---- text.c: UTF-8 / UTF-16 conversions and escaping -------------------- */

/* Converts UTF-8 to UTF-16 (invalid bytes become U+FFFD).  With out == NULL
 * only counts the code units. */
size_t utf8_to_utf16(const char *s, size_t len, WCHAR_T *out);
/* Host-malloc'ed NUL-terminated UTF-16 copy of a UTF-8 string. */
WCHAR_T *utf16_from_utf8(const char *s, size_t len, size_t *out_units);
/* Appends UTF-16 as UTF-8; unpaired surrogates become U+FFFD. */
void sb_append_utf16(strbuf *sb, const WCHAR_T *s, size_t units);
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

/* ---- output.c: stdout lines, counters, exception tracking --------------- */

/* Prints one line (a '\n' is added) atomically and flushes. */
void out_line(const char *fmt, ...) HOST_PRINTF(1, 2);
void out_line_sb(const char *prefix, strbuf *sb);
/* `ABI ERROR: ...` on stdout and stderr, counted. */
void abi_error(const char *fmt, ...) HOST_PRINTF(1, 2);
/* A script mistake (unknown command, bad value syntax...): `! ...`, counted,
 * makes the exit status 1. */
void command_error(const char *fmt, ...) HOST_PRINTF(1, 2);
long abi_error_count(void);
long command_error_count(void);

/* AddError with scode != 0 is 1C's way to raise an exception.  The host
 * remembers the description of the last one between exc_begin/exc_end. */
void exc_begin(void);
/* Returns a malloc'ed description of the last AddError(scode != 0) since
 * exc_begin, or NULL if there was none. */
char *exc_end(void);
void exc_note_error(const char *descr_utf8);
/* Prints the `! ...` line for a call that returned `ok` and/or raised. */
bool exc_report(bool ok, char *descr);

void output_init(void);
void output_done(void);

/* ---- memory.c: the tracking IMemoryManager ------------------------------ */

IMemoryManager *memory_manager(void);
void memory_init(void);
/* Host-side allocation through the same tracked table. */
void *mm_alloc(size_t n);
/* Same checks as IMemoryManager::FreeMemory. */
void mm_free(void **p);
/* Size of the tracked block starting at p, or -1 when p is not one. */
long long mm_block_size(const void *p);
typedef struct mm_stats {
    unsigned long long allocations, frees, live, foreign_frees;
} mm_stats;
mm_stats memory_stats(void);
/* Lists and releases blocks still live at exit (they are the add-in's or the
 * host's leaks; freeing keeps LeakSanitizer quiet about them). */
void memory_report_and_release_live(void);
void memory_done(void);

/* ---- connection.c: IAddInDefBaseEx and the extended interfaces ---------- */

void connection_init(int app_type);
IAddInDefBaseEx *connection_object(void);
void connection_done(void);

/* ---- value.c: building and printing tVariant values --------------------- */

/* Builds *v from a value token (script syntax).  Buffers come from the
 * tracking memory manager.  On a syntax error returns false with a
 * malloc'ed message in *error and leaves *v EMPTY. */
bool value_from_token(const char *tok, size_t len, tVariant *v, char **error);
/* Appends `string "..."`, `number 30`... (without the leading "= "). */
void value_format(strbuf *sb, const tVariant *v);
/* Frees the PWSTR/PSTR/BLOB buffer the variant holds now through the
 * tracking memory manager and makes it EMPTY. */
void value_free(tVariant *v);

/* A compact summary of a value, used to notice in/out parameter changes
 * without keeping a copy of (possibly huge) buffers. */
typedef struct value_fingerprint {
    uint16_t vt;
    uint64_t bits;   /* scalar payload, or the content hash */
    uint64_t len;
} value_fingerprint;
value_fingerprint value_fingerprint_of(const tVariant *v);
bool value_fingerprint_equal(const value_fingerprint *a, const value_fingerprint *b);

/* Decodes a name token (quoted string or bare UTF-8) into host memory. */
WCHAR_T *name_from_token(const char *tok, size_t len, char **error);

/* ---- script.c: where commands come from ---------------------------------- */

typedef struct token {
    char *text;     /* as typed (quotes and escapes kept), NUL-terminated */
    size_t len;
} token;

typedef struct command {
    token *tokens;
    size_t count;
} command;

typedef struct command_source command_source;
/* script_path may be NULL, "-" means stdin.  argv commands follow the script
 * ones; a lone ";" separates them. */
command_source *command_source_open(const char *script_path, int argc, char **argv,
                                    char **error);
/* Returns false at the end.  On a syntax error returns true with *error set
 * (malloc'ed) and the raw line as the only token; the caller reports it. */
bool command_source_next(command_source *src, command *cmd, char **error);
void command_free(command *cmd);
void command_source_close(command_source *src);

#endif /* WEBHOOK1C_HOST_H */
