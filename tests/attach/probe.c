/* probe.c: a stand-in for the tracer's entry point, to test the injector
 * by itself: it allocates (the injected call must be able to), checks the
 * settings it was handed and counts its calls. */
#include <stdlib.h>
#include <string.h>

static int calls;

__attribute__((visibility("default"))) int leaktop_attach(const char *config)
{
    char *copy = strdup(config);
    int ok = copy && strcmp(copy, "PROBE=1\n") == 0;
    free(copy);
    return ok ? ++calls : -1;
}
