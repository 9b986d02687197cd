/*
 * manifest.c: reads MANIFEST.XML of a 1C add-in package.
 *
 * Not a general XML parser: it checks the structure (tags nest and close,
 * one root, quoted attributes, known character references) so that a broken
 * manifest is reported rather than half-read, skips what a manifest may
 * contain but the host does not need (XML declaration, comments, CDATA,
 * a DOCTYPE without internal subset, text), and collects the attributes of
 * <component> elements.  Element names are matched without a namespace
 * prefix.  Every scan is bounded by the buffer end: the data comes from a
 * zip entry and is not NUL-terminated.
 */
#include "package.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define NAME_SHOWN 40   /* longest element name quoted in an error */

typedef struct span {
    const char *p;
    size_t len;
} span;

typedef struct parser {
    const char *start;
    const char *p;
    const char *end;
    char *error;
    span stack[MAX_DEPTH];  /* open elements, for matching end tags */
    size_t depth;
    bool root_seen;
    manifest *m;
} parser;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static bool fail(parser *ps, const char *fmt, ...) HOST_PRINTF(2, 3);
static bool fail(parser *ps, const char *fmt, ...)
{
    unsigned long line = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
        line += *q == '\n';
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    strbuf sb = {0};
    sb_printf(&sb, "MANIFEST.XML line %lu: %s", line, buf);
    ps->error = sb.data;
    return false;
}

static size_t remaining(const parser *ps)
{
    return (size_t)(ps->end - ps->p);
}

static bool looking_at(const parser *ps, const char *s)
{
    size_t n = strlen(s);
    return remaining(ps) >= n && memcmp(ps->p, s, n) == 0;
}

