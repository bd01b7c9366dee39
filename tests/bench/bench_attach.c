/* bench_attach.c: how long `leaktop attach` stops a program, against its
 * number of threads (each allocating and freeing as fast as it can: the
 * hardest case for finding a moment when none is inside the allocator).
 * For each thread count, ROUNDS attach/detach cycles through the watch
 * (the real tracer, as `leaktop attach` does it) and ROUNDS injections of
 * a probe library (the injector's own cost, without the tracer's set-up).
 * Prints median and max of the stopped time and the rounds needed.
 * Usage: bench_attach FX_ATTACH PROBE.so [ROUNDS [THREADS...]]   (LEAKTOP_TRACER set) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "util.h"
#include "watch.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static pid_t start(const char *fx, int threads)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", threads);
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        execl(fx, fx, "threads", n, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[16];
    (void)!read(fd[0], buf, sizeof(buf));   /* "ready" */
    close(fd[0]);
    util_sleep_ms(100);
    return pid;
}

static void report(const char *what, int threads, int64_t *ns, unsigned *attempts, int n)
{
    qsort(ns, (size_t)n, sizeof(*ns), cmp_i64);
    unsigned maxa = 0;
    for (int i = 0; i < n; i++)
        maxa = attempts[i] > maxa ? attempts[i] : maxa;
    printf("%-8s %7d %10.2f %10.2f %8u\n", what, threads, ns[n / 2] / 1e6, ns[n - 1] / 1e6, maxa);
}

static int bench_tracer(pid_t pid, int threads, int rounds)
{
    int64_t ns[256];
    unsigned att[256];
    watch_config cfg = {.frames = 32, .inject = true, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    for (int i = 0; i < rounds; i++) {
        char err[512];
        int status;
        watch *w = watch_attach(pid, &cfg, &status, err, sizeof(err));
        if (!w) {
            fprintf(stderr, "attach: %s\n", err);
            return -1;
        }
        watch_injection inj;
        watch_injected(w, &inj);
        ns[i] = inj.stopped_ns;
        att[i] = inj.attempts;
        watch_detach(w);
        watch_event ev;
        while (!watch_ended(w)) {
            while (watch_poll(w, &ev))
                if (ev.snap)
                    diff_snapshot_free(ev.snap);
            util_sleep_ms(1);
        }
        watch_free(w);
    }
    report("tracer", threads, ns, att, rounds);
    return 0;
}

static int bench_probe(pid_t pid, const char *probe, int threads, int rounds)
{
    int64_t ns[256];
    unsigned att[256];
    for (int i = 0; i < rounds; i++) {
        char err[512];
        inject_stats st;
        if (inject_library(pid, probe, "leaktop_attach", "PROBE=1\n", &st, err, sizeof(err)) != INJECT_OK) {
            fprintf(stderr, "inject: %s\n", err);
            return -1;
        }
        ns[i] = st.stopped_ns;
        att[i] = st.attempts;
    }
    report("probe", threads, ns, att, rounds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_attach FX_ATTACH PROBE.so [ROUNDS]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rounds = argc > 3 ? atoi(argv[3]) : 21;
    rounds = rounds < 1 ? 1 : rounds > 256 ? 256 : rounds;
    int counts[16] = {1, 4, 16, 64}, ncounts = 4;
    if (argc > 4)   /* thread counts given */
        for (ncounts = 0; ncounts < argc - 4 && ncounts < 16; ncounts++)
            counts[ncounts] = atoi(argv[4 + ncounts]);
    printf("%-8s %7s %10s %10s %8s\n", "what", "threads", "median ms", "max ms", "rounds");
    int rc = 0;
    for (int i = 0; i < ncounts && rc == 0; i++) {
        pid_t pid = start(argv[1], counts[i]);
        rc = bench_tracer(pid, counts[i] + 1, rounds);
        if (rc == 0)
            rc = bench_probe(pid, argv[2], counts[i] + 1, rounds);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return rc ? 1 : 0;
}
