/* forward.c: where the hooks send the real work — the allocator the
 * program would have used without us: the next definition of malloc in the
 * lookup order (a preloaded or linked jemalloc or tcmalloc, else glibc).
 * Until that is resolved (at the first hook call of the process; dlsym
 * itself allocates) glibc's __libc_* entry points serve, and the blocks they
 * return are remembered so they go back to the same allocator. */
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lt_internal.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void  __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* ---- bootstrap: glibc, and the blocks it gave out before resolution ---- */

#define LT_BOOT_MAX 256

static uintptr_t lt_boot[LT_BOOT_MAX];
int lt_boot_live;       /* blocks in lt_boot[]: free() looks only when non-zero */
int lt_fwd_state;       /* LT_FWD_* */

static void *lt_boot_note(void *p)
{
    if (!p)
        return p;
    for (uint32_t i = 0; i < LT_BOOT_MAX; i++) {
        uintptr_t empty = 0;
        if (__atomic_compare_exchange_n(&lt_boot[i], &empty, (uintptr_t)p, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            __atomic_fetch_add(&lt_boot_live, 1, __ATOMIC_RELEASE);
            break;
        }
    }
    return p;
}

bool lt_boot_take(void *p)
{
    for (uint32_t i = 0; i < LT_BOOT_MAX; i++) {
        uintptr_t want = (uintptr_t)p;
        if (want && __atomic_compare_exchange_n(&lt_boot[i], &want, 0, false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_RELAXED)) {
            __atomic_fetch_sub(&lt_boot_live, 1, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}

static int lt_boot_posix_memalign(void **out, size_t align, size_t size)
{
    void *p = __libc_memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

static size_t lt_page(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

/* Before resolution: glibc, remembered. */
void *lt_boot_alloc(int kind, size_t a, size_t b)
{
    switch (kind) {
    case LT_ALLOC_MALLOC:   return lt_boot_note(__libc_malloc(a));
    case LT_ALLOC_CALLOC:   return lt_boot_note(__libc_calloc(a, b));
    case LT_ALLOC_MEMALIGN:
    case LT_ALLOC_ALIGNED:  return lt_boot_note(__libc_memalign(a, b));
    case LT_ALLOC_VALLOC:   return lt_boot_note(__libc_valloc(a));
    case LT_ALLOC_PVALLOC:  return lt_boot_note(__libc_pvalloc(a));
    }
    return NULL;
}

/* realloc of a block glibc gave out at bootstrap: it stays glibc's. */
void *lt_boot_realloc(void *old, size_t size)
{
    void *p = __libc_realloc(old, size);
    if (p || size == 0)
        return lt_boot_note(p);
    lt_boot_note(old);  /* failed: the old block is still there */
    return NULL;
}

void lt_boot_free(void *p)
{
    __libc_free(p);
}

/* ---- the next allocator --------------------------------------------------- */

/* Until a segment exists the skip paths' mark look reads these zeroes. */
static const uint64_t lt_no_marks[2];

/* The skip paths' one cache line (lt_internal.h): glibc's entry points
 * serve until the next allocator is resolved. */
lt_hot_line lt_hot __attribute__((aligned(64))) = {
    .marks = lt_no_marks,
    .next = {
        .malloc = __libc_malloc,
        .calloc = __libc_calloc,
        .realloc = __libc_realloc,
        .free = __libc_free,
        .memalign = __libc_memalign,
        .aligned_alloc = __libc_memalign,  /* glibc 2.36's aligned_alloc is memalign */
        .posix_memalign = lt_boot_posix_memalign,
        .valloc = __libc_valloc,
        .pvalloc = __libc_pvalloc,
    },
};

/* A foreign allocator that lacks some entry point (jemalloc has no
 * pvalloc): dlsym then finds glibc's, whose blocks the foreign free()
 * could not take. Those are built on the foreign allocator instead. */
static int (*lt_fa_posix_memalign)(void **, size_t, size_t);
static void *(*lt_fa_memalign)(size_t, size_t);
static void *(*lt_fa_aligned_alloc)(size_t, size_t);

static void *lt_fa_align(size_t align, size_t size)
{
    if (lt_fa_memalign)
        return lt_fa_memalign(align, size);
    if (lt_fa_posix_memalign) {
        void *p = NULL;
        int rc = lt_fa_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size);
        if (rc) {
            errno = rc;
            return NULL;
        }
        return p;
    }
    if (lt_fa_aligned_alloc)
        return lt_fa_aligned_alloc(align, (size + align - 1) / align * align);
    return lt_hot.next.malloc(size);  /* an allocator with no aligned entry at all */
}

static void *lt_fa_memalign_fn(size_t align, size_t size)
{
    return lt_fa_align(align, size);
}

static int lt_fa_posix_memalign_fn(void **out, size_t align, size_t size)
{
    int saved = errno;
    void *p = lt_fa_align(align, size);
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

static void *lt_fa_valloc_fn(size_t size)
{
    return lt_fa_align(lt_page(), size);
}

static void *lt_fa_pvalloc_fn(size_t size)
{
    size_t page = lt_page();
    size_t rounded = (size + page - 1) & ~(page - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return lt_fa_align(page, rounded ? rounded : page);
}

static void *lt_fa_calloc_fn(size_t n, size_t each)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, each, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = lt_hot.next.malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* True when `fn` lies in the object `base` (dladdr's dli_fbase). */
static bool lt_in_object(void *fn, void *base)
{
    Dl_info info;
    return fn && dladdr(fn, &info) && info.dli_fbase == base;
}

/* Preloaded: the next definition after ours. Loaded into a running
 * program: the one the program's references bound to (got.c reads the
 * symbol tables: the GOTs may already point at us). */
static void *lt_next_sym(const char *name)
{
    return lt_g.attach_mode ? lt_got_real(name) : dlsym(RTLD_NEXT, name);
}

/* no_boot: no block from before resolution can come back (glibc next). */
static void lt_forward_done(bool no_boot)
{
    __atomic_store_n(&lt_fwd_state, LT_FWD_DONE, __ATOMIC_RELEASE);
    __atomic_fetch_or(&lt_hot.skip_bits, LT_SKIP_FORWARD | (no_boot ? LT_SKIP_NO_BOOT : 0), __ATOMIC_RELEASE);
}

/* Called once per process, from the first hook call, with the re-entry
 * guard set: the allocations dlsym makes go to glibc and are remembered.
 * Threads that race it pass through to glibc the same way. */
void lt_forward_resolve(void)
{
    int expect = LT_FWD_NONE;
    if (!__atomic_compare_exchange_n(&lt_fwd_state, &expect, LT_FWD_RESOLVING, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    /* Which object is glibc: by a function only glibc has (tcmalloc also
     * defines __libc_malloc, so that one can not tell). */
    Dl_info glibc, info;
    void *fmalloc = lt_next_sym("malloc");
    void *ffree = lt_next_sym("free");
    void *frealloc = lt_next_sym("realloc");
    bool ok = fmalloc && ffree && frealloc && dladdr((void *)gnu_get_libc_version, &glibc) &&
              dladdr(fmalloc, &info);
    if (ok && info.dli_fbase != glibc.dli_fbase) {
        /* Someone else's allocator comes next: everything goes there. */
        void *base = info.dli_fbase;
        lt_alloc_fns f = lt_hot.next;
        f.malloc = (void *(*)(size_t))fmalloc;
        f.free = (void (*)(void *))ffree;
        f.realloc = (void *(*)(void *, size_t))frealloc;
        void *fcalloc = lt_next_sym("calloc");
        lt_fa_memalign = lt_in_object(lt_next_sym("memalign"), base) ? lt_next_sym("memalign") : NULL;
        lt_fa_posix_memalign = lt_in_object(lt_next_sym("posix_memalign"), base) ? lt_next_sym("posix_memalign") : NULL;
        lt_fa_aligned_alloc = lt_in_object(lt_next_sym("aligned_alloc"), base) ? lt_next_sym("aligned_alloc") : NULL;
        void *fvalloc = lt_next_sym("valloc"), *fpvalloc = lt_next_sym("pvalloc");
        f.calloc = lt_in_object(fcalloc, base) ? (void *(*)(size_t, size_t))fcalloc : lt_fa_calloc_fn;
        f.memalign = lt_fa_memalign_fn;
        f.aligned_alloc = lt_fa_aligned_alloc ? lt_fa_aligned_alloc : lt_fa_memalign_fn;
        f.posix_memalign = lt_fa_posix_memalign ? lt_fa_posix_memalign : lt_fa_posix_memalign_fn;
        f.valloc = lt_in_object(fvalloc, base) ? (void *(*)(size_t))fvalloc : lt_fa_valloc_fn;
        f.pvalloc = lt_in_object(fpvalloc, base) ? (void *(*)(size_t))fpvalloc : lt_fa_pvalloc_fn;
        /* calloc/realloc fall back on malloc: publish it before them. */
        __atomic_store_n(&lt_hot.next.malloc, f.malloc, __ATOMIC_RELEASE);
        lt_hot.next = f;
        lt_forward_done(false);
        return;
    }
    /* glibc comes next: nothing to remember, its free takes every block. */
    for (uint32_t i = 0; i < LT_BOOT_MAX; i++)
        __atomic_store_n(&lt_boot[i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&lt_boot_live, 0, __ATOMIC_RELEASE);
    lt_forward_done(true);
}
