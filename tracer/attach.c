/* attach.c: the tracer loaded into a program that is already running
 * (`leaktop attach PID` dlopen's it): leaktop_attach starts a tracing
 * period (options from the caller, a new segment, every module's GOT
 * pointed at our hooks), a frontend's detach request ends it (the hooks go
 * dormant, the segment goes), and the library is never unloaded. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lt_internal.h"

/* Exported for the injector (LT_ATTACH_SYMBOL in lt_shm.h). */
int leaktop_attach(const char *config);

LT_SELF_DECLARE(malloc);
LT_SELF_DECLARE(calloc);
LT_SELF_DECLARE(realloc);
LT_SELF_DECLARE(reallocarray);
LT_SELF_DECLARE(free);
LT_SELF_DECLARE(posix_memalign);
LT_SELF_DECLARE(aligned_alloc);
LT_SELF_DECLARE(memalign);
LT_SELF_DECLARE(valloc);
LT_SELF_DECLARE(pvalloc);
LT_SELF_DECLARE(dlopen);
LT_SELF_DECLARE(dlmopen);
LT_SELF_DECLARE(dlclose);
LT_SELF_DECLARE(sigaction);
LT_SELF_DECLARE(signal);
LT_SELF_DECLARE(pthread_setcanceltype);
LT_SELF_DECLARE(execve);
LT_SELF_DECLARE(execv);
LT_SELF_DECLARE(execvp);
LT_SELF_DECLARE(execvpe);
LT_SELF_DECLARE(execveat);
LT_SELF_DECLARE(fexecve);
LT_SELF_DECLARE(prctl);
LT_SELF_DECLARE(syscall);

#define LT_FN(name) {#name, (void *)lt_self_##name, NULL}

/* Everything preloading would interpose: the allocation API, and what the
 * tracer must see of the program (new modules, signal handlers, async
 * cancellation, exec, seccomp filters). */
static lt_self_fn lt_fns[] = {
    LT_FN(malloc), LT_FN(calloc), LT_FN(realloc), LT_FN(reallocarray), LT_FN(free),
    LT_FN(posix_memalign), LT_FN(aligned_alloc), LT_FN(memalign), LT_FN(valloc), LT_FN(pvalloc),
    LT_FN(dlopen), LT_FN(dlmopen), LT_FN(dlclose),
    LT_FN(sigaction), LT_FN(signal), LT_FN(pthread_setcanceltype),
    LT_FN(execve), LT_FN(execv), LT_FN(execvp), LT_FN(execvpe), LT_FN(execveat), LT_FN(fexecve),
    LT_FN(prctl), LT_FN(syscall),
};

lt_self_fn *lt_self_fns(uint32_t *n)
{
    *n = sizeof(lt_fns) / sizeof(lt_fns[0]);
    return lt_fns;
}

/* Where the tracer and libc.so.6 stand in the link map, which is the
 * order of the global symbol lookup. */
typedef struct lt_link_order {
    uintptr_t self;     /* an address inside the tracer */
    int       at, self_at, libc_at;
} lt_link_order;

static bool lt_module_holds(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr - lo < ph->p_memsz)
            return true;
    }
    return false;
}

static int lt_link_order_step(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    lt_link_order *o = ctx;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (o->self_at < 0 && lt_module_holds(info, o->self))
        o->self_at = o->at;
    if (o->libc_at < 0 && strncmp(base, "libc.so", 7) == 0)
        o->libc_at = o->at;
    o->at++;
    return 0;
}

/* Preloaded (or linked), the tracer comes before libc.so.6 in the link
 * map, so its malloc is the one lookups find; dlopen'ed, it comes after.
 * Not dlsym(RTLD_DEFAULT, "malloc"): a non-PIE program that takes
 * malloc's address (CPython's allocator table does) defines "malloc" as
 * its own PLT stub, which lookups find first whoever interposes. */
bool lt_loaded_late(void)
{
    lt_link_order o = {.self = (uintptr_t)lt_self_malloc, .self_at = -1, .libc_at = -1};
    dl_iterate_phdr(lt_link_order_step, &o);
    return o.self_at >= 0 && o.libc_at >= 0 && o.self_at > o.libc_at;
}

/* ---- detach ----------------------------------------------------------------- */

/* The segment as this process maps it, after a detach: private zeroes in
 * its place, never unmapped (a hook that entered before the detach may
 * still write there; the address range is reserved, not memory). */
static void lt_segment_drop(void)
{
    mmap(lt_g.hdr, lt_g.seg_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
         -1, 0);
}

/* The hooks go dormant: from the next call on, every thread passes
 * straight to the allocator (the gate is closed: one load, one compare, a
 * call); sampling's fast paths are shut first, they look at nothing else.
 * Then the GOT cells get the real functions back: the program's calls no
 * longer reach the tracer at all (only a pointer it copied from a cell
 * meanwhile does: a dormant hook). The final state stays readable by a
 * frontend that has the segment mapped; the blocks table is dropped at
 * the next attach. */
