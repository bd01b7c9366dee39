/* fx_attach.c: a program started WITHOUT leaktop, for the attach tests.
 *   stress SECONDS  four threads allocate, reallocate and free as fast as
 *                   they can and verify their data; one thread blocks in
 *                   read(); the main thread sleeps; real-time signals are
 *                   counted. Ends after SECONDS or at SIGUSR2; exits 42 when
 *                   everything held, else 3 (data) or 4 (the read failed).
 *   threads N       N threads allocating and freeing as fast as they can
 *                   (the benchmark's target) until killed.
 *   idle            prints ready and sleeps until killed.
 *   seccomp         prints ready, enters seccomp strict mode, blocks in read().
 *   sandbox         installs a seccomp filter that kills openat (a sandboxed
 *                   child's), prints ready, blocks in read().
 *   filterleak      installs a seccomp filter that kills only reboot and
 *                   kexec_load (a container's profile), then as leak.
 *   chrootleak DIR  (as root) allocates once, chroot()s to DIR, then as leak.
 *   dropleak        (as root) allocates once, drops to nobody (setuid), then
 *                   as leak: a service that drops privileges after start.
 *   leak            keeps 100 blocks of 333 B, prints ready; at each SIGUSR1
 *                   leaks 10 x 4096 B (LEAK_LINE), frees the 100 blocks and
 *                   reallocates one more to 777 B (REALLOC_LINE), prints
 *                   "done"; SIGTERM makes it check its blocks and exit 17.
 * Prints "ready" on stdout once set up. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static volatile sig_atomic_t rt_count;
static volatile sig_atomic_t rt_sum;
static volatile int stop_workers;
static int corrupt;
static int pipefd[2];
static int reader_rc = -1;

static volatile sig_atomic_t stress_stop;

static void on_usr2(int sig)
{
    (void)sig;
    stress_stop = 1;
}

static void on_rt(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    rt_count++;
    rt_sum += si->si_value.sival_int;
}

/* Each slot holds a block filled with one byte derived from its address
 * and size; every use checks it first. */
static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    enum { SLOTS = 64 };
    unsigned char *blk[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    while (!stop_workers) {
        unsigned i = (seed = seed * 1103515245 + 12345) % SLOTS;
        size_t want = 1 + (seed >> 8) % 2000;
        if (blk[i]) {
            unsigned char v = (unsigned char)(len[i] ^ i);
            for (size_t k = 0; k < len[i]; k++)
                if (blk[i][k] != v) {
                    __atomic_store_n(&corrupt, 1, __ATOMIC_RELAXED);
                    break;
                }
        }
        switch ((seed >> 4) % 3) {
        case 0:
            free(blk[i]);
            blk[i] = malloc(want);
            break;
        case 1: {
            unsigned char *n = realloc(blk[i], want);
            if (!n)
                continue;
            blk[i] = n;
            break;
        }
        default:
            free(blk[i]);
            blk[i] = calloc(1, want);
            break;
        }
        if (!blk[i]) {
            len[i] = 0;
            continue;
        }
        len[i] = want;
        memset(blk[i], (unsigned char)(want ^ i), want);
    }
    for (unsigned i = 0; i < SLOTS; i++)
        free(blk[i]);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    char c;
    ssize_t n = read(pipefd[0], &c, 1);   /* blocked here while attached */
    reader_rc = n == 1 && c == 'x' ? 0 : (n < 0 ? errno : 1000);
    return NULL;
}

static int run_stress(double seconds)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN, &sa, NULL);
    signal(SIGUSR2, on_usr2);
    if (pipe(pipefd) != 0)
        return 1;
    pthread_t w[4], r;
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&w[i], NULL, worker, (void *)(i + 1));
    pthread_create(&r, NULL, reader, NULL);
    printf("ready\n");
    fflush(stdout);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!stress_stop && (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
    stop_workers = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(w[i], NULL);
    if (write(pipefd[1], "x", 1) != 1)
        return 1;
    pthread_join(r, NULL);
    printf("rt=%d sum=%d reader=%d corrupt=%d\n", (int)rt_count, (int)rt_sum, reader_rc, corrupt);
    fflush(stdout);
    if (corrupt)
        return 3;
    if (reader_rc != 0)
        return 4;
    return 42;
}

