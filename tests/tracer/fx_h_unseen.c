/* fx_h_unseen: blocks freed where the tracer does not see it (glibc's own
 * __libc_free, as libraries that free through an internal alias do), whose
 * addresses the allocator then gives out again: each address is counted
 * once, for the block that holds it now, never twice. */
#include <stdlib.h>

extern void __libc_free(void *);

void *volatile kept[100];

int main(void)
{
    for (int i = 0; i < 100; i++) {
        void *p = malloc(48); // @absent exit
        __libc_free(p);       /* the tracer never hears of it */
        kept[i] = malloc(48); // @expect exit size_diff=4800 count_diff=100
    }
    return 0;
} // @exact-total exit
