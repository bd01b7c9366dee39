/* leaktop.h: what a program may call when it runs under leaktop.
 *
 *     #include <leaktop.h>
 *     leaktop_mark("after-warmup");   // take a labelled snapshot now
 *
 * No link flag is needed: the symbol is weak, and the macro below turns the
 * call into a no-op when the tracer (libleaktop.so) is not preloaded.
 * Declaring `void leaktop_mark(const char *) __attribute__((weak));` and
 * calling it when non-null also works, in PIE executables (the default). */
#ifndef LEAKTOP_H
#define LEAKTOP_H

#include <dlfcn.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes a snapshot of the live allocations now, labelled `label` (at most
 * 63 bytes are kept). Safe from any thread; never allocates. */
void leaktop_mark(const char *label) __attribute__((weak));

/* A position-dependent (non-PIE) executable gets an undefined weak symbol
 * resolved to 0 at link time, even when the tracer is preloaded: then ask
 * the dynamic linker once (dlsym is in libc since glibc 2.34). */
static inline void leaktop_mark_call_(const char *label)
{
    static void (*found)(const char *);
    static int looked;
    void (*fn)(const char *) = leaktop_mark;
    if (!fn) {
        if (!looked) {
            void *sym = dlsym((void *)0 /* RTLD_DEFAULT */, "leaktop_mark");
            __builtin_memcpy(&found, &sym, sizeof(sym));
            looked = 1;
        }
        fn = found;
    }
    if (fn)
        fn(label);
}

#ifdef __cplusplus
}
#endif

/* Calls the tracer when it is there, and is a no-op otherwise. */
#define leaktop_mark(label) leaktop_mark_call_(label)

#endif
