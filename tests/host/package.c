/*
 * package.c: loading an add-in the way 1C does from a package (.zip):
 * read MANIFEST.XML at the zip's root, pick the <component> for this
 * platform, extract that library into a fresh temporary directory and hand
 * its path to the loader.
 *
 * "This platform" is the one the host itself is compiled for, because that
 * is the only library it can load: os Linux; arch ARM64 for an aarch64
 * host, x86_64 for another 64-bit one, i386 for a 32-bit one; type native.  The zip is read by the system's
 * `unzip` program (Debian package unzip), run without a shell: `unzip -Z1`
 * lists the entries, `unzip -j` extracts one into the directory, checking
 * its CRC.  The Windows build of the host does not read packages: it says
 * so, and takes the DLL itself.
 *
 * The extracted library stays for the whole run (reload loads it again)
 * and is removed by package_cleanup after the library is unloaded, or at
 * exit.
 */
#include "package.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool package_path_is_zip(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && path[n - 4] == '.' && (path[n - 3] | 0x20) == 'z' &&
           (path[n - 2] | 0x20) == 'i' && (path[n - 1] | 0x20) == 'p';
}

#ifdef _WIN32

const char *package_extract(const char *zip_path, char **error)
{
    (void)zip_path;
    *error = xprintf("the Windows build of the host does not read packages; extract the "
                     "DLL from the zip and give its path");
    return NULL;
}

void package_cleanup(void)
{
}

#else

#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TEMP_PREFIX "webhook1c-host"

static char *temp_dir;      /* the directory we created, or NULL */
static char *temp_file;     /* the library extracted into it, or NULL */

/* ASCII-only case-insensitive equality (entry names, manifest values). */
static bool ascii_equal_nocase(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
        if (!ca)
            return true;
    }
}

/* ------------------------------------------------------------------------ */
/* Running unzip                                                             */
/* ------------------------------------------------------------------------ */

/* The first sentence of what unzip printed, on one line, for an error
 * message (unzip explains a missing central directory in five lines). */
static char *one_line(const strbuf *out)
{
    strbuf sb = {0};
    for (size_t i = 0; i < out->len && sb.len < 300; i++) {
        char c = out->data[i];
        bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (space && sb.len > 0 && sb.data[sb.len - 1] == '.')
            break;
        if (!space)
            sb_putc(&sb, c);
        else if (sb.len > 0 && sb.data[sb.len - 1] != ' ')
            sb_putc(&sb, ' ');
    }
    while (sb.len > 0 && sb.data[sb.len - 1] == ' ')
        sb.data[--sb.len] = '\0';
    if (sb.len == 0)
        sb_puts(&sb, "(no output)");
    return sb.data;
}

/* Runs unzip with argv (argv[0] "unzip", NULL-terminated) and collects its
 * stdout and stderr in *out.  Returns its exit status, or -1 with a message
 * in *error when it could not run or did not exit. */
