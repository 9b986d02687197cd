/*
 * inflate.c: raw DEFLATE decoding (RFC 1951) for add-in packages.
 *
 * The structure follows the RFC directly: blocks are stored, fixed-Huffman
 * or dynamic-Huffman; Huffman codes are canonical, so a code is fully
 * described by its list of code lengths.  Decoding uses a small lookup table
 * for codes of up to FAST_BITS bits (almost every symbol in practice) and
 * falls back to walking the canonical code one bit at a time for longer
 * codes, which keeps the table small and the fallback obviously correct.
 *
 * Safety rules kept throughout:
 *  - the bit reader never reads past in_len; running out is INFLATE_TRUNCATED;
 *  - every output write checks the capacity first (INFLATE_OUTPUT_FULL);
 *  - a back-reference may not reach before the first output byte;
 *  - code length sets are validated (over-subscribed or, with the RFC's one
 *    exception, incomplete codes are rejected) before a table is built, so
 *    table indexes stay in range by construction.
 * Every loop consumes input or produces output, so a malformed stream ends
 * with an error, never a hang.
 */
#include "host.h"

#include <string.h>

#include "inflate.h"

#define MAX_BITS 15         /* longest Huffman code DEFLATE allows */
#define MAX_LIT_CODES 286   /* literal/length symbols a dynamic block may define */
#define MAX_DIST_CODES 30   /* distance symbols a dynamic block may define */
#define FIXED_LIT_CODES 288 /* the fixed code also assigns 286 and 287 (never valid) */
#define FIXED_DIST_CODES 32 /* ...and distance symbols 30 and 31 (never valid) */
#define CODELEN_CODES 19
#define FAST_BITS 9
#define FAST_SIZE (1u << FAST_BITS)
#define FAST_SYMBOL_MASK 0x1FFu /* fast entry: length << 9 | symbol; 0 = not in the table */

/* ------------------------------------------------------------------------ */
/* Bit input (DEFLATE packs bits starting with the least significant one)    */
/* ------------------------------------------------------------------------ */

typedef struct bit_reader {
    const uint8_t *in;
    size_t len;
    size_t pos;         /* next byte of `in` to load into buf */
    uint64_t buf;       /* loaded, not yet consumed bits, oldest in bit 0 */
    unsigned count;     /* number of valid bits in buf */
} bit_reader;

static void refill(bit_reader *b)
{
    /* count <= 56 keeps the shift below 64. */
    while (b->count <= 56 && b->pos < b->len) {
        b->buf |= (uint64_t)b->in[b->pos++] << b->count;
        b->count += 8;
    }
}

/* True when at least n bits are available (loading more if needed). */
static bool have_bits(bit_reader *b, unsigned n)
{
    if (b->count < n)
        refill(b);
    return b->count >= n;
}

static void drop_bits(bit_reader *b, unsigned n)
{
    b->buf >>= n;
    b->count -= n;
}

/* Reads n <= 16 bits; false when the input ends first. */
static bool get_bits(bit_reader *b, unsigned n, unsigned *value)
{
    if (!have_bits(b, n))
        return false;
    *value = (unsigned)(b->buf & (((uint64_t)1 << n) - 1));
    drop_bits(b, n);
    return true;
}

/* Stored blocks start at a byte boundary: drop the partial byte and hand
 * the whole bytes still in buf back to the byte stream. */
static void align_to_byte(bit_reader *b)
{
    drop_bits(b, b->count & 7u);
    b->pos -= b->count / 8;
    b->buf = 0;
    b->count = 0;
}

/* ------------------------------------------------------------------------ */
/* Canonical Huffman codes                                                   */
/* ------------------------------------------------------------------------ */

typedef struct huffman {
    uint16_t count[MAX_BITS + 1];       /* number of codes of each length */
    uint16_t symbol[FIXED_LIT_CODES];   /* symbols in canonical code order */
    uint16_t fast[FAST_SIZE];           /* indexed by the next FAST_BITS input bits */
} huffman;

enum { DECODE_TRUNCATED = -1, DECODE_INVALID = -2 };

static unsigned reverse_bits(unsigned code, unsigned len)
{
    unsigned r = 0;
    for (unsigned i = 0; i < len; i++, code >>= 1)
        r = (r << 1) | (code & 1u);
    return r;
}

