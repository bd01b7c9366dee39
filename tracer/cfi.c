/* cfi.c: x86-64 DWARF call frame information, just enough to unwind the
 * frames compilers emit: .eh_frame_hdr's sorted table finds the FDE, the
 * CIE and FDE instructions run up to the call instruction, and the row
 * becomes an lt_rule (CFA = RSP+n or RBP+n, return address at CFA-8, the
 * caller's RBP saved at CFA+m). Rules are cached per return address in a
 * lock-free table. Anything else is LT_RULE_UNSUPPORTED: the capture then
 * uses libunwind for that stack. */
#include <string.h>

#include "lt_cfi.h"
#include "lt_internal.h"

/* ---- reading .eh_frame ------------------------------------------------- */

typedef struct lt_reader {
    const uint8_t *p, *end;
    bool bad;
} lt_reader;

static uint64_t lt_uleb(lt_reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->p < r->end && shift < 64; shift += 7) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t lt_sleb(lt_reader *r)
{
    int64_t v = 0;
    unsigned shift = 0;
    while (r->p < r->end && shift < 64) {
        uint8_t b = *r->p++;
        v |= (int64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= -((int64_t)1 << shift);
            return v;
        }
    }
    r->bad = true;
    return 0;
}

static uint64_t lt_fixed(lt_reader *r, unsigned bytes)
{
    if ((size_t)(r->end - r->p) < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, bytes);  /* little-endian */
    r->p += bytes;
    return v;
}

/* A DW_EH_PE-encoded pointer: the formats gcc and clang emit. */
static uint64_t lt_encoded(lt_reader *r, uint8_t enc, uint64_t datarel)
{
    if (enc == 0xff)
        return 0;
    uint64_t here = (uint64_t)(uintptr_t)r->p, v;
    switch (enc & 0x0f) {
    case 0x00: v = lt_fixed(r, 8); break;
    case 0x01: v = lt_uleb(r); break;
    case 0x02: v = lt_fixed(r, 2); break;
    case 0x03: v = lt_fixed(r, 4); break;
    case 0x04: v = lt_fixed(r, 8); break;
    case 0x09: v = (uint64_t)lt_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)lt_fixed(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)lt_fixed(r, 4); break;
    case 0x0c: v = lt_fixed(r, 8); break;
    default: r->bad = true; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += here; break;
    case 0x30: v += datarel; break;
    default: r->bad = true; return 0;
    }
    if (enc & 0x80)
        r->bad = true;  /* indirect: not in unwind tables we rely on */
    return v;
}

/* How a register is recovered in the caller. */
enum { LT_HOW_SAME = 0, LT_HOW_SAVED, LT_HOW_UNDEFINED, LT_HOW_OTHER };

/* The CFI state we need: the CFA rule and how RBP and the return address
 * are recovered (saved at CFA+off, or something we do not follow). */
typedef struct lt_cfi {
    int     cfa_reg;
    int64_t cfa_off;
    bool    cfa_expr;
    int     rbp_how, ra_how;
    int64_t rbp_off, ra_off;
} lt_cfi;

typedef struct lt_cie {
    uint64_t code_align;
    int64_t  data_align;
    uint64_t ra_reg;
    uint8_t  fde_enc;
    bool     signal_frame;
    bool     has_z;
    const uint8_t *insns, *insns_end;
} lt_cie;

static void lt_cfi_set_reg(lt_cfi *s, uint64_t reg, int how, int64_t off)
{
    if (reg == LT_REG_RBP) {
        s->rbp_how = how;
        s->rbp_off = off;
    } else if (reg == LT_REG_RA) {
        s->ra_how = how;
        s->ra_off = off;
    }
}

/* DW_CFA_restore: back to the rule the CIE's instructions left. */
static void lt_cfi_restore(lt_cfi *s, const lt_cfi *init, uint64_t reg)
{
    if (!init)
        return;
    if (reg == LT_REG_RBP)
        lt_cfi_set_reg(s, reg, init->rbp_how, init->rbp_off);
    else if (reg == LT_REG_RA)
        lt_cfi_set_reg(s, reg, init->ra_how, init->ra_off);
}

#define LT_CFI_STACK 8

/* Runs CFA instructions while the location is <= target. `init` is the
 * state after the CIE's instructions (for DW_CFA_restore). Returns false
 * on anything malformed or unsupported. */
