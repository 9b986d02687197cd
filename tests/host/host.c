/*
 * host.c: webhook1c-host, a command-line stand-in for the 1C:Enterprise
 * host of a Native API add-in.  It loads the library, creates the "Client"
 * object the way 1C does, runs commands (get/set/call/members...) against it
 * and checks the add-in's side of the binary interface as it goes.
 *
 *   webhook1c-host [--lang en|ru] [--app server|thin] [--script FILE]
 *                  LIBRARY [COMMAND ...]
 *
 * LIBRARY is the add-in's .so/.dll, or a 1C add-in package (.zip with
 * MANIFEST.XML), from which the library for the host's own platform is
 * extracted and loaded (see package.c).
 *
 * Commands: get NAME, set NAME VALUE, call NAME [ARG ...], members, new,
 * lang en|ru, reload, copy PATH, use N, sleep SECONDS, echo TEXT..., rss,
 * openclose PATH, acl PATH (Windows: a DACL as SDDL).
 * `copy PATH` does what 1C does after a configuration's template is
 * updated: it loads a new copy of the library from another file while the
 * old copy keeps running in the same process, and makes it current; `use N`
 * switches back (0 is LIBRARY).  The other commands address the current
 * copy; the events of every copy are delivered after each command.
 *
 * Output lines: "> " the command, "= " a result, "! " a 1C exception,
 * "# " information, "* " an event from the add-in, "ABI ERROR: " a contract
 * violation.  Exit status: 0 clean, 1 ABI errors / leaks / foreign frees /
 * script errors, 2 usage or load failure.
 */
#include "host.h"

#include <stdlib.h>
#include <string.h>

#include "package.h"

#define CLASS_NAME u"Client"
#define NAME_SCAN_LIMIT 4096    /* units scanned for a name's terminator */
#define MAX_PARAMS 1024         /* more than any real 1C method has */
#define CAPABILITIES eAppCapabilities3
#define ELLIPSIS "\xE2\x80\xA6"

const char program_name[] = "webhook1c-host";

/* One loaded copy of the add-in library and its "Client" object.  1C loads
 * a new copy (another file) when a configuration's template is updated and
 * keeps the old one running in the same process.  Each copy's object gets
 * its own connection, as every object does in 1C, so the events and
 * exceptions of one copy never show up as the other's. */
typedef struct addin_copy {
    char *library_path;     /* host-malloc'ed */
    host_library *lib;
    GetClassNamesFn get_class_names;
    GetClassObjectFn get_class_object;
    DestroyObjectFn destroy_object;
    SetPlatformCapabilitiesFn set_platform_capabilities;
    GetAttachTypeFn get_attach_type;
    IComponentBase *obj;
    connection *conn;
} addin_copy;

#define MAX_COPIES 8     /* LIBRARY and up to 7 `copy` commands */

/* copies[0] is LIBRARY from the command line, then one per `copy`, in
 * order; the commands address copies[current]. */
typedef struct session {
    bool russian;
    addin_copy copies[MAX_COPIES];
    size_t count;
    size_t current;
} session;

/* A command returns CONTINUE, or the exit status that ends the session. */
enum { CONTINUE = 0 };

/* ------------------------------------------------------------------------ */
/* Checking what the add-in returns                                          */
/* ------------------------------------------------------------------------ */

/* Copies a NUL-terminated name returned by the add-in into host memory.
 * The pointer must be non-NULL and terminated within NAME_SCAN_LIMIT units
 * (and within its AllocMemory block, when it is one). */
static WCHAR_T *copy_addin_name(const WCHAR_T *s, const char *what, size_t *units)
{
    if (!s) {
        abi_error("%s returned NULL", what);
        return NULL;
    }
    size_t limit = NAME_SCAN_LIMIT;
    long long block = mm_block_size(s);
    if (block >= 0 && (unsigned long long)block / sizeof(WCHAR_T) < limit)
        limit = (size_t)block / sizeof(WCHAR_T);
    bool terminated;
    size_t n = utf16_len_bounded(s, limit, &terminated);
    if (!terminated) {
        abi_error("%s returned a string that is not NUL-terminated within %llu units", what,
                  (unsigned long long)limit);
        return NULL;
    }
    WCHAR_T *copy = xmalloc((n + 1) * sizeof(WCHAR_T));
    memcpy(copy, s, (n + 1) * sizeof(WCHAR_T));
    *units = n;
    return copy;
}

/* Host-malloc'ed UTF-8 for printing a name ("(null)" for NULL). */
static char *utf8_of(const WCHAR_T *s, size_t units)
{
    return s ? utf8_from_utf16(s, units) : xstrdup("(null)");
}

