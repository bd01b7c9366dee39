/* fx_h_sigfork: fork() from a signal handler that lands while the program
 * allocates; the child allocates and frees the parent's blocks. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 20

void *kept[200];
void *volatile sink;
static volatile int forks, failed;

static void on_signal(int sig)
{
    (void)sig;
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 200; i++)
            free(kept[i]);
        for (int i = 0; i < 50; i++)
            sink = malloc(333); // @absent exit
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        failed = 1;
    forks++;
}

static void *sender(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    for (int i = 0; i < FORKS; i++) {
        int seen = forks;
        pthread_kill(target, SIGUSR1);
        while (forks == seen)
            sched_yield();
    }
    return NULL;
}

int main(void)
{
    for (int i = 0; i < 200; i++)
        kept[i] = malloc(20); // @expect exit size_diff=4000 count_diff=200
    for (int i = 0; i < 1000; i++) {
        sink = malloc(100 + i % 100);
        free(sink);
    }
    signal(SIGUSR1, on_signal);
    pthread_t self = pthread_self(), t;
    pthread_create(&t, NULL, sender, &self);
    for (unsigned i = 0; forks < FORKS; i++) {
        sink = malloc(100 + i % 100); // @absent exit
        free(sink);
    }
    pthread_join(t, NULL);
    printf("%d forks%s\n", forks, failed ? ", a child failed" : "");
    return failed;
}
