/* fx_inline: a leak reached through two always_inline functions, checked
 * frame by frame in leaktop's JSON: each `@frame N FUNCTION inlined|real`
 * marker sits on the line frame N must show. Two more call sites leak
 * different sizes so that a stripped copy still gives two exact rows. */
#include <stdlib.h>

void *kept[64];
int nkept;

static inline __attribute__((always_inline)) void *inner(size_t n)
{
    void *p = malloc(n); // @frame 0 inner inlined
    kept[nkept++] = p;
    return p;
}

static inline __attribute__((always_inline)) void *middle(size_t n)
{
    void *p = inner(n); // @frame 1 middle inlined
    kept[nkept++] = p;
    return p;
}

__attribute__((noinline)) void *outer(size_t n)
{
    void *p = middle(n); // @frame 2 outer real
    kept[nkept++] = p;
    return p;
}

__attribute__((noinline)) void second_site(void)
{
    kept[nkept++] = malloc(3333);
}

__attribute__((noinline)) void third_site(void)
{
    kept[nkept++] = malloc(4444);
}

int main(void)
{
    outer(7777); // @frame 3 main real
    second_site();
    third_site();
    return 0;
}
