/* shmguard.c: SIGBUS on registered shared mappings becomes zero pages and a
 * flag (see shmguard.h). The handler only reads the registry and calls
 * mmap; faults outside every registered mapping go to the previous
 * disposition, as if the guard were not there. Mappings are registered
 * and removed by one thread (the watch's); the handler may run on any. */
#include "shmguard.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHMGUARD_SLOTS 16

typedef struct shmguard_slot {
    uintptr_t    base;   /* 0: free; written before size by the registering thread */
    size_t       size;
    volatile int hit;
} shmguard_slot;

static shmguard_slot     shmguard_slots[SHMGUARD_SLOTS];
static struct sigaction  shmguard_previous;
static bool              shmguard_installed;
static uintptr_t         shmguard_page;   /* sysconf is not for signal handlers */

static void shmguard_on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    for (int i = 0; i < SHMGUARD_SLOTS; i++) {
        shmguard_slot *g = &shmguard_slots[i];
        uintptr_t base = __atomic_load_n(&g->base, __ATOMIC_ACQUIRE);
        if (!base || addr < base || addr - base >= g->size)
            continue;
        uintptr_t page = addr & ~(shmguard_page - 1);
        /* The rest of the mapping reads as zeros from now on. */
        if (mmap((void *)page, base + g->size - page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            break;
        g->hit = 1;
        return;   /* the faulting read runs again, on zeros */
    }
    /* Not ours: what would have happened without the guard. */
    sigaction(SIGBUS, &shmguard_previous, NULL);
    if (!(shmguard_previous.sa_flags & SA_SIGINFO) && shmguard_previous.sa_handler != SIG_DFL &&
        shmguard_previous.sa_handler != SIG_IGN)
        shmguard_previous.sa_handler(sig);
    else if ((shmguard_previous.sa_flags & SA_SIGINFO) && shmguard_previous.sa_sigaction)
        shmguard_previous.sa_sigaction(sig, si, ctx);
}

static void shmguard_install(void)
{
    if (shmguard_installed)
        return;
    shmguard_page = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = shmguard_on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &shmguard_previous);
    shmguard_installed = true;
}

int shmguard_add(void *base, size_t size)
{
    shmguard_install();
    for (int i = 0; i < SHMGUARD_SLOTS; i++) {
        shmguard_slot *g = &shmguard_slots[i];
        if (__atomic_load_n(&g->base, __ATOMIC_ACQUIRE))
            continue;
        g->size = size;
        g->hit = 0;
        __atomic_store_n(&g->base, (uintptr_t)base, __ATOMIC_RELEASE);
        return 0;
    }
    return -1;
}

static shmguard_slot *shmguard_find(const void *base)
{
    for (int i = 0; i < SHMGUARD_SLOTS; i++)
        if (base && __atomic_load_n(&shmguard_slots[i].base, __ATOMIC_ACQUIRE) == (uintptr_t)base)
            return &shmguard_slots[i];
    return NULL;
}

void shmguard_remove(void *base)
{
    shmguard_slot *g = shmguard_find(base);
    if (g)
        __atomic_store_n(&g->base, 0, __ATOMIC_RELEASE);
}

bool shmguard_hit(const void *base)
{
    shmguard_slot *g = shmguard_find(base);
    return g && g->hit;
}
