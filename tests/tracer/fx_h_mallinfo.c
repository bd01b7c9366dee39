/* fx_h_mallinfo: a program that asks the allocator about its blocks and
 * tunes it: malloc_usable_size, mallinfo2, malloc_trim, mallopt. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *kept[50];

int main(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    int bad = 0;
    for (int i = 0; i < 50; i++) {
        kept[i] = malloc((size_t)i * 10 + 1); // @expect exit size_diff=12299 count_diff=49
        bad += malloc_usable_size(kept[i]) < (size_t)i * 10 + 1;
    }
    void *big = malloc(1 << 20); // @absent exit
    bad += malloc_usable_size(big) < (1 << 20);
    struct mallinfo2 mi = mallinfo2();
    bad += mi.uordblks + mi.hblkhd < (1 << 20);
    free(big);
    kept[0] = realloc(kept[0], malloc_usable_size(kept[0])); // @expect exit size_diff=24 count_diff=1
    malloc_trim(0);
    bad += malloc_usable_size(NULL) != 0;
    printf("%s\n", bad ? "bad" : "ok");
    return bad != 0;
}
