/*
 * platform.c: the OS services that differ between Linux and Windows:
 * loading a library, a mutex, sleeping, opening and removing files by UTF-8
 * name, temporary directories, the resident memory size, and a UTF-8
 * argv/stdout on Windows.
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
#include <shellapi.h>
#include <wctype.h>
#include <fcntl.h>
#include <io.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
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

#ifdef _WIN32
char *host_make_temp_dir(const char *prefix, char **error)
{
    *error = NULL;
    wchar_t base[MAX_PATH + 1];
    DWORD n = GetTempPathW(MAX_PATH + 1, base);
    if (n == 0 || n > MAX_PATH) {
        strbuf e = {0};
        sb_printf(&e, "GetTempPathW failed with error %lu", (unsigned long)GetLastError());
        *error = e.data;
        return NULL;
    }
    char *base8 = utf8_from_wide(base);
    size_t blen = strlen(base8);
    const char *sep = blen > 0 && base8[blen - 1] == '\\' ? "" : "\\";
    /* No mkdtemp on Windows: try names until CreateDirectoryW makes a new
     * one (it fails on an existing directory, so ours is always fresh). */
    for (unsigned attempt = 0; attempt < 1000; attempt++) {
        strbuf path = {0};
        sb_printf(&path, "%s%s%s-%lu-%u", base8, sep, prefix,
                  (unsigned long)GetCurrentProcessId(), attempt);
        wchar_t *wpath = wide_from_utf8(sb_str(&path));
        BOOL made = wpath && CreateDirectoryW(wpath, NULL);
        DWORD code = GetLastError();
        free(wpath);
        if (made) {
            free(base8);
            return path.data;
        }
        if (code != ERROR_ALREADY_EXISTS) {
            strbuf e = {0};
            sb_printf(&e, "cannot create %s: CreateDirectoryW failed with error %lu",
                      sb_str(&path), (unsigned long)code);
            *error = e.data;
            sb_free(&path);
            free(base8);
            return NULL;
        }
        sb_free(&path);
    }
    strbuf e = {0};
    sb_printf(&e, "cannot create a temporary directory in %s: all names taken", base8);
    *error = e.data;
    free(base8);
    return NULL;
}

bool host_remove_file(const char *utf8_path)
{
    wchar_t *wpath = wide_from_utf8(utf8_path);
    bool ok = wpath && DeleteFileW(wpath);
    free(wpath);
    return ok;
}

bool host_remove_dir(const char *utf8_path)
{
    wchar_t *wpath = wide_from_utf8(utf8_path);
    bool ok = wpath && RemoveDirectoryW(wpath);
    free(wpath);
    return ok;
}

/* A process we may not open (ERROR_ACCESS_DENIED) exists all the same. */
static bool process_alive(DWORD pid)
{
    HANDLE p = OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (!p)
        return GetLastError() == ERROR_ACCESS_DENIED;
    DWORD state = WaitForSingleObject(p, 0);
    CloseHandle(p);
    return state == WAIT_TIMEOUT;
}

/* Deletes the files directly inside dir (ours hold one library and no
 * subdirectories), then dir itself; whatever is still in use stays. */
static void remove_flat_dir(const wchar_t *dir)
{
    size_t n = wcslen(dir);
    wchar_t *path = xmalloc((n + MAX_PATH + 2) * sizeof(wchar_t));
    memcpy(path, dir, n * sizeof(wchar_t));
    path[n] = L'\\';
    wcscpy(path + n + 1, L"*");
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW(path, &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
                wcslen(fd.cFileName) < MAX_PATH) {
                wcscpy(path + n + 1, fd.cFileName);
                DeleteFileW(path);
            }
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    RemoveDirectoryW(dir);
    free(path);
}

/* The process id in "-<pid>-<n>" (the rest of a name host_make_temp_dir
 * made after its prefix); false for any other name. */
static bool run_dir_pid(const wchar_t *rest, DWORD *pid)
{
    unsigned long long v = 0;
    const wchar_t *p = rest;
    if (*p++ != L'-' || !iswdigit(*p))
        return false;
    for (; iswdigit(*p) && v <= 0xFFFFFFFFull; p++)
        v = v * 10 + (unsigned long long)(*p - L'0');
    if (v > 0xFFFFFFFFull || *p++ != L'-' || !iswdigit(*p))
        return false;
    while (iswdigit(*p))
        p++;
    *pid = (DWORD)v;
    return *p == L'\0';
}

void host_sweep_temp_dirs(const char *prefix)
{
    wchar_t base[MAX_PATH + 1];
    DWORD n = GetTempPathW(MAX_PATH + 1, base);
    wchar_t *wprefix = wide_from_utf8(prefix);
    size_t plen = wprefix ? wcslen(wprefix) : 0;
    if (n == 0 || n > MAX_PATH || !wprefix || plen + 2 > MAX_PATH) {
        free(wprefix);
        return;
    }
    /* base + a file name (< MAX_PATH units) + NUL; the pattern is shorter. */
    wchar_t *path = xmalloc((n + MAX_PATH + 1) * sizeof(wchar_t));
    wcscpy(path, base);
    wcscat(path, wprefix);
    wcscat(path, L"-*");
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW(path, &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            DWORD pid;
            if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ||
                wcsncmp(fd.cFileName, wprefix, plen) != 0 ||
                !run_dir_pid(fd.cFileName + plen, &pid))
                continue;
            /* Our own id means an earlier process that had it (ids are
             * reused; Wine even starts from the same one each session):
             * this run sweeps before it makes its own directory. */
            if (pid != GetCurrentProcessId() && process_alive(pid))
                continue;
            wcscpy(path, base);
            wcscat(path, fd.cFileName);
            remove_flat_dir(path);
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    free(path);
    free(wprefix);
}
#else
char *host_make_temp_dir(const char *prefix, char **error)
{
    *error = NULL;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    strbuf path = {0};
    sb_puts(&path, base);
    while (path.len > 1 && path.data[path.len - 1] == '/')
        path.data[--path.len] = '\0';
    sb_printf(&path, "/%s-XXXXXX", prefix);
    /* mkdtemp makes a new directory with mode 0700: nobody else can put a
     * library of their own where the host will load one from. */
    if (!mkdtemp(path.data)) {
        strbuf e = {0};
        sb_printf(&e, "cannot create a temporary directory in %s: %s", base, strerror(errno));
        *error = e.data;
        sb_free(&path);
        return NULL;
    }
    return path.data;
}

bool host_remove_file(const char *utf8_path)
{
    return unlink(utf8_path) == 0;
}

bool host_remove_dir(const char *utf8_path)
{
    return rmdir(utf8_path) == 0;
}

void host_sweep_temp_dirs(const char *prefix)
{
    /* Linux unlinks a loaded library without trouble, so only a crashed
     * run leaves a directory behind; mkdtemp names do not say whose it is. */
    (void)prefix;
}
#endif

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