/* Fills the lookup table for codes of up to FAST_BITS bits.  Huffman codes
 * are sent most significant bit first while everything else is sent least
 * significant bit first, hence the bit reversal; a short code occupies every
 * table slot whose low `len` bits equal its reversed code. */
static void build_fast_table(huffman *h)
{
    memset(h->fast, 0, sizeof h->fast);
    unsigned code = 0, index = 0;
    for (unsigned len = 1; len <= FAST_BITS; len++) {
        for (unsigned k = 0; k < h->count[len]; k++, index++, code++) {
            unsigned slot = reverse_bits(code, len);
            for (; slot < FAST_SIZE; slot += 1u << len)
                h->fast[slot] = (uint16_t)(len << FAST_BITS | h->symbol[index]);
        }
        code <<= 1;
    }
}

/* Builds the code for lengths[0..n) (n <= FIXED_LIT_CODES, lengths <= 15).
 * Rejects over-subscribed sets, and incomplete ones except a lone code of
 * length 1 (RFC 1951 3.2.7 allows one distance code; zlib accepts the same
 * for literal/length codes) or no code at all (a block that then uses the
 * code fails when it tries to decode a symbol).  code_lengths_code is the
 * code-length code, which must be complete. */
static bool build_huffman(huffman *h, const uint8_t *lengths, unsigned n,
                          bool code_lengths_code)
{
    memset(h->count, 0, sizeof h->count);
    for (unsigned i = 0; i < n; i++)
        h->count[lengths[i]]++;

    int left = 1;   /* code space still unassigned, in units of the current length */
    unsigned max_len = 0;
    for (unsigned len = 1; len <= MAX_BITS; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0)
            return false;   /* over-subscribed */
        if (h->count[len])
            max_len = len;
    }
    if (left > 0 && max_len != 0 && (code_lengths_code || max_len != 1))
        return false;       /* incomplete */
    if (max_len == 0 && code_lengths_code)
        return false;

    /* Sort the symbols by code length (and by value within a length): this
     * is the order of their canonical codes. */
    uint16_t offset[MAX_BITS + 2];
    offset[1] = 0;
    for (unsigned len = 1; len <= MAX_BITS; len++)
        offset[len + 1] = (uint16_t)(offset[len] + h->count[len]);
    for (unsigned sym = 0; sym < n; sym++)
        if (lengths[sym])
            h->symbol[offset[lengths[sym]]++] = (uint16_t)sym;

    build_fast_table(h);
    return true;
}

/* Walks the canonical code one bit at a time: codes of length len are the
 * count[len] values starting at `first`, in symbol order. */
static int decode_slow(bit_reader *b, const huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= MAX_BITS; len++) {
        unsigned bit;
        if (!get_bits(b, 1, &bit))
            return DECODE_TRUNCATED;
        code |= (int)bit;
        int count = h->count[len];
        if (code - first < count)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return DECODE_INVALID;  /* a bit pattern of an incomplete (or empty) code */
}

static int decode_symbol(bit_reader *b, const huffman *h)
{
    if (have_bits(b, FAST_BITS)) {
        unsigned entry = h->fast[b->buf & (FAST_SIZE - 1)];
        if (entry) {
            drop_bits(b, entry >> FAST_BITS);
            return (int)(entry & FAST_SYMBOL_MASK);
        }
    }
    /* A longer code, an invalid pattern, or fewer than FAST_BITS bits left
     * before the end of the input. */
    return decode_slow(b, h);
}

static inflate_status decode_error(int result)
{
    return result == DECODE_TRUNCATED ? INFLATE_TRUNCATED : INFLATE_BAD_SYMBOL;
}

/* ------------------------------------------------------------------------ */
/* Blocks                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct output {
    uint8_t *data;
    size_t cap;
    size_t len;
} output;

static const uint16_t length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

static inflate_status stored_block(bit_reader *b, output *o)
{
    align_to_byte(b);
    if (b->len - b->pos < 4)
        return INFLATE_TRUNCATED;
    const uint8_t *p = b->in + b->pos;
    unsigned len = (unsigned)p[0] | (unsigned)p[1] << 8;
    unsigned nlen = (unsigned)p[2] | (unsigned)p[3] << 8;
    if (len != (~nlen & 0xFFFFu))
        return INFLATE_BAD_STORED_LEN;
    b->pos += 4;
    if (b->len - b->pos < len)
        return INFLATE_TRUNCATED;
    if (o->cap - o->len < len)
        return INFLATE_OUTPUT_FULL;
    if (len) {
        memcpy(o->data + o->len, b->in + b->pos, len);
        o->len += len;
        b->pos += len;
    }
    return INFLATE_OK;
}

/* Copies a back-reference byte by byte: source and destination may overlap
 * (distance < length repeats the last `distance` bytes). */
