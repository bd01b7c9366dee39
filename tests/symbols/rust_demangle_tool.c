/* rust_demangle_tool.c: the Rust demangler on names read from stdin, one a
 * line, for rust_vs_cxxfilt.py: prints "VERBOSE<TAB>PLAIN" per name, or
 * "-" when it is not (or not well) a Rust symbol. */
#include "sym_internal.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    static char line[1 << 16];
    static char verbose[SYM_RUST_MAX_NAME], plain[SYM_RUST_MAX_NAME];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        int v = sym_rust_demangle(line, verbose, sizeof verbose, true);
        int p = sym_rust_demangle(line, plain, sizeof plain, false);
        if (v < 0 || p < 0)
            puts("-");
        else
            printf("%s\t%s\n", verbose, plain);
    }
    return 0;
}