static bool lt_cfi_run(lt_reader *r, const lt_cie *cie, uint64_t loc, uint64_t target,
                       lt_cfi *s, const lt_cfi *init, uint64_t datarel)
{
    lt_cfi stack[LT_CFI_STACK];
    int depth = 0;
    while (r->p < r->end && !r->bad) {
        uint8_t op = *r->p++;
        uint8_t hi = op & 0xc0, lo = op & 0x3f;
        if (hi == 0x40) {                                  /* advance_loc */
            loc += lo * cie->code_align;
            if (loc > target)
                return true;
            continue;
        }
        if (hi == 0x80) {                                  /* offset */
            lt_cfi_set_reg(s, lo, LT_HOW_SAVED, (int64_t)lt_uleb(r) * cie->data_align);
            continue;
        }
        if (hi == 0xc0) {                                  /* restore */
            lt_cfi_restore(s, init, lo);
            continue;
        }
        uint64_t reg, delta;
        switch (op) {
        case 0x00: break;                                  /* nop */
        case 0x01: loc = lt_encoded(r, cie->fde_enc, datarel); if (loc > target) return true; break;
        case 0x02: delta = lt_fixed(r, 1); goto advance;
        case 0x03: delta = lt_fixed(r, 2); goto advance;
        case 0x04: delta = lt_fixed(r, 4); goto advance;
        case 0x05: reg = lt_uleb(r); lt_cfi_set_reg(s, reg, LT_HOW_SAVED, (int64_t)lt_uleb(r) * cie->data_align); break;
        case 0x06: lt_cfi_restore(s, init, lt_uleb(r)); break;
        case 0x07: lt_cfi_set_reg(s, lt_uleb(r), LT_HOW_UNDEFINED, 0); break;
        case 0x08: lt_cfi_set_reg(s, lt_uleb(r), LT_HOW_SAME, 0); break;
        case 0x09: reg = lt_uleb(r); lt_uleb(r); lt_cfi_set_reg(s, reg, LT_HOW_OTHER, 0); break;  /* register */
        /* remember/restore_state save and restore the whole row, CFA rule
         * included: gcc's epilogues (remember; def_cfa_offset 8; ret;
         * restore) rely on it, as libgcc's unwinder does. */
        case 0x0a: if (depth == LT_CFI_STACK) return false; stack[depth++] = *s; break;
        case 0x0b: if (depth == 0) return false; *s = stack[--depth]; break;
        case 0x0c: s->cfa_reg = (int)lt_uleb(r); s->cfa_off = (int64_t)lt_uleb(r); s->cfa_expr = false; break;
        case 0x0d: s->cfa_reg = (int)lt_uleb(r); break;
        case 0x0e: s->cfa_off = (int64_t)lt_uleb(r); break;
        case 0x0f: s->cfa_expr = true; delta = lt_uleb(r); r->p += delta; break;  /* def_cfa_expression */
        case 0x10: reg = lt_uleb(r); delta = lt_uleb(r); r->p += delta; lt_cfi_set_reg(s, reg, LT_HOW_OTHER, 0); break;
        case 0x11: reg = lt_uleb(r); lt_cfi_set_reg(s, reg, LT_HOW_SAVED, lt_sleb(r) * cie->data_align); break;
        case 0x12: s->cfa_reg = (int)lt_uleb(r); s->cfa_off = lt_sleb(r) * cie->data_align; s->cfa_expr = false; break;
        case 0x13: s->cfa_off = lt_sleb(r) * cie->data_align; break;
        case 0x14: reg = lt_uleb(r); lt_uleb(r); lt_cfi_set_reg(s, reg, LT_HOW_OTHER, 0); break;  /* val_offset */
        case 0x15: reg = lt_uleb(r); lt_sleb(r); lt_cfi_set_reg(s, reg, LT_HOW_OTHER, 0); break;
        case 0x16: reg = lt_uleb(r); delta = lt_uleb(r); r->p += delta; lt_cfi_set_reg(s, reg, LT_HOW_OTHER, 0); break;
        case 0x2e: lt_uleb(r); break;                      /* GNU_args_size */
        case 0x2f: reg = lt_uleb(r); lt_cfi_set_reg(s, reg, LT_HOW_SAVED, -(int64_t)lt_uleb(r) * cie->data_align); break;
        default: return false;
        }
        if (r->p > r->end)
            return false;
        continue;
    advance:
        loc += delta * cie->code_align;
        if (loc > target)
            return true;
    }
    return !r->bad;
}