static inflate_status copy_match(output *o, unsigned length, unsigned distance)
{
    if (distance > o->len)
        return INFLATE_BAD_DISTANCE;
    if (o->cap - o->len < length)
        return INFLATE_OUTPUT_FULL;
    uint8_t *dst = o->data + o->len;
    const uint8_t *src = dst - distance;
    for (unsigned i = 0; i < length; i++)
        dst[i] = src[i];
    o->len += length;
    return INFLATE_OK;
}

/* Decodes one length/distance pair after length symbol sym (257..). */
static inflate_status match(bit_reader *b, output *o, int sym, const huffman *dist)
{
    unsigned li = (unsigned)sym - 257;
    if (li >= 29)
        return INFLATE_BAD_SYMBOL;  /* 286 and 287 */
    unsigned extra;
    if (!get_bits(b, length_extra[li], &extra))
        return INFLATE_TRUNCATED;
    unsigned length = length_base[li] + extra;

    int dsym = decode_symbol(b, dist);
    if (dsym < 0)
        return decode_error(dsym);
    if (dsym >= 30)
        return INFLATE_BAD_SYMBOL;  /* 30 and 31 */
    if (!get_bits(b, dist_extra[dsym], &extra))
        return INFLATE_TRUNCATED;
    return copy_match(o, length, dist_base[dsym] + extra);
}

/* The symbols of one Huffman block, up to and including end-of-block. */
static inflate_status huffman_block(bit_reader *b, output *o, const huffman *lit,
                                    const huffman *dist)
{
    for (;;) {
        int sym = decode_symbol(b, lit);
        if (sym < 0)
            return decode_error(sym);
        if (sym < 256) {
            if (o->len >= o->cap)
                return INFLATE_OUTPUT_FULL;
            o->data[o->len++] = (uint8_t)sym;
        } else if (sym == 256) {
            return INFLATE_OK;
        } else {
            inflate_status st = match(b, o, sym, dist);
            if (st != INFLATE_OK)
                return st;
        }
    }
}

/* The fixed codes are rebuilt for each fixed block: cheap (a few hundred
 * entries) and it keeps the decoder free of shared state. */
static inflate_status fixed_block(bit_reader *b, output *o, huffman *lit, huffman *dist)
{
    uint8_t lengths[FIXED_LIT_CODES];
    unsigned i = 0;
    for (; i < 144; i++)
        lengths[i] = 8;
    for (; i < 256; i++)
        lengths[i] = 9;
    for (; i < 280; i++)
        lengths[i] = 7;
    for (; i < FIXED_LIT_CODES; i++)
        lengths[i] = 8;
    build_huffman(lit, lengths, FIXED_LIT_CODES, false);
    for (i = 0; i < FIXED_DIST_CODES; i++)
        lengths[i] = 5;
    build_huffman(dist, lengths, FIXED_DIST_CODES, false);
    return huffman_block(b, o, lit, dist);
}

/* Reads the code lengths of the literal/length and distance codes, which
 * are themselves Huffman-coded with run-length symbols 16, 17 and 18. */
