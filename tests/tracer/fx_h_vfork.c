/* fx_h_vfork: vfork children that allocate (in the parent's memory, on
 * the parent's thread state) before they exec or exit. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void *kept[100];

int main(void)
{
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(30); // @expect exit size_diff=3000 count_diff=100
    for (volatile int round = 0; round < 20; round++) {
        pid_t pid = vfork();
        if (pid == 0) {
            void *p = malloc(64); // @absent exit
            free(p);
            if (round % 2)
                execl("/bin/true", "true", (char *)NULL);
            _exit(0);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    printf("vforks done\n");
    return 0;
}
