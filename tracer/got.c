/* got.c: the tracer loaded into a running program (leaktop_attach) cannot
 * interpose by symbol order, so it rewrites the call sites' indirection
 * cells: every module's GOT entries (JUMP_SLOT: PLT calls, lazy or -z now;
 * GLOB_DAT: -fno-plt calls and address-taken uses) of the functions in
 * lt_self_fns. Also: where the real functions are, found by reading the
 * modules' dynamic symbol tables, never through a GOT we may have patched.
 * No allocation: runs with the re-entry guard set, from a dlopen hook too. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "lt_internal.h"

#define LT_PAGE_MASK (~(uintptr_t)4095)

/* One module's dynamic section, read from memory. */
typedef struct lt_dyn {
    uintptr_t         base, lo, hi;     /* load bias, range of its PT_LOADs */
    uintptr_t         relro_lo, relro_hi;
    const ElfW(Sym)  *symtab;
    const char       *strtab;
    const uint32_t   *gnu_hash, *sysv_hash;
    const ElfW(Rela) *rela, *jmprel;
    size_t            relasz, jmprelsz;
} lt_dyn;

/* Entries of _DYNAMIC are relocated by ld.so for ordinary objects but not
 * for the vDSO; an address below the bias is still a file offset. */
static uintptr_t lt_dyn_ptr(const lt_dyn *d, ElfW(Addr) v)
{
    return v < d->base ? d->base + v : v;
}

static bool lt_dyn_read(const struct dl_phdr_info *info, lt_dyn *d)
{
    memset(d, 0, sizeof(*d));
    d->base = info->dlpi_addr;
    d->lo = UINTPTR_MAX;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = d->base + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)lo;
        else if (ph->p_type == PT_GNU_RELRO) {
            d->relro_lo = lo & LT_PAGE_MASK;
            d->relro_hi = hi & LT_PAGE_MASK;  /* the partial last page stays writable */
        } else if (ph->p_type == PT_LOAD) {
            d->lo = lo < d->lo ? lo : d->lo;
            d->hi = hi > d->hi ? hi : d->hi;
        }
    }
    if (!dyn)
        return false;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = lt_dyn_ptr(d, dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB:   d->symtab = (const ElfW(Sym) *)p; break;
        case DT_STRTAB:   d->strtab = (const char *)p; break;
        case DT_GNU_HASH: d->gnu_hash = (const uint32_t *)p; break;
        case DT_HASH:     d->sysv_hash = (const uint32_t *)p; break;
        case DT_RELA:     d->rela = (const ElfW(Rela) *)p; break;
        case DT_RELASZ:   d->relasz = dyn->d_un.d_val; break;
        case DT_JMPREL:   d->jmprel = (const ElfW(Rela) *)p; break;
        case DT_PLTRELSZ: d->jmprelsz = dyn->d_un.d_val; break;
        }
    }
    return d->symtab && d->strtab;
}

/* ---- symbol lookup -------------------------------------------------------- */

static uint32_t lt_gnu_hash_of(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (uint8_t)*s;
    return h;
}

