/* guard.c: what keeps a hook safe from its host's process and thread
 * events: the gate that tells a process copied without fork() (a raw
 * clone) that it is not the traced process, asynchronous cancellation
 * held back while a hook runs, and the re-entry guard of a hook that was
 * left without returning. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

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

/* ---- a hook left without returning ---------------------------------------- */

/* An allocation call runs the allocator inside its hook (so that a next
 * allocator's own malloc calls pass through). Faults and abort() are not
 * held back (signals.c): when glibc finds the heap corrupt inside that
 * call, the program's crash handler runs there, and one that recovers by
 * siglongjmp leaves the hook for good, lt_busy still set. Every later call
 * of the thread would pass through untraced: its leaks never seen.
 *
 * Told apart from a call nested in a running hook (the allocator's own,
 * libunwind's, a handler's), which must pass through:
 * - the hook's frame no longer returns where it did (while the hook runs
 *   nothing writes that slot; once left, the program's frames reuse it.
 *   Not "into the tracer": free() tail-calls its traced half, which then
 *   returns straight into the program);
 * - or this call's frame is not below it on the same stack, and not on
 *   an alternate signal stack either (a nested call's frame is always
 *   below, unless a handler runs on such a stack placed above it).
 * Neither is ever true of a running hook, so a running one is never
 * taken for left; a left one whose slot still reads as it did, seen from
 * deeper calls, is missed until a call from its own depth or above. Only
 * on the thread's own stack (its bounds known since its first capture):
 * elsewhere (coroutine stacks) the guard stays as it was, set.
 *
 * What the left hook had under way: nothing of the tracer's between the
 * allocator's return and its own (no lock is held across the call; a
 * stack cache way is incomplete until its id is set), and the signals it
 * held back: they stay blocked until this hook's end releases them, to
 * the mask the program's jump restored (lt_signals_abandoned).
 * Asynchronous cancellation was switched to deferred for the hook: the
 * next hook's end switches it back. */
static bool lt_on_alt_stack(void)
{
    stack_t ss;
    if (!lt_seccomp_allows(SYS_sigaltstack, 0, (uintptr_t)&ss, 0, 0, 0, 0))
        return true;  /* cannot tell: as if nested */
    return sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_ONSTACK);
}

bool lt_busy_abandoned(uintptr_t here)
{
    uintptr_t left = lt_busy;
    if (left == LT_BUSY_OTHER || !lt_unwind_on_thread_stack(left, 16))
        return false;
    /* The tracer keeps frame pointers (-fno-omit-frame-pointer): the
     * frame's return slot is the word above it. */
    bool gone = *(const volatile uintptr_t *)(left + 8) != lt_busy_ret;
    if (!gone && here >= left && lt_unwind_on_thread_stack(here, 16))
        gone = !lt_on_alt_stack();
    if (!gone)
        return false;
    lt_busy = 0;
    lt_unwind_abandoned();
    lt_signals_abandoned();
    return true;
}
