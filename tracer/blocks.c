/* blocks.c: the live-block table, address -> (trace id, size, birth epoch).
 *
 * Where an entry lives follows the heap: every GiB of address space that
 * holds blocks gets a shadow array, one 8-byte entry per 32 bytes of
 * address (mapped lazily and never reserved: only the pages of it under
 * live heap are memory). A block's entry is found from its address with
 * two loads and no hashing, so blocks that are neighbours in the heap are
 * neighbours in the table, and the allocation patterns that keep the heap
 * in cache (tcache reuse, blocks freed in the order they came) keep the
 * table in cache too; a hash table costs a cache miss per call once
 * millions of blocks are live (issue 14). The entry's place says which
 * 32-byte granule the block starts in, so the entry keeps only the rest:
 * its offset in the granule, birth epoch, trace id and size, in one word
 * (lt_slot_pack). No lock: an entry is claimed with one compare-and-swap
 * and cleared by the thread freeing the block, the only one that can.
 * What does not fit a word goes to the spill table, with full 16-byte
 * entries: a second live block in a taken granule (only allocators that
 * space small blocks 8 or 16 bytes apart make those; glibc's chunks are 32
 * bytes apart at least), blocks of 16 MiB or more, and blocks above 2^47.
 * The spill table is 256 shards chosen by address hash, each an
 * open-addressing table with linear probing and backward-shift deletion
 * behind its own spinlock, which doubles when half full. Tables live in
 * mmap'ed memory. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lt_internal.h"

#define LT_SHARDS       256u
#define LT_SHARD_START  1024u     /* entries per shard at start (16 KiB) */
#define LT_TRACE_BITS   24        /* 16 M trace ids */
#define LT_SIZE_BITS    40        /* blocks up to 1 TiB - 1 inline */
#define LT_SIZE_BIG     ((1ULL << LT_SIZE_BITS) - 1)
#define LT_BIG_MAX      64u       /* live blocks of 1 TiB or more (never, in practice) */
#define LT_ADDR_BITS    48        /* x86-64 user addresses are below 2^47 */
#define LT_ADDR_MASK    ((1ULL << LT_ADDR_BITS) - 1)

/* A spilled block: (birth epoch << 48 | address) and (trace id << 40 |
 * size). The epoch takes the address word's top 16 bits, which no user
 * address uses. */
typedef struct lt_entry {
    uint64_t addr;   /* 0 = empty; compare and hash addr & LT_ADDR_MASK */
    uint64_t meta;
} lt_entry;

typedef struct lt_shard {
    int       lock;
    uint32_t  mask;   /* capacity - 1 */
    uint32_t  used;
    lt_entry *slots;
    char      pad[64 - sizeof(int) - 2 * sizeof(uint32_t) - sizeof(lt_entry *)];
} lt_shard;

typedef struct lt_big {
    uint64_t addr, size;
} lt_big;

/* A shadow entry, one word: valid bit | offset in the granule (5 bits) |
 * birth epoch (10) | trace id (24) | size (24); 0 = empty. A block whose
 * epoch, id or size does not fit goes to the spill table (in practice
 * only blocks of 16 MiB or more: epochs stop at LT_EPOCH_MAX, ids below
 * LEAKTOP_MAX_TRACES' largest value). */
#define LT_SLOT_SIZE_BITS   24
#define LT_SLOT_TRACE_BITS  24
#define LT_SLOT_EPOCH_BITS  10
#define LT_SLOT_TRACE_SHIFT LT_SLOT_SIZE_BITS
#define LT_SLOT_EPOCH_SHIFT (LT_SLOT_TRACE_SHIFT + LT_SLOT_TRACE_BITS)
#define LT_SLOT_OFF_SHIFT   (LT_SLOT_EPOCH_SHIFT + LT_SLOT_EPOCH_BITS)
#define LT_SLOT_VALID       (1ULL << 63)
#define LT_SLOT_FIELD(v, shift, bits) ((uint32_t)((v) >> (shift)) & ((1u << (bits)) - 1))
_Static_assert(LT_SLOT_OFF_SHIFT + LT_GRANULE_BITS == 63, "the shadow entry's fields fill 63 bits");
_Static_assert(LT_EPOCH_MAX < (1u << LT_SLOT_EPOCH_BITS), "every epoch fits a shadow entry");