static inflate_status read_code_lengths(bit_reader *b, uint8_t *lengths, unsigned total,
                                        huffman *scratch)
{
    static const uint8_t order[CODELEN_CODES] = {
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
    unsigned hclen;
    if (!get_bits(b, 4, &hclen))
        return INFLATE_TRUNCATED;
    hclen += 4;
    uint8_t cl_lengths[CODELEN_CODES] = {0};
    for (unsigned i = 0; i < hclen; i++) {
        unsigned v;
        if (!get_bits(b, 3, &v))
            return INFLATE_TRUNCATED;
        cl_lengths[order[i]] = (uint8_t)v;
    }
    if (!build_huffman(scratch, cl_lengths, CODELEN_CODES, true))
        return INFLATE_BAD_CODE_LENGTHS;

    unsigned index = 0;
    while (index < total) {
        int sym = decode_symbol(b, scratch);
        if (sym < 0)
            return decode_error(sym);
        if (sym < 16) {
            lengths[index++] = (uint8_t)sym;
            continue;
        }
        uint8_t value = 0;
        unsigned repeat, extra;
        if (sym == 16) {
            if (index == 0)
                return INFLATE_BAD_CODE_LENGTHS;    /* nothing to repeat */
            value = lengths[index - 1];
            if (!get_bits(b, 2, &extra))
                return INFLATE_TRUNCATED;
            repeat = 3 + extra;
        } else if (sym == 17) {
            if (!get_bits(b, 3, &extra))
                return INFLATE_TRUNCATED;
            repeat = 3 + extra;
        } else {
            if (!get_bits(b, 7, &extra))
                return INFLATE_TRUNCATED;
            repeat = 11 + extra;
        }
        if (repeat > total - index)
            return INFLATE_BAD_CODE_LENGTHS;        /* runs past the end */
        memset(lengths + index, value, repeat);
        index += repeat;
    }
    return INFLATE_OK;
}

static inflate_status dynamic_block(bit_reader *b, output *o, huffman *lit, huffman *dist)
{
    unsigned hlit, hdist;
    if (!get_bits(b, 5, &hlit) || !get_bits(b, 5, &hdist))
        return INFLATE_TRUNCATED;
    hlit += 257;
    hdist += 1;
    if (hlit > MAX_LIT_CODES || hdist > MAX_DIST_CODES)
        return INFLATE_BAD_CODE_LENGTHS;

    uint8_t lengths[MAX_LIT_CODES + MAX_DIST_CODES];
    /* `lit` doubles as scratch space for the code-length code. */
    inflate_status st = read_code_lengths(b, lengths, hlit + hdist, lit);
    if (st != INFLATE_OK)
        return st;
    if (lengths[256] == 0)
        return INFLATE_BAD_CODE_LENGTHS;    /* no end-of-block code */
    if (!build_huffman(lit, lengths, hlit, false) ||
        !build_huffman(dist, lengths + hlit, hdist, false))
        return INFLATE_BAD_CODE_LENGTHS;
    return huffman_block(b, o, lit, dist);
}

/* ------------------------------------------------------------------------ */
/* Stream                                                                    */
/* ------------------------------------------------------------------------ */

inflate_status inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                           size_t *out_len, size_t *in_used)
{
    bit_reader b = { in, in_len, 0, 0, 0 };
    output o = { out, out_cap, 0 };
    huffman codes[2];   /* literal/length and distance, about 1.6 KB each */
    inflate_status st = INFLATE_OK;
    unsigned final = 0;
    while (st == INFLATE_OK && !final) {
        unsigned type;
        if (!get_bits(&b, 1, &final) || !get_bits(&b, 2, &type)) {
            st = INFLATE_TRUNCATED;
            break;
        }
        switch (type) {
        case 0: st = stored_block(&b, &o); break;
        case 1: st = fixed_block(&b, &o, &codes[0], &codes[1]); break;
        case 2: st = dynamic_block(&b, &o, &codes[0], &codes[1]); break;
        default: st = INFLATE_BAD_BLOCK_TYPE; break;
        }
    }
    *out_len = o.len;
    /* Whole bytes still in the bit buffer were loaded but not used. */
    *in_used = b.pos - b.count / 8;
    return st;
}

const char *inflate_status_text(inflate_status st)
{
    switch (st) {
    case INFLATE_OK: return "ok";
    case INFLATE_TRUNCATED: return "compressed data ends too early";
    case INFLATE_OUTPUT_FULL: return "decompresses to more bytes than declared";
    case INFLATE_BAD_BLOCK_TYPE: return "invalid block type";
    case INFLATE_BAD_STORED_LEN: return "stored block length check failed";
    case INFLATE_BAD_CODE_LENGTHS: return "invalid Huffman code lengths";
    case INFLATE_BAD_SYMBOL: return "invalid Huffman code or symbol";
    case INFLATE_BAD_DISTANCE: return "back-reference before the start of the data";
    }
    return "unknown error";
}
