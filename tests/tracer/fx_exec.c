/* fx_exec: holds a block, marks "base" (so nothing grows since), then
 * execs PROGRAM with an empty environment: the new image is not traced
 * (LD_PRELOAD is gone), as with `env -i` or a static binary. A PROGRAM
 * that does not exist fails the exec: then it goes on and exits 0.
 * Usage: fx_exec PROGRAM */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leaktop.h>

static void *kept;

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    kept = malloc(100000);
    memset(kept, 1, 100000);
    leaktop_mark("base");
    char *args[] = {argv[1], NULL};
    char *env[] = {NULL};
    execve(argv[1], args, env);
    kept = realloc(kept, 50000);  /* still traced after a failed exec */
    return 0;
}