uint64_t *lt_shadow[LT_REGIONS];     /* 1 MiB of pointers, touched where used */
#define LT_REGION_BYTES ((size_t)LT_REGION_SLOTS * sizeof(uint64_t))  /* 256 MiB reserved per GiB */
static uintptr_t lt_brk_start;       /* the program break when tracing started */
static int lt_regions_failed;        /* mmap refused one: spill from then on */
static uint64_t lt_regions_mapped;   /* shadow bytes mapped (atomic) */
static uint64_t lt_spilled;          /* live entries in the spill table (atomic) */

static lt_shard lt_shards[LT_SHARDS] __attribute__((aligned(64)));
uint64_t       *lt_block_filter;  /* sampling mode only (lt_internal.h) */
static uint8_t *lt_filter_counts; /* live sampled blocks per bucket, under lt_filter_lock */
static int      lt_filter_lock;
static lt_big   lt_bigs[LT_BIG_MAX];
static int      lt_big_lock;

static inline uint64_t lt_addr_hash(uintptr_t a)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

static bool lt_filter_map(void)
{
    lt_block_filter = lt_map((size_t)1 << (LT_FILTER_BITS - 3));
    lt_filter_counts = lt_map((size_t)1 << LT_FILTER_BITS);
    return lt_block_filter && lt_filter_counts;
}

/* Another tracing period (attach after detach): the table starts empty,
 * in place (a hook still finishing the previous period may hold a shard:
 * each is emptied under its lock, and nothing is unmapped under it). The
 * shadow arrays are emptied by giving their pages back: they read as zeros
 * (empty entries) again, and cost no memory until blocks land there. */
static bool lt_blocks_reset(void)
{
    for (uint32_t r = 0; r < LT_REGIONS; r++) {
        uint64_t *t = __atomic_load_n(&lt_shadow[r], __ATOMIC_ACQUIRE);
        if (t)
            lt_advise(t, LT_REGION_BYTES, MADV_DONTNEED);
    }
    for (uint32_t i = 0; i < LT_SHARDS; i++) {
        lt_shard *s = &lt_shards[i];
        lt_spin_lock(&s->lock);
        lt_advise(s->slots, (size_t)(s->mask + 1) * sizeof(lt_entry), MADV_DONTNEED);
        s->used = 0;
        lt_spin_unlock(&s->lock);
    }
    __atomic_store_n(&lt_spilled, 0, __ATOMIC_RELAXED);
    lt_spin_lock(&lt_big_lock);
    memset(lt_bigs, 0, sizeof(lt_bigs));
    lt_spin_unlock(&lt_big_lock);
    if (lt_block_filter) {
        lt_advise(lt_block_filter, (size_t)1 << (LT_FILTER_BITS - 3), MADV_DONTNEED);
        lt_advise(lt_filter_counts, (size_t)1 << LT_FILTER_BITS, MADV_DONTNEED);
        return true;
    }
    return !lt_option(LT_OPT_SAMPLE) || lt_filter_map();
}

bool lt_blocks_init(void)
{
    if (!lt_brk_start)
        lt_brk_start = (uintptr_t)sbrk(0);
    if (lt_shards[0].slots)
        return lt_blocks_reset();
    if (lt_option(LT_OPT_SAMPLE) && !lt_filter_map())
        return false;
    /* The shards' first tables are slices of one mapping: 256 mmaps cost a
     * short-lived program a fifth of its run. A shard that grows unmaps
     * its slice alone. Small pages: most shards are never written, and a
     * huge page would zero 2 MiB at the first spilled block. */
    size_t slice = LT_SHARD_START * sizeof(lt_entry);
    uint8_t *all = lt_map(LT_SHARDS * slice);
    if (!all)
        return false;
    lt_advise(all, LT_SHARDS * slice, MADV_NOHUGEPAGE);
    for (uint32_t i = 0; i < LT_SHARDS; i++) {
        lt_shard *s = &lt_shards[i];
        s->slots = (lt_entry *)(all + i * slice);
        s->mask = LT_SHARD_START - 1;
        s->used = 0;
    }
    return true;
}