static uint32_t lt_sysv_hash_of(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) {
        h = (h << 4) + (uint8_t)*s;
        uint32_t g = h & 0xf0000000u;
        h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static bool lt_sym_defines(const lt_dyn *d, const ElfW(Sym) *s, const char *name)
{
    int type = ELF64_ST_TYPE(s->st_info);
    return s->st_shndx != SHN_UNDEF && s->st_value != 0 && (type == STT_FUNC || type == STT_NOTYPE) &&
           ELF64_ST_BIND(s->st_info) != STB_LOCAL && strcmp(d->strtab + s->st_name, name) == 0;
}

/* The module's own definition of `name` (a function, not the canonical PLT
 * entry a non-PIE executable gives a function whose address it takes). */
static const ElfW(Sym) *lt_dyn_lookup(const lt_dyn *d, const char *name)
{
    if (d->gnu_hash) {
        const uint32_t *ht = d->gnu_hash;
        uint32_t nbuckets = ht[0], symoffset = ht[1], bloom_size = ht[2];
        if (nbuckets == 0)
            return NULL;
        const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)&ht[4] + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t h = lt_gnu_hash_of(name);
        uint32_t i = buckets[h % nbuckets];
        if (i < symoffset)
            return NULL;
        for (;; i++) {
            uint32_t h2 = chain[i - symoffset];
            if ((h | 1) == (h2 | 1) && lt_sym_defines(d, &d->symtab[i], name))
                return &d->symtab[i];
            if (h2 & 1)
                return NULL;
        }
    }
    if (d->sysv_hash) {
        uint32_t nbucket = d->sysv_hash[0];
        const uint32_t *bucket = &d->sysv_hash[2], *chain = bucket + nbucket;
        if (nbucket == 0)
            return NULL;
        for (uint32_t i = bucket[lt_sysv_hash_of(name) % nbucket]; i; i = chain[i])
            if (lt_sym_defines(d, &d->symtab[i], name))
                return &d->symtab[i];
    }
    return NULL;
}

/* ---- which modules ------------------------------------------------------------ */

/* Not ours, not the dynamic loader's (its own allocator is not the
 * program's), not the vDSO, and only the default namespace: a module
 * dlmopen'ed elsewhere has its own libc, whose blocks must not reach ours.
 * (glibc's dl_iterate_phdr reports the caller's namespace only, so such a
 * module is not even seen; the check keeps that true if it ever changes.) */
static bool lt_module_patchable(const struct dl_phdr_info *info, const lt_dyn *d)
{
    if ((uintptr_t)&lt_init >= d->lo && (uintptr_t)&lt_init < d->hi)
        return false;
    if (info->dlpi_addr == getauxval(AT_BASE) || info->dlpi_addr == getauxval(AT_SYSINFO_EHDR))
        return false;
    if (d->lo == UINTPTR_MAX)
        return false;
    /* Inside dl_iterate_phdr (ld.so's write lock held): no dladdr, which
     * takes the load lock that a dlopen in another thread holds while it
     * waits for the write lock. _dl_find_object takes no lock, and dlinfo
     * only reads the link map. */
    struct dl_find_object fo;
    Lmid_t ns = LM_ID_BASE;
    if (_dl_find_object((void *)d->lo, &fo) == 0 && fo.dlfo_link_map &&
        dlinfo(fo.dlfo_link_map, RTLD_DI_LMID, &ns) == 0 && ns != LM_ID_BASE)
        return false;
    return true;
}

/* ---- the real functions --------------------------------------------------- */

typedef struct lt_find {
    const char *name;
    void       *found;
} lt_find;

static int lt_find_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    lt_find *f = arg;
    lt_dyn d;
    if (f->found || !lt_dyn_read(info, &d) || !lt_module_patchable(info, &d))
        return f->found != NULL;
    const ElfW(Sym) *s = lt_dyn_lookup(&d, f->name);
    if (s)
        f->found = (void *)(d.base + s->st_value);
    return f->found != NULL;
}

/* The first definition of `name` in load order (the executable, then its
 * libraries), skipping the tracer: what the program's own references bind
 * to, read from symbol tables rather than GOTs, so never our hook. */
void *lt_got_real(const char *name)
{
    lt_find f = {name, NULL};
    dl_iterate_phdr(lt_find_one, &f);
    return f.found;
}

/* ---- patching ------------------------------------------------------------------ */

typedef struct lt_patch {
    lt_self_fn *fns;
    uint32_t    nfns;
    uint32_t    patched;   /* cells rewritten in this pass */
    bool        restore;   /* detach: our cells back to the real functions */
} lt_patch;

/* The cell holds the real function (bound), or an address inside the
 * module itself (a lazy PLT slot not yet bound): rewriting it redirects a
 * call that would have reached the allocator we forward to. Anything else
 * (another allocator the module was bound to on purpose) stays. */
