/* sym_demangle.c: symbol names as people read them: Rust (v0 and legacy,
 * sym_rust.c) first, since legacy Rust names are Itanium-shaped and
 * __cxa_demangle would print them with their hash; then C++ through
 * libstdc++'s __cxa_demangle, a C ABI function, so the project stays free
 * of C++ sources. */
#include "sym_internal.h"

#include <stdlib.h>

/* Declared here rather than through <cxxabi.h>, which is C++ only. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

const char *sym_demangle(sym_strings *in, const char *name)
{
    if (name == NULL)
        return NULL;
    char rust[SYM_RUST_MAX_NAME];
    if (sym_rust_demangle(name, rust, sizeof rust, false) >= 0)
        return sym_intern(in, rust);
    /* Only Itanium-mangled names; anything else (C names, "main") would be
     * parsed as a type by __cxa_demangle and come back mangled up. */
    if (name[0] != '_' || name[1] != 'Z')
        return sym_intern(in, name);
    int status = 0;
    char *d = __cxa_demangle(name, NULL, NULL, &status);
    if (d == NULL || status != 0) {
        free(d);
        return sym_intern(in, name);
    }
    const char *r = sym_intern(in, d);
    free(d);
    return r;
}
