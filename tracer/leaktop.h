/* leaktop.h: what a program may call when it runs under leaktop.
 *
 *     #include <leaktop.h>
 *     leaktop_mark("after-warmup");   // take a labelled snapshot now
 *
 * No link flag is needed: the symbol is weak, and the macro below turns the
 * call into a no-op when the tracer (libleaktop.so) is not preloaded. */
#ifndef LEAKTOP_H
#define LEAKTOP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Takes a snapshot of the live allocations now, labelled `label` (at most
 * 63 bytes are kept). Safe from any thread; never allocates. */
void leaktop_mark(const char *label) __attribute__((weak));

#ifdef __cplusplus
}
#endif

/* Inside its own expansion the macro name is not expanded again, so this
 * calls the function only when the dynamic linker found a definition. */
#define leaktop_mark(label) (leaktop_mark ? leaktop_mark(label) : (void)0)

#endif
