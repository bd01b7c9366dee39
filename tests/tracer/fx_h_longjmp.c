/* fx_h_longjmp: per-thread timers in several threads whose handlers
 * allocate and leave by siglongjmp, often while the thread is inside an
 * allocation call. Afterwards every thread's allocations must be counted
 * again (a guard left set would hide them), and nothing may hang or die.
 * The handler only jumps or allocates when it interrupted this program's
 * own code, never glibc (that would be undefined natively, too). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define THREADS 4
#define JUMPS 40
#define KEEP 1000

void *kept[THREADS][KEEP];
static __thread void *volatile sink;  /* per thread: a shared one would be freed twice */
static uintptr_t libc_lo, libc_hi;
static __thread sigjmp_buf env;
static __thread volatile int jumps, armed;

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (!strstr(info->dlpi_name, "libc.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            libc_lo = info->dlpi_addr + ph->p_vaddr;
            libc_hi = libc_lo + ph->p_memsz;
        }
    }
    return 1;
}

static void on_timer(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (!armed || (pc >= libc_lo && pc < libc_hi))
        return;
    void *p = malloc(56); // @absent exit
    free(p);
    if (jumps < JUMPS)
        siglongjmp(env, 1);
}

static void *worker(void *arg)
{
    long me = (long)arg;
    timer_t timer;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0)
        return NULL;
    struct itimerspec its = {{0, 200000}, {0, 200000}};
    timer_settime(timer, 0, &its, NULL);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sigsetjmp(env, 1))
        jumps++;
    armed = 1;
    for (unsigned i = 0; jumps < JUMPS; i++) {
        sink = malloc(1 + i % 300);  /* a jump between here and free leaks it, natively too */
        free(sink);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 20)
            break;  /* a tracer that swallows the signals: fail on the figures */
    }
    armed = 0;
    timer_delete(timer);
    for (int i = 0; i < KEEP; i++)
        kept[me][i] = malloc(8); // @expect exit size_diff=32000 count_diff=4000
    return NULL;
}

int main(void)
{
    dl_iterate_phdr(find_libc, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN, &sa, NULL);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("threads done\n");
    return 0;
}