static int run_unzip(const char *const *argv, strbuf *out, char **error)
{
    int fds[2];
    if (pipe(fds) != 0) {
        *error = xprintf("cannot run unzip: pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    pid_t pid;
    /* posix_spawnp's argv is char *const[] for historical reasons; it does
     * not write to the strings. */
    int rc = posix_spawnp(&pid, "unzip", &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) != 0)
            if (n > 0)
                sb_append(out, buf, (size_t)n);
            else if (errno != EINTR)
                break;
    }
    close(fds[0]);
    int status = 0;
    while (rc == 0 && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            rc = errno;
    if (rc != 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
        *error = xprintf("cannot run unzip: %s (it comes with the unzip package)",
                         strerror(rc ? rc : ENOENT));
        return -1;
    }
    if (!WIFEXITED(status)) {
        *error = xprintf("unzip was ended by signal %d", WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

/* ------------------------------------------------------------------------ */
/* The zip's entries                                                         */
/* ------------------------------------------------------------------------ */

typedef struct entries {
    char *text;     /* unzip -Z1's output: one name per line */
    char **names;
    size_t count;
} entries;

/* A zip path that does not start with '-', so unzip cannot read it as an
 * option. */
static char *zip_argument(const char *zip_path)
{
    return zip_path[0] == '-' ? xprintf("./%s", zip_path) : xstrdup(zip_path);
}

static bool list_entries(const char *zip_arg, entries *e, char **error)
{
    memset(e, 0, sizeof *e);
    strbuf out = {0};
    const char *args[] = { "unzip", "-Z1", zip_arg, NULL };
    int status = run_unzip(args, &out, error);
    if (status != 0) {
        if (status > 0) {
            char *text = one_line(&out);
            *error = xprintf("not a readable zip (unzip -Z1 exit status %d: %s)", status, text);
            free(text);
        }
        sb_free(&out);
        return false;
    }
    sb_reserve(&out, 0);
    e->text = out.data;
    for (char *line = e->text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        e->names = xrealloc(e->names, (e->count + 1) * sizeof *e->names);
        e->names[e->count++] = line;
        line = nl ? nl + 1 : line + strlen(line);
    }
    return true;
}

static void free_entries(entries *e)
{
    free(e->names);
    free(e->text);
    memset(e, 0, sizeof *e);
}

/* The entry with this exact name, else (when ignore_case) the first one
 * equal to it ignoring ASCII case; NULL if none. */
static const char *find_entry(const entries *e, const char *name, bool ignore_case)
{
    for (size_t i = 0; i < e->count; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->names[i];
    for (size_t i = 0; ignore_case && i < e->count; i++)
        if (ascii_equal_nocase(e->names[i], name))
            return e->names[i];
    return NULL;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Only the base name is used (unzip -j), so a path like "../../x.so"
 * cannot leave the temporary directory; this also refuses names no file
 * can have. */
static bool usable_file_name(const char *name)
{
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '\\')
            return false;
    return true;
}

/* Extracts one entry into temp_dir (without its directories) and returns
 * the malloc'ed path of the file, or NULL with a message in *error. */
static char *extract_entry(const char *zip_arg, const char *entry, char **error)
{
    if (!usable_file_name(base_name(entry))) {
        *error = xprintf("%s: not a usable file name", entry);
        return NULL;
    }
    /* unzip reads the name as a pattern: quote its wildcard characters. */
    strbuf pattern = {0};
    for (const char *p = entry; *p; p++) {
        if (strchr("[]*?\\", *p))
            sb_putc(&pattern, '\\');
        sb_putc(&pattern, *p);
    }
    strbuf out = {0};
    const char *args[] = { "unzip", "-qq", "-o", "-j", zip_arg, sb_str(&pattern),
                           "-d", temp_dir, NULL };
    int status = run_unzip(args, &out, error);
    char *path = xprintf("%s/%s", temp_dir, base_name(entry));
    if (status == 0 && access(path, R_OK) != 0)
        status = 11;    /* as unzip's "no matching files" */
    if (status > 0) {
        char *text = one_line(&out);
        *error = xprintf("cannot extract %s (unzip exit status %d: %s)", entry, status, text);
        free(text);
    }
    sb_free(&out);
    sb_free(&pattern);
    if (status != 0) {
        free(path);
        return NULL;
    }
    return path;
}

/* ------------------------------------------------------------------------ */
/* Choosing the component                                                    */
/* ------------------------------------------------------------------------ */

static const char *host_arch(void)
{
#if defined(__aarch64__)
    return "ARM64";
#else
    return sizeof(void *) == 8 ? "x86_64" : "i386";
#endif
}

/* 1C writes these values with a fixed spelling; compare ignoring case so
 * that a hand-written "linux" is not silently skipped. */
static bool component_matches(const manifest_component *c)
{
    return c->os && c->arch && c->type && ascii_equal_nocase(c->os, "Linux") &&
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
            *error = xprintf("MANIFEST.XML: the component for os=%s arch=%s has no path",
                             c->os, c->arch);
            return NULL;
        }
        return c;
    }
    strbuf sb = {0};
    sb_printf(&sb, "MANIFEST.XML has no native component for this host (os=Linux arch=%s)",
              host_arch());
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

/* 1C accepts the manifest's name in any letter case.  The extracted file is
 * removed once read: the directory then holds only the library. */
static bool read_manifest(const char *zip_arg, const entries *e, manifest *m, char **error)
{
    const char *name = find_entry(e, "MANIFEST.XML", true);
    if (!name) {
        *error = xprintf("no MANIFEST.XML at the root of the zip (not a 1C add-in package)");
        return false;
    }
    char *path = extract_entry(zip_arg, name, error);
    if (!path)
        return false;
    char *xml;
    size_t len;
    bool ok = read_file_all(path, &xml, &len, error);
    unlink(path);
    free(path);
    if (ok) {
        ok = manifest_parse(xml, len, m, error);
        free(xml);
    }
    return ok;
}

/* A new directory under $TMPDIR (or /tmp), mode 0700 as mkdtemp makes it:
 * nobody else can put a library of their own where the host loads one. */
static bool make_temp_dir(char **error)
{
    const char *base = getenv("TMPDIR");
    temp_dir = xprintf("%s/%s-XXXXXX", base && *base ? base : "/tmp", TEMP_PREFIX);
    if (mkdtemp(temp_dir))
        return true;
    *error = xprintf("cannot create %s: %s", temp_dir, strerror(errno));
    free(temp_dir);
    temp_dir = NULL;
    return false;
}

static const char *extract_from(const char *zip_path, const char *zip_arg, char **error)
{
    entries e;
    if (!list_entries(zip_arg, &e, error))
        return NULL;
    manifest m = { NULL, 0 };
    const manifest_component *c = NULL;
    const char *entry = NULL;
    if (make_temp_dir(error) && read_manifest(zip_arg, &e, &m, error) &&
        (c = choose_component(&m, error)) != NULL) {
        /* 1C matches the path exactly; the case-insensitive fallback only
         * helps packages written on Windows, whose file names ignore case. */
        entry = find_entry(&e, c->path, false);
        if (!entry)
            entry = find_entry(&e, c->path, true);
        if (!entry)
            *error = xprintf("MANIFEST.XML names %s for os=%s arch=%s, but the zip has no "
                             "such file", c->path, c->os, c->arch);
        else if ((temp_file = extract_entry(zip_arg, entry, error)) != NULL)
            out_line("# package: %s -> %s (os=%s, arch=%s)", zip_path, entry, c->os, c->arch);
    }
    manifest_free(&m);
    free_entries(&e);
    if (!temp_file)
        package_cleanup();
    return temp_file;
}

const char *package_extract(const char *zip_path, char **error)
{
    static bool cleanup_registered;
    *error = NULL;
    if (temp_file)
        return temp_file;   /* reload: the same extracted library */
    /* The same message as for a library that is not there. */
    FILE *f = fopen(zip_path, "rb");
    if (!f) {
        *error = xprintf("cannot open %s: %s", zip_path, strerror(errno));
        return NULL;
    }
    fclose(f);
    if (!cleanup_registered) {
        /* Covers exit() paths (e.g. out of memory) that skip main's cleanup. */
        atexit(package_cleanup);
        cleanup_registered = true;
    }
    char *zip_arg = zip_argument(zip_path);
    const char *path = extract_from(zip_path, zip_arg, error);
    free(zip_arg);
    return path;
}

/* Removes every file in temp_dir (unzip -j made no subdirectories; a failed
 * extraction may have left one file), then the directory. */
void package_cleanup(void)
{
    if (!temp_dir)
        return;
    DIR *d = opendir(temp_dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = xprintf("%s/%s", temp_dir, de->d_name);
        if (unlink(path) != 0)
            fprintf(stderr, "webhook1c-host: warning: cannot remove %s: %s\n", path,
                    strerror(errno));
        free(path);
    }
    if (d)
        closedir(d);
    if (rmdir(temp_dir) != 0)
        fprintf(stderr, "webhook1c-host: warning: cannot remove %s: %s\n", temp_dir,
                strerror(errno));
    free(temp_dir);
    free(temp_file);
    temp_dir = NULL;
    temp_file = NULL;
}

#endif
