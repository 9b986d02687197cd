/*
 * package.c: loading an add-in the way 1C does from a package (.zip):
 * read MANIFEST.XML, pick the <component> for this platform, extract that
 * library into a fresh temporary directory and hand its path to the loader.
 *
 * "This platform" is the one the host itself is compiled for, because that
 * is the only library it can load: os Windows under _WIN32, else Linux;
 * arch x86_64 for a 64-bit host, i386 for a 32-bit one; type native.
 *
 * The extracted file stays for the whole run (reload loads it again) and
 * is removed by package_cleanup after the library is unloaded, or at exit.
 */
#include "package.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zip.h"

#define TEMP_PREFIX "webhook1c-host"

static char *temp_dir;      /* the directory we created, or NULL */
static char *temp_file;     /* the library written into it, or NULL */
static bool cleanup_registered;

static char *message(const char *fmt, ...) HOST_PRINTF(1, 2);
static char *message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return xstrndup(buf, strlen(buf));
}

bool package_path_is_zip(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && ascii_equal_nocase(path + n - 4, ".zip");
}

/* ------------------------------------------------------------------------ */
/* Choosing the component                                                    */
/* ------------------------------------------------------------------------ */

static const char *host_os(void)
{
#ifdef _WIN32
    return "Windows";
#else
    return "Linux";
#endif
}

static const char *host_arch(void)
{
    return sizeof(void *) == 8 ? "x86_64" : "i386";
}

/* 1C writes these values with a fixed spelling; compare ignoring case so
 * that a hand-written "linux" is not silently skipped. */
static bool component_matches(const manifest_component *c)
{
    return c->os && c->arch && c->type && ascii_equal_nocase(c->os, host_os()) &&
           ascii_equal_nocase(c->arch, host_arch()) && ascii_equal_nocase(c->type, "native");
}

static const char *or_none(const char *s)
{
    return s ? s : "(none)";
}

/* The first matching component; otherwise NULL with a message that lists
 * what the manifest does offer (on one line: it is also printed as "! "). */
static const manifest_component *choose_component(const manifest *m, char **error)
{
    for (size_t i = 0; i < m->count; i++) {
        const manifest_component *c = &m->components[i];
        if (!component_matches(c))
            continue;
        if (!c->path || !*c->path) {
            *error = message("MANIFEST.XML: the component for os=%s arch=%s has no path",
                             c->os, c->arch);
            return NULL;
        }
        return c;
    }
    strbuf sb = {0};
    sb_printf(&sb, "MANIFEST.XML has no native component for this host (os=%s arch=%s)",
              host_os(), host_arch());
    if (m->count == 0)
        sb_puts(&sb, "; it lists no <component> at all");
    for (size_t i = 0; i < m->count; i++) {
        const manifest_component *c = &m->components[i];
        sb_printf(&sb, "%s os=%s arch=%s type=%s path=%s", i == 0 ? "; it offers:" : ",",
                  or_none(c->os), or_none(c->arch), or_none(c->type), or_none(c->path));
    }
    *error = sb.data;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Reading the package                                                       */
/* ------------------------------------------------------------------------ */

/* 1C accepts the manifest's name in any letter case. */
static bool read_manifest(const zip_archive *z, manifest *m, char **error)
{
    const zip_entry *e = zip_find(z, "MANIFEST.XML", true);
    if (!e) {
        *error = message("no MANIFEST.XML at the root of the zip (not a 1C add-in package)");
        return false;
    }
    uint8_t *xml;
    size_t len;
    if (!zip_extract(z, e, &xml, &len, error))
        return false;
    bool ok = manifest_parse((const char *)xml, len, m, error);
    free(xml);
    return ok;
}

static const char *base_name(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    return base;
}

/* Only the base name is used, so a path like "../../x.so" cannot escape the
 * temporary directory; this also refuses names no file can have (and ':',
 * which on Windows would name an NTFS stream). */
static bool usable_file_name(const char *name)
{
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || strchr(":*?\"<>|", *p))
            return false;
    return true;
}

