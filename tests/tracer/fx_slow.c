/* fx_slow: about 100 allocation calls a second for SECONDS (a program a
 * 4096-call check would serve once in 40 s), or none at all with "idle".
 * Writes its pid to PIDFILE first.
 * Usage: fx_slow PIDFILE SECONDS [idle] */
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

    struct timespec tick = {0, 10000000};
    for (int i = 0; i < ticks && i < 100000; i++) {
        if (!idle)
            held[i] = malloc(32);
        nanosleep(&tick, NULL);
    }
    return 0;
}