/* Moves past the next occurrence of terminator; false if there is none. */
static bool skip_past(parser *ps, const char *terminator)
{
    size_t n = strlen(terminator);
    for (const char *q = ps->p; (size_t)(ps->end - q) >= n; q++) {
        if (memcmp(q, terminator, n) == 0) {
            ps->p = q + n;
            return true;
        }
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Returns whether any whitespace was skipped. */
static bool skip_space(parser *ps)
{
    const char *before = ps->p;
    while (ps->p < ps->end && is_space(*ps->p))
        ps->p++;
    return ps->p != before;
}

/* XML name characters, simplified: ASCII letters, digits, _ - . : and any
 * non-ASCII byte (names in other scripts are UTF-8). */
static bool is_name_char(char c, bool first)
{
    unsigned char u = (unsigned char)c;
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == ':' || u >= 0x80)
        return true;
    return !first && ((u >= '0' && u <= '9') || u == '-' || u == '.');
}

static bool parse_name(parser *ps, span *name)
{
    name->p = ps->p;
    while (ps->p < ps->end && is_name_char(*ps->p, ps->p == name->p))
        ps->p++;
    name->len = (size_t)(ps->p - name->p);
    return name->len > 0;
}

/* The name without its namespace prefix. */
static span local_name(span name)
{
    const char *colon = memchr(name.p, ':', name.len);
    if (!colon)
        return name;
    span local = { colon + 1, name.len - (size_t)(colon + 1 - name.p) };
    return local;
}

static bool span_is(span s, const char *text)
{
    return strlen(text) == s.len && memcmp(s.p, text, s.len) == 0;
}

static int shown(span s)
{
    return (int)(s.len < NAME_SHOWN ? s.len : NAME_SHOWN);
}

/* ------------------------------------------------------------------------ */
/* Attribute values                                                          */
/* ------------------------------------------------------------------------ */

static void put_utf8(strbuf *sb, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_append(sb, b, n);
}

/* &#NNN; or &#xHHH; (ref points after "&#", len up to the ';'). */
static bool char_reference(const char *ref, size_t len, unsigned long *cp)
{
    bool hex = len > 0 && ref[0] == 'x';
    size_t i = hex ? 1 : 0;
    if (i == len)
        return false;
    unsigned long v = 0;
    for (; i < len; i++) {
        char c = ref[i];
        int d = c >= '0' && c <= '9'                ? c - '0'
                : hex && c >= 'a' && c <= 'f'       ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F'       ? c - 'A' + 10
                                                    : -1;
        if (d < 0)
            return false;
        v = v * (hex ? 16 : 10) + (unsigned long)d;
        if (v > 0x10FFFF)
            return false;
    }
    if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *cp = v;
    return true;
}

/* Appends the entity or character reference at v[*i] ('&') and moves *i
 * past its ';'. */
static bool decode_reference(parser *ps, const char *v, size_t n, size_t *i, strbuf *sb)
{
    static const struct { const char *name; char c; } entities[] = {
        { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' } };
    const char *semi = memchr(v + *i, ';', n - *i);
    if (!semi)
        return fail(ps, "'&' without ';' in an attribute value");
    const char *ref = v + *i + 1;
    size_t len = (size_t)(semi - ref);
    unsigned long cp;
    if (len > 0 && ref[0] == '#') {
        if (!char_reference(ref + 1, len - 1, &cp))
            return fail(ps, "bad character reference &%.*s;", (int)(len < 20 ? len : 20), ref);
        put_utf8(sb, cp);
    } else {
        size_t k = 0;
        while (k < sizeof entities / sizeof entities[0] &&
               !(strlen(entities[k].name) == len && memcmp(entities[k].name, ref, len) == 0))
            k++;
        if (k == sizeof entities / sizeof entities[0])
            return fail(ps, "unknown entity &%.*s;", (int)(len < 20 ? len : 20), ref);
        sb_putc(sb, entities[k].c);
    }
    *i = (size_t)(semi - v) + 1;
    return true;
}

/* Decodes v[0..n) (between the quotes) into a malloc'ed string: references
 * resolved, and whitespace characters normalized to spaces as XML does. */
static char *decode_value(parser *ps, const char *v, size_t n)
{
    strbuf sb = {0};
    size_t i = 0;
    while (i < n) {
        char c = v[i];
        if (c == '<') {
            fail(ps, "'<' in an attribute value");
            sb_free(&sb);
            return NULL;
        }
        if (c == '&') {
            if (!decode_reference(ps, v, n, &i, &sb)) {
                sb_free(&sb);
                return NULL;
            }
            continue;
        }
        if (c == '\r' && i + 1 < n && v[i + 1] == '\n')
            i++;    /* CRLF is one line end */
        sb_putc(&sb, is_space(c) ? ' ' : c);
        i++;
    }
    sb_reserve(&sb, 0);
    sb.data[sb.len] = '\0';
    return sb.data;
}

/* ------------------------------------------------------------------------ */
/* Tags                                                                      */
/* ------------------------------------------------------------------------ */

static void free_component(manifest_component *c)
{
    free(c->os);
    free(c->arch);
    free(c->path);
    free(c->type);
}

/* Where a <component> attribute goes, or NULL for one the host ignores. */
static char **component_slot(manifest_component *c, span name)
{
    if (span_is(name, "os"))
        return &c->os;
    if (span_is(name, "arch"))
        return &c->arch;
    if (span_is(name, "path"))
        return &c->path;
    if (span_is(name, "type"))
        return &c->type;
    return NULL;
}

/* name="value" or name='value', with ps->p at the name. */
static bool parse_attribute(parser *ps, manifest_component *comp)
{
    span name;
    if (!parse_name(ps, &name))
        return fail(ps, "bad attribute name");
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != '=')
        return fail(ps, "attribute %.*s has no '='", shown(name), name.p);
    ps->p++;
    skip_space(ps);
    if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
        return fail(ps, "attribute %.*s: value not quoted", shown(name), name.p);
    char quote = *ps->p++;
    const char *close = memchr(ps->p, quote, remaining(ps));
    if (!close)
        return fail(ps, "attribute %.*s: unterminated value", shown(name), name.p);
    char *value = decode_value(ps, ps->p, (size_t)(close - ps->p));
    if (!value)
        return false;
    ps->p = close + 1;
    char **slot = comp ? component_slot(comp, name) : NULL;
    if (!slot) {
        free(value);
        return true;
    }
    if (*slot) {
        free(value);
        return fail(ps, "duplicate attribute %.*s", shown(name), name.p);
    }
    *slot = value;
    return true;
}

/* The root must be <bundle>, and there is only one root. */
static bool check_root(parser *ps, span name)
{
    if (ps->depth > 0)
        return true;
    if (ps->root_seen)
        return fail(ps, "content after the root element");
    ps->root_seen = true;
    if (!span_is(local_name(name), "bundle"))
        return fail(ps, "the root element is <%.*s>, expected <bundle>", shown(name), name.p);
    return true;
}

/* <name attr="..." ...> or <name .../>, with ps->p at '<'. */
static bool parse_start_tag(parser *ps)
{
    ps->p++;
    span name;
    if (!parse_name(ps, &name))
        return fail(ps, "expected an element name after '<'");
    if (!check_root(ps, name))
        return false;
    bool is_component = span_is(local_name(name), "component");
    manifest_component comp = {0};
    bool self_closing = false;
    for (;;) {
        bool spaced = skip_space(ps);
        if (ps->p >= ps->end) {
            free_component(&comp);
            return fail(ps, "unterminated <%.*s> tag", shown(name), name.p);
        }
        if (*ps->p == '>') {
            ps->p++;
            break;
        }
        if (looking_at(ps, "/>")) {
            ps->p += 2;
            self_closing = true;
            break;
        }
        bool ok = spaced ? parse_attribute(ps, is_component ? &comp : NULL)
                         : fail(ps, "expected whitespace, '>' or '/>' in <%.*s>", shown(name),
                                name.p);
        if (!ok) {
            free_component(&comp);
            return false;
        }
    }
    if (is_component) {
        manifest *m = ps->m;
        m->components = xrealloc(m->components, (m->count + 1) * sizeof *m->components);
        m->components[m->count++] = comp;
    }
    if (!self_closing) {
        if (ps->depth == MAX_DEPTH)
            return fail(ps, "elements nested more than %d deep", MAX_DEPTH);
        ps->stack[ps->depth++] = name;
    }
    return true;
}

/* </name>, with ps->p at "</". */
static bool parse_end_tag(parser *ps)
{
    ps->p += 2;
    span name;
    if (!parse_name(ps, &name))
        return fail(ps, "expected an element name after '</'");
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != '>')
        return fail(ps, "unterminated </%.*s> tag", shown(name), name.p);
    ps->p++;
    if (ps->depth == 0)
        return fail(ps, "</%.*s> without a start tag", shown(name), name.p);
    span open = ps->stack[ps->depth - 1];
    if (open.len != name.len || memcmp(open.p, name.p, name.len) != 0)
        return fail(ps, "</%.*s> does not close <%.*s>", shown(name), name.p, shown(open),
                    open.p);
    ps->depth--;
    return true;
}

/* Everything that starts with '<'. */
static bool parse_markup(parser *ps)
{
    if (looking_at(ps, "<!--")) {
        ps->p += 4;
        return skip_past(ps, "-->") || fail(ps, "unterminated comment");
    }
    if (looking_at(ps, "<?"))
        return skip_past(ps, "?>") || fail(ps, "unterminated <? ... ?>");
    if (looking_at(ps, "<![CDATA[")) {
        if (ps->depth == 0)
            return fail(ps, "CDATA outside the root element");
        return skip_past(ps, "]]>") || fail(ps, "unterminated CDATA section");
    }
    if (looking_at(ps, "<!")) {
        /* <!DOCTYPE ...>; an internal subset could define entities, which
         * this reader does not expand: refuse rather than misread. */
        const char *gt = memchr(ps->p, '>', remaining(ps));
        if (!gt)
            return fail(ps, "unterminated <!...> declaration");
        if (memchr(ps->p, '[', (size_t)(gt - ps->p)))
            return fail(ps, "DOCTYPE with an internal subset is not supported");
        ps->p = gt + 1;
        return true;
    }
    if (looking_at(ps, "</"))
        return parse_end_tag(ps);
    return parse_start_tag(ps);
}

/* ------------------------------------------------------------------------ */
/* Document                                                                  */
/* ------------------------------------------------------------------------ */

static bool parse_document(parser *ps)
{
    if (looking_at(ps, "\xEF\xBB\xBF"))
        ps->p += 3;
    else if (looking_at(ps, "\xFF\xFE") || looking_at(ps, "\xFE\xFF"))
        return fail(ps, "the file is UTF-16; only UTF-8 is supported");
    while (ps->p < ps->end) {
        if (*ps->p == '<') {
            if (!parse_markup(ps))
                return false;
        } else if (ps->depth == 0 && !is_space(*ps->p)) {
            return fail(ps, "text outside the root element");
        } else {
            ps->p++;    /* text inside an element: not needed */
        }
    }
    if (ps->depth > 0)
        return fail(ps, "<%.*s> is not closed", shown(ps->stack[ps->depth - 1]),
                    ps->stack[ps->depth - 1].p);
    if (!ps->root_seen)
        return fail(ps, "no root element");
    return true;
}

bool manifest_parse(const char *xml, size_t len, manifest *m, char **error)
{
    memset(m, 0, sizeof *m);
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.start = ps.p = xml;
    ps.end = xml + len;
    ps.m = m;
    if (!parse_document(&ps)) {
        manifest_free(m);
        *error = ps.error;
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
