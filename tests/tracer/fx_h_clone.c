/* fx_h_clone: children made with clone() and syscall(SYS_clone), which run
 * no atfork handler, free the parent's blocks (their copies) and allocate
 * their own: none of it may reach the parent's figures. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 1000

void *kept[N];
void *volatile sink;
static char child_stack[256 * 1024] __attribute__((aligned(16)));

static void child_work(size_t size)
{
    for (int i = 0; i < N; i++)
        free(kept[i]);
    for (int i = 0; i < N / 2; i++)
        kept[i] = malloc(size); // @absent exit
    sink = realloc(kept[0], 3 * size); // @absent exit
}

static int clone_child(void *arg)
{
    child_work(64);
    exit(arg == NULL);  /* exit(): the child runs the destructors too */
}

static int reap(pid_t pid)
{
    int st = 0;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        kept[i] = malloc(48); // @expect exit size_diff=48000 count_diff=1000
    if (reap(clone(clone_child, child_stack + sizeof(child_stack), SIGCHLD, kept)) != 0)
        return 1;
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        child_work(80);
        _exit(0);
    }
    if (reap(pid) != 0)
        return 2;
    printf("children done\n");
    return 0;
}
