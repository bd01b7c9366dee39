/* seccomp.c: the program's seccomp filters, and whether a system call of
 * the tracer's would pass them.
 *
 * A program may lock itself in after start-up (a privilege-separated
 * daemon's child, a libseccomp user): from then on a call its filter does
 * not allow kills it (SIGSYS), or in strict mode anything but read, write
 * and exit does (SIGKILL). The program knows which calls it makes; the
 * tracer makes others on its own cold paths (a new thread's stack bounds
 * from /proc/self/maps, the segment's pages, a new table, libunwind's
 * caches), and one of them would kill a program that runs fine natively.
 *
 * So the calls that install a filter are interposed: prctl(PR_SET_SECCOMP)
 * and syscall(SYS_seccomp) (libseccomp's way). The filter is copied before
 * the call and kept once the kernel accepted it; before each of its own
 * system calls the tracer runs the kept filters on that call (number and
 * arguments, as the kernel would) and makes it only if every filter
 * allows it. A refused call fails the way the call itself can fail (a
 * table does not grow, a stack is not walked), which every caller already
 * handles. Filters are kept for the whole process, whichever thread
 * installed them: a filter without TSYNC binds only its thread and the
 * threads it creates later, so this refuses more than it must, never less.
 *
 * Not seen: filters installed before the tracer started (by a parent,
 * before exec), or by a raw system call instruction (the program's own
 * code, not libc's). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lt_bpf.h"
#include "lt_internal.h"

/* The kernel's own bounds: at most 4096 instructions a filter and 32768
 * along a thread's chain of filters (each counting 4 more). */
#define LT_SEC_INSNS_MAX 32768u
#define LT_SEC_FILTERS   32u

#define LT_STR2(x) #x
#define LT_STR(x)  LT_STR2(x)

enum { LT_SEC_NONE = 0, LT_SEC_FILTERED, LT_SEC_STRICT, LT_SEC_UNKNOWN };

static struct {
    int               state;     /* LT_SEC_*: atomic, read first by every check */
    int               lock;      /* serialises installs */
    uint32_t          filters;   /* kept filters, published after their instructions */
    uint32_t          used;      /* instructions of the arena in use */
    uint32_t          start[LT_SEC_FILTERS], len[LT_SEC_FILTERS];
    struct sock_filter *arena;   /* LT_SEC_INSNS_MAX instructions, mapped at the first install */
} lt_sec;

/* ---- the check --------------------------------------------------------------- */

bool lt_seccomp_allows(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    int state = __atomic_load_n(&lt_sec.state, __ATOMIC_ACQUIRE);
    if (LT_LIKELY(state == LT_SEC_NONE))
        return true;
    if (state == LT_SEC_STRICT)
        return nr == SYS_read || nr == SYS_write || nr == SYS_exit || nr == SYS_rt_sigreturn;
    if (state != LT_SEC_FILTERED)
        return false;
    struct seccomp_data d = {.nr = (int)nr, .arch = AUDIT_ARCH_X86_64,
                             .args = {a0, a1, a2, a3, a4, a5}};
    uint32_t n = __atomic_load_n(&lt_sec.filters, __ATOMIC_ACQUIRE);
    for (uint32_t f = 0; f < n; f++)
        if (!lt_bpf_passes(lt_bpf_run(lt_sec.arena + lt_sec.start[f], lt_sec.len[f], &d)))
            return false;
    return true;
}

bool lt_seccomp_active(void)
{
    return __atomic_load_n(&lt_sec.state, __ATOMIC_ACQUIRE) != LT_SEC_NONE;
}

/* ---- installs --------------------------------------------------------- */

/* The system call itself, as libc's syscall() makes it (five arguments:
 * prctl's; seccomp takes three). */
static long lt_sec_raw(long nr, long a, long b, long c, long d, long e)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    if ((unsigned long)ret > -4096UL) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

/* Copies `prog` into the arena past the kept filters, for lt_sec_keep once
 * the kernel took it; false when it does not fit (it then stays unknown). */
static bool lt_sec_copy(const struct sock_fprog *prog)
{
    if (!lt_sec.arena) {
        lt_sec.arena = lt_map(LT_SEC_INSNS_MAX * sizeof(struct sock_filter));
        if (!lt_sec.arena)
            return false;
    }
    if (!prog || !prog->filter || lt_sec.filters == LT_SEC_FILTERS ||
        prog->len > LT_SEC_INSNS_MAX - lt_sec.used)
        return false;
    memcpy(lt_sec.arena + lt_sec.used, prog->filter, prog->len * sizeof(struct sock_filter));
    return true;
}

static void lt_sec_keep(const struct sock_fprog *prog)
{
    uint32_t f = lt_sec.filters;
    lt_sec.start[f] = lt_sec.used;
    lt_sec.len[f] = prog->len;
    lt_sec.used += prog->len;
    __atomic_store_n(&lt_sec.filters, f + 1, __ATOMIC_RELEASE);
}

