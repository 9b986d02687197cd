/*
 * memory.c: the IMemoryManager the host hands to setMemManager.
 *
 * Every block is recorded (address and size) so that the host can tell
 * whether a pointer the add-in hands back really came from AllocMemory: 1C
 * frees result buffers with its own allocator, and a buffer from the
 * add-in's allocator would corrupt its heap.  Such "foreign" frees are
 * reported and the block is left alone.
 */
#include "host.h"

#include <stdlib.h>
#include <string.h>

typedef struct block {
    void *ptr;
    size_t size;
} block;

/* Live blocks.  Only a handful are live at any time (buffers are released
 * right after each command), so a plain array searched from the newest end
 * is both simple and fast enough. */
static block *blocks;
static size_t block_count, block_cap;
static host_mutex *mm_lock;
static unsigned long long n_allocs, n_frees, n_foreign;

static void ADDIN_API host_object_dtor(void *self)
{
    (void)self;
    abi_error("the add-in called a destructor slot of the host's memory manager");
}

/* Index of the block starting at p, or SIZE_MAX.  Caller holds mm_lock. */
static size_t find_block(const void *p)
{
    for (size_t i = block_count; i-- > 0;)
        if (blocks[i].ptr == p)
            return i;
    return SIZE_MAX;
}

void *mm_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    host_mutex_lock(mm_lock);
    if (block_count == block_cap) {
        block_cap = block_cap ? block_cap * 2 : 64;
        blocks = xrealloc(blocks, block_cap * sizeof *blocks);
    }
    blocks[block_count].ptr = p;
    blocks[block_count].size = n;
    block_count++;
    n_allocs++;
    host_mutex_unlock(mm_lock);
    return p;
}

void mm_free(void **pp)
{
    if (!pp) {
        abi_error("FreeMemory called with a NULL void** argument");
        return;
    }
    void *p = *pp;
    if (!p)
        return;     /* freeing NULL is allowed and does nothing */
    host_mutex_lock(mm_lock);
    size_t i = find_block(p);
    if (i == SIZE_MAX) {
        n_foreign++;
        host_mutex_unlock(mm_lock);
        /* Not ours: freeing it would corrupt the heap, as in 1C. */
        abi_error("foreign free: %p was not allocated by AllocMemory (or was already freed)", p);
        return;
    }
    blocks[i] = blocks[block_count - 1];
    block_count--;
    n_frees++;
    host_mutex_unlock(mm_lock);
    free(p);
    *pp = NULL;
}

long long mm_block_size(const void *p)
{
    host_mutex_lock(mm_lock);
    size_t i = find_block(p);
    long long size = i == SIZE_MAX ? -1 : (long long)blocks[i].size;
    host_mutex_unlock(mm_lock);
    return size;
}

static bool ADDIN_API mm_AllocMemory(void *self, void **pMemory, unsigned long ulCountByte)
{
    (void)self;
    if (!pMemory) {
        abi_error("AllocMemory called with a NULL void** argument");
        return false;
    }
    void *p = mm_alloc((size_t)ulCountByte);
    *pMemory = p;
    return p != NULL;
}

static void ADDIN_API mm_FreeMemory(void *self, void **pMemory)
{
    (void)self;
    mm_free(pMemory);
}

static const IMemoryManagerVtbl mm_vtbl = {
#ifndef _WIN32
    .dtor_complete = host_object_dtor,
#endif
    .dtor_deleting = host_object_dtor,
    .AllocMemory = mm_AllocMemory,
    .FreeMemory = mm_FreeMemory,
};

static IMemoryManager mm_object = { &mm_vtbl };

IMemoryManager *memory_manager(void)
{
    return &mm_object;
}

void memory_init(void)
{
    mm_lock = host_mutex_new();
}

mm_stats memory_stats(void)
{
    mm_stats s;
    host_mutex_lock(mm_lock);
    s.allocations = n_allocs;
    s.frees = n_frees;
    s.live = block_count;
    s.foreign_frees = n_foreign;
    host_mutex_unlock(mm_lock);
    return s;
}

void memory_report_and_release_live(void)
{
    host_mutex_lock(mm_lock);
    size_t count = block_count;
    block *copy = count ? xmalloc(count * sizeof *copy) : NULL;
    if (count)
        memcpy(copy, blocks, count * sizeof *copy);
    block_count = 0;
    host_mutex_unlock(mm_lock);

    for (size_t i = 0; i < count; i++) {
        if (i < 20) {
            /* A short hex preview usually identifies the leaked value. */
            strbuf sb = {0};
            size_t show = copy[i].size < 32 ? copy[i].size : 32;
            const unsigned char *b = copy[i].ptr;
            for (size_t k = 0; k < show; k++)
                sb_printf(&sb, "%02x", b[k]);
            out_line("# leaked block: %llu bytes: %s%s", (unsigned long long)copy[i].size,
                     sb_str(&sb), show < copy[i].size ? "..." : "");
            sb_free(&sb);
        }
        free(copy[i].ptr);
    }
    if (count > 20)
        out_line("# leaked blocks not listed: %llu", (unsigned long long)(count - 20));
    free(copy);
}

void memory_done(void)
{
    free(blocks);
    blocks = NULL;
    block_count = block_cap = 0;
    host_mutex_free(mm_lock);
    mm_lock = NULL;
}