void lt_detach(void)
{
    int expect = LT_READY;
    if (!__atomic_load_n(&lt_g.hdr->detach_req, __ATOMIC_ACQUIRE) ||
        !__atomic_compare_exchange_n(&lt_g.status, &expect, LT_BUSY_INIT, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    /* The request must be the current segment's: a thread that saw the
     * request of a period already detached (and attached again since)
     * must not end the new one. */
    if (!__atomic_load_n(&lt_g.hdr->detach_req, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&lt_g.status, LT_READY, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&lt_g.sample_bytes, 0, __ATOMIC_RELEASE);
    lt_gate_close();
    lt_got_restore_all();
    if (lt_g.seg_fd >= 0)
        close(lt_g.seg_fd);
    lt_g.seg_fd = -1;
    shm_unlink(lt_g.seg_name);  /* gone by the time a frontend reads DETACHED */
    lt_shm_header *h = lt_g.hdr;
    __atomic_store_n(&h->heartbeat_ns, (uint64_t)lt_now_ns(), __ATOMIC_RELAXED);
    __atomic_store_n(&h->state, LT_STATE_DETACHED, __ATOMIC_RELEASE);
    lt_segment_drop();
    __atomic_store_n(&lt_g.status, LT_DORMANT, __ATOMIC_RELEASE);
}

/* ---- attach ------------------------------------------------------------------ */

/* After a dlopen: the modules it brought call the allocator through GOTs
 * of their own. Only while tracing: an attach patches everything anyway. */
void lt_attach_new_modules(void)
{
    if (__atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) == LT_READY)
        lt_got_patch_all();
}

/* The caller's text, newline-separated, as NUL-separated lines ending with
 * an empty one; options.c keeps pointers into it for the period. */
static char lt_config[4096];

static bool lt_config_take(const char *config)
{
    size_t n = config ? strnlen(config, sizeof(lt_config)) : 0;
    if (n >= sizeof(lt_config) - 1)
        return false;
    memcpy(lt_config, config, n);
    memset(lt_config + n, 0, sizeof(lt_config) - n);
    for (size_t i = 0; i < n; i++)
        if (lt_config[i] == '\n' || lt_config[i] == '\r')
            lt_config[i] = 0;
    /* Empty lines would end the list early: close them up. */
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (lt_config[r] == 0 && (w == 0 || lt_config[w - 1] == 0))
            continue;
        lt_config[w++] = lt_config[r];
    }
    memset(lt_config + w, 0, sizeof(lt_config) - w);
    return true;
}

/* Another copy of the tracer (preloaded from another path) already
 * defines the entry point: that one traces, or can. */
static bool lt_other_tracer(void)
{
    return lt_got_real(LT_ATTACH_SYMBOL) != NULL;
}

/* The sampling interval of the last tracing period (0: exact). Its
 * threads keep their sampling countdowns (thread-local, unreachable from
 * here), and an unsampled call passes on that countdown alone: a period
 * with another interval, or exact, would let calls pass untraced. */
static long long lt_period_sample;

static int lt_attach_locked(const char *config)
{
    if (!lt_g.attach_mode || lt_other_tracer())
        return EEXIST;  /* preloaded: traced from the start already */
    int st;
    /* A detach another thread is taking: short (an unlink, an mmap). */
    for (int i = 0; (st = __atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE)) == LT_BUSY_INIT && i < 100000; i++)
        sched_yield();
    if (st == LT_READY && !__atomic_load_n(&lt_g.hdr->detach_req, __ATOMIC_ACQUIRE))
        return EALREADY;
    if (st == LT_READY)
        lt_detach();  /* asked, not yet taken (the program made no call since) */
    else if (st == LT_OFF)
        __atomic_store_n(&lt_g.status, LT_DORMANT, __ATOMIC_RELEASE);  /* a fork child of a traced process */
    if (__atomic_load_n(&lt_g.status, __ATOMIC_ACQUIRE) != LT_DORMANT)
        return EBUSY;
    if (!lt_config_take(config))
        return E2BIG;
    lt_options_load(lt_config);
    if (lt_period_sample && lt_option(LT_OPT_SAMPLE) != lt_period_sample)
        return EXDEV;  /* frontend: "attach with the same --sample as before" */
    if (__atomic_load_n(&lt_fwd_state, __ATOMIC_ACQUIRE) == LT_FWD_NONE)
        lt_forward_resolve();
    if (__atomic_load_n(&lt_fwd_state, __ATOMIC_ACQUIRE) != LT_FWD_DONE)
        return EAGAIN;
    errno = 0;
    if (!lt_gate_init() || !lt_init(lt_config))
        return errno > 0 ? errno : EIO;
    lt_signals_adopt();
    lt_gate_open();
    lt_got_patch_all();
    lt_period_sample = lt_option(LT_OPT_SAMPLE);
    return 0;
}

/* Returns 0 once tracing runs, or a positive errno value (lt_shm.h). The
 * caller's errno is kept. */
int leaktop_attach(const char *config)
{
    static int lock;
    if (lt_busy)
        return EDEADLK;  /* from inside a hook: never */
    int saved = errno;
    lt_spin_lock(&lock);
    lt_busy = LT_BUSY_OTHER;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int rc = lt_attach_locked(config);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    lt_busy = 0;
    lt_spin_unlock(&lock);
    if (lt_deferred)
        lt_signals_release();
    errno = saved;
    return rc;
}
