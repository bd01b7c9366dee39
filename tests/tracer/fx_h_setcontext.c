/* fx_h_setcontext: a loop driven by getcontext/setcontext (control
 * leaves frames without returning), allocating on every pass. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

void *kept[300];
static volatile int pass;

static void step(ucontext_t *back)
{
    kept[pass] = malloc(12); // @expect exit size_diff=3600 count_diff=300
    void *tmp = malloc(77); // @absent exit
    free(tmp);
    pass++;
    setcontext(back);
}

int main(void)
{
    ucontext_t here;
    getcontext(&here);
    if (pass < 300)
        step(&here);
    printf("%d passes\n", pass);
    return 0;
}
