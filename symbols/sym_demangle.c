/* sym_demangle.c: C++ name demangling through libstdc++'s __cxa_demangle,
 * a C ABI function, so the project stays free of C++ sources. */
#include "sym_internal.h"

#include <stdlib.h>

/* Declared here rather than through <cxxabi.h>, which is C++ only. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

const char *sym_demangle(sym_strings *in, const char *name)
{
    if (name == NULL)
        return NULL;
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