static bool lt_cell_ours_to_take(const lt_dyn *d, uintptr_t cur, const lt_self_fn *fn)
{
    if (cur == (uintptr_t)fn->self)
        return false;
    return cur == (uintptr_t)fn->real || (cur >= d->lo && cur < d->hi);
}

/* RELRO pages are read-only: writable for the write only, then protected
 * again (the partial last page of RELRO was never protected). */
static void lt_cell_write(const lt_dyn *d, uintptr_t *cell, void *value)
{
    uintptr_t page = (uintptr_t)cell & LT_PAGE_MASK;
    bool relro = page >= d->relro_lo && page < d->relro_hi;
    if (relro && mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) != 0)
        return;
    __atomic_store_n(cell, (uintptr_t)value, __ATOMIC_RELEASE);
    if (relro)
        mprotect((void *)page, 4096, PROT_READ);
}

static void lt_patch_relocs(const lt_dyn *d, const ElfW(Rela) *r, size_t bytes, lt_patch *p)
{
    for (size_t i = 0; i < bytes / sizeof(*r); i++) {
        uint32_t type = ELF64_R_TYPE(r[i].r_info), sym = ELF64_R_SYM(r[i].r_info);
        if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || sym == 0)
            continue;
        const char *name = d->strtab + d->symtab[sym].st_name;
        for (uint32_t k = 0; k < p->nfns; k++) {
            const lt_self_fn *fn = &p->fns[k];
            if (strcmp(name, fn->name) != 0)
                continue;
            uintptr_t *cell = (uintptr_t *)(d->base + r[i].r_offset);
            uintptr_t cur = __atomic_load_n(cell, __ATOMIC_RELAXED);
            bool take = p->restore ? cur == (uintptr_t)fn->self : lt_cell_ours_to_take(d, cur, fn);
            if (fn->real && take) {
                lt_cell_write(d, cell, p->restore ? fn->real : fn->self);
                p->patched++;
            }
            break;
        }
    }
}

static int lt_patch_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    lt_dyn d;
    if (!lt_dyn_read(info, &d) || !lt_module_patchable(info, &d))
        return 0;
    lt_patch_relocs(&d, d.jmprel, d.jmprelsz, arg);
    lt_patch_relocs(&d, d.rela, d.relasz, arg);
    return 0;
}

/* Resolves the real function of every entry (once), then points every
 * module's cells at our hooks. Idempotent: a cell already ours is left
 * alone, so it is run again at each dlopen for the modules it brought. A
 * second pass catches a lazy cell ld.so bound while the first one ran. */
static int lt_patch_lock;  /* one pass at a time: patch (attach, dlopen) or restore (detach) */

uint32_t lt_got_patch_all(void)
{
    uint32_t n;
    lt_self_fn *fns = lt_self_fns(&n);
    lt_spin_lock(&lt_patch_lock);
    for (uint32_t k = 0; k < n; k++)
        if (!fns[k].real)
            fns[k].real = lt_got_real(fns[k].name);
    lt_patch p = {fns, n, 0, false};
    dl_iterate_phdr(lt_patch_one, &p);
    uint32_t total = p.patched;
    p.patched = 0;
    dl_iterate_phdr(lt_patch_one, &p);
    lt_spin_unlock(&lt_patch_lock);
    return total + p.patched;
}

/* Detach: every cell that holds one of our hooks gets the real function
 * back (a lazy cell comes back bound), so the program's calls no longer
 * pass through the tracer at all. A copy of a cell the program took while
 * attached (a function pointer) still reaches a hook: a dormant one. */
uint32_t lt_got_restore_all(void)
{
    uint32_t n;
    lt_self_fn *fns = lt_self_fns(&n);
    lt_spin_lock(&lt_patch_lock);
    lt_patch p = {fns, n, 0, true};
    dl_iterate_phdr(lt_patch_one, &p);
    lt_spin_unlock(&lt_patch_lock);
    return p.patched;
}
