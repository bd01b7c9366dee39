/* fx_slow: about 100 allocation calls a second for SECONDS (a program a
 * 4096-call check would serve once in 40 s), or none at all with "idle",
 * or with "frees" 100 frees a second of blocks allocated at the start,
 * or with "reallocs" 100 reallocs a second of one small block.
 * Writes its pid to PIDFILE first.
 * Usage: fx_slow PIDFILE SECONDS [idle|frees|reallocs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *held[100000];

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 2;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    int ticks = atoi(argv[2]) * 100;
    int idle = argc > 3 && strcmp(argv[3], "idle") == 0;
    int frees = argc > 3 && strcmp(argv[3], "frees") == 0;
    int reallocs = argc > 3 && strcmp(argv[3], "reallocs") == 0;
    for (int i = 0; frees && i < ticks && i < 100000; i++)
        held[i] = malloc(32);

    struct timespec tick = {0, 10000000};
    for (int i = 0; i < ticks && i < 100000; i++) {
        if (frees)
            free(held[i]);
        else if (reallocs)
            held[0] = realloc(held[0], 32 + (size_t)(i & 7) * 8);
        else if (!idle)
            held[i] = malloc(32);
        nanosleep(&tick, NULL);
    }
    return 0;
}