/* Creates <temp dir>/<name> for writing and remembers both for cleanup. */
static FILE *create_temp_file(const char *name, char **error)
{
    host_sweep_temp_dirs(TEMP_PREFIX);
    temp_dir = host_make_temp_dir(TEMP_PREFIX, error);
    if (!temp_dir)
        return NULL;
    if (!cleanup_registered) {
        /* Covers exit() paths (e.g. out of memory) that skip main's cleanup. */
        atexit(package_cleanup);
        cleanup_registered = true;
    }
    strbuf path = {0};
    sb_printf(&path, "%s%c%s", temp_dir, HOST_PATH_SEP, name);
    FILE *f = host_fopen(sb_str(&path), "wb");
    if (!f) {
        *error = message("cannot create %s: %s", sb_str(&path), strerror(errno));
        sb_free(&path);
        package_cleanup();
        return NULL;
    }
    temp_file = path.data;
    return f;
}

static bool write_temp_file(const char *name, const uint8_t *data, size_t len, char **error)
{
    FILE *f = create_temp_file(name, error);
    if (!f)
        return false;
    bool ok = (len == 0 || fwrite(data, 1, len, f) == len);
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        *error = message("cannot write %s", temp_file);
        package_cleanup();
    }
    return ok;
}

/* Decompresses the chosen library (before creating anything on disk, so a
 * corrupt package leaves nothing behind) and writes it out. */
static const char *extract_component(const zip_archive *z, const char *zip_path,
                                     const manifest_component *c, char **error)
{
    /* 1C matches the path exactly; the case-insensitive fallback only helps
     * packages written on Windows, whose file names ignore case. */
    const zip_entry *e = zip_find(z, c->path, false);
    if (!e)
        e = zip_find(z, c->path, true);
    if (!e) {
        *error = message("MANIFEST.XML names %s for os=%s arch=%s, but the zip has no such "
                         "file", c->path, c->os, c->arch);
        return NULL;
    }
    const char *name = base_name(e->name);
    if (!usable_file_name(name)) {
        *error = message("%s: not a usable file name", e->name);
        return NULL;
    }
    uint8_t *data;
    size_t len;
    if (!zip_extract(z, e, &data, &len, error))
        return NULL;
    bool ok = write_temp_file(name, data, len, error);
    free(data);
    if (!ok)
        return NULL;
    out_line("# package: %s -> %s (os=%s, arch=%s)", zip_path, e->name, c->os, c->arch);
    return temp_file;
}

static const char *extract_from(const zip_archive *z, const char *zip_path, char **error)
{
    manifest m;
    if (!read_manifest(z, &m, error))
        return NULL;
    const char *result = NULL;
    const manifest_component *c = choose_component(&m, error);
    if (c)
        result = extract_component(z, zip_path, c, error);
    manifest_free(&m);
    return result;
}

const char *package_extract(const char *zip_path, char **error)
{
    *error = NULL;
    if (temp_file)
        return temp_file;   /* reload: the same extracted library */
    zip_archive z;
    if (!zip_open(zip_path, &z, error))
        return NULL;
    const char *result = extract_from(&z, zip_path, error);
    zip_close(&z);
    return result;
}

#ifdef _WIN32
#define STILL_LOADED_HINT " (a DLL still loaded, e.g. one that pinned itself, cannot be " \
                          "deleted; the next package load removes it)"
#else
#define STILL_LOADED_HINT ""
#endif

void package_cleanup(void)
{
    bool dir_empty = true;
    if (temp_file) {
        if (!host_remove_file(temp_file)) {
            fprintf(stderr, "webhook1c-host: warning: cannot remove %s%s\n", temp_file,
                    STILL_LOADED_HINT);
            dir_empty = false;  /* one warning is enough */
        }
        free(temp_file);
        temp_file = NULL;
    }
    if (temp_dir) {
        if (dir_empty && !host_remove_dir(temp_dir))
            fprintf(stderr, "webhook1c-host: warning: cannot remove %s\n", temp_dir);
        free(temp_dir);
        temp_dir = NULL;
    }
}