/* Frees a name the add-in allocated for the host, as 1C does. */
static void free_addin_name(const WCHAR_T *s)
{
    void *p = (void *)(uintptr_t)s;
    mm_free(&p);
}

static void print_value(const char *prefix, const tVariant *v)
{
    strbuf sb = {0};
    value_format(&sb, v);
    out_line_sb(prefix, &sb);
    sb_free(&sb);
}

/* ------------------------------------------------------------------------ */
/* Library and object lifetime (the 1C call protocol)                        */
/* ------------------------------------------------------------------------ */

static bool class_list_has(const WCHAR_T *list, size_t units, const WCHAR_T *name)
{
    size_t name_len = 0;
    while (name[name_len])
        name_len++;
    size_t start = 0;
    for (size_t i = 0; i <= units; i++) {
        if (i == units || list[i] == '|') {
            if (utf16_equal(list + start, i - start, name, name_len))
                return true;
            start = i + 1;
        }
    }
    return false;
}

/* The "! " line of a load failure.  For `copy` it is a script error
 * (counted; the session goes on with the current copy); for LIBRARY or a
 * reload the caller ends the session with status 2. */
#define LOAD_ERROR(script_error, ...) \
    ((script_error) ? command_error(__VA_ARGS__) : out_line("! " __VA_ARGS__))

/* Steps 1-3: load, resolve the exports, class names, capabilities.
 * Returns CONTINUE or 2. */
static int load_library(addin_copy *a, bool script_error)
{
    /* A package (.zip) is loaded as 1C loads it: the library MANIFEST.XML
     * names for this platform, extracted to a temporary directory (once;
     * reload loads the same extracted file again). */
    const char *path = a->library_path;
    char *error;
    if (package_path_is_zip(path)) {
        path = package_extract(a->library_path, &error);
        if (!path) {
            fprintf(stderr, "webhook1c-host: %s: %s\n", a->library_path, error);
            LOAD_ERROR(script_error, "cannot load package %s: %s", a->library_path, error);
            free(error);
            return 2;
        }
    }

    a->lib = host_library_open(path, &error);
    if (!a->lib) {
        fprintf(stderr, "webhook1c-host: cannot load %s: %s\n", path, error);
        LOAD_ERROR(script_error, "cannot load %s: %s", path, error);
        free(error);
        return 2;
    }
    a->get_class_names = (GetClassNamesFn)host_library_symbol(a->lib, "GetClassNames");
    a->get_class_object = (GetClassObjectFn)host_library_symbol(a->lib, "GetClassObject");
    a->destroy_object = (DestroyObjectFn)host_library_symbol(a->lib, "DestroyObject");
    a->set_platform_capabilities =
        (SetPlatformCapabilitiesFn)host_library_symbol(a->lib, "SetPlatformCapabilities");
    a->get_attach_type = (GetAttachTypeFn)host_library_symbol(a->lib, "GetAttachType");
    if (!a->get_class_names || !a->get_class_object || !a->destroy_object) {
        const char *missing = !a->get_class_names    ? "GetClassNames"
                              : !a->get_class_object ? "GetClassObject"
                                                     : "DestroyObject";
        fprintf(stderr, "webhook1c-host: %s does not export %s\n", path, missing);
        LOAD_ERROR(script_error, "%s does not export %s", path, missing);
        host_library_close(a->lib);
        a->lib = NULL;
        return 2;
    }

    /* The class list is static in the library: never freed. */
    size_t units = 0;
    WCHAR_T *classes = copy_addin_name(a->get_class_names(), "GetClassNames()", &units);
    char *text = utf8_of(classes, units);
    out_line("# classes: %s", text);
    if (classes && !class_list_has(classes, units, CLASS_NAME))
        abi_error("GetClassNames() does not list \"Client\": \"%s\"", text);
    free(text);
    free(classes);

    if (a->set_platform_capabilities)
        out_line("# capabilities: %d", a->set_platform_capabilities(CAPABILITIES));
    if (a->get_attach_type)
        out_line("# attach type: %d", a->get_attach_type());
    return CONTINUE;
}

static void unload_library(addin_copy *a)
{
    host_library_close(a->lib);
    a->lib = NULL;
    a->get_class_names = NULL;
    a->get_class_object = NULL;
    a->destroy_object = NULL;
    a->set_platform_capabilities = NULL;
    a->get_attach_type = NULL;
}

static void apply_locale(addin_copy *a, bool russian)
{
    if (russian) {
        ADDIN_CALL(a->obj, locale, SetLocale, u"ru_RU");
        ADDIN_CALL(a->obj, userLang, SetUserInterfaceLanguageCode, u"ru");
    } else {
        ADDIN_CALL(a->obj, locale, SetLocale, u"en_US");
        ADDIN_CALL(a->obj, userLang, SetUserInterfaceLanguageCode, u"en");
    }
}

