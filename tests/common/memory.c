/*
 * memory.c: the IMemoryManager the host hands to setMemManager, safe to call
 * from any thread.
 *
 * Every block is recorded (address and size) so that the host can tell
 * whether a pointer the add-in hands back really came from AllocMemory: 1C
 * frees result buffers with its own allocator, and a buffer from the
 * add-in's allocator would corrupt its heap.  Such "foreign" frees are
 * reported and the block is left alone.  The ledger is split into shards by
 * address, each under its own lock with its own counters, so that the load
 * host's threads calling at once rarely wait for each other.
 */
#include "common.h"

#include <stdlib.h>

#define SHARDS 64

typedef struct block {
    void *ptr;
    size_t size;
} block;

/* Only a few blocks are live per call in flight, so a small array searched
 * from its newest end is enough per shard. */
typedef struct shard {
    host_mutex *lock;
    block *blocks;
    size_t count, cap;
    unsigned long long allocs, frees, foreign;
} shard;

static shard shards[SHARDS];

/* Takes the address as a number: the shard depends on it, never on what it
 * points to. */
static shard *shard_of(uintptr_t a)
{
    /* malloc'ed addresses are 16-aligned: mix the higher bits in. */
    a ^= a >> 4;
    a ^= a >> 12;
    return &shards[a % SHARDS];
}

/* Index of the block starting at p in s, or SIZE_MAX.  Holds s->lock. */
static size_t find_block(const shard *s, const void *p)
{
    for (size_t i = s->count; i-- > 0;)
        if (s->blocks[i].ptr == p)
            return i;
    return SIZE_MAX;
}

void memory_init(void)
{
    for (size_t i = 0; i < SHARDS; i++)
        shards[i].lock = host_mutex_new();
}

void *mm_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    shard *s = shard_of((uintptr_t)p);
    host_mutex_lock(s->lock);
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->blocks = xrealloc(s->blocks, s->cap * sizeof *s->blocks);
    }
    s->blocks[s->count].ptr = p;
    s->blocks[s->count].size = n;
    s->count++;
    s->allocs++;
    host_mutex_unlock(s->lock);
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
    shard *s = shard_of((uintptr_t)p);
    host_mutex_lock(s->lock);
    size_t i = find_block(s, p);
    if (i == SIZE_MAX) {
        s->foreign++;
        host_mutex_unlock(s->lock);
        /* Not ours: freeing it would corrupt the heap, as in 1C. */
        abi_error("foreign free: %p was not allocated by AllocMemory (or was already freed)", p);
        return;
    }
    s->blocks[i] = s->blocks[s->count - 1];
    s->count--;
    s->frees++;
    host_mutex_unlock(s->lock);
    free(p);
    *pp = NULL;
}

long long mm_block_size(const void *p)
{
    shard *s = shard_of((uintptr_t)p);
    host_mutex_lock(s->lock);
    size_t i = find_block(s, p);
    long long size = i == SIZE_MAX ? -1 : (long long)s->blocks[i].size;
    host_mutex_unlock(s->lock);
    return size;
}

static void ADDIN_API host_object_dtor(void *self)
{
    (void)self;
    abi_error("the add-in called a destructor slot of the host's memory manager");
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
    HOST_DTOR_SLOTS(host_object_dtor),
    .AllocMemory = mm_AllocMemory,
    .FreeMemory = mm_FreeMemory,
};

static IMemoryManager mm_object = { &mm_vtbl };

IMemoryManager *memory_manager(void)
{
    return &mm_object;
}

mm_stats memory_stats(void)
{
    mm_stats st = {0, 0, 0, 0};
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        host_mutex_lock(s->lock);
        st.allocations += s->allocs;
        st.frees += s->frees;
        st.live += s->count;
        st.foreign_frees += s->foreign;
        host_mutex_unlock(s->lock);
    }
    return st;
}

void memory_release_live(void (*each)(const void *p, size_t size, void *ctx), void *ctx)
{
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        host_mutex_lock(s->lock);
        for (size_t k = 0; k < s->count; k++) {
            if (each)
                each(s->blocks[k].ptr, s->blocks[k].size, ctx);
            free(s->blocks[k].ptr);
        }
        s->count = 0;
        host_mutex_unlock(s->lock);
    }
}

void memory_done(void)
{
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        free(s->blocks);
        host_mutex_free(s->lock);
        s->blocks = NULL;
        s->lock = NULL;
        s->count = s->cap = 0;
    }
}