static volatile sig_atomic_t leak_go, leak_stop;

static void on_leak_signal(int sig)
{
    if (sig == SIGUSR1)
        leak_go = 1;
    else
        leak_stop = 1;
}

static int run_leak(void)
{
    enum { PRE = 100 };
    static unsigned char *pre[PRE + 1];
    for (int i = 0; i <= PRE; i++)
        memset(pre[i] = malloc(333), i, 333);
    struct sigaction sa = {0};
    sa.sa_handler = on_leak_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    int bad = 0;
    while (!leak_stop) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (!leak_go)
            continue;
        leak_go = 0;
        for (int i = 0; i < 10; i++)
            memset(malloc(4096), 1, 4096);   /* LEAK_LINE */
        for (int i = 0; i < PRE && pre[i]; i++) {
            for (int k = 0; k < 333; k++)
                bad |= pre[i][k] != (unsigned char)i;
            free(pre[i]);
            pre[i] = NULL;
        }
        if (pre[PRE])
            pre[PRE] = realloc(pre[PRE], 777);   /* REALLOC_LINE */
        printf("done\n");
        fflush(stdout);
    }
    for (int k = 0; pre[PRE] && k < 333; k++)
        bad |= pre[PRE][k] != (unsigned char)PRE;
    return bad ? 3 : 17;
}

static int run_seccomp(void)
{
    if (pipe(pipefd) != 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
        return 1;
    char c;
    for (;;)
        (void)!read(pipefd[0], &c, 1);
}

/* A filter that kills the process on any of nrs[0..n), allows the rest. */
static int install_filter(const int *nrs, int n)
{
    struct sock_filter f[32];
    int k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < n && k < 28; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)k, f};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int run_sandbox(void)
{
    static const int nrs[] = {SYS_openat, SYS_open};
    if (pipe(pipefd) != 0 || install_filter(nrs, 2) != 0)
        return 1;
    printf("ready\n");
    fflush(stdout);
    char c;
    for (;;)
        (void)!read(pipefd[0], &c, 1);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "stress") == 0)
        return run_stress(atof(argv[2]));
    if (argc >= 2 && strcmp(argv[1], "seccomp") == 0)
        return run_seccomp();
    if (argc >= 2 && strcmp(argv[1], "sandbox") == 0)
        return run_sandbox();
    if (argc >= 2 && strcmp(argv[1], "filterleak") == 0) {
        static const int nrs[] = {SYS_reboot, SYS_kexec_load};
        return install_filter(nrs, 2) != 0 ? 1 : run_leak();
    }
    if (argc >= 2 && strcmp(argv[1], "leak") == 0)
        return run_leak();
    if (argc >= 3 && strcmp(argv[1], "chrootleak") == 0) {
        free(malloc(16));  /* a preloaded tracer starts here, its segment in our /dev/shm */
        if (chroot(argv[2]) != 0 || chdir("/") != 0)
            return 5;
        return run_leak();
    }
    if (argc >= 2 && strcmp(argv[1], "dropleak") == 0) {
        free(malloc(16));  /* a preloaded tracer starts here, as root */
        if (setgid(65534) != 0 || setuid(65534) != 0)
            return 5;
        return run_leak();
    }
    if (argc >= 3 && strcmp(argv[1], "threads") == 0) {
        for (uintptr_t i = 0; i < (uintptr_t)atoi(argv[2]); i++) {
            pthread_t t;
            pthread_create(&t, NULL, worker, (void *)(i + 1));
        }
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