/* DestroyObject must release the object, set the pointer to NULL and
 * return 0. */
static void call_destroy_object(addin_copy *a)
{
    IComponentBase *p = a->obj;
    long rc = a->destroy_object(&p);
    if (rc != 0)
        abi_error("DestroyObject returned %ld, expected 0", rc);
    if (p != NULL)
        abi_error("DestroyObject did not set the object pointer to NULL");
    a->obj = NULL;
}

/* Release as 1C does: Done (whatever Init returned), then DestroyObject. */
static void destroy_object(addin_copy *a)
{
    if (!a->obj)
        return;
    ADDIN_CALL0(a->obj, initDone, Done);
    call_destroy_object(a);
}

/* Step 4: GetClassObject, setMemManager, Init, GetInfo, RegisterExtensionAs,
 * SetLocale, SetUserInterfaceLanguageCode.  On failure the object (if any)
 * stays in a->obj so that it is still released. */
static bool create_object(addin_copy *a, bool russian)
{
    IComponentBase *p = NULL;
    long rc = a->get_class_object(CLASS_NAME, &p);
    if (rc == 0) {
        abi_error("GetClassObject(\"Client\") returned 0 (failure)");
        return false;
    }
    if (!p) {
        abi_error("GetClassObject(\"Client\") returned %ld but left the pointer NULL", rc);
        return false;
    }
    a->obj = p;
    if (!p->initDone || !p->langExt || !p->locale || !p->userLang) {
        abi_error("the object's four vtable pointers are not all set");
        call_destroy_object(a);
        return false;
    }

    bool mem_ok = ADDIN_CALL(p, initDone, setMemManager, memory_manager());
    if (!mem_ok)
        abi_error("setMemManager returned false");
    bool init_ok = ADDIN_CALL(p, initDone, Init, connection_interface(a->conn));
    if (!init_ok)
        abi_error("Init returned false");
    if (!mem_ok || !init_ok)
        return false;

    long info = ADDIN_CALL0(p, initDone, GetInfo);
    out_line("# info: %ld", info);
    if (info != 2000)
        abi_error("GetInfo returned %ld, expected 2000 (several objects allowed)", info);

    WCHAR_T *name = NULL;
    bool reg_ok = ADDIN_CALL(p, langExt, RegisterExtensionAs, &name);
    if (!reg_ok)
        abi_error("RegisterExtensionAs returned false");
    size_t units = 0;
    WCHAR_T *copy = name ? copy_addin_name(name, "RegisterExtensionAs", &units) : NULL;
    if (reg_ok && !name)
        abi_error("RegisterExtensionAs returned true but no name");
    if (copy) {
        char *text = utf8_of(copy, units);
        out_line("# extension: %s", text);
        free(text);
    }
    free(copy);
    free_addin_name(name);
    if (!reg_ok)
        return false;

    apply_locale(a, russian);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Name lookup                                                               */
/* ------------------------------------------------------------------------ */

/* FindProp or FindMethod.  Returns the index, -1 when not found, or -2 after
 * reporting an out-of-range index. */
static long find_member(addin_copy *a, bool method, const WCHAR_T *name)
{
    long count, i;
    if (method) {
        i = ADDIN_CALL(a->obj, langExt, FindMethod, name);
        count = ADDIN_CALL0(a->obj, langExt, GetNMethods);
    } else {
        i = ADDIN_CALL(a->obj, langExt, FindProp, name);
        count = ADDIN_CALL0(a->obj, langExt, GetNProps);
    }
    if (i < -1 || i >= count) {
        strbuf sb = {0};
        bool terminated;
        sb_append_utf16(&sb, name, utf16_len_bounded(name, SIZE_MAX, &terminated));
        abi_error("%s(\"%s\") returned %ld, outside -1..%ld", method ? "FindMethod" : "FindProp",
                  sb_str(&sb), i, count - 1);
        sb_free(&sb);
        return -2;
    }
    return i;
}

/* Decodes the NAME token and looks it up.  Returns the index, or a negative
 * value after printing why there is none. */
static long lookup(addin_copy *a, bool method, const token *t)
{
    char *error;
    WCHAR_T *name = name_from_token(t->text, t->len, &error);
    if (!name) {
        command_error("bad name %s: %s", t->text, error);
        free(error);
        return -2;
    }
    long i = find_member(a, method, name);
    free(name);
    if (i == -1)
        out_line("! %s not found: %s", method ? "method" : "property", t->text);
    return i;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

/* The copy that get/set/call/members/new/lang/reload address. */
static addin_copy *current_copy(session *s)
{
    return &s->copies[s->current];
}

/* Hands over the events of every copy: the old copy's object keeps
 * delivering while the script works with the new one, as in 1C. */
static void deliver_all_events(session *s)
{
    for (size_t i = 0; i < s->count; i++)
        connection_deliver_events(s->copies[i].conn);
}

static int cmd_get(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count != 2) {
        command_error("usage: get NAME");
        return CONTINUE;
    }
    long i = lookup(a, false, &c->tokens[1]);
    if (i < 0)
        return CONTINUE;
    if (!ADDIN_CALL(a->obj, langExt, IsPropReadable, i)) {
        out_line("! property is not readable: %s", c->tokens[1].text);
        return CONTINUE;
    }
    tVariant v;
    memset(&v, 0, sizeof v);
    unsigned long mark = connection_exceptions(a->conn);
    bool ok = ADDIN_CALL(a->obj, langExt, GetPropVal, i, &v);
    if (!exc_report(a->conn, mark, ok))
        print_value("= ", &v);
    value_free(&v);     /* the add-in allocated it for us */
    return CONTINUE;
}

static int cmd_set(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count != 3) {
        command_error("usage: set NAME VALUE");
        return CONTINUE;
    }
    long i = lookup(a, false, &c->tokens[1]);
    if (i < 0)
        return CONTINUE;
    if (!ADDIN_CALL(a->obj, langExt, IsPropWritable, i)) {
        out_line("! property is read-only: %s", c->tokens[1].text);
        return CONTINUE;
    }
    tVariant v;
    char *error;
    if (!value_from_token(c->tokens[2].text, c->tokens[2].len, &v, &error)) {
        command_error("bad value: %s", error);
        free(error);
        return CONTINUE;
    }
    unsigned long mark = connection_exceptions(a->conn);
    bool ok = ADDIN_CALL(a->obj, langExt, SetPropVal, i, &v);
    if (!exc_report(a->conn, mark, ok))
        out_line("= ok");
    value_free(&v);     /* whatever buffer the variant holds now */
    return CONTINUE;
}

