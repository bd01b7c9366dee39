/* lt_cfi.h: what the stack capture needs from the CFI reader: the rule
 * that moves from a frame to its caller, per return address. */
#ifndef LT_CFI_H
#define LT_CFI_H

#include <stdbool.h>
#include <stdint.h>

enum { LT_RULE_NONE = 0, LT_RULE_OK, LT_RULE_OUTERMOST, LT_RULE_UNSUPPORTED };
enum { LT_REG_RBP = 6, LT_REG_RSP = 7, LT_REG_RA = 16 };

/* Packed in one word so the rule cache can publish it atomically:
 * kind:8 | cfa_reg:7 | rbp_saved:1 | rbp_off:16 (signed) | cfa_off:32 (signed). */
typedef uint64_t lt_rule;

static inline lt_rule lt_rule_make(int kind, int cfa_reg, int32_t cfa_off, bool rbp_saved, int16_t rbp_off)
{
    return (uint64_t)(uint8_t)kind | (uint64_t)(cfa_reg & 0x7f) << 8 | (uint64_t)rbp_saved << 15 |
           (uint64_t)(uint16_t)rbp_off << 16 | (uint64_t)(uint32_t)cfa_off << 32;
}
static inline int     lt_rule_kind(lt_rule r)      { return (int)(r & 0xff); }
static inline int     lt_rule_cfa_reg(lt_rule r)   { return (int)(r >> 8 & 0x7f); }
static inline bool    lt_rule_rbp_saved(lt_rule r) { return r >> 15 & 1; }
static inline int16_t lt_rule_rbp_off(lt_rule r)   { return (int16_t)(uint16_t)(r >> 16); }
static inline int32_t lt_rule_cfa_off(lt_rule r)   { return (int32_t)(uint32_t)(r >> 32); }

/* The rule for the frame a return address lies in (looked up at the call
 * instruction, ra-1). Cached lock-free; never fails: LT_RULE_UNSUPPORTED
 * when the fast path cannot follow the frame. */
lt_rule lt_rule_for(uintptr_t ra) __attribute__((visibility("hidden")));
bool    lt_rules_init(void) __attribute__((visibility("hidden")));
/* Forgets every rule (after dlclose: an address may mean other code). */
void    lt_rules_flush(void) __attribute__((visibility("hidden")));

#endif
