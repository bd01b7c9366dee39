/* fx_stacks: 2^BITS distinct stacks, one 16-byte block each, all kept:
 * BITS levels of recursion, each through one of two call sites. With
 * FILL_MIB, first fills that much of /dev/shm with a file of its own, so
 * the tracer's segment runs out of room while it grows. Ends with a mark.
 * Built -O0: the two call sites must stay two.
 * Usage: fx_stacks BITS [FILL_MIB] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <leaktop.h>

static void **held;
static unsigned nheld;

__attribute__((noinline)) static void descend(int level, unsigned path)
{
    if (level == 0) {
        held[nheld++] = malloc(16);
        return;
    }
    if (path & 1) {
        descend(level - 1, path >> 1);
    } else {
        descend(level - 1, path >> 1);
        __asm__ volatile("");
    }
}

static void fill_shm(long mib)
{
    int fd = open("/dev/shm/fx-stacks-filler", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || fallocate(fd, 0, 0, mib << 20) != 0)
        _exit(3);
    unlink("/dev/shm/fx-stacks-filler");  /* still held open: still full */
}

int main(int argc, char **argv)
{
    int bits = argc > 1 ? atoi(argv[1]) : 12;
    if (argc > 2)
        fill_shm(atol(argv[2]));
    held = malloc(sizeof(void *) << bits);
    for (unsigned path = 0; path < (1u << bits); path++)
        descend(bits, path);
    leaktop_mark("filled");
    return nheld == (1u << bits) ? 0 : 1;
}