static inline lt_shard *lt_shard_of(uint64_t h)
{
    return &lt_shards[h >> 56];  /* top bits pick the shard, low bits the slot */
}

static void lt_put(lt_entry *slots, uint32_t mask, uint64_t addr, uint64_t meta)
{
    uint32_t i = (uint32_t)lt_addr_hash(addr & LT_ADDR_MASK) & mask;
    while (slots[i].addr)
        i = (i + 1) & mask;
    slots[i].addr = addr;
    slots[i].meta = meta;
}

/* Doubles the shard. If mmap fails the shard stays full-ish but correct:
 * probing still terminates because one slot is always kept free. */
static void lt_grow(lt_shard *s)
{
    uint32_t cap = (s->mask + 1) * 2;
    lt_entry *fresh = lt_map((size_t)cap * sizeof(lt_entry));
    if (!fresh)
        return;
    for (uint32_t i = 0; i <= s->mask; i++)
        if (s->slots[i].addr)
            lt_put(fresh, cap - 1, s->slots[i].addr, s->slots[i].meta);
    lt_unmap(s->slots, (size_t)(s->mask + 1) * sizeof(lt_entry));
    s->slots = fresh;
    s->mask = cap - 1;
}

static void lt_big_put(uint64_t addr, uint64_t size)
{
    lt_spin_lock(&lt_big_lock);
    for (uint32_t i = 0; i < LT_BIG_MAX; i++) {
        if (!lt_bigs[i].addr) {
            lt_bigs[i].addr = addr;
            lt_bigs[i].size = size;
            break;
        }
    }
    lt_spin_unlock(&lt_big_lock);
}

static uint64_t lt_big_take(uint64_t addr)
{
    uint64_t size = LT_SIZE_BIG;
    lt_spin_lock(&lt_big_lock);
    for (uint32_t i = 0; i < LT_BIG_MAX; i++) {
        if (lt_bigs[i].addr == addr) {
            size = lt_bigs[i].size;
            lt_bigs[i].addr = 0;
            break;
        }
    }
    lt_spin_unlock(&lt_big_lock);
    return size;
}

/* The count of live sampled blocks in addr's bucket, and its bit: set
 * while the count is not 0. 255 is sticky (a bucket that full stays
 * "maybe" for good: still correct). One lock keeps each count and its bit
 * in step (a count moving 1 -> 0 -> 1 in two threads must not end with
 * the bit clear); only sampled blocks come here, which are rare. */
static void lt_filter_add(uintptr_t addr, int delta)
{
    uint32_t slot = lt_filter_slot(addr);
    uint64_t bit = 1ULL << (slot & 63);
    lt_spin_lock(&lt_filter_lock);
    uint8_t c = lt_filter_counts[slot];
    if (c != 255) {
        c = (uint8_t)(c + delta);
        lt_filter_counts[slot] = c;
        if (c == 0)
            __atomic_fetch_and(&lt_block_filter[slot >> 6], ~bit, __ATOMIC_RELAXED);
        else
            __atomic_fetch_or(&lt_block_filter[slot >> 6], bit, __ATOMIC_RELAXED);
    }
    lt_spin_unlock(&lt_filter_lock);
}

/* The spill table's insert of (epoch << 48 | address); false when the
 * shard could not grow. */
static bool lt_spill_insert(uint64_t tagged, uint64_t meta)
{
    lt_shard *s = lt_shard_of(lt_addr_hash(tagged & LT_ADDR_MASK));
    lt_spin_lock(&s->lock);
    if (LT_UNLIKELY((s->used + 1) * 2 > s->mask + 1))
        lt_grow(s);
    bool room = s->used < s->mask;
    if (LT_LIKELY(room)) {
        lt_put(s->slots, s->mask, tagged, meta);
        s->used++;
    }
    lt_spin_unlock(&s->lock);
    if (room)
        __atomic_fetch_add(&lt_spilled, 1, __ATOMIC_RELAXED);
    return room;
}