static bool lt_cie_parse(const uint8_t *cie, lt_cie *out)
{
    lt_reader r = {cie, cie + 4, false};
    uint64_t len = lt_fixed(&r, 4);
    if (len == 0 || len == 0xffffffffu)
        return false;
    r.end = cie + 4 + len;
    if (lt_fixed(&r, 4) != 0)
        return false;                                      /* not a CIE */
    uint8_t version = (uint8_t)lt_fixed(&r, 1);
    const char *aug = (const char *)r.p;
    size_t auglen = strnlen(aug, (size_t)(r.end - r.p));
    r.p += auglen + 1;
    memset(out, 0, sizeof(*out));
    out->code_align = lt_uleb(&r);
    out->data_align = lt_sleb(&r);
    out->ra_reg = version == 1 ? lt_fixed(&r, 1) : lt_uleb(&r);
    const uint8_t *aug_end = r.p;
    for (size_t i = 0; i < auglen && !r.bad; i++) {
        switch (aug[i]) {
        case 'z': { uint64_t n = lt_uleb(&r); aug_end = r.p + n; out->has_z = true; break; }
        case 'R': out->fde_enc = (uint8_t)lt_fixed(&r, 1); break;
        case 'L': lt_fixed(&r, 1); break;
        case 'P': { uint8_t enc = (uint8_t)lt_fixed(&r, 1); lt_encoded(&r, enc & 0x7f, 0); break; }
        case 'S': out->signal_frame = true; break;
        default: if (!out->has_z) return false; r.p = aug_end; i = auglen; break;
        }
    }
    if (out->has_z)
        r.p = aug_end;
    out->insns = r.p;
    out->insns_end = r.end;
    return !r.bad && r.p <= r.end && out->ra_reg == LT_REG_RA && version <= 4;
}

/* ---- finding the FDE: .eh_frame_hdr of the module holding the address ---- */

#define LT_EH_MODULES 1024

typedef struct lt_ehmod {
    uintptr_t lo, hi, hdr;
} lt_ehmod;

static lt_ehmod lt_ehmods[LT_EH_MODULES];
static uint32_t lt_nehmods;

void lt_unwind_add_module(uintptr_t lo, uintptr_t hi, uintptr_t eh_frame_hdr)
{
    uint32_t n = __atomic_load_n(&lt_nehmods, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++)
        if (lt_ehmods[i].lo == lo && lt_ehmods[i].hi == hi && lt_ehmods[i].hdr == eh_frame_hdr)
            return;
    if (n == LT_EH_MODULES)
        return;
    lt_ehmods[n] = (lt_ehmod){lo, hi, eh_frame_hdr};
    __atomic_store_n(&lt_nehmods, n + 1, __ATOMIC_RELEASE);
}

/* Newest first: a range reused after dlclose belongs to the newer object. */
static uintptr_t lt_eh_hdr_for(uintptr_t pc)
{
    uint32_t n = __atomic_load_n(&lt_nehmods, __ATOMIC_ACQUIRE);
    for (uint32_t i = n; i-- > 0;)
        if (pc >= lt_ehmods[i].lo && pc < lt_ehmods[i].hi)
            return lt_ehmods[i].hdr;
    return 0;
}

