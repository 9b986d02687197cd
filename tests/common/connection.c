/*
 * connection.c: the IAddInDefBaseEx object passed to Init, plus the
 * extended interfaces it hands out (IPlatformInfo, IAttachedInfo, IMsgBox).
 * Each add-in object may get a connection of its own, so that an exception
 * can be attributed to the object that raised it.  The add-in may call from
 * its own threads, so a connection's state is kept under its lock.  What a
 * program does with AddError, ExternalEvent and IMsgBox is its own
 * (on_add_error, on_external_event, on_msgbox).
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

/* One ExternalEvent waiting in the buffer, its strings copied. */
typedef struct buffered_event {
    WCHAR_T *source, *message, *data;
} buffered_event;

struct connection {
    IAddInDefBaseEx iface;      /* first: the add-in calls with this address */
    host_mutex *lock;
    /* 1C's event buffer: ExternalEvent queues an event while fewer than
     * event_buffer_depth wait (the default depth is 1), drops it and returns
     * false otherwise; the host hands the waiting events to the 1C code only
     * when no call of its own runs (connection_deliver_events). */
    long event_buffer_depth;
    buffered_event *events;
    size_t events_waiting;
    unsigned long events_dropped;
    unsigned long exceptions;
    char *last_exception;
};

static connection *from_self(void *self)
{
    return (connection *)self;
}

static void ADDIN_API host_object_dtor(void *self)
{
    (void)self;
    abi_error("the add-in called a destructor slot of a host object");
}

/* A NULL string argument is an ABI error: 1C would dereference it. */
static void check_arg(const char *method, const char *arg, const void *p)
{
    if (!p)
        abi_error("%s: %s is NULL", method, arg);
}

/* ------------------------------------------------------------------------ */
/* IAddInDefBaseEx                                                           */
/* ------------------------------------------------------------------------ */

static bool ADDIN_API conn_AddError(void *self, unsigned short wcode, const WCHAR_T *source,
                                    const WCHAR_T *descr, long scode)
{
    connection *c = from_self(self);
    check_arg("AddError", "source", source);
    check_arg("AddError", "descr", descr);
    /* scode != 0 turns the message into a 1C exception. */
    if (scode != 0) {
        bool terminated;
        char *text = descr ? utf8_from_utf16(descr, utf16_len_bounded(descr, SIZE_MAX,
                                                                      &terminated))
                           : xstrdup("");
        host_mutex_lock(c->lock);
        c->exceptions++;
        free(c->last_exception);
        c->last_exception = text;
        host_mutex_unlock(c->lock);
    }
    on_add_error(c, wcode, source, descr, scode);
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
    connection *c = from_self(self);
    host_mutex_lock(c->lock);
    c->event_buffer_depth = depth;
    host_mutex_unlock(c->lock);
    return true;
}

static long ADDIN_API conn_GetEventBufferDepth(void *self)
{
    connection *c = from_self(self);
    host_mutex_lock(c->lock);
    long depth = c->event_buffer_depth;
    host_mutex_unlock(c->lock);
    return depth;
}

static WCHAR_T *utf16_copy(const WCHAR_T *s)
{
    bool terminated;
    size_t units = utf16_len_bounded(s, SIZE_MAX, &terminated);
    WCHAR_T *d = xmalloc((units + 1) * sizeof(WCHAR_T));
    memcpy(d, s, units * sizeof(WCHAR_T));
    d[units] = 0;
    return d;
}

static void free_event(buffered_event *e)
{
    free(e->source);
    free(e->message);
    free(e->data);
}

static void free_events(buffered_event *events, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free_event(&events[i]);
    free(events);
}

/* Empties the buffer; the caller owns what it held. */
static buffered_event *take_events(connection *c, size_t *count)
{
    host_mutex_lock(c->lock);
    buffered_event *events = c->events;
    *count = c->events_waiting;
    c->events = NULL;
    c->events_waiting = 0;
    host_mutex_unlock(c->lock);
    return events;
}

static bool ADDIN_API conn_ExternalEvent(void *self, WCHAR_T *source, WCHAR_T *message,
                                         WCHAR_T *data)
{
    check_arg("ExternalEvent", "source", source);
    check_arg("ExternalEvent", "message", message);
    check_arg("ExternalEvent", "data", data);
    if (!source || !message || !data)
        return false;
    connection *c = from_self(self);
    buffered_event e = { utf16_copy(source), utf16_copy(message), utf16_copy(data) };
    host_mutex_lock(c->lock);
    bool queued = c->event_buffer_depth > 0 && c->events_waiting < (size_t)c->event_buffer_depth;
    if (queued) {
        c->events = xrealloc(c->events, (c->events_waiting + 1) * sizeof *c->events);
        c->events[c->events_waiting++] = e;
    } else {
        c->events_dropped++;
    }
    host_mutex_unlock(c->lock);
    if (!queued)
        free_event(&e);
    return queued;
}

static void ADDIN_API conn_CleanEventBuffer(void *self)
{
    size_t count;
    buffered_event *events = take_events(from_self(self), &count);
    free_events(events, count);
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
    check_arg("IMsgBox::Confirm", "text", queryText);
    on_msgbox("confirm", queryText);
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
    check_arg("IMsgBox::Alert", "text", text);
    on_msgbox("alert", text);
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
    HOST_DTOR_SLOTS(host_object_dtor),
    .AddError = conn_AddError,
    /* profile storage */
    .Read = conn_Read, .Write = conn_Write, .RegisterProfileAs = conn_RegisterProfileAs,
    /* events */
    .SetEventBufferDepth = conn_SetEventBufferDepth,
    .GetEventBufferDepth = conn_GetEventBufferDepth,
    .ExternalEvent = conn_ExternalEvent, .CleanEventBuffer = conn_CleanEventBuffer,
    /* status line */
    .SetStatusLine = conn_SetStatusLine, .ResetStatusLine = conn_ResetStatusLine,
    .GetInterface = conn_GetInterface,
};

void connection_set_application(int app_type)
{
    app_info.Application = app_type;
}

connection *connection_new(void)
{
    connection *c = xcalloc(1, sizeof *c);
    c->iface.vtbl = &conn_vtbl;
    c->lock = host_mutex_new();
    c->event_buffer_depth = 1;
    return c;
}

void connection_deliver_events(connection *c)
{
    size_t count;
    buffered_event *events = take_events(c, &count);
    for (size_t i = 0; i < count; i++)
        on_external_event(c, events[i].source, events[i].message, events[i].data);
    free_events(events, count);
}

unsigned long connection_events_dropped(connection *c)
{
    host_mutex_lock(c->lock);
    unsigned long dropped = c->events_dropped;
    host_mutex_unlock(c->lock);
    return dropped;
}

void connection_free(connection *c)
{
    if (!c)
        return;
    free_events(c->events, c->events_waiting);
    host_mutex_free(c->lock);
    free(c->last_exception);
    free(c);
}

IAddInDefBaseEx *connection_interface(connection *c)
{
    return &c->iface;
}

unsigned long connection_exceptions(connection *c)
{
    host_mutex_lock(c->lock);
    unsigned long n = c->exceptions;
    host_mutex_unlock(c->lock);
    return n;
}

char *connection_exception_since(connection *c, unsigned long mark)
{
    host_mutex_lock(c->lock);
    char *text = c->exceptions != mark && c->last_exception ? xstrdup(c->last_exception) : NULL;
    host_mutex_unlock(c->lock);
    return text;
}
