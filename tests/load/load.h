/*
 * load.h: webhook1c-load, a multi-threaded stand-in for the 1C host used for
 * load, memory and cold-start measurements.  Unlike the single-threaded test
 * host in tests/host/, every host object here may be used from several
 * threads at once: the memory manager keeps its ledger under sharded locks
 * and each add-in object gets a connection of its own.
 *
 * The ABI types come from tests/host/addin_host.h.
 */
#ifndef WEBHOOK1C_LOAD_H
#define WEBHOOK1C_LOAD_H

/* clock_gettime, dlopen and pthreads under -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../host/addin_host.h"

#if defined(__GNUC__)
#define LOAD_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define LOAD_PRINTF(fmt_index, first_arg)
#endif

/* ---- util.c --------------------------------------------------------------- */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
char *xstrdup(const char *s);
/* Host-malloc'ed copy of a formatted string. */
char *xprintf(const char *fmt, ...) LOAD_PRINTF(1, 2);

/* UTF-8 -> UTF-16 (malformed bytes become U+FFFD).  With out == NULL only
 * counts the code units. */
size_t utf8_to_utf16(const char *s, size_t len, WCHAR_T *out);
/* malloc'ed NUL-terminated UTF-16 copy of a UTF-8 string. */
WCHAR_T *utf16_dup(const char *s, size_t len, size_t *units);
/* malloc'ed UTF-8 copy of `units` UTF-16 code units (unpaired surrogates
 * become U+FFFD). */
char *utf8_dup(const WCHAR_T *s, size_t units);
/* Length of a NUL-terminated UTF-16 string, at most `max` units; *terminated
 * tells whether the NUL was found. */
size_t utf16_len_bounded(const WCHAR_T *s, size_t max, bool *terminated);

bool read_file(const char *path, char **data, size_t *len, char **error);
/* Seconds on CLOCK_MONOTONIC. */
double now_seconds(void);
/* VmRSS of this process in kB (Linux), or -1. */
long rss_kb(void);

/* Error lines on stderr, one at a time (threads print too). */
void report(const char *fmt, ...) LOAD_PRINTF(1, 2);
/* A contract violation by the add-in: reported and counted; the run then
 * exits 1. */
void abi_error(const char *fmt, ...) LOAD_PRINTF(1, 2);
long abi_error_count(void);
void util_init(void);

/* ---- memory.c: the thread-safe tracking IMemoryManager ------------------ */

IMemoryManager *memory_manager(void);
void *mm_alloc(size_t n);
/* FreeMemory's checks: NULL is fine, a pointer that AllocMemory did not
 * return (or that was freed already) is a foreign free. */
void mm_free(void **p);
/* Size of the live block starting at p, or -1. */
long long mm_block_size(const void *p);
typedef struct mm_stats {
    unsigned long long allocations, frees, live, foreign_frees;
} mm_stats;
mm_stats memory_stats(void);
void memory_init(void);
/* Frees the blocks still live (they were counted as leaks). */
void memory_release_live(void);

/* ---- connection.c: one IAddInDefBaseEx per add-in object ----------------- */

typedef struct load_connection load_connection;
load_connection *connection_new(void);
void connection_free(load_connection *c);
IAddInDefBaseEx *connection_interface(load_connection *c);
/* Number of AddError calls with scode != 0 (exceptions) so far. */
unsigned long connection_exceptions(load_connection *c);
/* malloc'ed text of the last exception, or NULL. */
char *connection_last_exception(load_connection *c);

/* ---- addin.c: the library and its objects, driven as 1C drives them ----- */

typedef struct addin_library {
    void *handle;
    GetClassNamesFn get_class_names;
    GetClassObjectFn get_class_object;
    DestroyObjectFn destroy_object;
    SetPlatformCapabilitiesFn set_platform_capabilities;
    GetAttachTypeFn get_attach_type;
} addin_library;

/* A property assignment from --set: NAME=VALUE. */
typedef struct prop_setting {
    WCHAR_T *name;
    char *text;        /* NAME=VALUE as given, for messages */
    tVariant value;    /* scalar, or a PWSTR whose buffer is `string` */
    WCHAR_T *string;   /* malloc'ed UTF-16 when the value is a string */
    size_t string_units;
} prop_setting;

/* The parts of one PostJson call that never change. */
typedef struct call_plan {
    const WCHAR_T *url;
    size_t url_units;
    const WCHAR_T *json;
    size_t json_units;
    const prop_setting *settings;
    size_t setting_count;
} call_plan;

typedef struct addin_object {
    IComponentBase *obj;
    load_connection *conn;
} addin_object;

/* Loads the library and calls the export functions 1C calls first.
 * Returns false with a message on stderr. */
bool addin_load(addin_library *lib, const char *path);
void addin_unload(addin_library *lib);

/* GetClassObject("Client"), setMemManager, Init, GetInfo,
 * RegisterExtensionAs, SetLocale, SetUserInterfaceLanguageCode, then the
 * --set properties.  Returns false (after reporting why) on any failure;
 * the object is released then. */
bool addin_create(const addin_library *lib, const call_plan *plan, addin_object *o);
/* Done and DestroyObject, checking DestroyObject's result. */
void addin_destroy(const addin_library *lib, addin_object *o);

typedef enum call_outcome {
    CALL_OK,          /* StatusCode 200 */
    CALL_FAILED,      /* an exception or another status */
} call_outcome;

/* One PostJson(URL, Json) through FindMethod/CallAsFunc with the omitted
 * Headers parameter's default, then StatusCode.  On failure, if *describe
 * is true, fills *why (malloc'ed) with the exception and ErrorText. */
call_outcome addin_post_json(addin_object *o, const call_plan *plan, bool describe, char **why);

bool parse_setting(const char *arg, prop_setting *s);
void free_setting(prop_setting *s);

#endif /* WEBHOOK1C_LOAD_H */