/* Huge pages for the shadow of the program's break heap (glibc's main
 * arena): it grows from its start and stays dense, so its shadow is
 * memory page after page anyway, and one TLB entry then covers 8 MiB of
 * heap instead of 16 KiB: with blocks freed in random order a 4 KiB
 * shadow page is a TLB miss beside the cache miss. Nowhere else: a
 * sparse heap (mmap'ed blocks, thread arenas mostly empty) would pay a
 * 2 MiB page where it touches 4 KiB (2000 live blocks of 200 KiB: 9 MB
 * of shadow become 110 MB). The break at tracing start is where the
 * heap's blocks begin; the shadow of its first 8 MiB keeps small pages, so
 * a small program does not pay a 2 MiB page for a heap of a few KiB. */
#define LT_HUGE_AFTER ((uintptr_t)8 << 20)
static void lt_region_huge(uint64_t *t, uintptr_t r)
{
    uintptr_t lo = r << LT_REGION_BITS, hi = lo + ((uintptr_t)1 << LT_REGION_BITS);
    uintptr_t brk_now = (uintptr_t)sbrk(0);
    if (!lt_brk_start || lt_brk_start >= hi || brk_now < lo || brk_now == (uintptr_t)-1)
        return;
    uintptr_t from = lt_brk_start + LT_HUGE_AFTER > lo ? lt_brk_start + LT_HUGE_AFTER : lo;
    if (from >= hi)
        return;
    size_t skip = ((from - lo) >> LT_GRANULE_BITS) * sizeof(uint64_t) & ~(size_t)4095;
    lt_advise((uint8_t *)t + skip, LT_REGION_BYTES - skip, MADV_HUGEPAGE);
}

/* Maps the shadow array of region r on first use; NULL when mmap fails.
 * Racing threads both map: one publishes, the other unmaps its own. */
