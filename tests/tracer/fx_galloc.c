/* fx_galloc: a malloc family that puts blocks where its caller says, for
 * fx_granules (linked into it, so it is the allocator the tracer forwards
 * to, as a linked jemalloc would be). glibc never gives out blocks 8 bytes
 * apart or at odd offsets; this one does when told: fxg_area() reserves a
 * fresh page-aligned stretch, fxg_next(at) makes the next allocation of
 * any kind return exactly `at`. Otherwise a bump allocator over one
 * mapping; nothing is reused (free is a no-op), so an address is given out
 * twice only when the fixture says so. Single-threaded use. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define FXG_ARENA ((size_t)1 << 30)   /* reserved, touched only where written */

static uint8_t *arena, *bump;
static uint8_t *next_at;

static int fxg_init(void)
{
    if (arena)
        return 1;
    void *p = mmap(NULL, FXG_ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    arena = bump = p;
    return 1;
}

static void *fxg_take(size_t align, size_t size)
{
    if (next_at) {
        void *p = next_at;
        next_at = NULL;
        return p;
    }
    if (!fxg_init())
        return NULL;
    uintptr_t at = ((uintptr_t)bump + align - 1) & ~(uintptr_t)(align - 1);
    if (size > FXG_ARENA || at + size > (uintptr_t)arena + FXG_ARENA) {
        errno = ENOMEM;
        return NULL;
    }
    bump = (uint8_t *)(at + size);
    return (void *)at;
}

void *fxg_area(size_t bytes)
{
    return fxg_take(4096, (bytes + 4095) & ~(size_t)4095);
}

void fxg_next(void *at)
{
    next_at = at;
}

void *malloc(size_t size) { return fxg_take(16, size); }
void *calloc(size_t n, size_t each) { return fxg_take(16, n * each); }  /* fresh memory is zero */
void free(void *p) { (void)p; }
void *memalign(size_t align, size_t size) { return fxg_take(align < 16 ? 16 : align, size); }
void *aligned_alloc(size_t align, size_t size) { return memalign(align, size); }
void *valloc(size_t size) { return fxg_take(4096, size); }
void *pvalloc(size_t size) { return fxg_take(4096, (size + 4095) & ~(size_t)4095); }
size_t malloc_usable_size(void *p) { (void)p; return 0; }

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p = memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* The old block's size is not kept: copy `size` bytes (the arena is
 * mapped past any block, and the new block lies after the old one). */
void *realloc(void *old, size_t size)
{
    void *p = fxg_take(16, size);
    if (p && old)
        memmove(p, old, size);
    return p;
}
