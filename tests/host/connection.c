/*
 * connection.c: the IAddInDefBaseEx object passed to Init, plus the
 * extended interfaces it hands out (IPlatformInfo, IAttachedInfo, IMsgBox).
 * These may be called from the add-in's own threads, so everything that
 * prints goes through output.c and shared state is kept under a lock.
 */
#include "host.h"

#include <stdlib.h>

static host_mutex *conn_lock;
static long event_buffer_depth = 1;

static void ADDIN_API host_object_dtor(void *self)
{
    (void)self;
    abi_error("the add-in called a destructor slot of a host object");
}

/* Appends a host-call string argument as "..." (JSON-escaped).  A NULL
 * pointer is an ABI error: 1C would dereference it. */
static void append_arg(strbuf *sb, const char *method, const char *arg, const WCHAR_T *s)
{
    if (!s)
        abi_error("%s: %s is NULL", method, arg);
    sb_append_quoted_utf16z(sb, s);
}

/* ------------------------------------------------------------------------ */
/* IAddInDefBaseEx                                                           */
/* ------------------------------------------------------------------------ */

static bool ADDIN_API conn_AddError(void *self, unsigned short wcode, const WCHAR_T *source,
                                    const WCHAR_T *descr, long scode)
{
    (void)self;
    strbuf line = {0};
    sb_printf(&line, "wcode=%u scode=%ld source=", (unsigned)wcode, scode);
    append_arg(&line, "AddError", "source", source);
    sb_puts(&line, " descr=");
    append_arg(&line, "AddError", "descr", descr);
    out_line_sb("# AddError ", &line);
    sb_free(&line);

    /* scode != 0 turns the message into a 1C exception. */
    if (scode != 0) {
        strbuf text = {0};
        if (descr) {
            bool terminated;
            sb_append_utf16(&text, descr, utf16_len_bounded(descr, SIZE_MAX, &terminated));
        }
        exc_note_error(sb_str(&text));
        sb_free(&text);
    }
    return true;
}

static bool ADDIN_API conn_Read(void *self, WCHAR_T *propName, tVariant *val, long *errCode,
                                WCHAR_T **errDescriptor)
{
    (void)self; (void)propName; (void)val; (void)errCode; (void)errDescriptor;
    return false;   /* no profile storage in the test host */
}

static bool ADDIN_API conn_Write(void *self, WCHAR_T *propName, tVariant *val)
{
    (void)self; (void)propName; (void)val;
    return false;
}

static bool ADDIN_API conn_RegisterProfileAs(void *self, WCHAR_T *profileName)
{
    (void)self; (void)profileName;
    return true;
}

static bool ADDIN_API conn_SetEventBufferDepth(void *self, long depth)
{
    (void)self;
    host_mutex_lock(conn_lock);
    event_buffer_depth = depth;
    host_mutex_unlock(conn_lock);
    return true;
}

static long ADDIN_API conn_GetEventBufferDepth(void *self)
{
    (void)self;
    host_mutex_lock(conn_lock);
    long depth = event_buffer_depth;
    host_mutex_unlock(conn_lock);
    return depth;
}

static bool ADDIN_API conn_ExternalEvent(void *self, WCHAR_T *source, WCHAR_T *message,
                                         WCHAR_T *data)
{
    (void)self;
    strbuf line = {0};
    append_arg(&line, "ExternalEvent", "source", source);
    sb_putc(&line, ' ');
    append_arg(&line, "ExternalEvent", "message", message);
    sb_putc(&line, ' ');
    append_arg(&line, "ExternalEvent", "data", data);
    out_line_sb("* event ", &line);
    sb_free(&line);
    return true;
}

static void ADDIN_API conn_CleanEventBuffer(void *self)
{
    (void)self;
}

static bool ADDIN_API conn_SetStatusLine(void *self, WCHAR_T *statusLine)
{
    (void)self; (void)statusLine;
    return true;
}

static void ADDIN_API conn_ResetStatusLine(void *self)
{
    (void)self;
}

