/* signals.c: signal handlers never run inside a hook.
 * A handler that interrupted a hook used to find the tracer mid-update: its
 * own malloc/free went untraced (phantom and missing blocks), and one that
 * left by siglongjmp left the re-entry guard set (the thread was never
 * traced again) or a shard lock held (every thread hung). So the program's
 * handlers, installed through sigaction() or signal(), are called through
 * lt_sig_deliver: outside a hook it calls the handler at once; inside one
 * it blocks the signal in the interrupted context, queues it again to the
 * same thread with its siginfo, and the hook, on its way out, restores the
 * mask: the kernel then delivers it, and the handler runs between two
 * allocation calls, as it could have natively. The hooks pay one load.
 * Faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) are not
 * wrapped: they can not wait, and the tracer does not cause them. Nor is
 * SIGABRT: glibc's malloc calls abort() when it finds the heap corrupt,
 * inside a hook, and abort() does not wait either: once the handler it
 * raised for has returned, it resets the action and raises again, and
 * then stops the program with an illegal instruction. A deferred SIGABRT
 * was still blocked then: the program died of SIGSEGV, its crash handler
 * never run, where natively the handler ran and the status was SIGABRT's.
 * (A SIGABRT handler that leaves a hook by siglongjmp leaves the re-entry
 * guard set: the thread's next call that finds the hook gone clears it,
 * guard.c.) */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lt_internal.h"

#define LT_NSIG 65

/* The program's action for each signal we wrap: its handler and flags. */
typedef struct lt_user_sig {
    void *handler;   /* sa_sigaction or sa_handler; NULL when not wrapped */
    int   flags;     /* the program's sa_flags */
    sigset_t mask;
} lt_user_sig;

static lt_user_sig lt_sigs[LT_NSIG];

__thread int lt_deferred __attribute__((tls_model("initial-exec")));
static __thread uint64_t lt_deferred_mask __attribute__((tls_model("initial-exec")));
static __thread uint64_t lt_deferred_bits __attribute__((tls_model("initial-exec")));  /* the signals held */

extern int __sigaction(int, const struct sigaction *, struct sigaction *);

static bool lt_sig_wrappable(int sig)
{
    switch (sig) {
    case SIGKILL: case SIGSTOP:
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
    case SIGABRT:
        return false;
    }
    return sig > 0 && sig < LT_NSIG;
}

static void lt_sig_deliver(int sig, siginfo_t *si, void *uc);

/* Installs the wrapper for the program's action `act` (a handler). */
static int lt_sig_install(int sig, const struct sigaction *act, struct sigaction *prev)
{
    struct sigaction mine = *act;
    mine.sa_flags |= SA_SIGINFO;
    mine.sa_sigaction = lt_sig_deliver;
    lt_user_sig *u = &lt_sigs[sig];
    u->flags = act->sa_flags;
    u->mask = act->sa_mask;
    __atomic_store_n(&u->handler, (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction
                                                                 : (void *)act->sa_handler, __ATOMIC_RELEASE);
    return __sigaction(sig, &mine, prev);
}

/* Inside a hook: hold the signal back until the hook returns. False when
 * it can not be queued again (then the handler runs now, as before). */
static bool lt_sig_defer(int sig, siginfo_t *si, ucontext_t *uc, const lt_user_sig *u)
{
    uint64_t bit = 1ULL << (sig - 1);
    uint64_t block = bit;
    /* A program that locked itself in may forbid these: then the handler
     * runs now, as when the signal can not be queued. */
    if (!lt_seccomp_allows(SYS_rt_sigprocmask, SIG_BLOCK, (uintptr_t)&block, 0, 8, 0, 0) ||
        !lt_seccomp_allows(SYS_rt_sigprocmask, SIG_SETMASK, 0, 0, 8, 0, 0) ||
        !lt_seccomp_allows(SYS_getpid, 0, 0, 0, 0, 0, 0) || !lt_seccomp_allows(SYS_gettid, 0, 0, 0, 0, 0, 0) ||
        !lt_seccomp_allows(SYS_rt_tgsigqueueinfo, 0, 0, (uint64_t)sig, 0, 0, 0))
        return false;
    /* Blocked here first: with SA_NODEFER it would come straight back. */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &block, NULL, 8);
    if (u->flags & SA_RESETHAND) {
        /* The kernel reset the action on this delivery: the handler is
         * still owed its one call. */
        struct sigaction again = {.sa_flags = u->flags, .sa_mask = u->mask};
        again.sa_sigaction = (void (*)(int, siginfo_t *, void *))u->handler;
        if (!(u->flags & SA_SIGINFO))
            again.sa_handler = (void (*)(int))u->handler;
        lt_sig_install(sig, &again, NULL);
    }
    siginfo_t copy = *si;
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), sig, &copy) != 0) {
        uint64_t old;
        memcpy(&old, &uc->uc_sigmask, sizeof(old));
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
        return false;
    }
    uint64_t interrupted;
    memcpy(&interrupted, &uc->uc_sigmask, sizeof(interrupted));
    if (!lt_deferred) {
        lt_deferred_mask = interrupted;
        lt_deferred_bits = 0;
    }
    lt_deferred_bits |= bit;
    interrupted |= bit;
    memcpy(&uc->uc_sigmask, &interrupted, sizeof(interrupted));
    lt_deferred = 1;
    return true;
}

