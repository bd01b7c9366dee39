/* fx_aslimit: a program that uses most of an address-space limit
 * (`ulimit -v`, RLIMIT_AS): MIB blocks of 1 MiB (each its own mapping in
 * glibc, so they spread over several GiB regions of the address space)
 * and SMALL blocks of 200 bytes, all kept. Prints "ok" and exits 0, or
 * says which allocation failed and exits 1: under the tracer it must get
 * as far as without it. With LIMIT_MIB, it first allocates one block
 * (tracing has started) and then lowers its own address-space limit to
 * LIMIT_MIB, as a sandboxing server does after start.
 * Usage: fx_aslimit MIB SMALL [LIMIT_MIB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return 2;
    long mib = atol(argv[1]), small = atol(argv[2]);
    if (argc == 4) {
        free(malloc(16));
        rlim_t limit = (rlim_t)atol(argv[3]) << 20;
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            return 2;
    }
    for (long i = 0; i < mib; i++) {
        char *p = malloc(1 << 20);
        if (!p) {
            printf("1 MiB block %ld failed\n", i);
            return 1;
        }
        memset(p, 1, 4096);
    }
    for (long i = 0; i < small; i++) {
        if (!malloc(200)) {
            printf("small block %ld failed\n", i);
            return 1;
        }
    }
    printf("ok\n");
    return 0;
}
