/* fx_h_dlclose: dlclose on the tracer's own dependencies (once more than
 * opened), and a plugin whose atexit handler and destructor allocate
 * while dlclose unloads it. Allocations afterwards are still traced. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *kept[100];

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *deps[] = {"libunwind.so.8", "liblzma.so.5", "libc.so.6"};
    for (int i = 0; i < 3; i++) {
        void *h = dlopen(deps[i], RTLD_NOW | RTLD_NOLOAD);
        if (h) {
            dlclose(h);
            dlclose(h);  /* one more than opened: an error, nothing unloads */
        }
    }
    for (int round = 0; round < 5; round++) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h)
            return 1;
        dlclose(h);
    }
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(9); // @expect exit size_diff=900 count_diff=100
    printf("%s\n", dlerror() ? "dlerror set" : "ok");
    return 0;
}
