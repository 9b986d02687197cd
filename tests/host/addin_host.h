/*
 * addin_host.h: the binary interface between a 1C:Enterprise host and a
 * Native API add-in, written from the facts in /work/shared/native-api-abi.md
 * (no SDK headers were copied).  Everything here describes memory layouts and
 * calling conventions that a real 1C host uses, so the test host below can
 * call the add-in exactly the way 1C does.
 *
 * Platforms: Linux x86_64 (GCC/Itanium C++ ABI, the default here; Linux
 * aarch64 and i386 use the same ABI with their own type sizes, asserted
 * below) and Windows x86 / x64 (MSVC C++ ABI, under #ifdef _WIN32).  The
 * differences:
 *
 *                         Linux x86_64     Windows (MSVC-built 1C)
 *   destructor slots      2 (D1, D0)       1 (scalar deleting dtor)
 *   vtable calls          System V         __stdcall (= ADDIN_API)
 *   sizeof(long)          8                4
 *   sizeof(tVariant)      64               48
 *   GetInterface result   object           object + sizeof(void*)
 *
 * The five exported functions are plain cdecl C functions on every platform.
 */
#ifndef WEBHOOK1C_ADDIN_HOST_H
#define WEBHOOK1C_ADDIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Interface strings are always 2-byte UTF-16LE, never wchar_t (4 bytes on
 * Linux). */
typedef uint16_t WCHAR_T;

#ifdef _WIN32
#define ADDIN_API __stdcall   /* every vtable function of every interface */
#define ADDIN_EXPORT __cdecl  /* the five exported functions */
#else
#define ADDIN_API
#define ADDIN_EXPORT
#endif

/* ------------------------------------------------------------------------ */
/* tVariant                                                                 */
/* ------------------------------------------------------------------------ */

enum ENUMVAR {
    VTYPE_EMPTY = 0,
    VTYPE_NULL = 1,
    VTYPE_I2 = 2,
    VTYPE_I4 = 3,
    VTYPE_R4 = 4,
    VTYPE_R8 = 5,
    VTYPE_DATE = 6,
    VTYPE_TM = 7,
    VTYPE_PSTR = 8,
    VTYPE_INTERFACE = 9,
    VTYPE_ERROR = 10,
    VTYPE_BOOL = 11,
    VTYPE_VARIANT = 12,
    VTYPE_I1 = 13,
    VTYPE_UI1 = 14,
    VTYPE_UI2 = 15,
    VTYPE_UI4 = 16,
    VTYPE_I8 = 17,
    VTYPE_UI8 = 18,
    VTYPE_INT = 19,
    VTYPE_UINT = 20,
    VTYPE_HRESULT = 21,
    VTYPE_PWSTR = 22,
    VTYPE_BLOB = 23,
    VTYPE_CLSID = 24,
    VTYPE_STR_BLOB = 0x0FFF,
    VTYPE_VECTOR = 0x1000,
    VTYPE_ARRAY = 0x2000,
    VTYPE_BYREF = 0x4000,
    VTYPE_RESERVED = 0x8000,
    VTYPE_ILLEGAL = 0xFFFF,
    VTYPE_ILLEGALMASKED = 0x0FFF,
    VTYPE_TYPEMASK = 0x0FFF
};

typedef uint16_t TYPEVAR;   /* the 16-bit `vt` field holds an ENUMVAR */
typedef double DATE;        /* OLE date: days since 1899-12-30 */

typedef struct tVariant {
    /* All members start at offset 0.  struct tm is the largest member, which
     * is why the union is 56 bytes on Linux and 36 (padded to 40) on
     * Windows. */
    union {
        int8_t i8Val;
        int16_t shortVal;
        int32_t lVal;
        int intVal;
        unsigned int uintVal;
        int64_t llVal;
        uint8_t ui8Val;
        uint16_t ushortVal;
        uint32_t ulVal;
        uint64_t ullVal;
        int32_t errCode;
        long hRes;
        float fltVal;
        double dblVal;
        bool bVal;
        char chVal;
        DATE date;
        struct tm tmVal;
        struct tVariant *pvarVal;
        void *pInterfaceVal;
        struct {
            char *pstrVal;      /* VTYPE_PSTR and VTYPE_BLOB */
            uint32_t strLen;    /* in bytes */
        };
        struct {
            WCHAR_T *pwstrVal;  /* VTYPE_PWSTR, not necessarily terminated */
            uint32_t wstrLen;   /* in UTF-16 code units */
        };
    };
    uint32_t cbElements;        /* element count for vectors/arrays */
    TYPEVAR vt;
} tVariant;