/* Makes the install call `nr` (prctl or seccomp) with its arguments, and
 * keeps what the kernel accepted (`prog`, NULL for strict mode). States
 * only grow more restrictive (NONE < FILTERED < STRICT < UNKNOWN). While
 * the call is in flight the tracer refuses itself every call: with TSYNC
 * the filter binds the other threads the moment the kernel takes it. The
 * filter is copied first, as the program may free it once the call
 * returns. */
static long lt_sec_install(long nr, long a, long b, long c, const struct sock_fprog *prog, bool (*ok)(long, long))
{
    int saved = errno;
    lt_spin_lock(&lt_sec.lock);
    int prev = __atomic_load_n(&lt_sec.state, __ATOMIC_RELAXED);
    bool copied = prog && lt_sec_copy(prog);
    int next = !prog ? LT_SEC_STRICT : copied ? LT_SEC_FILTERED : LT_SEC_UNKNOWN;
    if (next < prev)
        next = prev;
    __atomic_store_n(&lt_sec.state, LT_SEC_UNKNOWN, __ATOMIC_RELEASE);
    errno = saved;
    long ret = lt_sec_raw(nr, a, b, c, 0, 0);
    bool took = ok(ret, b);
    if (took && copied)
        lt_sec_keep(prog);
    __atomic_store_n(&lt_sec.state, took ? next : prev, __ATOMIC_RELEASE);
    lt_spin_unlock(&lt_sec.lock);
    return ret;
}

/* prctl(PR_SET_SECCOMP) returns 0 when it took the filter. */
static bool lt_sec_prctl_ok(long ret, long mode)
{
    (void)mode;
    return ret == 0;
}

/* seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) returns 0, or with
 * NEW_LISTENER the listener's descriptor; a positive value with TSYNC is
 * the thread that could not be synchronised (nothing was installed). */
static bool lt_sec_seccomp_ok(long ret, long flags)
{
    return ret == 0 || (ret > 0 && (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) &&
                        !((flags & SECCOMP_FILTER_FLAG_TSYNC) && !(flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH)));
}

/* ---- the interposed calls ------------------------------------------------- */

int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
    unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    if (option == PR_SET_SECCOMP && (a2 == SECCOMP_MODE_STRICT || a2 == SECCOMP_MODE_FILTER))
        return (int)lt_sec_install(SYS_prctl, option, (long)a2, (long)a3,
                                   a2 == SECCOMP_MODE_FILTER ? (const struct sock_fprog *)a3 : NULL, lt_sec_prctl_ok);
    return (int)lt_sec_raw(SYS_prctl, option, (long)a2, (long)a3, (long)a4, (long)a5);
}
LT_SELF_DEFINE(prctl);

/* syscall(SYS_seccomp, ...) from the assembly entry below (every other
 * number never leaves it). */
long lt_seccomp_via_syscall(long nr, long op, long flags, long prog) LT_HIDDEN;
long lt_seccomp_via_syscall(long nr, long op, long flags, long prog)
{
    if (op == SECCOMP_SET_MODE_STRICT || op == SECCOMP_SET_MODE_FILTER)
        return lt_sec_install(nr, op, flags, prog,
                              op == SECCOMP_SET_MODE_FILTER ? (const struct sock_fprog *)prog : NULL,
                              lt_sec_seccomp_ok);
    return lt_sec_raw(nr, op, flags, prog, 0, 0);
}

/* syscall() itself in assembly, as glibc's: a C body would leave a frame
 * between the program's call and the system call, and a program that
 * clones onto a new stack through syscall() returns from it on that stack.
 * Only SYS_seccomp takes the C path above (the same arguments, in the
 * same registers: a tail jump). */
__asm__(
    ".text\n"
    ".globl syscall\n"
    ".type syscall, @function\n"
    ".globl lt_self_syscall\n"
    ".hidden lt_self_syscall\n"
    ".p2align 4\n"
    "syscall:\n"
    "lt_self_syscall:\n"
    "    cmpq $" LT_STR(SYS_seccomp) ", %rdi\n"
    "    je lt_seccomp_via_syscall\n"
    "    movq %rdi, %rax\n"
    "    movq %rsi, %rdi\n"
    "    movq %rdx, %rsi\n"
    "    movq %rcx, %rdx\n"
    "    movq %r8, %r10\n"
    "    movq %r9, %r8\n"
    "    movq 8(%rsp), %r9\n"
    "    syscall\n"
    "    cmpq $-4095, %rax\n"
    "    jae 1f\n"
    "    ret\n"
    "1:  negq %rax\n"
    "    pushq %rax\n"
    "    call __errno_location@PLT\n"
    "    popq %rcx\n"
    "    movl %ecx, (%rax)\n"
    "    movq $-1, %rax\n"
    "    ret\n"
    ".size syscall, .-syscall\n");
