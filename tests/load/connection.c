/*
 * connection.c: the IAddInDefBaseEx passed to Init.  Each add-in object gets
 * its own, so that AddError's text can be attributed to the object (and so
 * the thread) that raised it; AddError may also come from the add-in's own
 * threads, so the state is under a lock.  The extended interfaces
 * (IPlatformInfo, IAttachedInfo, IMsgBox) are shared and stateless.
 */
#include "load.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct load_connection {
    IAddInDefBaseEx iface;     /* first: the add-in calls with this address */
    pthread_mutex_t lock;
    unsigned long exceptions;
    char *last_exception;
};

static load_connection *from_self(void *self)
{
    return (load_connection *)self;
}

static void ADDIN_API host_object_dtor(void *self)
{
    (void)self;
    abi_error("the add-in called a destructor slot of a host object");
}

static bool ADDIN_API conn_AddError(void *self, unsigned short wcode, const WCHAR_T *source,
                                    const WCHAR_T *descr, long scode)
{
    (void)wcode;
    load_connection *c = from_self(self);
    if (!source || !descr) {
        abi_error("AddError: %s is NULL", !source ? "source" : "descr");
        if (!descr)
            return true;
    }
    bool terminated;
    size_t units = utf16_len_bounded(descr, 1 << 20, &terminated);
    if (!terminated)
        abi_error("AddError: descr is not NUL-terminated within 1M units");
    char *text = utf8_dup(descr, units);
    if (scode == 0) {
        /* A message, not an exception: nothing in this run sends those. */
        report("AddError without an exception: %s", text);
        free(text);
        return true;
    }
    pthread_mutex_lock(&c->lock);
    c->exceptions++;
    free(c->last_exception);
    c->last_exception = text;
    pthread_mutex_unlock(&c->lock);
    return true;
}

static bool ADDIN_API conn_Read(void *self, WCHAR_T *propName, tVariant *val, long *errCode,
                                WCHAR_T **errDescriptor)
{
    (void)self; (void)propName; (void)val; (void)errCode; (void)errDescriptor;
    return false;
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
    (void)self; (void)depth;
    return true;
}

static long ADDIN_API conn_GetEventBufferDepth(void *self)
{
    (void)self;
    return 1;
}

static bool ADDIN_API conn_ExternalEvent(void *self, WCHAR_T *source, WCHAR_T *message,
                                         WCHAR_T *data)
{
    (void)self;
    if (!source || !message || !data)
        abi_error("ExternalEvent: a NULL argument");
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

/* As in tests/host/connection.c: MSVC hosts hand out object + P. */
typedef struct host_iface {
    const void *vtbl;
    void *msvc_iinterface_base;
} host_iface;

static const AppInfo app_info = {
    u"8.3.25.1286",
    u"Webhook1C load host",
    eAppServer,
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
    (void)self; (void)queryText;
    if (retVal) {
        retVal->bVal = true;
        retVal->vt = VTYPE_BOOL;
    }
    return true;
}

static bool ADDIN_API mb_Alert(void *self, const WCHAR_T *text)
{
    (void)self; (void)text;
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
    return (char *)obj + sizeof(void *);
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

load_connection *connection_new(void)
{
    load_connection *c = xcalloc(1, sizeof *c);
    c->iface.vtbl = &conn_vtbl;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void connection_free(load_connection *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->last_exception);
    free(c);
}

IAddInDefBaseEx *connection_interface(load_connection *c)
{
    return &c->iface;
}

unsigned long connection_exceptions(load_connection *c)
{
    pthread_mutex_lock(&c->lock);
    unsigned long n = c->exceptions;
    pthread_mutex_unlock(&c->lock);
    return n;
}

char *connection_last_exception(load_connection *c)
{
    pthread_mutex_lock(&c->lock);
    char *text = c->last_exception ? xstrdup(c->last_exception) : NULL;
    pthread_mutex_unlock(&c->lock);
    return text;
}