#if defined(_WIN32)
_Static_assert(sizeof(struct tm) == 36, "Windows struct tm is 9 ints");
_Static_assert(sizeof(tVariant) == 48, "Windows tVariant size");
_Static_assert(offsetof(tVariant, cbElements) == 40, "Windows cbElements");
_Static_assert(offsetof(tVariant, vt) == 44, "Windows vt");
_Static_assert(sizeof(long) == 4, "Windows long is 4 bytes");
#elif defined(__linux__) && defined(__x86_64__)
_Static_assert(sizeof(struct tm) == 56, "glibc struct tm on x86_64");
_Static_assert(sizeof(tVariant) == 64, "Linux x86_64 tVariant size");
_Static_assert(offsetof(tVariant, cbElements) == 56, "Linux cbElements");
_Static_assert(offsetof(tVariant, vt) == 60, "Linux vt");
_Static_assert(sizeof(long) == 8, "Linux x86_64 long is 8 bytes");
#elif defined(__linux__) && defined(__aarch64__)
/* AAPCS64 with LP64, like x86_64: the same sizes and offsets. */
_Static_assert(sizeof(struct tm) == 56, "glibc struct tm on aarch64");
_Static_assert(sizeof(tVariant) == 64, "Linux aarch64 tVariant size");
_Static_assert(offsetof(tVariant, cbElements) == 56, "Linux aarch64 cbElements");
_Static_assert(offsetof(tVariant, vt) == 60, "Linux aarch64 vt");
_Static_assert(sizeof(long) == 8, "Linux aarch64 long is 8 bytes");
#elif defined(__linux__) && defined(__i386__)
/* i386 System V: 8-byte members are 4-aligned, so the variant is 52/4. */
_Static_assert(sizeof(struct tm) == 44, "glibc struct tm on i386");
_Static_assert(sizeof(tVariant) == 52, "Linux i386 tVariant size");
_Static_assert(offsetof(tVariant, cbElements) == 44, "Linux i386 cbElements");
_Static_assert(offsetof(tVariant, vt) == 48, "Linux i386 vt");
_Static_assert(sizeof(long) == 4, "Linux i386 long is 4 bytes");
#endif
_Static_assert(sizeof(WCHAR_T) == 2, "WCHAR_T is UTF-16");
_Static_assert(sizeof(bool) == 1, "C++ bool is 1 byte");
_Static_assert(offsetof(tVariant, pwstrVal) == 0, "string pointer first");
_Static_assert(offsetof(tVariant, wstrLen) == sizeof(void *), "length after pointer");

/* ------------------------------------------------------------------------ */
/* Destructor slots at the top of every C++ vtable                           */
/* ------------------------------------------------------------------------ */

/* Nobody calls them (DestroyObject deletes the component; the host owns its
 * own objects), but they occupy slots, so the later indices depend on them. */
typedef void (ADDIN_API *addin_dtor_fn)(void *self);

#ifdef _WIN32
#define ADDIN_DTOR_COUNT 1
#define ADDIN_DTOR_SLOTS addin_dtor_fn dtor_deleting;
#else
#define ADDIN_DTOR_COUNT 2
#define ADDIN_DTOR_SLOTS addin_dtor_fn dtor_complete; addin_dtor_fn dtor_deleting;
#endif

/* Byte offset of vtable slot `index` counted after the destructor slots. */
#define ADDIN_SLOT(index) ((ADDIN_DTOR_COUNT + (index)) * sizeof(void *))

/* ------------------------------------------------------------------------ */
/* The component (implemented by the add-in)                                */
/* ------------------------------------------------------------------------ */

/* Every function takes `this` = the address of the vptr of its own base,
 * i.e. object + k * sizeof(void*) for base k. */

typedef struct IInitDoneBaseVtbl {
    ADDIN_DTOR_SLOTS
    bool (ADDIN_API *Init)(void *self, void *disp);
    bool (ADDIN_API *setMemManager)(void *self, void *mem);
    long (ADDIN_API *GetInfo)(void *self);
    void (ADDIN_API *Done)(void *self);
} IInitDoneBaseVtbl;