/* ------------------------------------------------------------------------ */
/* Extended interfaces                                                       */
/* ------------------------------------------------------------------------ */

/* Host-side objects for the extended interfaces.  In the MSVC layout the
 * empty IInterface base sits right after the vptr, and 1C returns the
 * address of that base (object + P); the add-in subtracts P on Windows.
 * The padding member gives that address a place inside the object. */
typedef struct host_iface {
    const void *vtbl;
    void *msvc_iinterface_base;
} host_iface;

static AppInfo app_info = {
    u"8.3.25.1286",
    u"Webhook1C test host",
    eAppThinClient,
};

static const AppInfo *ADDIN_API pi_GetPlatformInfo(void *self)
{
    (void)self;
    return &app_info;
}

static int ADDIN_API ai_GetAttachedInfo(void *self)
{
    (void)self;
    return eAttachedNotIsolated;
}

static bool ADDIN_API mb_Confirm(void *self, const WCHAR_T *queryText, tVariant *retVal)
{
    (void)self;
    strbuf line = {0};
    append_arg(&line, "IMsgBox::Confirm", "text", queryText);
    out_line_sb("* msgbox confirm ", &line);
    sb_free(&line);
    if (retVal) {
        /* The user pressed OK. */
        retVal->bVal = true;
        retVal->vt = VTYPE_BOOL;
    } else {
        abi_error("IMsgBox::Confirm: retVal is NULL");
    }
    return true;
}

static bool ADDIN_API mb_Alert(void *self, const WCHAR_T *text)
{
    (void)self;
    strbuf line = {0};
    append_arg(&line, "IMsgBox::Alert", "text", text);
    out_line_sb("* msgbox alert ", &line);
    sb_free(&line);
    return true;
}

static const IPlatformInfoVtbl platform_info_vtbl = { pi_GetPlatformInfo };
static const IAttachedInfoVtbl attached_info_vtbl = { ai_GetAttachedInfo };
static const IMsgBoxVtbl msgbox_vtbl = { mb_Confirm, mb_Alert };

static host_iface platform_info_object = { &platform_info_vtbl, NULL };
static host_iface attached_info_object = { &attached_info_vtbl, NULL };
static host_iface msgbox_object = { &msgbox_vtbl, NULL };

static void *iface_pointer(host_iface *obj)
{
#ifdef _WIN32
    return (char *)obj + sizeof(void *);   /* the MSVC IInterface subobject */
#else
    return obj;
#endif
}

static void *ADDIN_API conn_GetInterface(void *self, int iface)
{
    (void)self;
    switch (iface) {
    case eIMsgBox:
        return iface_pointer(&msgbox_object);
    case eIPlatformInfo:
        return iface_pointer(&platform_info_object);
    case eIAttachedInfo:
        return iface_pointer(&attached_info_object);
    default:
        return NULL;
    }
}

static const IAddInDefBaseExVtbl conn_vtbl = {
#ifndef _WIN32
    .dtor_complete = host_object_dtor,
#endif
    .dtor_deleting = host_object_dtor,
    .AddError = conn_AddError,
    .Read = conn_Read,
    .Write = conn_Write,
    .RegisterProfileAs = conn_RegisterProfileAs,
    .SetEventBufferDepth = conn_SetEventBufferDepth,
    .GetEventBufferDepth = conn_GetEventBufferDepth,
    .ExternalEvent = conn_ExternalEvent,
    .CleanEventBuffer = conn_CleanEventBuffer,
    .SetStatusLine = conn_SetStatusLine,
    .ResetStatusLine = conn_ResetStatusLine,
    .GetInterface = conn_GetInterface,
};

static IAddInDefBaseEx conn_object = { &conn_vtbl };

void connection_init(int app_type)
{
    conn_lock = host_mutex_new();
    app_info.Application = app_type;
}

IAddInDefBaseEx *connection_object(void)
{
    return &conn_object;
}

void connection_done(void)
{
    host_mutex_free(conn_lock);
    conn_lock = NULL;
}
