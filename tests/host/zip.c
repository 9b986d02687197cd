/*
 * zip.c: reading a 1C add-in package.  The whole file is read into memory
 * (packages are a few MB) and the central directory at its end is trusted
 * for names, sizes and CRCs, as unzip does; local headers only locate the
 * data.  Every offset and length read from the file is checked against the
 * file size before use, in 64-bit arithmetic so that nothing can wrap.
 */
#include "zip.h"

#include <stdlib.h>
#include <string.h>

#include "inflate.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define LOCAL_HEADER_SIZE 30
#define CENTRAL_HEADER_SIZE 46
#define END_RECORD_SIZE 22
#define MAX_COMMENT 0xFFFFu
#define FLAG_ENCRYPTED 0x0001u
#define FLAG_STRONG_ENCRYPTION 0x0040u
#define METHOD_STORED 0
#define METHOD_DEFLATED 8
/* DEFLATE cannot expand data by more than about 1032:1 (a 258-byte match
 * in two bits); a larger ratio is a lie that would make us allocate far
 * more than the data can fill. */
#define MAX_DEFLATE_RATIO 1032u

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static char *message(const char *fmt, ...) HOST_PRINTF(1, 2);
static char *message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return xstrndup(buf, strlen(buf));
}

/* ------------------------------------------------------------------------ */
/* CRC-32 (ISO-HDLC, as in zip and gzip)                                    */
/* ------------------------------------------------------------------------ */

uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    static bool ready;
    if (!ready) {   /* the host reads packages from its main thread only */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

bool ascii_equal_nocase(const char *a, const char *b)
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
/* Central directory                                                         */
/* ------------------------------------------------------------------------ */

typedef struct end_record {
    uint64_t pos;           /* offset of the record in the file */
    uint32_t entries;
    uint64_t cd_offset;
    uint64_t cd_size;
} end_record;

/* The end record sits in the last 22 + up to 65535 (comment) bytes; search
 * backwards for its signature, accepting the first candidate whose comment
 * fits in the file. */
static bool find_end_record(const zip_archive *z, end_record *end, char **error)
{
    if (z->len < END_RECORD_SIZE) {
        *error = message("not a zip file (only %llu bytes)", (unsigned long long)z->len);
        return false;
    }
    size_t last = z->len - END_RECORD_SIZE;
    size_t first = last > MAX_COMMENT ? last - MAX_COMMENT : 0;
    for (size_t pos = last + 1; pos-- > first;) {
        const uint8_t *p = z->data + pos;
        if (rd32(p) != SIG_END || pos + END_RECORD_SIZE + rd16(p + 20) > z->len)
            continue;
        uint16_t disk = rd16(p + 4), cd_disk = rd16(p + 6);
        uint16_t disk_entries = rd16(p + 8), entries = rd16(p + 10);
        uint32_t cd_size = rd32(p + 12), cd_offset = rd32(p + 16);
        if (entries == 0xFFFFu || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
            *error = message("ZIP64 archives are not supported");
            return false;
        }
        if (disk != 0 || cd_disk != 0 || disk_entries != entries) {
            *error = message("multi-volume (spanned) zip archives are not supported");
            return false;
        }
        end->pos = pos;
        end->entries = entries;
        end->cd_offset = cd_offset;
        end->cd_size = cd_size;
        return true;
    }
    *error = message("not a zip file (no end of central directory record)");
    return false;
}

/* Parses the central header at cd[*pos..cd_end) into *e and advances *pos. */
static bool read_central_header(const zip_archive *z, uint64_t *pos, uint64_t cd_end,
                                size_t index, zip_entry *e, char **error)
{
    if (cd_end - *pos < CENTRAL_HEADER_SIZE || rd32(z->data + *pos) != SIG_CENTRAL) {
        *error = message("corrupt central directory (entry %llu of %llu)",
                         (unsigned long long)index + 1, (unsigned long long)z->count);
        return false;
    }
    const uint8_t *p = z->data + *pos;
    uint16_t name_len = rd16(p + 28), extra_len = rd16(p + 30), comment_len = rd16(p + 32);
    uint64_t total = (uint64_t)CENTRAL_HEADER_SIZE + name_len + extra_len + comment_len;
    if (cd_end - *pos < total) {
        *error = message("corrupt central directory (entry %llu runs past its end)",
                         (unsigned long long)index + 1);
        return false;
    }
    const char *name = (const char *)p + CENTRAL_HEADER_SIZE;
    if (memchr(name, '\0', name_len)) {
        *error = message("corrupt central directory (a file name contains a NUL byte)");
        return false;
    }
    e->name = xstrndup(name, name_len);
    e->flags = rd16(p + 8);
    e->method = rd16(p + 10);
    e->crc32 = rd32(p + 16);
    e->compressed_size = rd32(p + 20);
    e->size = rd32(p + 24);
    e->local_offset = rd32(p + 42);
    *pos += total;
    return true;
}

bool zip_open(const char *utf8_path, zip_archive *z, char **error)
{
    memset(z, 0, sizeof *z);
    char *data;
    if (!read_file_all(utf8_path, &data, &z->len, error))
        return false;
    z->data = (uint8_t *)data;

    end_record end;
    if (!find_end_record(z, &end, error)) {
        zip_close(z);
        return false;
    }
    if (end.cd_offset + end.cd_size > end.pos) {
        *error = message("corrupt zip (central directory outside the file)");
        zip_close(z);
        return false;
    }
    z->entries = xcalloc(end.entries ? end.entries : 1, sizeof *z->entries);
    z->count = end.entries;
    uint64_t pos = end.cd_offset, cd_end = end.cd_offset + end.cd_size;
    for (size_t i = 0; i < z->count; i++) {
        if (!read_central_header(z, &pos, cd_end, i, &z->entries[i], error)) {
            zip_close(z);
            return false;
        }
    }
    return true;
}

void zip_close(zip_archive *z)
{
    for (size_t i = 0; i < z->count; i++)
        free(z->entries[i].name);
    free(z->entries);
    free(z->data);
    memset(z, 0, sizeof *z);
}

const zip_entry *zip_find(const zip_archive *z, const char *name, bool ignore_case)
{
    for (size_t i = 0; i < z->count; i++)
        if (strcmp(z->entries[i].name, name) == 0)
            return &z->entries[i];
    if (ignore_case)
        for (size_t i = 0; i < z->count; i++)
            if (ascii_equal_nocase(z->entries[i].name, name))
                return &z->entries[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Entry data                                                                */
/* ------------------------------------------------------------------------ */

/* Checks what can be checked before decompressing: method, encryption,
 * sizes, and that the local header and the data lie inside the file.
 * Sets *start to the offset of the compressed data. */
static bool locate_data(const zip_archive *z, const zip_entry *e, uint64_t *start, char **error)
{
    if (e->flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
        *error = message("%s: encrypted entries are not supported", e->name);
        return false;
    }
    if (e->method != METHOD_STORED && e->method != METHOD_DEFLATED) {
        *error = message("%s: compression method %u is not supported (only 0 stored and "
                         "8 deflated)", e->name, (unsigned)e->method);
        return false;
    }
    if (e->compressed_size == 0xFFFFFFFFu || e->size == 0xFFFFFFFFu ||
        e->local_offset == 0xFFFFFFFFu) {
        *error = message("%s: ZIP64 entries are not supported", e->name);
        return false;
    }
    if (e->method == METHOD_STORED && e->compressed_size != e->size) {
        *error = message("%s: stored entry with compressed size %lu != size %lu", e->name,
                         (unsigned long)e->compressed_size, (unsigned long)e->size);
        return false;
    }
    if (e->method == METHOD_DEFLATED &&
        (uint64_t)e->size > (uint64_t)e->compressed_size * MAX_DEFLATE_RATIO + 1024) {
        *error = message("%s: declared size %lu is impossible for %lu compressed bytes",
                         e->name, (unsigned long)e->size, (unsigned long)e->compressed_size);
        return false;
    }
    uint64_t off = e->local_offset;
    if (off > z->len || z->len - off < LOCAL_HEADER_SIZE ||
        rd32(z->data + off) != SIG_LOCAL) {
        *error = message("%s: local header missing or corrupt", e->name);
        return false;
    }
    const uint8_t *p = z->data + off;
    uint64_t data = off + LOCAL_HEADER_SIZE + rd16(p + 26) + rd16(p + 28);
    if (data > z->len || z->len - data < e->compressed_size) {
        *error = message("%s: data runs past the end of the file (truncated zip?)", e->name);
        return false;
    }
    *start = data;
    return true;
}

static bool decompress(const uint8_t *in, const zip_entry *e, uint8_t *out, char **error)
{
    if (e->method == METHOD_STORED) {
        if (e->size)
            memcpy(out, in, e->size);
        return true;
    }
    size_t produced = 0, used = 0;
    inflate_status st = inflate_raw(in, e->compressed_size, out, e->size, &produced, &used);
    if (st != INFLATE_OK) {
        *error = message("%s: corrupt compressed data: %s (after %llu of %lu bytes)", e->name,
                         inflate_status_text(st), (unsigned long long)produced,
                         (unsigned long)e->size);
        return false;
    }
    if (produced != e->size) {
        *error = message("%s: decompresses to %llu bytes, the directory says %lu", e->name,
                         (unsigned long long)produced, (unsigned long)e->size);
        return false;
    }
    return true;
}

bool zip_extract(const zip_archive *z, const zip_entry *e, uint8_t **data, size_t *len,
                 char **error)
{
    *data = NULL;
    *len = 0;
    uint64_t start;
    if (!locate_data(z, e, &start, error))
        return false;
    uint8_t *out = xmalloc(e->size);
    if (!decompress(z->data + start, e, out, error)) {
        free(out);
        return false;
    }
    uint32_t crc = crc32_update(0, out, e->size);
    if (crc != e->crc32) {
        *error = message("%s: CRC-32 mismatch (computed %08lx, the directory says %08lx): "
                         "the data is corrupt", e->name, (unsigned long)crc,
                         (unsigned long)e->crc32);
        free(out);
        return false;
    }
    *data = out;
    *len = e->size;
    return true;
}