typedef struct ILanguageExtenderBaseVtbl {
    ADDIN_DTOR_SLOTS
    bool (ADDIN_API *RegisterExtensionAs)(void *self, WCHAR_T **name);
    long (ADDIN_API *GetNProps)(void *self);
    long (ADDIN_API *FindProp)(void *self, const WCHAR_T *name);
    const WCHAR_T *(ADDIN_API *GetPropName)(void *self, long num, long alias);
    bool (ADDIN_API *GetPropVal)(void *self, const long num, tVariant *val);
    bool (ADDIN_API *SetPropVal)(void *self, const long num, tVariant *val);
    bool (ADDIN_API *IsPropReadable)(void *self, const long num);
    bool (ADDIN_API *IsPropWritable)(void *self, const long num);
    long (ADDIN_API *GetNMethods)(void *self);
    long (ADDIN_API *FindMethod)(void *self, const WCHAR_T *name);
    const WCHAR_T *(ADDIN_API *GetMethodName)(void *self, const long num, const long alias);
    long (ADDIN_API *GetNParams)(void *self, const long num);
    bool (ADDIN_API *GetParamDefValue)(void *self, const long m, const long p, tVariant *def);
    bool (ADDIN_API *HasRetVal)(void *self, const long m);
    bool (ADDIN_API *CallAsProc)(void *self, const long m, tVariant *params, const long n);
    bool (ADDIN_API *CallAsFunc)(void *self, const long m, tVariant *ret, tVariant *params, const long n);
} ILanguageExtenderBaseVtbl;

typedef struct LocaleBaseVtbl {
    ADDIN_DTOR_SLOTS
    void (ADDIN_API *SetLocale)(void *self, const WCHAR_T *loc);
} LocaleBaseVtbl;

typedef struct UserLanguageBaseVtbl {
    ADDIN_DTOR_SLOTS
    void (ADDIN_API *SetUserInterfaceLanguageCode)(void *self, const WCHAR_T *lang);
} UserLanguageBaseVtbl;

/* Slot indices from the fact sheet (W = index here + 1, L = index + 2). */
_Static_assert(offsetof(IInitDoneBaseVtbl, Done) == ADDIN_SLOT(3), "Done slot");
_Static_assert(offsetof(ILanguageExtenderBaseVtbl, FindProp) == ADDIN_SLOT(2), "FindProp slot");
_Static_assert(offsetof(ILanguageExtenderBaseVtbl, CallAsFunc) == ADDIN_SLOT(15),
               "CallAsFunc slot: byte offset 64 (Win32), 128 (Win64), 136 (Linux)");
_Static_assert(offsetof(LocaleBaseVtbl, SetLocale) == ADDIN_SLOT(0), "SetLocale slot");
_Static_assert(offsetof(UserLanguageBaseVtbl, SetUserInterfaceLanguageCode) == ADDIN_SLOT(0),
               "SetUserInterfaceLanguageCode slot");

/* IComponentBase: four vptrs, one per base, in this order.  The add-in's
 * object may continue after them; the host only ever reads these four. */
typedef struct IComponentBase {
    const IInitDoneBaseVtbl *initDone;          /* obj + 0  */
    const ILanguageExtenderBaseVtbl *langExt;   /* obj + P  */
    const LocaleBaseVtbl *locale;               /* obj + 2P */
    const UserLanguageBaseVtbl *userLang;       /* obj + 3P */
} IComponentBase;

/* Call method METHOD of base FIELD with this = &obj->FIELD. */
#define ADDIN_CALL(obj, field, method, ...) \
    ((obj)->field->method((void *)&(obj)->field, __VA_ARGS__))
#define ADDIN_CALL0(obj, field, method) \
    ((obj)->field->method((void *)&(obj)->field))

/* ------------------------------------------------------------------------ */
/* Host objects (implemented by the host, called by the add-in)              */
/* ------------------------------------------------------------------------ */

typedef struct IMemoryManagerVtbl {
    ADDIN_DTOR_SLOTS
    bool (ADDIN_API *AllocMemory)(void *self, void **pMemory, unsigned long ulCountByte);
    void (ADDIN_API *FreeMemory)(void *self, void **pMemory);
} IMemoryManagerVtbl;

typedef struct IMemoryManager {
    const IMemoryManagerVtbl *vtbl;
} IMemoryManager;

/* AddError wcode values: they choose only the presentation. */
enum {
    ADDIN_E_NONE = 1000,
    ADDIN_E_ORDINARY = 1001,
    ADDIN_E_ATTENTION = 1002,
    ADDIN_E_IMPORTANT = 1003,
    ADDIN_E_VERY_IMPORTANT = 1004,
    ADDIN_E_INFO = 1005,
    ADDIN_E_FAIL = 1006,
    ADDIN_E_MSGBOX_ATTENTION = 1007,
    ADDIN_E_MSGBOX_INFO = 1008,
    ADDIN_E_MSGBOX_FAIL = 1009
};