static void free_params(tVariant *params, long n)
{
    for (long i = 0; i < n; i++)
        value_free(&params[i]);
    free(params);
}

/* Fills params[0..n): the given arguments, then default values for the
 * omitted ones.  Returns false after printing why the call cannot be made. */
static bool build_params(addin_copy *a, long m, const command *c, tVariant *params, long n)
{
    long given = (long)c->count - 2;
    for (long i = 0; i < given; i++) {
        char *error;
        const token *t = &c->tokens[2 + i];
        if (!value_from_token(t->text, t->len, &params[i], &error)) {
            command_error("bad value for parameter %ld: %s", i, error);
            free(error);
            return false;
        }
    }
    for (long i = given; i < n; i++) {
        if (!ADDIN_CALL(a->obj, langExt, GetParamDefValue, m, i, &params[i])) {
            out_line("! not enough parameters");
            return false;
        }
    }
    return true;
}

static int cmd_call(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count < 2) {
        command_error("usage: call NAME [ARG ...]");
        return CONTINUE;
    }
    long m = lookup(a, true, &c->tokens[1]);
    if (m < 0)
        return CONTINUE;
    long n = ADDIN_CALL(a->obj, langExt, GetNParams, m);
    if (n < 0 || n > MAX_PARAMS) {
        abi_error("GetNParams(%ld) returned %ld", m, n);
        return CONTINUE;
    }
    if ((long)c->count - 2 > n) {
        out_line("! too many parameters");
        return CONTINUE;
    }
    tVariant *params = n > 0 ? xcalloc((size_t)n, sizeof *params) : NULL;
    if (!build_params(a, m, c, params, n)) {
        free_params(params, n);
        return CONTINUE;
    }

    /* Parameters are in/out: remember what was passed to spot changes. */
    value_fingerprint *before = n > 0 ? xcalloc((size_t)n, sizeof *before) : NULL;
    for (long i = 0; i < n; i++)
        before[i] = value_fingerprint_of(&params[i]);

    bool has_ret = ADDIN_CALL(a->obj, langExt, HasRetVal, m);
    tVariant ret;
    memset(&ret, 0, sizeof ret);
    unsigned long mark = connection_exceptions(a->conn);
    bool ok = has_ret ? ADDIN_CALL(a->obj, langExt, CallAsFunc, m, &ret, params, n)
                      : ADDIN_CALL(a->obj, langExt, CallAsProc, m, params, n);
    if (!exc_report(a->conn, mark, ok)) {
        if (has_ret)
            print_value("= ", &ret);
        else
            out_line("= ok");
        for (long i = 0; i < n; i++) {
            value_fingerprint now = value_fingerprint_of(&params[i]);
            if (!value_fingerprint_equal(&before[i], &now)) {
                char prefix[48];
                snprintf(prefix, sizeof prefix, "# param %ld = ", i);
                print_value(prefix, &params[i]);
            }
        }
    }
    value_free(&ret);
    /* By the pointers the variants hold now: an add-in that replaced a
     * buffer must have freed the old one itself. */
    free_params(params, n);
    free(before);
    return CONTINUE;
}

