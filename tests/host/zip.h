/*
 * zip.h: just enough of the zip format to read a 1C add-in package: the
 * central directory, entries stored (method 0) or deflated (method 8), each
 * checked against its CRC-32.  No ZIP64, no encryption, no spanning: those
 * are refused with a clear message.
 */
#ifndef WEBHOOK1C_ZIP_H
#define WEBHOOK1C_ZIP_H

#include "host.h"

typedef struct zip_entry {
    char *name;             /* as stored (UTF-8 or CP437; compared bytewise) */
    uint16_t flags;
    uint16_t method;
    uint32_t crc32;
    uint32_t compressed_size;
    uint32_t size;
    uint32_t local_offset;  /* of the local file header */
} zip_entry;

typedef struct zip_archive {
    uint8_t *data;          /* the whole file, host memory */
    size_t len;
    zip_entry *entries;
    size_t count;
} zip_archive;

/* Reads the file and its central directory.  On failure returns false with
 * a malloc'ed message in *error and leaves *z empty. */
bool zip_open(const char *utf8_path, zip_archive *z, char **error);
void zip_close(zip_archive *z);

/* The first entry with this exact name, else (when ignore_case) the first
 * one equal to it in ASCII case-insensitive comparison; NULL if none. */
const zip_entry *zip_find(const zip_archive *z, const char *name, bool ignore_case);

/* Decompresses one entry into a malloc'ed buffer and checks its CRC-32.
 * On failure returns false with a malloc'ed message in *error. */
bool zip_extract(const zip_archive *z, const zip_entry *e, uint8_t **data, size_t *len,
                 char **error);

uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n);

/* ASCII-only case-insensitive equality (file names, manifest values). */
bool ascii_equal_nocase(const char *a, const char *b);

#endif /* WEBHOOK1C_ZIP_H */
