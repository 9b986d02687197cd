/*
 * load.h: webhook1c-load, a multi-threaded stand-in for the 1C host used for
 * load, memory and cold-start measurements.  Unlike the test host in
 * tests/host/, which drives one object from its main thread, it drives
 * objects from many threads at once, each with a connection of its own.
 *
 * The ABI types, the memory manager and the connection come from
 * tests/common/, shared with the test host.
 */
#ifndef WEBHOOK1C_LOAD_H
#define WEBHOOK1C_LOAD_H

#include "../common/common.h"

/* ---- report.c: stderr, the ABI error count, the connection's messages ---- */

/* Seconds on CLOCK_MONOTONIC. */
double now_seconds(void);
/* Error lines on stderr, one at a time (threads print too). */
void report(const char *fmt, ...) HOST_PRINTF(1, 2);
/* abi_error (common.h) is reported and counted; the run then exits 1. */
long abi_error_count(void);

/* ---- addin.c: the library and its objects, driven as 1C drives them ----- */

typedef struct addin_library {
    host_library *handle;
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
    connection *conn;
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
