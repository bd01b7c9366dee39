/* base.c: the tracer's base helpers (lt_base.h): mapping, spinlocks, the
 * clock, number formatting, stderr lines and random bits. Nothing here
 * knows the segment or the allocation path. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lt_base.h"

void *lt_map(size_t bytes)
{
    int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (!lt_seccomp_allows(SYS_mmap, 0, bytes, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1, 0))
        return NULL;
    void *p = mmap(NULL, bytes, prot, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void lt_unmap(void *p, size_t bytes)
{
    if (lt_seccomp_allows(SYS_munmap, (uintptr_t)p, bytes, 0, 0, 0, 0))
        munmap(p, bytes);
}

int lt_advise(void *p, size_t bytes, int advice)
{
    if (!lt_seccomp_allows(SYS_madvise, (uintptr_t)p, bytes, (uint64_t)advice, 0, 0, 0)) {
        errno = EPERM;
        return -1;
    }
    return madvise(p, bytes, advice);
}

static uint64_t lt_rlimit_bytes(int resource)
{
    struct rlimit rl;
    if (!lt_seccomp_allows(SYS_prlimit64, 0, (uint64_t)resource, 0, (uintptr_t)&rl, 0, 0) ||
        getrlimit(resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    return (uint64_t)rl.rlim_cur;
}

uint64_t lt_address_limit(void)
{
    return lt_rlimit_bytes(RLIMIT_AS);
}

uint64_t lt_stack_size_limit(void)
{
    return lt_rlimit_bytes(RLIMIT_STACK);
}

uint64_t lt_file_size_limit(void)
{
    return lt_rlimit_bytes(RLIMIT_FSIZE);
}

uint64_t lt_private_limit(void)
{
    uint64_t as = lt_rlimit_bytes(RLIMIT_AS), data = lt_rlimit_bytes(RLIMIT_DATA);
    return !as ? data : !data ? as : as < data ? as : data;
}

void lt_spin_lock(int *lock)
{
    for (unsigned spins = 0; __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE); spins++) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
            if (++spins > 64 && lt_seccomp_allows(SYS_sched_yield, 0, 0, 0, 0, 0, 0))
                sched_yield();  /* the holder may be descheduled: let it run */
            else
                __builtin_ia32_pause();
        }
    }
}

bool lt_spin_trylock(int *lock)
{
    return !__atomic_load_n(lock, __ATOMIC_RELAXED) && !__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE);
}

void lt_spin_unlock(int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static int64_t lt_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lt_now_ns(void)
{
    return lt_clock_ns(CLOCK_MONOTONIC);
}

int64_t lt_realtime_ns(void)
{
    return lt_clock_ns(CLOCK_REALTIME);
}

char *lt_fmt_u(char *p, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

char *lt_fmt_hex(char *p, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        p[i] = "0123456789abcdef"[v & 15];
    p[digits] = 0;
    return p + digits;
}

static size_t lt_append(char *line, size_t len, size_t cap, const char *s)
{
    size_t n = strnlen(s, cap - len);
    memcpy(line + len, s, n);
    return len + n;
}

static int lt_muted;

void lt_say_mute(void)
{
    lt_muted = 1;
}

void lt_say(const char *first, ...)
{
    if (lt_muted)
        return;
    char line[512];
    size_t cap = sizeof(line) - 1;  /* room for the newline */
    size_t len = lt_append(line, 0, cap, "leaktop: ");
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        len = lt_append(line, len, cap, s);
    va_end(ap);
    line[len++] = '\n';
    int saved = errno;
    if (lt_seccomp_allows(SYS_write, STDERR_FILENO, (uintptr_t)line, len, 0, 0, 0)) {
        ssize_t w = write(STDERR_FILENO, line, len);
        (void)w;
    }
    errno = saved;
}

uint64_t lt_random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
        return v;
    /* No entropy yet (early boot): still hard to guess from outside. */
    v = (uint64_t)lt_now_ns() ^ ((uint64_t)lt_realtime_ns() << 17) ^ (uint64_t)(uintptr_t)&v ^
        ((uint64_t)getpid() << 40);
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdULL;
    return v ^ (v >> 33);
}
