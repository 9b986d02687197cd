/*
 * addin.c: loading the library and driving its objects the way 1C does,
 * checking each answer of the add-in on the way (return values, pointers it
 * sets, the memory it hands over, exceptions).
 */
#include "load.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CLASS_NAME u"Client"
#define NAME_SCAN_LIMIT 4096

/* ------------------------------------------------------------------------ */
/* The library                                                               */
/* ------------------------------------------------------------------------ */

static bool list_has_client(const WCHAR_T *list)
{
    bool terminated;
    size_t n = utf16_len_bounded(list, NAME_SCAN_LIMIT, &terminated);
    if (!terminated)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || list[i] == '|') {
            if (i - start == 6 && memcmp(list + start, CLASS_NAME, 6 * sizeof(WCHAR_T)) == 0)
                return true;
            start = i + 1;
        }
    }
    return false;
}

bool addin_load(addin_library *lib, const char *path)
{
    memset(lib, 0, sizeof *lib);
    char *error;
    lib->handle = host_library_open(path, &error);
    if (!lib->handle) {
        report("cannot load %s: %s", path, error);
        free(error);
        return false;
    }
    host_library *h = lib->handle;
    lib->get_class_names = (GetClassNamesFn)host_library_symbol(h, "GetClassNames");
    lib->get_class_object = (GetClassObjectFn)host_library_symbol(h, "GetClassObject");
    lib->destroy_object = (DestroyObjectFn)host_library_symbol(h, "DestroyObject");
    lib->set_platform_capabilities =
        (SetPlatformCapabilitiesFn)host_library_symbol(h, "SetPlatformCapabilities");
    lib->get_attach_type = (GetAttachTypeFn)host_library_symbol(h, "GetAttachType");
    if (!lib->get_class_names || !lib->get_class_object || !lib->destroy_object ||
        !lib->set_platform_capabilities || !lib->get_attach_type) {
        report("%s does not export all five Native API functions", path);
        addin_unload(lib);
        return false;
    }
    const WCHAR_T *classes = lib->get_class_names();
    if (!classes || !list_has_client(classes)) {
        abi_error("GetClassNames() does not list \"Client\"");
        addin_unload(lib);
        return false;
    }
    int caps = lib->set_platform_capabilities(eAppCapabilities3);
    if (caps != eAppCapabilities3)
        abi_error("SetPlatformCapabilities(3) returned %d", caps);
    int attach = lib->get_attach_type();
    if (attach < eCanAttachNotIsolated || attach > eCanAttachAny)
        abi_error("GetAttachType() returned %d", attach);
    return true;
}

void addin_unload(addin_library *lib)
{
    host_library_close(lib->handle);
    memset(lib, 0, sizeof *lib);
}

/* ------------------------------------------------------------------------ */
/* --set NAME=VALUE                                                          */
/* ------------------------------------------------------------------------ */

static bool all_digits(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Values: true/false are Boolean; an integer is a Number (I4 when it fits,
 * else R8, as 1C passes it); a decimal like 1.5 is an R8 Number; anything
 * else, or a value written as string:TEXT, is a String. */
bool parse_setting(const char *arg, prop_setting *s)
{
    memset(s, 0, sizeof *s);
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    s->text = xstrdup(arg);
    s->name = utf16_from_utf8(arg, (size_t)(eq - arg), NULL);
    const char *value = eq + 1;
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        s->value.bVal = strcmp(value, "true") == 0;
        s->value.vt = VTYPE_BOOL;
        return true;
    }
    if (all_digits(value)) {
        errno = 0;
        long long n = strtoll(value, NULL, 10);
        if (errno == 0 && n >= INT32_MIN && n <= INT32_MAX) {
            s->value.lVal = (int32_t)n;
            s->value.vt = VTYPE_I4;
        } else {
            s->value.dblVal = strtod(value, NULL);
            s->value.vt = VTYPE_R8;
        }
        return true;
    }
    char *end = NULL;
    double d = strtod(value, &end);
    if (*value && end && *end == '\0' && strchr("+-0123456789.", *value) &&
        !strpbrk(value, "xXnN")) {
        s->value.dblVal = d;
        s->value.vt = VTYPE_R8;
        return true;
    }
    if (strncmp(value, "string:", 7) == 0)
        value += 7;
    s->string = utf16_from_utf8(value, strlen(value), &s->string_units);
    s->value.vt = VTYPE_PWSTR;
    return true;
}