static uint64_t *__attribute__((noinline)) lt_region_make(uintptr_t r)
{
    if (__atomic_load_n(&lt_regions_failed, __ATOMIC_RELAXED))
        return NULL;
    /* Under `ulimit -v` or `ulimit -d` a region (a quarter of the GiB it
     * covers, mapped whole) counts against the program's room: past a
     * sixteenth of the limit, as much as the segment may take, blocks
     * spill instead (the spill table grows with live blocks only). The
     * limit is read each time: a program may lower its own after start. */
    uint64_t limit = lt_private_limit();
    uint64_t mapped = __atomic_add_fetch(&lt_regions_mapped, LT_REGION_BYTES, __ATOMIC_RELAXED);
    bool over = limit && mapped > limit / 16;
    uint64_t *fresh = over ? NULL : lt_map(LT_REGION_BYTES);
    if (!fresh) {
        __atomic_store_n(&lt_regions_failed, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    lt_region_huge(fresh, r);
    uint64_t *t = NULL;
    if (__atomic_compare_exchange_n(&lt_shadow[r], &t, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    lt_unmap(fresh, LT_REGION_BYTES);
    __atomic_sub_fetch(&lt_regions_mapped, LT_REGION_BYTES, __ATOMIC_RELAXED);
    return t;
}

/* The shadow entry of addr's granule (its GiB's array mapped now when
 * `make`); NULL above 2^47 or when there is none. */
static inline uint64_t *lt_shadow_slot(uintptr_t addr, bool make)
{
    uintptr_t r = addr >> LT_REGION_BITS;
    if (LT_UNLIKELY(r >= LT_REGIONS))
        return NULL;
    uint64_t *t = __atomic_load_n(&lt_shadow[r], __ATOMIC_ACQUIRE);
    if (LT_UNLIKELY(t == NULL) && (!make || (t = lt_region_make(r)) == NULL))
        return NULL;
    return &t[(addr >> LT_GRANULE_BITS) & (LT_REGION_SLOTS - 1)];
}

/* addr's shadow entry, or 0 when the block does not fit one. */
static inline uint64_t lt_slot_pack(uintptr_t addr, uint32_t trace, uint64_t size, uint32_t epoch)
{
    if (LT_UNLIKELY((size >> LT_SLOT_SIZE_BITS) | (trace >> LT_SLOT_TRACE_BITS) | (epoch >> LT_SLOT_EPOCH_BITS)))
        return 0;
    uint64_t off = addr & ((1u << LT_GRANULE_BITS) - 1);
    return LT_SLOT_VALID | off << LT_SLOT_OFF_SHIFT | (uint64_t)epoch << LT_SLOT_EPOCH_SHIFT |
           (uint64_t)trace << LT_SLOT_TRACE_SHIFT | size;
}

/* Does entry v (of addr's granule) hold the block at addr? */
static inline bool lt_slot_holds(uint64_t v, uintptr_t addr)
{
    return (v >> LT_SLOT_OFF_SHIFT) == (LT_SLOT_VALID >> LT_SLOT_OFF_SHIFT | (addr & ((1u << LT_GRANULE_BITS) - 1)));
}

static inline void lt_slot_unpack(uint64_t v, uint32_t *trace, uint64_t *size, uint32_t *epoch)
{
    *size = LT_SLOT_FIELD(v, 0, LT_SLOT_SIZE_BITS);
    *trace = LT_SLOT_FIELD(v, LT_SLOT_TRACE_SHIFT, LT_SLOT_TRACE_BITS);
    *epoch = LT_SLOT_FIELD(v, LT_SLOT_EPOCH_SHIFT, LT_SLOT_EPOCH_BITS);
}

/* Claims addr's shadow entry for `want`. An entry that already holds addr
 * is a block freed where the tracer did not see it (the allocator just
 * gave the address out again): it is taken back from its trace's counters
 * and the new block takes its place. False: the entry holds another block
 * of the granule. */
static bool lt_shadow_insert(uint64_t *e, uintptr_t addr, uint64_t want)
{
    uint64_t cur = 0;
    while (!__atomic_compare_exchange_n(e, &cur, want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        if (!lt_slot_holds(cur, addr) && cur != 0)
            return false;
    }
    if (LT_UNLIKELY(cur != 0)) {
        uint32_t trace, epoch;
        uint64_t size;
        lt_slot_unpack(cur, &trace, &size, &epoch);
        lt_count_block(trace, epoch, size, -1);
    }
    return true;
}

/* The spill table's insert of a block (the big-block table keeps sizes of
 * 1 TiB or more); false when its shard could not grow. */
static bool lt_spill_put(uintptr_t addr, uint32_t trace, uint64_t size, uint32_t epoch)
{
    uint64_t stored = size;
    if (LT_UNLIKELY(size >= LT_SIZE_BIG)) {
        lt_big_put(addr, size);
        stored = LT_SIZE_BIG;
    }
    uint64_t meta = (uint64_t)trace << LT_SIZE_BITS | stored;
    bool room = lt_spill_insert((uint64_t)epoch << LT_ADDR_BITS | addr, meta);
    if (LT_UNLIKELY(!room && stored == LT_SIZE_BIG))
        lt_big_take(addr);
    return room;
}

/* Sampling mode's filter follows the table (true: for the callers' tail). */
static bool __attribute__((noinline)) lt_blocks_filtered(uintptr_t addr, int delta)
{
    lt_filter_add(addr, delta);
    return true;
}

/* Every insert but the common one: a region not mapped yet, an entry
 * taken (by this address: a takeover; by another: a spill), a block
 * whose fields do not fit an entry. Out of line, so that the common
 * path saves no registers. */
static bool __attribute__((noinline)) lt_blocks_insert_slow(uintptr_t addr, uint32_t trace, uint64_t size,
                                                            uint32_t epoch, uint64_t want)
{
    uint64_t *e = LT_LIKELY(want != 0) ? lt_shadow_slot(addr, true) : NULL;
    bool room = (e && lt_shadow_insert(e, addr, want)) || lt_spill_put(addr, trace, size, epoch);
    return room && lt_block_filter ? lt_blocks_filtered(addr, 1) : room;
}

bool lt_blocks_insert(uintptr_t addr, uint32_t trace, uint64_t size, uint32_t epoch)
{
    if (LT_UNLIKELY((uint64_t)addr > LT_ADDR_MASK))
        return false;
    uint64_t want = lt_slot_pack(addr, trace, size, epoch), cur = 0;
    uint64_t *e = LT_LIKELY(want != 0) ? lt_shadow_slot(addr, false) : NULL;
    if (LT_UNLIKELY(!e || !__atomic_compare_exchange_n(e, &cur, want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)))
        return lt_blocks_insert_slow(addr, trace, size, epoch, want);
    return LT_UNLIKELY(lt_block_filter != NULL) ? lt_blocks_filtered(addr, 1) : true;
}

/* Backward-shift deletion: pull later entries of the probe run into the
 * hole so lookups never need tombstones. */
static void lt_delete_at(lt_shard *s, uint32_t hole)
{
    uint32_t mask = s->mask;
    uint32_t i = hole;
    for (;;) {
        i = (i + 1) & mask;
        if (!s->slots[i].addr)
            break;
        uint32_t home = (uint32_t)lt_addr_hash(s->slots[i].addr & LT_ADDR_MASK) & mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
        if (!stays) {
            s->slots[hole] = s->slots[i];
            hole = i;
        }
    }
    s->slots[hole].addr = 0;
    s->used--;
}

static bool lt_spill_remove(uintptr_t addr, uint64_t *tagged, uint64_t *meta)
{
    if (!__atomic_load_n(&lt_spilled, __ATOMIC_RELAXED))
        return false;  /* nothing spilled: a block we never saw */
    uint64_t h = lt_addr_hash(addr);
    lt_shard *s = lt_shard_of(h);
    bool found = false;
    lt_spin_lock(&s->lock);
    for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
        if (!s->slots[i].addr)
            break;
        if ((s->slots[i].addr & LT_ADDR_MASK) == addr) {
            *tagged = s->slots[i].addr;
            *meta = s->slots[i].meta;
            lt_delete_at(s, i);
            found = true;
            break;
        }
    }
    lt_spin_unlock(&s->lock);
    if (found)
        __atomic_fetch_sub(&lt_spilled, 1, __ATOMIC_RELAXED);
    return found;
}

static inline uint32_t lt_meta_trace(uint64_t meta)
{
    return (uint32_t)(meta >> LT_SIZE_BITS);
}

static inline uint64_t lt_meta_size(uintptr_t addr, uint64_t meta)
{
    uint64_t size = meta & LT_SIZE_BIG;
    return LT_UNLIKELY(size == LT_SIZE_BIG) ? lt_big_take(addr) : size;
}

/* A block not in its shadow entry: spilled, or never seen. Out of line,
 * like lt_blocks_insert_slow. */
static bool __attribute__((noinline)) lt_blocks_remove_spilled(uintptr_t addr, uint32_t *trace, uint64_t *size,
                                                               uint32_t *epoch)
{
    uint64_t tagged, meta;
    if (!lt_spill_remove(addr, &tagged, &meta))
        return false;
    *trace = lt_meta_trace(meta);
    *size = lt_meta_size(addr, meta);
    *epoch = (uint32_t)(tagged >> LT_ADDR_BITS);
    return lt_block_filter ? lt_blocks_filtered(addr, -1) : true;
}

/* Only the thread freeing addr clears its entry (no other thread may
 * change an entry that holds a live block: a claim needs it empty, a
 * takeover needs the same address, which is not given out again before
 * this free); a block spilled because its granule was taken stays in the
 * spill table, found there. */
bool lt_blocks_remove(uintptr_t addr, uint32_t *trace, uint64_t *size, uint32_t *epoch)
{
    uint64_t *e = lt_shadow_slot(addr, false);
    uint64_t v = e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
    if (LT_UNLIKELY(!lt_slot_holds(v, addr)))
        return lt_blocks_remove_spilled(addr, trace, size, epoch);
    __atomic_store_n(e, 0, __ATOMIC_RELAXED);
    lt_slot_unpack(v, trace, size, epoch);
    return LT_UNLIKELY(lt_block_filter != NULL) ? lt_blocks_filtered(addr, -1) : true;
}
