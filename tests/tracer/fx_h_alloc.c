/* fx_h_alloc: every allocation entry point, run with the program's own
 * allocator (jemalloc or tcmalloc, preloaded or linked): blocks must come
 * from that allocator (its malloc_usable_size takes them, jemalloc's own
 * statistics count them) and keep their alignment, and the figures are
 * the sizes asked for. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *kept[8];

static int check(void *p, size_t size, size_t align)
{
    if (!p || ((uintptr_t)p & (align - 1)) || malloc_usable_size(p) < size) {
        fprintf(stderr, "fx_h_alloc: bad block %p of %zu (align %zu)\n", p, size, align);
        return 1;
    }
    memset(p, 0xa5, size);
    return 0;
}

/* jemalloc's count of bytes this thread allocated; 0 without jemalloc. */
static uint64_t jemalloc_allocated(void)
{
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    uint64_t v = 0;
    size_t len = sizeof(v);
    if (!mallctl || mallctl("thread.allocated", &v, &len, NULL, 0) != 0)
        return 0;
    return v;
}

int main(void)
{
    int bad = 0;
    uint64_t before = jemalloc_allocated();
    bad += check(kept[0] = malloc(100), 100, 16); // @expect exit size_diff=100 count_diff=1
    bad += check(kept[1] = calloc(10, 30), 300, 16); // @expect exit size_diff=300 count_diff=1
    bad += check(kept[2] = realloc(malloc(10), 500), 500, 16); // @expect exit size_diff=500 count_diff=1
    bad += check(kept[3] = memalign(64, 200), 200, 64); // @expect exit size_diff=200 count_diff=1
    bad += posix_memalign(&kept[4], 128, 300) != 0 || check(kept[4], 300, 128); // @expect exit size_diff=300 count_diff=1
    bad += check(kept[5] = aligned_alloc(256, 512), 512, 256); // @expect exit size_diff=512 count_diff=1
    bad += check(kept[6] = valloc(1000), 1000, 4096); // @expect exit size_diff=1000 count_diff=1
    kept[7] = pvalloc(100); // @expect exit size_diff=100 count_diff=1
    for (int i = 0; i < 1000; i++) {
        void *p = malloc((size_t)i + 1); // @absent exit
        bad += check(p, (size_t)i + 1, 8);
        p = realloc(p, (size_t)i + 20); // @absent exit
        free(p);
    }
    if (before || dlsym(RTLD_DEFAULT, "mallctl")) {
        uint64_t got = jemalloc_allocated() - before;
        if (got < 3000) {
            fprintf(stderr, "fx_h_alloc: jemalloc served %llu bytes: the allocator was swapped\n",
                    (unsigned long long)got);
            bad++;
        }
    }
    printf("%s\n", bad ? "bad" : "ok");
    return bad != 0;
}