void free_setting(prop_setting *s)
{
    free(s->name);
    free(s->text);
    free(s->string);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Objects                                                                   */
/* ------------------------------------------------------------------------ */

/* A PWSTR variant whose buffer comes from the host's memory manager, as
 * every string 1C passes in does. */
static void host_string(tVariant *v, const WCHAR_T *s, size_t units)
{
    memset(v, 0, sizeof *v);
    WCHAR_T *buf = mm_alloc((units + 1) * sizeof(WCHAR_T));
    if (!buf) {
        report("out of memory");
        exit(2);
    }
    memcpy(buf, s, units * sizeof(WCHAR_T));
    buf[units] = 0;
    v->pwstrVal = buf;
    v->wstrLen = (uint32_t)units;
    v->vt = VTYPE_PWSTR;
}

/* Frees what a variant holds now through the memory manager, as 1C does
 * with values the add-in returned or parameters it may have replaced. */
static void value_free(tVariant *v)
{
    if (v->vt == VTYPE_PWSTR) {
        void *p = v->pwstrVal;
        mm_free(&p);
    } else if (v->vt == VTYPE_PSTR || v->vt == VTYPE_BLOB) {
        void *p = v->pstrVal;
        mm_free(&p);
    }
    memset(v, 0, sizeof *v);
}

/* Reads property `name`; false (with *v EMPTY) when it cannot. */
static bool get_prop(addin_object *o, const WCHAR_T *name, tVariant *v)
{
    memset(v, 0, sizeof *v);
    long i = ADDIN_CALL(o->obj, langExt, FindProp, name);
    if (i < 0)
        return false;
    return ADDIN_CALL(o->obj, langExt, GetPropVal, i, v);
}

static bool set_prop(addin_object *o, const prop_setting *s)
{
    long i = ADDIN_CALL(o->obj, langExt, FindProp, s->name);
    if (i < 0) {
        report("--set %s: no such property", s->text);
        return false;
    }
    if (!ADDIN_CALL(o->obj, langExt, IsPropWritable, i)) {
        report("--set %s: the property is read-only", s->text);
        return false;
    }
    tVariant v = s->value;
    if (s->value.vt == VTYPE_PWSTR)
        host_string(&v, s->string, s->string_units);
    unsigned long before = connection_exceptions(o->conn);
    bool ok = ADDIN_CALL(o->obj, langExt, SetPropVal, i, &v);
    value_free(&v);
    if (!ok) {
        char *why = connection_exception_since(o->conn, before);
        if (!why)
            abi_error("SetPropVal(%s) returned false without AddError", s->text);
        report("--set %s: %s", s->text, why ? why : "SetPropVal returned false");
        free(why);
        return false;
    }
    return true;
}

static void call_destroy_object(const addin_library *lib, addin_object *o)
{
    IComponentBase *p = o->obj;
    long rc = lib->destroy_object(&p);
    if (rc != 0)
        abi_error("DestroyObject returned %ld, expected 0", rc);
    if (p != NULL)
        abi_error("DestroyObject did not set the object pointer to NULL");
    o->obj = NULL;
}

void addin_destroy(const addin_library *lib, addin_object *o)
{
    if (o->obj) {
        ADDIN_CALL0(o->obj, initDone, Done);
        call_destroy_object(lib, o);
    }
    connection_free(o->conn);
    o->conn = NULL;
}

bool addin_create(const addin_library *lib, const call_plan *plan, addin_object *o)
{
    o->obj = NULL;
    o->conn = connection_new();
    IComponentBase *p = NULL;
    long rc = lib->get_class_object(CLASS_NAME, &p);
    if (rc == 0 || !p) {
        abi_error("GetClassObject(\"Client\") returned %ld with %s pointer", rc,
                  p ? "a" : "a NULL");
        addin_destroy(lib, o);
        return false;
    }
    o->obj = p;
    if (!p->initDone || !p->langExt || !p->locale || !p->userLang) {
        abi_error("the object's four vtable pointers are not all set");
        call_destroy_object(lib, o);
        addin_destroy(lib, o);
        return false;
    }
    bool ok = true;
    if (!ADDIN_CALL(p, initDone, setMemManager, memory_manager())) {
        abi_error("setMemManager returned false");
        ok = false;
    }
    if (ok && !ADDIN_CALL(p, initDone, Init, connection_interface(o->conn))) {
        abi_error("Init returned false");
        ok = false;
    }
    if (ok) {
        long info = ADDIN_CALL0(p, initDone, GetInfo);
        if (info != 2000)
            abi_error("GetInfo returned %ld, expected 2000", info);
        WCHAR_T *name = NULL;
        if (!ADDIN_CALL(p, langExt, RegisterExtensionAs, &name) || !name) {
            abi_error("RegisterExtensionAs failed");
            ok = false;
        } else {
            long long size = mm_block_size(name);
            bool terminated;
            size_t units = utf16_len_bounded(name, NAME_SCAN_LIMIT, &terminated);
            if (size < 0)
                abi_error("RegisterExtensionAs: the name is not from AllocMemory");
            else if (!terminated || (long long)((units + 1) * sizeof(WCHAR_T)) > size ||
                     units != 6 || memcmp(name, CLASS_NAME, 6 * sizeof(WCHAR_T)) != 0)
                abi_error("RegisterExtensionAs: the name is not \"Client\"");
            void *q = name;
            mm_free(&q);
        }
    }
    if (!ok) {
        addin_destroy(lib, o);
        return false;
    }
    ADDIN_CALL(p, locale, SetLocale, u"en_US");
    ADDIN_CALL(p, userLang, SetUserInterfaceLanguageCode, u"en");
    for (size_t i = 0; i < plan->setting_count; i++) {
        if (!set_prop(o, &plan->settings[i])) {
            addin_destroy(lib, o);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* PostJson                                                                  */
/* ------------------------------------------------------------------------ */

/* ErrorText, as a malloc'ed UTF-8 string ("" when it cannot be read). */
static char *error_text(addin_object *o)
{
    tVariant v;
    char *text;
    if (get_prop(o, u"ErrorText", &v) && v.vt == VTYPE_PWSTR &&
        (v.pwstrVal || v.wstrLen == 0))
        text = utf8_from_utf16(v.pwstrVal ? v.pwstrVal : u"", v.wstrLen);
    else
        text = xstrdup("(ErrorText unreadable)");
    value_free(&v);
    return text;
}

/* StatusCode as an integer, or -1 (after an ABI error) when it is not a
 * Number. */
static long status_code(addin_object *o)
{
    tVariant v;
    long code = -1;
    if (!get_prop(o, u"StatusCode", &v)) {
        abi_error("StatusCode cannot be read");
    } else if (v.vt == VTYPE_I4) {
        code = v.lVal;
    } else if (v.vt == VTYPE_R8 && v.dblVal >= 0 && v.dblVal < 1000) {
        code = (long)v.dblVal;
    } else if (v.vt == VTYPE_I2) {
        code = v.shortVal;
    } else {
        abi_error("StatusCode is not a Number (vt=%u)", (unsigned)v.vt);
    }
    value_free(&v);
    return code;
}

call_outcome addin_post_json(addin_object *o, const call_plan *plan, bool describe, char **why)
{
    *why = NULL;
    IComponentBase *obj = o->obj;
    long m = ADDIN_CALL(obj, langExt, FindMethod, u"PostJson");
    if (m < 0) {
        abi_error("FindMethod(\"PostJson\") returned %ld", m);
        if (describe)
            *why = xstrdup("PostJson not found");
        return CALL_FAILED;
    }
    long n = ADDIN_CALL(obj, langExt, GetNParams, m);
    if (n != 3 || !ADDIN_CALL(obj, langExt, HasRetVal, m)) {
        abi_error("PostJson: GetNParams %ld (expected 3) or no return value", n);
        if (describe)
            *why = xstrdup("PostJson has an unexpected signature");
        return CALL_FAILED;
    }

    /* As 1C does: the given arguments in host memory, the omitted Headers
     * from GetParamDefValue. */
    tVariant params[3];
    host_string(&params[0], plan->url, plan->url_units);
    host_string(&params[1], plan->json, plan->json_units);
    memset(&params[2], 0, sizeof params[2]);
    if (!ADDIN_CALL(obj, langExt, GetParamDefValue, m, 2, &params[2]))
        abi_error("PostJson: no default value for the Headers parameter");

    tVariant ret;
    memset(&ret, 0, sizeof ret);
    unsigned long before = connection_exceptions(o->conn);
    bool ok = ADDIN_CALL(obj, langExt, CallAsFunc, m, &ret, params, 3);
    char *exc = connection_exception_since(o->conn, before);
    bool raised = exc != NULL;

    call_outcome outcome = CALL_FAILED;
    if (ok) {
        if (raised)
            abi_error("PostJson returned true but raised an exception");
        if (ret.vt != VTYPE_PWSTR || (!ret.pwstrVal && ret.wstrLen != 0))
            abi_error("PostJson returned vt=%u, not a String", (unsigned)ret.vt);
        else if (ret.pwstrVal &&
                 mm_block_size(ret.pwstrVal) < (long long)(ret.wstrLen * sizeof(WCHAR_T)))
            abi_error("PostJson's result is not a large enough AllocMemory block");
        long code = status_code(o);
        if (code == 200)
            outcome = CALL_OK;
        else if (describe) {
            char *text = error_text(o);
            *why = xprintf("StatusCode %ld; ErrorText: %s", code, text);
            free(text);
        }
    } else {
        if (!raised)
            abi_error("PostJson returned false without AddError");
        if (ret.vt != VTYPE_EMPTY)
            abi_error("PostJson failed but set a return value (vt=%u)", (unsigned)ret.vt);
        if (describe) {
            char *text = error_text(o);
            *why = xprintf("exception: %s; ErrorText: %s", exc ? exc : "(none)", text);
            free(text);
        }
    }
    free(exc);
    value_free(&ret);
    for (int i = 0; i < 3; i++)
        value_free(&params[i]);
    return outcome;
}