static const uint8_t *lt_fde_find(uintptr_t pc)
{
    const uint8_t *hdr = (const uint8_t *)lt_eh_hdr_for(pc);
    if (!hdr || hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b)
        return NULL;  /* only the sorted datarel/sdata4 table gcc and lld emit */
    lt_reader r = {hdr + 4, hdr + 16, false};
    lt_encoded(&r, hdr[1], (uintptr_t)hdr);
    uint32_t count = (uint32_t)lt_fixed(&r, 4);
    const int32_t *table = (const int32_t *)r.p;
    if (r.bad || count == 0)
        return NULL;
    uint32_t lo = 0, hi = count;
    while (hi - lo > 1) {  /* last entry whose start is <= pc */
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)hdr + table[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if ((uintptr_t)hdr + table[2 * lo] > pc)
        return NULL;
    return hdr + table[2 * lo + 1];
}

/* The rule for a frame whose return address is `ra` (looked up at ra-1,
 * the call instruction). */
static lt_rule lt_rule_compute(uintptr_t ra)
{
    lt_rule unsupported = lt_rule_make(LT_RULE_UNSUPPORTED, 0, 0, false, 0);
    uintptr_t pc = ra - 1;
    const uint8_t *fde = lt_fde_find(pc);
    if (!fde)
        return unsupported;
    lt_reader r = {fde, fde + 8, false};
    uint32_t len = (uint32_t)lt_fixed(&r, 4);
    if (len == 0 || len == 0xffffffffu)
        return unsupported;
    const uint8_t *cie_ptr_at = r.p;
    uint32_t cie_off = (uint32_t)lt_fixed(&r, 4);
    lt_cie cie;
    if (cie_off == 0 || !lt_cie_parse(cie_ptr_at - cie_off, &cie) || cie.signal_frame)
        return unsupported;
    r.end = fde + 4 + len;
    uint64_t start = lt_encoded(&r, cie.fde_enc, 0);
    uint64_t range = lt_encoded(&r, cie.fde_enc & 0x0f, 0);
    if (r.bad || pc < start || pc >= start + range)
        return unsupported;
    if (cie.has_z) {
        uint64_t skip = lt_uleb(&r);
        r.p += skip;
    }
    lt_cfi s = {.cfa_reg = LT_REG_RSP, .cfa_off = 8, .rbp_how = LT_HOW_SAME, .ra_how = LT_HOW_OTHER};
    lt_reader ci = {cie.insns, cie.insns_end, false};
    if (!lt_cfi_run(&ci, &cie, 0, UINT64_MAX, &s, NULL, 0))
        return unsupported;
    lt_cfi init = s;
    if (!lt_cfi_run(&r, &cie, start, pc, &s, &init, 0))
        return unsupported;
    if (s.ra_how == LT_HOW_UNDEFINED)
        return lt_rule_make(LT_RULE_OUTERMOST, 0, 0, false, 0);
    if (s.cfa_expr || s.ra_how != LT_HOW_SAVED || s.ra_off != -8 ||
        (s.rbp_how != LT_HOW_SAME && s.rbp_how != LT_HOW_SAVED) ||
        (s.cfa_reg != LT_REG_RSP && s.cfa_reg != LT_REG_RBP) ||
        s.cfa_off < 8 || s.cfa_off > INT32_MAX || s.rbp_off < INT16_MIN || s.rbp_off > INT16_MAX)
        return unsupported;
    return lt_rule_make(LT_RULE_OK, s.cfa_reg, (int32_t)s.cfa_off, s.rbp_how == LT_HOW_SAVED, (int16_t)s.rbp_off);
}

/* ---- the rule cache: return address -> rule, lock-free ----------------- */

#define LT_RULES_CAP (1u << 16)

typedef struct lt_rule_slot {
    uintptr_t ip;   /* 0 = empty; claimed with CAS */
    lt_rule   rule; /* LT_RULE_NONE until published */
} lt_rule_slot;

static lt_rule_slot *lt_rules;

lt_rule lt_rule_for(uintptr_t ip)
{
    uint64_t h = (uint64_t)ip * 0x9e3779b97f4a7c15ULL;
    for (uint32_t probe = 0; probe < 16; probe++) {
        lt_rule_slot *s = &lt_rules[((h >> 40) + probe) & (LT_RULES_CAP - 1)];
        uintptr_t cur = __atomic_load_n(&s->ip, __ATOMIC_ACQUIRE);
        if (cur == ip) {
            lt_rule r = __atomic_load_n(&s->rule, __ATOMIC_ACQUIRE);
            return r != LT_RULE_NONE ? r : lt_rule_compute(ip);
        }
        if (cur == 0) {
            lt_rule r = lt_rule_compute(ip);
            if (__atomic_compare_exchange_n(&s->ip, &cur, ip, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                __atomic_store_n(&s->rule, r, __ATOMIC_RELEASE);
            return r;
        }
    }
    return lt_rule_compute(ip);  /* neighbourhood full: correct, just slower */
}


bool lt_rules_init(void)
{
    lt_rules = lt_map(sizeof(lt_rule_slot) * LT_RULES_CAP);
    return lt_rules != NULL;
}

void lt_rules_flush(void)
{
    if (!lt_rules)
        return;
    for (uint32_t i = 0; i < LT_RULES_CAP; i++) {
        __atomic_store_n(&lt_rules[i].rule, LT_RULE_NONE, __ATOMIC_RELAXED);
        __atomic_store_n(&lt_rules[i].ip, 0, __ATOMIC_RELEASE);
    }
}
