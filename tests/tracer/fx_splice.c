/* fx_splice: mallocs from ever new heads over a deep part walked before,
 * for the unwinder's splice (test_unwind_splice.py, LEAKTOP_UNWIND=verify).
 * A recursion DEPTH deep calls malloc at every level, on the way down and
 * on the way back up, from one of three helper functions, through a
 * function pointer to one of two of them (the same call site, the head
 * frame differing), or directly:
 * each such head is new, the frames under it were walked by the calls
 * before. Rounds alternate between two call sites in main, so the frames
 * near the outermost one differ in one return address while every frame
 * state above is the same: there the splice must be refused (verify mode
 * compares every stack with libunwind's). Built -O0 (RBP-based frames) and
 * -O2 (RBP a general register holding data, saved by the callees).
 * Usage: fx_splice DEPTH ROUNDS */
#include <stdlib.h>

static void *volatile sink;
static volatile unsigned long mix;

static void take(void *p)
{
    sink = p;
    free(sink);
}

__attribute__((noinline)) static void head_a(unsigned level) { take(malloc(16 + level)); }
__attribute__((noinline)) static void head_b(unsigned level) { take(malloc(32 + level)); __asm__ volatile(""); }
__attribute__((noinline)) static void head_c(unsigned level) { take(calloc(1, 48 + level)); __asm__ volatile(""); }

/* One call site, two callees (by the round's seed): spliced stacks that
 * differ only in their walked head frame, over the same deeper frames. */
static void (*volatile pick[2])(unsigned) = {head_a, head_b};

static void head(unsigned level, unsigned which, unsigned seed)
{
    switch (which % 5) {
    case 0: head_a(level); break;
    case 1: head_b(level); break;
    case 2: head_c(level); break;
    case 3: pick[seed & 1](level); break;
    default: take(malloc(64 + level)); break;
    }
}

/* Values live across the recursive call keep the callee-saved registers
 * (RBP among them at -O2) busy with data that differs at every level. */
__attribute__((noinline)) static unsigned long descend(unsigned level, unsigned seed)
{
    unsigned long a = mix + level, b = a * 3 + seed, c = b ^ (a << 7), d = c + b * 5, e = d ^ (c >> 3);
    head(level, seed + level, seed);
    unsigned long r = level ? descend(level - 1, seed * 7 + 1) : 1;
    head(level, seed + level + 1, seed);
    return r + a + b + c + d + e;
}

__attribute__((noinline)) static void run(unsigned depth, unsigned seed)
{
    mix += descend(depth, seed);
}

int main(int argc, char **argv)
{
    unsigned depth = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
    unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 200;
    for (unsigned r = 0; r < rounds; r++) {
        /* two call sites: the deepest return address differs between rounds */
        if (r & 1)
            run(depth, r % 5);
        else
            run(depth, r % 3 + 11);
        __asm__ volatile("" ::: "memory");
    }
    return 0;
}
