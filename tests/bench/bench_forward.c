/* bench_forward: the interposition floor, a reference row for bench.py
 * --preload. A preloaded malloc family that does nothing but forward to
 * glibc's own entry points (each hook one indirect jump, as leaktop's
 * unsampled path ends): what any LD_PRELOAD'ed allocator wrapper costs
 * before it does any work. Not a tracer: it keeps no state. */
#include <stddef.h>

/* Each of glibc's entry points (declared by glibc's ABI, not its
 * headers), and the hook that jumps to it. */
extern void *__libc_malloc(size_t);
void *malloc(size_t n) { return __libc_malloc(n); }

extern void *__libc_calloc(size_t, size_t);
void *calloc(size_t n, size_t each) { return __libc_calloc(n, each); }

extern void *__libc_realloc(void *, size_t);
void *realloc(void *p, size_t n) { return __libc_realloc(p, n); }

extern void __libc_free(void *);
void free(void *p) { __libc_free(p); }

extern void *__libc_memalign(size_t, size_t);
void *memalign(size_t align, size_t n) { return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { return __libc_memalign(align, n); }

extern void *__libc_valloc(size_t);
void *valloc(size_t n) { return __libc_valloc(n); }

extern void *__libc_pvalloc(size_t);
void *pvalloc(size_t n) { return __libc_pvalloc(n); }
