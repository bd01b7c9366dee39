/* bench_realloc: realloc-heavy growth of many buffers (strings, vectors). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    enum { N = 64 };
    char *buf[N] = {0};
    size_t len[N] = {0};
    for (long i = 0; i < rounds; i++) {
        int k = (int)(i % N);
        len[k] = len[k] > 65536 ? 16 : len[k] * 2 + 16;
        buf[k] = realloc(buf[k], len[k]);
        buf[k][0] = (char)i;
    }
    long sum = 0;
    for (int k = 0; k < N; k++) {
        sum += buf[k][0];
        free(buf[k]);
    }
    printf("bench_realloc: %ld rounds (%ld)\n", rounds, sum);
    return 0;
}
