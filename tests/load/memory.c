/*
 * memory.c: the IMemoryManager handed to every object, safe to call from any
 * thread.  Every block is recorded (address and size) so that a pointer the
 * add-in hands back to FreeMemory can be checked: 1C frees result buffers
 * with its own allocator, so a buffer from anywhere else would corrupt its
 * heap.  The ledger is split into shards by address, each under its own
 * lock, so that threads calling at once rarely wait for each other; the
 * counters are atomics.
 */
#include "load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64

typedef struct block {
    void *ptr;
    size_t size;
} block;

/* Only a few blocks are live per call in flight, so a small array searched
 * from its newest end is enough per shard. */
typedef struct shard {
    pthread_mutex_t lock;
    block *blocks;
    size_t count, cap;
} shard;

static shard shards[SHARDS];
static atomic_ullong n_allocs, n_frees, n_foreign, n_live;

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
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&shards[i].lock, NULL);
        shards[i].blocks = NULL;
        shards[i].count = shards[i].cap = 0;
    }
}

void *mm_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    shard *s = shard_of((uintptr_t)p);
    pthread_mutex_lock(&s->lock);
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        block *bigger = realloc(s->blocks, cap * sizeof *bigger);
        if (!bigger) {
            pthread_mutex_unlock(&s->lock);
            free(p);
            return NULL;
        }
        s->blocks = bigger;
        s->cap = cap;
    }
    s->blocks[s->count].ptr = p;
    s->blocks[s->count].size = n;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&n_allocs, 1);
    atomic_fetch_add(&n_live, 1);
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
    pthread_mutex_lock(&s->lock);
    size_t i = find_block(s, p);
    if (i == SIZE_MAX) {
        pthread_mutex_unlock(&s->lock);
        atomic_fetch_add(&n_foreign, 1);
        /* Not ours: freeing it would corrupt the heap, as in 1C. */
        abi_error("foreign free: %p was not allocated by AllocMemory (or was already freed)", p);
        return;
    }
    s->blocks[i] = s->blocks[s->count - 1];
    s->count--;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&n_frees, 1);
    atomic_fetch_sub(&n_live, 1);
    free(p);
    *pp = NULL;
}

long long mm_block_size(const void *p)
{
    shard *s = shard_of((uintptr_t)p);
    pthread_mutex_lock(&s->lock);
    size_t i = find_block(s, p);
    long long size = i == SIZE_MAX ? -1 : (long long)s->blocks[i].size;
    pthread_mutex_unlock(&s->lock);
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

mm_stats memory_stats(void)
{
    mm_stats st;
    st.allocations = atomic_load(&n_allocs);
    st.frees = atomic_load(&n_frees);
    st.live = atomic_load(&n_live);
    st.foreign_frees = atomic_load(&n_foreign);
    return st;
}

void memory_release_live(void)
{
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        pthread_mutex_lock(&s->lock);
        for (size_t k = 0; k < s->count; k++)
            free(s->blocks[k].ptr);
        free(s->blocks);
        s->blocks = NULL;
        s->count = s->cap = 0;
        pthread_mutex_unlock(&s->lock);
    }
}
