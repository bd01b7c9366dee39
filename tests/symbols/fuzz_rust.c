/* fuzz_rust.c: libFuzzer target for the Rust demangler: the input is a
 * symbol name (after "_R", after "_ZN", or as it is, by its first byte),
 * demangled in both forms into a full-size and a small buffer. Checks what
 * callers rely on: a NUL-terminated result that fits, with no C0 control
 * character, and a failure leaving an empty string. */
#include "sym_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *name, size_t cap, bool verbose)
{
    char *out = malloc(cap);
    int n = sym_rust_demangle(name, out, cap, verbose);
    if (n < 0 ? out[0] != '\0' : (size_t)n >= cap || strlen(out) != (size_t)n)
        __builtin_trap();
    for (int i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20)
            __builtin_trap();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    static const char *const prefixes[] = {"_R", "_ZN", ""};
    const char *prefix = prefixes[data[0] % 3];
    size_t plen = strlen(prefix);
    char *name = malloc(plen + size);
    memcpy(name, prefix, plen);
    memcpy(name + plen, data + 1, size - 1);
    name[plen + size - 1] = '\0';
    check(name, SYM_RUST_MAX_NAME, false);
    check(name, SYM_RUST_MAX_NAME, true);
    check(name, 24, false);
    free(name);
    return 0;
}
