/*
 * platform.c: the OS services that differ between Linux and Windows:
 * loading a library, a mutex, sleeping, opening files by UTF-8 name, the
 * resident memory size, and a UTF-8 argv/stdout on Windows.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
/* GetProcessMemoryInfo as kernel32's K32GetProcessMemoryInfo (Windows 7
 * and later), so the host links without psapi.dll. */
#ifndef PSAPI_VERSION
#define PSAPI_VERSION 2
#endif
#include <psapi.h>
#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>
#include <fcntl.h>
#include <io.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#endif

/* ------------------------------------------------------------------------ */
/* Mutex                                                                     */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32
struct host_mutex {
    CRITICAL_SECTION native;
};
#define NATIVE_INIT(m) InitializeCriticalSection(m)
#define NATIVE_DESTROY(m) DeleteCriticalSection(m)
#define NATIVE_LOCK(m) EnterCriticalSection(m)
#define NATIVE_UNLOCK(m) LeaveCriticalSection(m)
#else
struct host_mutex {
    pthread_mutex_t native;
};
#define NATIVE_INIT(m) pthread_mutex_init((m), NULL)
#define NATIVE_DESTROY(m) pthread_mutex_destroy(m)
#define NATIVE_LOCK(m) pthread_mutex_lock(m)
#define NATIVE_UNLOCK(m) pthread_mutex_unlock(m)
#endif

host_mutex *host_mutex_new(void)
{
    host_mutex *m = xmalloc(sizeof *m);
    NATIVE_INIT(&m->native);
    return m;
}

void host_mutex_free(host_mutex *m)
{
    if (!m)
        return;
    NATIVE_DESTROY(&m->native);
    free(m);
}

void host_mutex_lock(host_mutex *m)
{
    NATIVE_LOCK(&m->native);
}

void host_mutex_unlock(host_mutex *m)
{
    NATIVE_UNLOCK(&m->native);
}

/* ------------------------------------------------------------------------ */
/* Windows: UTF-8 <-> UTF-16 for file names and the command line             */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32
static wchar_t *wide_from_utf8(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = xmalloc((size_t)n * sizeof(wchar_t));
    MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

static char *utf8_from_wide(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return xstrndup("", 0);
    char *s = xmalloc((size_t)n);
    WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}
#endif

/* ------------------------------------------------------------------------ */
/* Access control lists                                                      */
/* ------------------------------------------------------------------------ */

char *host_path_dacl(const char *utf8_path, char **error)
{
    *error = NULL;
#ifdef _WIN32
    wchar_t *wpath = wide_from_utf8(utf8_path);
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD rc = wpath ? GetNamedSecurityInfoW(wpath, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                             NULL, NULL, NULL, NULL, &sd)
                     : ERROR_INVALID_NAME;
    free(wpath);
    LPWSTR sddl = NULL;
    if (rc == ERROR_SUCCESS &&
        !ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl, NULL))
        rc = GetLastError();
    if (sd)
        LocalFree(sd);
    if (rc != ERROR_SUCCESS) {
        strbuf sb = {0};
        sb_printf(&sb, "cannot read the ACL of %s: Windows error %lu", utf8_path,
                  (unsigned long)rc);
        *error = sb.data;
        return NULL;
    }
    char *text = utf8_from_wide(sddl);
    LocalFree(sddl);
    return text;
#else
    strbuf sb = {0};
    sb_printf(&sb, "%s: ACLs are read on Windows only", utf8_path);
    *error = sb.data;
    return NULL;
#endif
}

/* ------------------------------------------------------------------------ */
/* Libraries                                                                 */
/* ------------------------------------------------------------------------ */

struct host_library {
#ifdef _WIN32
    HMODULE module;
#else
    void *handle;
#endif
};

host_library *host_library_open(const char *utf8_path, char **error)
{
    *error = NULL;
#ifdef _WIN32
    wchar_t *wpath = wide_from_utf8(utf8_path);
    HMODULE module = wpath ? LoadLibraryW(wpath) : NULL;
    DWORD code = GetLastError();
    free(wpath);
    if (!module) {
        strbuf sb = {0};
        sb_printf(&sb, "LoadLibraryW failed with error %lu", (unsigned long)code);
        *error = sb.data;
        return NULL;
    }
    host_library *lib = xmalloc(sizeof *lib);
    lib->module = module;
    return lib;
#else
    /* RTLD_LOCAL: the add-in must not rely on symbols leaking between
     * libraries; RTLD_NOW: report missing dependencies at load time. */
    /* A bare file name would make dlopen search the system paths; the host
     * means a file, as 1C does, so look in the current directory. */
    strbuf path = {0};
    if (!strchr(utf8_path, '/'))
        sb_puts(&path, "./");
    sb_puts(&path, utf8_path);
    void *handle = dlopen(sb_str(&path), RTLD_NOW | RTLD_LOCAL);
    sb_free(&path);
    if (!handle) {
        const char *msg = dlerror();
        if (!msg)
            msg = "dlopen failed";
        *error = xstrndup(msg, strlen(msg));
        return NULL;
    }
    host_library *lib = xmalloc(sizeof *lib);
    lib->handle = handle;
    return lib;
#endif
}