/* members: checks that each name is found in both languages and in any
 * letter case, as 1C identifiers are case-insensitive. */
static void check_lookup(addin_copy *a, bool method, long expected, const WCHAR_T *name,
                         size_t units)
{
    const char *fn = method ? "FindMethod" : "FindProp";
    WCHAR_T *forms[3] = { NULL, utf16_case_copy(name, units, true),
                          utf16_case_copy(name, units, false) };
    for (int k = 0; k < 3; k++) {
        const WCHAR_T *form = k == 0 ? name : forms[k];
        long got = method ? ADDIN_CALL(a->obj, langExt, FindMethod, form)
                          : ADDIN_CALL(a->obj, langExt, FindProp, form);
        if (got != expected) {
            char *text = utf8_of(form, units);
            abi_error("%s(\"%s\") returned %ld, expected %ld", fn, text, got, expected);
            free(text);
        }
    }
    free(forms[1]);
    free(forms[2]);
}

static void check_not_found(addin_copy *a, bool method)
{
    const WCHAR_T *name = u"NoSuchMember_XYZ";
    long got = method ? ADDIN_CALL(a->obj, langExt, FindMethod, name)
                      : ADDIN_CALL(a->obj, langExt, FindProp, name);
    if (got != -1)
        abi_error("%s(\"NoSuchMember_XYZ\") returned %ld, expected -1",
                  method ? "FindMethod" : "FindProp", got);
}

/* Fetches the English (alias 0) or Russian (alias 1) name of member i as a
 * host copy, freeing the add-in's buffer as 1C does. */
static WCHAR_T *member_name(addin_copy *a, bool method, long i, long alias, size_t *units)
{
    char what[64];
    snprintf(what, sizeof what, "%s(%ld, %ld)", method ? "GetMethodName" : "GetPropName", i,
             alias);
    const WCHAR_T *name = method ? ADDIN_CALL(a->obj, langExt, GetMethodName, i, alias)
                                 : ADDIN_CALL(a->obj, langExt, GetPropName, i, alias);
    *units = 0;
    WCHAR_T *copy = copy_addin_name(name, what, units);
    free_addin_name(name);
    return copy;
}

static void list_member(addin_copy *a, bool method, long i)
{
    size_t en_units, ru_units;
    WCHAR_T *en = member_name(a, method, i, 0, &en_units);
    WCHAR_T *ru = member_name(a, method, i, 1, &ru_units);
    char *en_text = utf8_of(en, en_units);
    char *ru_text = utf8_of(ru, ru_units);
    if (method) {
        long params = ADDIN_CALL(a->obj, langExt, GetNParams, i);
        bool retval = ADDIN_CALL(a->obj, langExt, HasRetVal, i);
        out_line("# method %ld en=%s ru=%s params=%ld retval=%d", i, en_text, ru_text, params,
                 retval ? 1 : 0);
    } else {
        bool readable = ADDIN_CALL(a->obj, langExt, IsPropReadable, i);
        bool writable = ADDIN_CALL(a->obj, langExt, IsPropWritable, i);
        out_line("# prop %ld en=%s ru=%s readable=%d writable=%d", i, en_text, ru_text,
                 readable ? 1 : 0, writable ? 1 : 0);
    }
    if (en)
        check_lookup(a, method, i, en, en_units);
    if (ru)
        check_lookup(a, method, i, ru, ru_units);
    free(en_text);
    free(ru_text);
    free(en);
    free(ru);
}

static void list_defaults(addin_copy *a, long m)
{
    long n = ADDIN_CALL(a->obj, langExt, GetNParams, m);
    if (n < 0 || n > MAX_PARAMS) {
        abi_error("GetNParams(%ld) returned %ld", m, n);
        return;
    }
    for (long p = 0; p < n; p++) {
        tVariant v;
        memset(&v, 0, sizeof v);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "# default %ld %ld = ", m, p);
        if (ADDIN_CALL(a->obj, langExt, GetParamDefValue, m, p, &v))
            print_value(prefix, &v);
        else
            out_line("%snone", prefix);
        value_free(&v);
    }
}

static int cmd_members(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count != 1) {
        command_error("usage: members");
        return CONTINUE;
    }
    long nprops = ADDIN_CALL0(a->obj, langExt, GetNProps);
    if (nprops < 0)
        abi_error("GetNProps returned %ld", nprops);
    for (long i = 0; i < nprops; i++)
        list_member(a, false, i);
    check_not_found(a, false);

    long nmethods = ADDIN_CALL0(a->obj, langExt, GetNMethods);
    if (nmethods < 0)
        abi_error("GetNMethods returned %ld", nmethods);
    for (long i = 0; i < nmethods; i++)
        list_member(a, true, i);
    check_not_found(a, true);

    for (long m = 0; m < nmethods; m++)
        list_defaults(a, m);
    return CONTINUE;
}

