/* fx_h_coro: coroutines on heap stacks (makecontext/swapcontext), which
 * allocate and free while running off the thread's own stack. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#define COROS 4
#define STACK (64 * 1024)

void *kept[COROS][100];
static ucontext_t main_ctx, ctx[COROS];

static void body(int me)
{
    for (int i = 0; i < 100; i++) {
        kept[me][i] = malloc(40); // @expect exit size_diff=16000 count_diff=400
        void *tmp = malloc(500); // @absent exit
        swapcontext(&ctx[me], &main_ctx);
        free(tmp);
    }
}

int main(void)
{
    void *stacks[COROS];
    for (int c = 0; c < COROS; c++) {
        stacks[c] = malloc(STACK);
        getcontext(&ctx[c]);
        ctx[c].uc_stack.ss_sp = stacks[c];
        ctx[c].uc_stack.ss_size = STACK;
        ctx[c].uc_link = &main_ctx;
        makecontext(&ctx[c], (void (*)(void))body, 1, c);
    }
    for (int round = 0; round <= 100; round++)
        for (int c = 0; c < COROS; c++)
            swapcontext(&main_ctx, &ctx[c]);
    for (int c = 0; c < COROS; c++)
        free(stacks[c]);
    printf("coroutines done\n");
    return 0;
}
