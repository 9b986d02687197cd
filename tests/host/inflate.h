/*
 * inflate.h: a small raw DEFLATE (RFC 1951) decoder for reading add-in
 * packages (.zip).  It decodes one whole stream from memory into a buffer
 * of known size (a zip entry's uncompressed size), so there is no window
 * management and no streaming.  No zlib: the host must build with nothing
 * but a C compiler, on Linux and with mingw alike.
 *
 * Every read of the input and every write or back-reference into the
 * output is bounds-checked: malformed data gives an error, never a crash.
 */
#ifndef WEBHOOK1C_INFLATE_H
#define WEBHOOK1C_INFLATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum inflate_status {
    INFLATE_OK = 0,
    INFLATE_TRUNCATED,      /* the input ended before the final block did */
    INFLATE_OUTPUT_FULL,    /* more data than the output buffer holds */
    INFLATE_BAD_BLOCK_TYPE, /* block type 3 */
    INFLATE_BAD_STORED_LEN, /* LEN and NLEN of a stored block disagree */
    INFLATE_BAD_CODE_LENGTHS,   /* a dynamic block's code tables are invalid */
    INFLATE_BAD_SYMBOL,     /* a bit pattern or symbol no valid stream has */
    INFLATE_BAD_DISTANCE,   /* a back-reference before the start of output */
} inflate_status;

/* Decodes the raw DEFLATE stream in[0..in_len) into out[0..out_cap).
 * On INFLATE_OK, *out_len is the number of bytes produced and *in_used the
 * number of input bytes the stream took (bytes after it are not read).
 * On an error the output contents are unspecified. */
inflate_status inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                           size_t *out_len, size_t *in_used);

/* A short English description of a status, for error messages. */
const char *inflate_status_text(inflate_status st);

#endif /* WEBHOOK1C_INFLATE_H */