static int cmd_new(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count != 1) {
        command_error("usage: new");
        return CONTINUE;
    }
    destroy_object(a);
    return create_object(a, s->russian) ? CONTINUE : 1;
}

static int cmd_lang(session *s, const command *c)
{
    if (c->count != 2 || (strcmp(c->tokens[1].text, "en") != 0 &&
                          strcmp(c->tokens[1].text, "ru") != 0)) {
        command_error("usage: lang en|ru");
        return CONTINUE;
    }
    /* The current copy's object now; copies loaded later start with it. */
    s->russian = strcmp(c->tokens[1].text, "ru") == 0;
    apply_locale(current_copy(s), s->russian);
    return CONTINUE;
}

static int cmd_reload(session *s, const command *c)
{
    addin_copy *a = current_copy(s);
    if (c->count != 1) {
        command_error("usage: reload");
        return CONTINUE;
    }
    destroy_object(a);
    unload_library(a);
    int rc = load_library(a, false);
    if (rc != CONTINUE)
        return rc;
    return create_object(a, s->russian) ? CONTINUE : 1;
}

/* A path token: as typed, or decoded when quoted (a script line splits on
 * spaces).  A bare one is kept byte for byte: a Linux file name need not be
 * UTF-8.  NULL after reporting a bad quoted string. */
static char *path_from_token(const token *t)
{
    if (t->text[0] != '"')
        return xstrdup(t->text);
    char *error;
    WCHAR_T *wide = name_from_token(t->text, t->len, &error);
    if (!wide) {
        command_error("bad path %s: %s", t->text, error);
        free(error);
        return NULL;
    }
    bool terminated;
    char *path = utf8_from_utf16(wide, utf16_len_bounded(wide, SIZE_MAX, &terminated));
    free(wide);
    return path;
}

/* The PATH of a one-argument command `NAME PATH`, host-malloc'ed; NULL
 * after a command error (wrong arguments, a bad quoted path). */
static char *path_argument(const command *c)
{
    if (c->count != 2) {
        command_error("usage: %s PATH", c->tokens[0].text);
        return NULL;
    }
    return path_from_token(&c->tokens[1]);
}

/* copy PATH: loads another copy of the add-in from another file, as 1C
 * does after a template update, and makes it current; the other copies
 * stay loaded with their objects.  The same path as a loaded copy would
 * give the same library image (the system loader shares it), not a copy. */
static int cmd_copy(session *s, const command *c)
{
    if (s->count == MAX_COPIES) {
        command_error("copy: the host keeps at most %d copies", MAX_COPIES);
        return CONTINUE;
    }
    char *path = path_argument(c);
    if (!path)
        return CONTINUE;
    /* package.c extracts one package per run (reload reuses it), so a
     * second package would load the first one's library again. */
    if (package_path_is_zip(path)) {
        command_error("cannot load package %s: copy takes a library file, not a package",
                      path);
        free(path);
        return CONTINUE;
    }

    addin_copy *a = &s->copies[s->count];
    memset(a, 0, sizeof *a);
    a->library_path = path;
    a->conn = connection_new();
    if (load_library(a, true) != CONTINUE) {
        connection_free(a->conn);
        free(a->library_path);
        memset(a, 0, sizeof *a);
        return CONTINUE;
    }
    /* From here main releases it, even if the object cannot be created. */
    s->current = s->count++;
    if (!create_object(a, s->russian))
        return 1;
    out_line("# copy %llu: %s", (unsigned long long)s->current, a->library_path);
    return CONTINUE;
}

/* use N: makes copy N current (0 is LIBRARY). */
static int cmd_use(session *s, const command *c)
{
    char *end = NULL;
    unsigned long n = c->count == 2 ? strtoul(c->tokens[1].text, &end, 10) : 0;
    if (c->count != 2 || end == c->tokens[1].text || *end != '\0' ||
        c->tokens[1].text[0] < '0' || c->tokens[1].text[0] > '9' || n >= s->count) {
        command_error("usage: use N (0..%llu)", (unsigned long long)s->count - 1);
        return CONTINUE;
    }
    s->current = (size_t)n;
    return CONTINUE;
}

