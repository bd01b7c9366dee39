#define _GNU_SOURCE
/* fx_h_seccomp: a program that locks itself in with seccomp after start-up,
 * as privilege-separated daemons and libseccomp users do, and then works
 * on: from then on a system call its filter does not allow kills it. The
 * tracer makes calls of its own (a new thread's stack bounds from /proc,
 * the segment's pages, libunwind's caches): none may kill the program.
 *   filter  prctl(PR_SET_SECCOMP): openat and open kill the process, then
 *           threads start and allocate (their stacks: no /proc for them)
 *   deny    syscall(SYS_seccomp), libseccomp's way: every call this program
 *           does not make itself kills, as a whitelist would; then threads
 *   strict  strict mode (read, write and exit only): allocations from new
 *           lines out of the warm heap, then from 1920 new stacks (more
 *           than the trace store has pages for: the tracer would commit),
 *           then exit by SYS_exit
 * Each prints one line with write() and ends with status 0. The markers'
 * labels are the modes' (threads: filter and deny). */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fx_threads.h"

#define THREADS 3
#define BLOCKS 200

static void *kept[THREADS][BLOCKS];

static void *worker(void *arg)
{
    void **mine = arg;
    for (int i = 0; i < BLOCKS; i++)
        mine[i] = malloc(40); // @expect threads size_diff=12000 count_diff=300
    for (int i = 0; i < BLOCKS; i += 2)
        free(mine[i]);
    return NULL;
}

/* Kills the process on any of `nrs`, and on madvise unless its advice is
 * MADV_DONTNEED when `dontneed` (what glibc's exiting threads do with their
 * stacks, and a filter that reads arguments); allows the rest. */
static struct sock_fprog deny(const int *nrs, int n, int dontneed)
{
    static struct sock_filter f[64];
    int k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < n; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    }
    if (dontneed) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 4);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_DONTNEED, 1, 0);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return (struct sock_fprog){(unsigned short)k, f};
}

static int run_threads(void)
{
    return fx_run_threads(THREADS, worker, &kept[0][0], BLOCKS);
}

/* 64 functions, each allocating from its own line, reached at 30 depths:
 * 1920 stacks of 5-35 frames, ~290 KB of trace records. */
#define LEAVES 64
#define DEPTHS 30
static void *volatile held[LEAVES * DEPTHS];  /* volatile: kept, so really allocated */
static int nheld;
#define LEAF(n) static void __attribute__((noinline)) leaf##n(void) { held[nheld++] = malloc(8); __asm__ volatile(""); }
#define LEAF8(n) LEAF(n##0) LEAF(n##1) LEAF(n##2) LEAF(n##3) LEAF(n##4) LEAF(n##5) LEAF(n##6) LEAF(n##7)
LEAF8(1) LEAF8(2) LEAF8(3) LEAF8(4) LEAF8(5) LEAF8(6) LEAF8(7) LEAF8(8)
#define REF8(n) leaf##n##0, leaf##n##1, leaf##n##2, leaf##n##3, leaf##n##4, leaf##n##5, leaf##n##6, leaf##n##7
static void (*const leaves[LEAVES])(void) = {REF8(1), REF8(2), REF8(3), REF8(4), REF8(5), REF8(6), REF8(7), REF8(8)};

static void __attribute__((noinline)) down(int d, void (*leaf)(void))
{
    if (d)
        down(d - 1, leaf);
    else
        leaf();
    __asm__ volatile("");  /* no tail call: one frame a level */
}

static void say(const char *s)
{
    ssize_t w = write(1, s, strlen(s));
    (void)w;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "filter";
    /* Through a volatile pointer: a compiler drops free(malloc(n)). */
    void *volatile warm = malloc(8);
    free(warm);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return 1;
    if (!strcmp(mode, "filter")) {
        static const int nrs[] = {SYS_openat, SYS_open};
        struct sock_fprog p = deny(nrs, 2, 0);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p) != 0)
            return 1;
        int rc = run_threads();
        say("filter: served\n");
        return rc;
    }
    if (!strcmp(mode, "deny")) {
        /* What the tracer may call and this program never does. */
        static const int nrs[] = {SYS_openat, SYS_open, SYS_fallocate, SYS_ftruncate,
                                  SYS_newfstatat, SYS_fstat, SYS_prlimit64, SYS_getrlimit, SYS_sched_yield,
                                  SYS_pipe2, SYS_mincore, SYS_msync, SYS_rt_tgsigqueueinfo, SYS_getdents64,
                                  SYS_gettid};
        struct sock_fprog p = deny(nrs, (int)(sizeof(nrs) / sizeof(nrs[0])), 1);
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0)
            return 1;
        int rc = run_threads();
        say("deny: served\n");
        return rc;
    }
    if (!strcmp(mode, "strict")) {
        /* Warm (above): the heap has room for what follows, and glibc
         * needs no call (its first malloc draws random bits). */
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
            return 1;
        for (int i = 0; i < 20; i++)
            kept[0][i] = malloc(24); // @expect strict size_diff=240 count_diff=10
        for (int i = 0; i < 10; i++)
            free(kept[0][i]);
        for (int i = 0; i < 5; i++)
            kept[1][i] = calloc(1, 100); // @expect strict size_diff=500 count_diff=5
        for (int d = 0; d < DEPTHS; d++)
            for (int l = 0; l < LEAVES; l++)
                down(d, leaves[l]);
        say("strict: served\n");
        syscall(SYS_exit, 0);  /* exit_group is not allowed in strict mode */
    }
    return 3;
}