host_generic_fn host_library_symbol(host_library *lib, const char *name)
{
    host_generic_fn fn = NULL;
#ifdef _WIN32
    /* Going through void (*)(void) keeps -Wcast-function-type quiet. */
    fn = (host_generic_fn)(void (*)(void))GetProcAddress(lib->module, name);
#else
    /* ISO C has no conversion from void* to a function pointer; POSIX
     * guarantees the representation is the same, so copy the bits. */
    void *p = dlsym(lib->handle, name);
    _Static_assert(sizeof p == sizeof fn, "function and data pointers differ");
    memcpy(&fn, &p, sizeof fn);
#endif
    return fn;
}

void host_library_close(host_library *lib)
{
    if (!lib)
        return;
#ifdef _WIN32
    FreeLibrary(lib->module);
#else
    dlclose(lib->handle);
#endif
    free(lib);
}

/* ------------------------------------------------------------------------ */
/* Files, sleeping, process setup                                            */
/* ------------------------------------------------------------------------ */

FILE *host_fopen(const char *utf8_path, const char *mode)
{
#ifdef _WIN32
    wchar_t *wpath = wide_from_utf8(utf8_path);
    wchar_t *wmode = wide_from_utf8(mode);
    FILE *f = (wpath && wmode) ? _wfopen(wpath, wmode) : NULL;
    free(wpath);
    free(wmode);
    return f;
#else
    return fopen(utf8_path, mode);
#endif
}

void host_sleep_seconds(double seconds)
{
    if (!(seconds > 0))
        return;
#ifdef _WIN32
    double ms = seconds * 1000.0;
    Sleep(ms > 4294967294.0 ? 4294967294UL : (DWORD)ms);
#else
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    /* Resume after signals until the whole interval has passed. */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
#endif
}

/* CPU time (user and system) this process has used so far, in seconds; -1
 * when the system does not say. */
double host_cpu_seconds(void)
{
#ifdef _WIN32
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
        return -1;
    ULARGE_INTEGER k, u;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    return (double)(k.QuadPart + u.QuadPart) / 1e7;
#else
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return -1;
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
#endif
}

long long host_rss_kb(void)
{
#ifdef _WIN32
    PROCESS_MEMORY_COUNTERS counters;
    memset(&counters, 0, sizeof counters);
    counters.cb = sizeof counters;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters))
        return -1;
    return (long long)(counters.WorkingSetSize / 1024);
#else
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    long long kb = -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            char *end = NULL;
            long long v = strtoll(line + 6, &end, 10);
            if (end != line + 6 && v >= 0)
                kb = v;
            break;
        }
    }
    fclose(f);
    return kb;
#endif
}

#ifdef _WIN32
static char **utf8_argv;
static int utf8_argc;
#endif

void host_platform_init(int *argc, char ***argv)
{
#ifdef _WIN32
    /* The narrow argv is in the ANSI code page, which cannot carry Cyrillic
     * everywhere; rebuild it from the wide command line as UTF-8. */
    int wargc = 0;
    wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &wargc);
    if (wargv) {
        utf8_argv = xcalloc((size_t)wargc + 1, sizeof(char *));
        for (int i = 0; i < wargc; i++)
            utf8_argv[i] = utf8_from_wide(wargv[i]);
        utf8_argc = wargc;
        LocalFree(wargv);
        *argc = utf8_argc;
        *argv = utf8_argv;
    }
    SetConsoleOutputCP(CP_UTF8);
    /* Identical bytes on both platforms: no "\r\n" translation. */
    _setmode(_fileno(stdout), _O_BINARY);
#else
    (void)argc;
    (void)argv;
#endif
}

void host_platform_done(void)
{
#ifdef _WIN32
    if (utf8_argv) {
        for (int i = 0; i < utf8_argc; i++)
            free(utf8_argv[i]);
        free(utf8_argv);
        utf8_argv = NULL;
    }
#endif
}