static int cmd_sleep(session *s, const command *c)
{
    char *end = NULL;
    double secs = c->count == 2 ? strtod(c->tokens[1].text, &end) : -1;
    if (c->count != 2 || end == c->tokens[1].text || *end != '\0' || !(secs >= 0) ||
        secs > 1e7) {
        command_error("usage: sleep SECONDS");
        return CONTINUE;
    }
    /* The 1C code is idle: its events arrive meanwhile. */
    for (double left = secs; left > 0; left -= 0.05) {
        host_sleep_seconds(left < 0.05 ? left : 0.05);
        deliver_all_events(s);
    }
    return CONTINUE;
}

static int cmd_echo(session *s, const command *c)
{
    (void)s;
    strbuf sb = {0};
    for (size_t i = 1; i < c->count; i++) {
        if (i > 1)
            sb_putc(&sb, ' ');
        sb_append(&sb, c->tokens[i].text, c->tokens[i].len);
    }
    out_line_sb("# ", &sb);
    sb_free(&sb);
    return CONTINUE;
}

/* rss: the resident memory of the whole process (host and add-in), so a
 * script can see what a call left behind. */
static int cmd_rss(session *s, const command *c)
{
    (void)s;
    if (c->count != 1) {
        command_error("usage: rss");
        return CONTINUE;
    }
    long long kb = host_rss_kb();
    if (kb < 0) {
        command_error("rss: the resident memory size cannot be read on this system");
        return CONTINUE;
    }
    out_line("# rss_kb=%lld", kb);
    return CONTINUE;
}

/* openclose PATH: opens the file and closes it again, as a second SQLite
 * in the process (another copy of a library) would when it is done with
 * it. On POSIX systems that close drops every record lock the process
 * holds on the file, whoever took it: tests use it as the control of the
 * several-copies lock probe. */
static int cmd_openclose(session *s, const command *c)
{
    (void)s;
    char *path = path_argument(c);
    if (!path)
        return CONTINUE;
    FILE *f = host_fopen(path, "rb");
    if (!f)
        command_error("openclose: cannot open %s", path);
    else
        fclose(f);
    free(path);
    return CONTINUE;
}

/* acl PATH: the file's or folder's DACL as SDDL ("# acl D:P(...)"), on
 * Windows; elsewhere a command error. */
static int cmd_acl(session *s, const command *c)
{
    (void)s;
    char *path = path_argument(c);
    if (!path)
        return CONTINUE;
    char *error;
    char *dacl = host_path_dacl(path, &error);
    if (dacl) {
        out_line("# acl %s", dacl);
        free(dacl);
    } else {
        command_error("acl: %s", error);
        free(error);
    }
    free(path);
    return CONTINUE;
}

static const struct {
    const char *name;
    int (*run)(session *s, const command *c);
} command_table[] = {
    { "get", cmd_get },
    { "set", cmd_set },
    { "call", cmd_call },
    { "members", cmd_members },
    { "new", cmd_new },
    { "lang", cmd_lang },
    { "reload", cmd_reload },
    { "copy", cmd_copy },
    { "use", cmd_use },
    { "sleep", cmd_sleep },
    { "echo", cmd_echo },
    { "rss", cmd_rss },
    { "openclose", cmd_openclose },
    { "acl", cmd_acl },
};

/* "> " and the command as typed; huge tokens (e.g. 50 MB bodies) are cut
 * to their first 60 bytes (at a UTF-8 character boundary). */
static void print_command(const command *c)
{
    strbuf sb = {0};
    for (size_t i = 0; i < c->count; i++) {
        const token *t = &c->tokens[i];
        if (i > 0)
            sb_putc(&sb, ' ');
        if (t->len <= 120) {
            sb_append(&sb, t->text, t->len);
            continue;
        }
        size_t cut = 60;
        while (cut > 0 && ((unsigned char)t->text[cut] & 0xC0) == 0x80)
            cut--;
        sb_append(&sb, t->text, cut);
        sb_printf(&sb, ELLIPSIS "(%llu bytes)", (unsigned long long)t->len);
    }
    out_line_sb("> ", &sb);
    sb_free(&sb);
}

static int run_command(session *s, const command *c)
{
    print_command(c);
    for (size_t i = 0; i < sizeof command_table / sizeof command_table[0]; i++)
        if (strcmp(c->tokens[0].text, command_table[i].name) == 0)
            return command_table[i].run(s, c);
    command_error("unknown command: %s", c->tokens[0].text);
    return CONTINUE;
}