static void lt_sig_deliver(int sig, siginfo_t *si, void *ucv)
{
    lt_user_sig *u = &lt_sigs[sig];
    if (LT_UNLIKELY(__atomic_load_n(&lt_busy, __ATOMIC_RELAXED)) && lt_sig_defer(sig, si, ucv, u))
        return;
    void *h = __atomic_load_n(&u->handler, __ATOMIC_ACQUIRE);
    if (!h || h == (void *)SIG_DFL || h == (void *)SIG_IGN)
        return;  /* changed under us: the new action is in place */
    /* A tail call where the compiler makes one: no frame of ours left in
     * the handler's stack (a capture strips it anyway). */
    ((void (*)(int, siginfo_t *, void *))h)(sig, si, ucv);
}

/* The hook that held signals back was left by siglongjmp (guard.c): the
 * mask to go back to is no longer the one it started with, but the one
 * the program's jump put in place, less the signals still held for it. */
void lt_signals_abandoned(void)
{
    uint64_t now;
    if (!lt_deferred || !lt_seccomp_allows(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 8, 0, 0) ||
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8) != 0)
        return;
    lt_deferred_mask = now & ~lt_deferred_bits;
}

/* The hook is done: deliver what was held back (the kernel does, as soon
 * as the mask of the interrupted context is back). */
void lt_signals_release(void)
{
    lt_deferred = 0;
    uint64_t mask = lt_deferred_mask;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
}

/* ---- the interposed API ------------------------------------------------ */

static int lt_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return lt_sigaction(sig, act, old);
}
LT_SELF_DEFINE(sigaction);

static int lt_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!lt_sig_wrappable(sig))
        return __sigaction(sig, act, old);
    lt_user_sig was = lt_sigs[sig];
    struct sigaction prev;
    int rc;
    if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN)
        rc = lt_sig_install(sig, act, &prev);
    else
        rc = __sigaction(sig, act, &prev);
    if (rc != 0)
        return rc;
    if (act && (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN))
        __atomic_store_n(&lt_sigs[sig].handler, NULL, __ATOMIC_RELEASE);
    if (old) {
        *old = prev;
        if (prev.sa_sigaction == lt_sig_deliver) {
            /* What the program installed, as it installed it. */
            old->sa_flags = was.flags;
            old->sa_mask = was.mask;
            if (was.flags & SA_SIGINFO)
                old->sa_sigaction = (void (*)(int, siginfo_t *, void *))was.handler;
            else
                old->sa_handler = (void (*)(int))was.handler;
        }
    }
    return 0;
}

/* glibc's signal() calls its sigaction internally, past our definition:
 * the same BSD semantics, through ours. */
__sighandler_t signal(int sig, __sighandler_t handler)
{
    struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < LT_NSIG)
        sigaddset(&act.sa_mask, sig);
    if (lt_sigaction(sig, &act, &old) < 0)  /* not through a GOT: ours when dlopen'ed too */
        return SIG_ERR;
    return old.sa_handler;
}
LT_SELF_DEFINE(signal);

/* Loaded into a running program: the handlers it installed before the
 * attach are wrapped now, as if installed through us. */
void lt_signals_adopt(void)
{
    for (int sig = 1; sig < LT_NSIG; sig++) {
        struct sigaction cur;
        if (!lt_sig_wrappable(sig) || __sigaction(sig, NULL, &cur) != 0)
            continue;
        if (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN || cur.sa_sigaction == lt_sig_deliver)
            continue;
        lt_sig_install(sig, &cur, NULL);
    }
}