/* GetInterface argument (a 4-byte int). */
enum Interfaces {
    eIMsgBox = 0,
    eIPlatformInfo = 1,
    eIAttachedInfo = 2
};

typedef struct IAddInDefBaseExVtbl {
    ADDIN_DTOR_SLOTS
    bool (ADDIN_API *AddError)(void *self, unsigned short wcode, const WCHAR_T *source,
                               const WCHAR_T *descr, long scode);
    bool (ADDIN_API *Read)(void *self, WCHAR_T *propName, tVariant *val, long *errCode,
                           WCHAR_T **errDescriptor);
    bool (ADDIN_API *Write)(void *self, WCHAR_T *propName, tVariant *val);
    bool (ADDIN_API *RegisterProfileAs)(void *self, WCHAR_T *profileName);
    bool (ADDIN_API *SetEventBufferDepth)(void *self, long depth);
    long (ADDIN_API *GetEventBufferDepth)(void *self);
    bool (ADDIN_API *ExternalEvent)(void *self, WCHAR_T *source, WCHAR_T *message, WCHAR_T *data);
    void (ADDIN_API *CleanEventBuffer)(void *self);
    bool (ADDIN_API *SetStatusLine)(void *self, WCHAR_T *statusLine);
    void (ADDIN_API *ResetStatusLine)(void *self);
    /* IAddInDefBaseEx only: */
    void *(ADDIN_API *GetInterface)(void *self, int iface);
} IAddInDefBaseExVtbl;

_Static_assert(offsetof(IMemoryManagerVtbl, FreeMemory) == ADDIN_SLOT(1), "FreeMemory slot");
_Static_assert(offsetof(IAddInDefBaseExVtbl, GetInterface) == ADDIN_SLOT(10), "GetInterface slot");

typedef struct IAddInDefBaseEx {
    const IAddInDefBaseExVtbl *vtbl;
} IAddInDefBaseEx;

/* The extended interfaces derive from an empty, non-virtual IInterface, so
 * their own methods start at slot 0 with no destructor slots. */

enum AppType {
    eAppUnknown = -1,
    eAppThinClient = 0,
    eAppThickClient = 1,
    eAppWebClient = 2,
    eAppServer = 3,
    eAppExtConn = 4,
    eAppMobileClient = 5,
    eAppMobileServer = 6
};

typedef struct AppInfo {
    const WCHAR_T *AppVersion;
    const WCHAR_T *UserAgentInformation;
    int Application;    /* enum AppType */
} AppInfo;

_Static_assert(sizeof(AppInfo) == 3 * sizeof(void *), "AppInfo size 24/24/12");
_Static_assert(offsetof(AppInfo, Application) == 2 * sizeof(void *), "AppInfo.Application");

typedef struct IPlatformInfoVtbl {
    const AppInfo *(ADDIN_API *GetPlatformInfo)(void *self);
} IPlatformInfoVtbl;

enum AttachedType {
    eAttachedIsolated = 0,
    eAttachedNotIsolated = 1
};

typedef struct IAttachedInfoVtbl {
    int (ADDIN_API *GetAttachedInfo)(void *self);   /* enum AttachedType */
} IAttachedInfoVtbl;

typedef struct IMsgBoxVtbl {
    bool (ADDIN_API *Confirm)(void *self, const WCHAR_T *queryText, tVariant *retVal);
    bool (ADDIN_API *Alert)(void *self, const WCHAR_T *text);
} IMsgBoxVtbl;

/* ------------------------------------------------------------------------ */
/* Exported functions (cdecl, looked up by name)                             */
/* ------------------------------------------------------------------------ */

enum AppCapabilities {
    eAppCapabilitiesInvalid = -1,
    eAppCapabilities1 = 1,
    eAppCapabilities2 = 2,
    eAppCapabilities3 = 3,
    eAppCapabilitiesLast = eAppCapabilities3
};

enum AttachType {
    eCanAttachNotIsolated = 1,
    eCanAttachIsolated = 2,
    eCanAttachAny = 3
};

typedef const WCHAR_T *(ADDIN_EXPORT *GetClassNamesFn)(void);
typedef long (ADDIN_EXPORT *GetClassObjectFn)(const WCHAR_T *clsName, IComponentBase **pIntf);
typedef long (ADDIN_EXPORT *DestroyObjectFn)(IComponentBase **pIntf);
typedef int (ADDIN_EXPORT *SetPlatformCapabilitiesFn)(int capabilities);
typedef int (ADDIN_EXPORT *GetAttachTypeFn)(void);

#endif /* WEBHOOK1C_ADDIN_HOST_H */
