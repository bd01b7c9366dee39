/* fx_marks: marks far faster than any reader polls. Before mark i the
 * program holds exactly one more 100-byte block than before mark i-1, so
 * every intact snapshot has count - i (and size - 100 i) constant. It
 * pauses briefly now and then so the reader reads while marks are written. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <leaktop.h>

#define MARKS 50000

void *held[MARKS];

int main(void)
{
    char label[32];
    for (int i = 0; i < MARKS; i++) {
        held[i] = malloc(100);
        snprintf(label, sizeof(label), "m%d", i);
        leaktop_mark(label);
        if (i % 100 == 99) {  /* long enough for the reader to read while we write */
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    return 0;
}