static int run_commands(session *s, command_source *src)
{
    command c;
    char *error;
    while (command_source_next(src, &c, &error)) {
        if (error) {
            print_command(&c);
            command_error("%s", error);
            free(error);
            command_free(&c);
            continue;
        }
        int rc = run_command(s, &c);
        command_free(&c);
        /* Between two statements of the 1C code the buffered events wait;
         * the host hands them over when the code is idle: here, after each
         * command (a blocking call such as WaitForDelivery fills the
         * buffer, as it would in 1C). */
        deliver_all_events(s);
        if (rc != CONTINUE)
            return rc;
    }
    return CONTINUE;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct options {
    bool russian;
    int app_type;
    const char *script;
    const char *library;
    int first_command;  /* argv index of the first command token */
} options;

static void usage(FILE *f)
{
    fputs("usage: webhook1c-host [--lang en|ru] [--app server|thin] [--script FILE] LIBRARY "
          "[COMMAND ...]\n"
          "  LIBRARY: the add-in .so/.dll, or a package .zip with MANIFEST.XML\n"
          "  commands: get NAME | set NAME VALUE | call NAME [ARG ...] | members | new |\n"
          "            lang en|ru | reload | copy PATH | use N | sleep SECONDS |\n"
          "            echo TEXT... | rss | openclose PATH | acl PATH\n"
          "  copy PATH loads another copy of the library (another file) and makes it\n"
          "  current; use N makes copy N current (0 = LIBRARY)\n"
          "  on the command line a lone ';' separates commands; --script - reads stdin\n",
          f);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, options *o)
{
    o->russian = false;
    o->app_type = eAppThinClient;
    o->script = NULL;
    o->library = NULL;
    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0)
            break;
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            fprintf(stderr, "webhook1c-host: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--lang") == 0 && (strcmp(value, "en") == 0 || strcmp(value, "ru") == 0)) {
            o->russian = strcmp(value, "ru") == 0;
        } else if (strcmp(a, "--app") == 0 &&
                   (strcmp(value, "server") == 0 || strcmp(value, "thin") == 0)) {
            o->app_type = strcmp(value, "server") == 0 ? eAppServer : eAppThinClient;
        } else if (strcmp(a, "--script") == 0 && !o->script) {
            o->script = value;
        } else {
            fprintf(stderr, "webhook1c-host: bad option %s %s\n", a, value);
            usage(stderr);
            return 2;
        }
        i += 2; /* the option and its value */
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    o->library = argv[i];
    o->first_command = i + 1;
    return -1;
}

static int finish(int fatal_status)
{
    mm_stats st = memory_stats();
    memory_report_and_release_live();
    long cmd_errors = command_error_count();
    if (cmd_errors > 0)
        out_line("# command errors: %ld", cmd_errors);
    out_line("# memory: allocations=%llu frees=%llu live=%llu foreign_frees=%llu",
             st.allocations, st.frees, st.live, st.foreign_frees);
    long abi = abi_error_count();
    out_line("# abi errors: %ld", abi);
    if (fatal_status != CONTINUE)
        return fatal_status;
    return (st.live == 0 && st.foreign_frees == 0 && abi == 0 && cmd_errors == 0) ? 0 : 1;
}

int main(int argc, char **argv)
{
    host_platform_init(&argc, &argv);
    output_init();
    memory_init();

    options o;
    int status = parse_options(argc, argv, &o);
    command_source *src = NULL;
    if (status < 0) {
        char *error;
        src = command_source_open(o.script, argc - o.first_command, argv + o.first_command,
                                  &error);
        if (!src) {
            fprintf(stderr, "webhook1c-host: %s\n", error);
            free(error);
            status = 2;
        }
    }
    if (status >= 0) {
        memory_done();
        output_done();
        host_platform_done();
        return status;
    }

    connection_set_application(o.app_type);
    session s;
    memset(&s, 0, sizeof s);
    s.russian = o.russian;
    s.count = 1;
    s.copies[0].conn = connection_new();
    s.copies[0].library_path = xstrdup(o.library);

    status = load_library(&s.copies[0], false);
    if (status == CONTINUE) {
        if (create_object(&s.copies[0], s.russian))
            status = run_commands(&s, src);
        else
            status = 1;
        /* The newest copy first: the reverse of loading. */
        for (size_t i = s.count; i-- > 0;) {
            destroy_object(&s.copies[i]);
            unload_library(&s.copies[i]);
        }
        deliver_all_events(&s);
        unsigned long dropped = 0;
        for (size_t i = 0; i < s.count; i++)
            dropped += connection_events_dropped(s.copies[i].conn);
        if (dropped > 0)
            out_line("# events dropped: %lu (the event buffer was full)", dropped);
        status = finish(status);
    }
    /* After the library is unloaded: Windows cannot delete a loaded DLL. */
    package_cleanup();

    command_source_close(src);
    for (size_t i = 0; i < s.count; i++) {
        connection_free(s.copies[i].conn);
        free(s.copies[i].library_path);
    }
    memory_done();
    /* The last line: main is done; anything after it is process teardown
     * (tests/support/host.rs reads it). */
    out_line("# exit %d", status);
    output_done();
    host_platform_done();
    return status;
}
