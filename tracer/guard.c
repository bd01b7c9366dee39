/* guard.c: what keeps a hook safe from its host's process and thread
 * events: the gate that tells a process copied without fork() (a raw
 * clone) that it is not the traced process, and asynchronous cancellation
 * held back while a hook runs. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>

#include "lt_internal.h"

/* The hooks' one-load test. It points at a word that reads the current
 * tracing period's number (lt_g.epoch, 1 and up) only in the traced
 * process while tracing: a page the kernel zeroes in any child that gets a
 * copy of our memory (MADV_WIPEONFORK applies to fork, vfork-less clone and
 * syscall(SYS_clone) alike, and needs no atfork handler to run). A thread
 * whose lt_seen differs takes the slow path: closed (0), wiped (0), or a
 * new period after a detach and attach (its per-thread state is reset). */
static const int lt_gate_closed = 0;
static int lt_gate_no_wipe;  /* kernels before 4.14: only fork() is caught */
const volatile int *lt_gate = &lt_gate_closed;
static volatile int *lt_gate_page;

bool lt_gate_init(void)
{
    if (__atomic_load_n(&lt_gate_page, __ATOMIC_ACQUIRE))
        return true;
    volatile int *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return false;
    if (madvise((void *)page, 4096, MADV_WIPEONFORK) != 0) {
        munmap((void *)page, 4096);
        return true;  /* an old kernel: fork() is still caught by its handler */
    }
    *page = 1;
    volatile int *none = NULL;
    if (!__atomic_compare_exchange_n(&lt_gate_page, &none, page, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        munmap((void *)page, 4096);  /* another thread made one first */
    return true;
}

bool lt_gate_wiped(void)
{
    volatile int *page = __atomic_load_n(&lt_gate_page, __ATOMIC_ACQUIRE);
    return page && *page == 0;
}

/* With status READY: opens the gate for a new tracing period. */
void lt_gate_open(void)
{
    int epoch = __atomic_add_fetch(&lt_g.epoch, 1, __ATOMIC_ACQ_REL);
    volatile int *word = lt_gate_page ? lt_gate_page : &lt_gate_no_wipe;
    __atomic_store_n(word, epoch, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_gate, word, __ATOMIC_RELEASE);
}

void lt_gate_close(void)
{
    __atomic_store_n(&lt_gate, &lt_gate_closed, __ATOMIC_RELEASE);
}

/* We are a copy of the traced process that no atfork handler told (a raw
 * clone): stop tracing and put private zeroes where the shared segment
 * was, so nothing of ours can ever write the parent's counters. */
void lt_go_dormant(void)
{
    int expect = LT_READY;
    if (!__atomic_compare_exchange_n(&lt_g.status, &expect, LT_OFF, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    lt_gate_close();
    if (lt_g.hdr)
        mmap(lt_g.hdr, lt_g.seg_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* ---- asynchronous cancellation ------------------------------------------ */

/* A thread cancelled asynchronously in the middle of a hook would leave
 * the tracer's state half-written (a shard lock held: every other thread
 * hangs). Threads that ask for asynchronous cancellation are noted here;
 * their hooks run with deferred cancellation, and a cancellation that came
 * meanwhile acts when the hook is done (pthread_setcanceltype tests it). */
__thread int lt_async_cancel __attribute__((tls_model("initial-exec")));
static int (*lt_real_setcanceltype)(int, int *);

static int (*lt_setcanceltype_fn(void))(int, int *)
{
    int (*fn)(int, int *) = __atomic_load_n(&lt_real_setcanceltype, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = (int (*)(int, int *))dlsym(RTLD_NEXT, "pthread_setcanceltype");
        __atomic_store_n(&lt_real_setcanceltype, fn, __ATOMIC_RELEASE);
    }
    return fn;
}

int pthread_setcanceltype(int type, int *old)
{
    int (*real)(int, int *) = lt_setcanceltype_fn();
    if (!real)
        return ENOSYS;
    int rc = real(type, old);
    if (rc == 0)
        lt_async_cancel = type == PTHREAD_CANCEL_ASYNCHRONOUS;
    return rc;
}
LT_SELF_DEFINE(pthread_setcanceltype);

void lt_cancel_hold(void)
{
    lt_real_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
}

void lt_cancel_release(void)
{
    lt_real_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
}
