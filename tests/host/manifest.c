/*
 * manifest.c: reads MANIFEST.XML of a 1C add-in package.
 *
 * Not an XML parser: it accepts the shape a package manifest has and
 * refuses anything else with a line number, so that a broken manifest is
 * reported rather than half-read:
 *
 *   [BOM] [<?xml ...?>] <bundle ...> <component .../>... </bundle>
 *
 * with whitespace and comments around the tags (a <component> may also be
 * closed by </component>).  Attribute values are quoted with " or ' and may
 * use the five predefined entities (&amp; &lt; &gt; &quot; &apos;); of
 * <component>, os, arch, path and type are kept.  Every scan is bounded by
 * the buffer end.
 */
#include "package.h"

#include <stdlib.h>
#include <string.h>

typedef struct scanner {
    const char *start;
    const char *p;
    const char *end;
    char *error;
} scanner;

static bool fail(scanner *sc, const char *fmt, ...) HOST_PRINTF(2, 3);
static bool fail(scanner *sc, const char *fmt, ...)
{
    unsigned long line = 1;
    for (const char *q = sc->start; q < sc->p; q++)
        line += *q == '\n';
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sc->error = xprintf("MANIFEST.XML line %lu: %s", line, buf);
    return false;
}

/* strchr would also find the NUL that ends `set`. */
static bool one_of(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static bool is_space(char c)
{
    return one_of(c, " \t\r\n");
}

static bool skip_space(scanner *sc)
{
    const char *before = sc->p;
    while (sc->p < sc->end && is_space(*sc->p))
        sc->p++;
    return sc->p != before;
}

static bool at(const scanner *sc, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(sc->end - sc->p) >= n && memcmp(sc->p, s, n) == 0;
}

static bool skip(scanner *sc, const char *s)
{
    if (!at(sc, s))
        return false;
    sc->p += strlen(s);
    return true;
}

/* Moves past "<name" (or "</name") when the name ends there. */
static bool skip_tag(scanner *sc, const char *open)
{
    size_t n = strlen(open);
    if (!at(sc, open) ||
        ((size_t)(sc->end - sc->p) > n && !is_space(sc->p[n]) && !one_of(sc->p[n], "/>")))
        return false;
    sc->p += n;
    return true;
}

/* Moves past the next `terminator`; false if there is none. */
static bool skip_past(scanner *sc, const char *terminator)
{
    size_t n = strlen(terminator);
    for (const char *q = sc->p; (size_t)(sc->end - q) >= n; q++) {
        if (memcmp(q, terminator, n) == 0) {
            sc->p = q + n;
            return true;
        }
    }
    return false;
}

/* Whitespace and comments. */
static bool skip_misc(scanner *sc)
{
    for (;;) {
        skip_space(sc);
        if (!skip(sc, "<!--"))
            return true;
        if (!skip_past(sc, "-->"))
            return fail(sc, "unterminated comment");
    }
}

static bool is_name_char(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
           one_of(c, "_-.:") || u >= 0x80;
}

/* The text between the quotes, entities decoded, whitespace made spaces as
 * XML does; NULL after fail. */
static char *decode_value(scanner *sc, const char *v, const char *end)
{
    static const char *const names[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };
    static const char chars[] = "&<>\"'";
    strbuf sb = {0};
    sb_reserve(&sb, (size_t)(end - v));
    while (v < end) {
        if (*v == '<') {
            sb_free(&sb);
            fail(sc, "'<' in an attribute value");
            return NULL;
        }
        if (*v != '&') {
            sb_putc(&sb, is_space(*v) ? ' ' : *v);
            v++;
            continue;
        }
        size_t k = 0;
        while (k < 5 && !((size_t)(end - v - 1) >= strlen(names[k]) &&
                          memcmp(v + 1, names[k], strlen(names[k])) == 0))
            k++;
        if (k == 5) {
            sb_free(&sb);
            fail(sc, "unsupported '&' in an attribute value (only &amp; &lt; &gt; &quot; "
                     "&apos;)");
            return NULL;
        }
        sb_putc(&sb, chars[k]);
        v += 1 + strlen(names[k]);
    }
    return sb.data;
}

static void free_component(manifest_component *c)
{
    free(c->os);
    free(c->arch);
    free(c->path);
    free(c->type);
}

/* Where a <component> attribute goes, or NULL for one that is not kept. */
static char **component_slot(manifest_component *c, const char *name, size_t len)
{
    static const char *const names[] = { "os", "arch", "path", "type" };
    for (size_t i = 0; c && i < 4; i++) {
        char **slots[] = { &c->os, &c->arch, &c->path, &c->type };
        if (strlen(names[i]) == len && memcmp(name, names[i], len) == 0)
            return slots[i];
    }
    return NULL;
}

/* name="value"... up to '>' or '/>' (*empty tells which), keeping the
 * component's attributes in *comp (NULL: none kept). */
static bool parse_attributes(scanner *sc, manifest_component *comp, bool *empty)
{
    for (;;) {
        bool spaced = skip_space(sc);
        if ((*empty = skip(sc, "/>")) || skip(sc, ">"))
            return true;
        if (sc->p == sc->end)
            return fail(sc, "unterminated tag");
        if (!spaced)
            return fail(sc, "expected whitespace, '>' or '/>' in a tag");
        const char *name = sc->p;
        while (sc->p < sc->end && is_name_char(*sc->p))
            sc->p++;
        size_t name_len = (size_t)(sc->p - name);
        int len = (int)(name_len < 40 ? name_len : 40);  /* shown in messages */
        if (len == 0)
            return fail(sc, "bad attribute name");
        skip_space(sc);
        bool eq = skip(sc, "=");
        skip_space(sc);
        const char *quote = sc->p < sc->end && one_of(*sc->p, "\"'") ? sc->p : NULL;
        const char *close =
            quote ? memchr(quote + 1, *quote, (size_t)(sc->end - quote - 1)) : NULL;
        if (!eq || !close)
            return fail(sc, "attribute %.*s: expected =\"value\"", len, name);
        char **slot = component_slot(comp, name, name_len);
        if (slot && *slot)
            return fail(sc, "duplicate attribute %.*s", len, name);
        char *value = decode_value(sc, quote + 1, close);
        if (!value)
            return false;
        sc->p = close + 1;
        if (slot)
            *slot = value;
        else
            free(value);
    }
}

/* After "<component": the rest of the element, added to m. */
static bool parse_component(scanner *sc, manifest *m)
{
    manifest_component c = { NULL, NULL, NULL, NULL };
    bool empty;
    if (!parse_attributes(sc, &c, &empty)) {
        free_component(&c);
        return false;
    }
    m->components = xrealloc(m->components, (m->count + 1) * sizeof *m->components);
    m->components[m->count++] = c;
    if (empty)
        return true;
    if (!skip_misc(sc))
        return false;
    if (!skip_tag(sc, "</component"))
        return fail(sc, "expected </component>");
    skip_space(sc);
    return skip(sc, ">") || fail(sc, "unterminated </component> tag");
}

static bool parse_document(scanner *sc, manifest *m)
{
    skip(sc, "\xEF\xBB\xBF");
    if (at(sc, "\xFF\xFE") || at(sc, "\xFE\xFF"))
        return fail(sc, "the file is UTF-16; only UTF-8 is supported");
    if (skip(sc, "<?xml") && !skip_past(sc, "?>"))
        return fail(sc, "unterminated <?xml ... ?>");
    if (!skip_misc(sc))
        return false;
    if (!skip_tag(sc, "<bundle"))
        return fail(sc, "expected the root element <bundle>");
    bool empty;
    if (!parse_attributes(sc, NULL, &empty))
        return false;
    while (!empty) {
        if (!skip_misc(sc))
            return false;
        if (skip_tag(sc, "</bundle")) {
            skip_space(sc);
            if (!skip(sc, ">"))
                return fail(sc, "unterminated </bundle> tag");
            break;
        }
        if (!skip_tag(sc, "<component"))
            return fail(sc, sc->p == sc->end ? "<bundle> is not closed"
                                             : "expected <component> or </bundle>");
        if (!parse_component(sc, m))
            return false;
    }
    if (!skip_misc(sc))
        return false;
    return sc->p == sc->end || fail(sc, "content after the root element");
}

bool manifest_parse(const char *xml, size_t len, manifest *m, char **error)
{
    memset(m, 0, sizeof *m);
    scanner sc = { xml, xml, xml + len, NULL };
    if (!parse_document(&sc, m)) {
        manifest_free(m);
        *error = sc.error;
        return false;
    }
    *error = NULL;
    return true;
}

void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->count; i++)
        free_component(&m->components[i]);
    free(m->components);
    m->components = NULL;
    m->count = 0;
}
