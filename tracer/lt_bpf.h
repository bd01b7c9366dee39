/* lt_bpf.h: a seccomp filter program, run on one system call as the kernel
 * runs it. Header-only and stateless, and the one header besides lt_shm.h
 * that both sides include: the tracer asks it before each call of its own
 * (seccomp.c), the injector before loading the tracer into a process that
 * runs under a filter (tui/watch/inject_seccomp.c). Two copies of the
 * machine could disagree on a program's filter; one cannot. */
#ifndef LT_BPF_H
#define LT_BPF_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Runs one classic BPF filter on `d`. The kernel checked the program when
 * it accepted it (jumps forward and in range, loads inside seccomp_data,
 * scratch memory written before read, no division by a constant 0), so
 * this only needs to be the same machine. */
static inline uint32_t lt_bpf_run(const struct sock_filter *f, uint32_t n, const struct seccomp_data *d)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    for (uint32_t pc = 0; pc < n; pc++) {
        const struct sock_filter *i = &f[pc];
        uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
        switch (BPF_CLASS(i->code)) {
        case BPF_LD:
            if (BPF_MODE(i->code) == BPF_ABS) {
                if (i->k > sizeof(*d) - 4 || i->k % 4)
                    return SECCOMP_RET_KILL_PROCESS;
                memcpy(&a, (const uint8_t *)d + i->k, 4);
            } else if (BPF_MODE(i->code) == BPF_LEN) {
                a = sizeof(*d);
            } else if (BPF_MODE(i->code) == BPF_IMM) {
                a = i->k;
            } else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS) {
                a = mem[i->k];
            } else {
                return SECCOMP_RET_KILL_PROCESS;
            }
            break;
        case BPF_LDX:
            if (BPF_MODE(i->code) == BPF_LEN)
                x = sizeof(*d);
            else if (BPF_MODE(i->code) == BPF_IMM)
                x = i->k;
            else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS)
                x = mem[i->k];
            else
                return SECCOMP_RET_KILL_PROCESS;
            break;
        case BPF_ST:
        case BPF_STX:
            if (i->k >= BPF_MEMWORDS)
                return SECCOMP_RET_KILL_PROCESS;
            mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
            break;
        case BPF_ALU:
            switch (BPF_OP(i->code)) {
            case BPF_ADD: a += src; break;
            case BPF_SUB: a -= src; break;
            case BPF_MUL: a *= src; break;
            case BPF_DIV: if (!src) return 0; a /= src; break;  /* the kernel's filter returns 0 */
            case BPF_MOD: if (!src) return 0; a %= src; break;
            case BPF_OR:  a |= src; break;
            case BPF_AND: a &= src; break;
            case BPF_XOR: a ^= src; break;
            case BPF_LSH: a = src < 32 ? a << src : 0; break;
            case BPF_RSH: a = src < 32 ? a >> src : 0; break;
            case BPF_NEG: a = -a; break;
            default: return SECCOMP_RET_KILL_PROCESS;
            }
            break;
        case BPF_JMP:
            if (BPF_OP(i->code) == BPF_JA) {
                if (i->k >= n - pc)
                    return SECCOMP_RET_KILL_PROCESS;  /* (only forward and in range: no loop) */
                pc += i->k;
                break;
            }
            bool taken;
            switch (BPF_OP(i->code)) {
            case BPF_JEQ:  taken = a == src; break;
            case BPF_JGT:  taken = a > src; break;
            case BPF_JGE:  taken = a >= src; break;
            case BPF_JSET: taken = (a & src) != 0; break;
            default: return SECCOMP_RET_KILL_PROCESS;
            }
            pc += taken ? i->jt : i->jf;
            break;
        case BPF_RET:
            return BPF_RVAL(i->code) == BPF_A ? a : i->k;
        case BPF_MISC:
            if (BPF_MISCOP(i->code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        }
    }
    return SECCOMP_RET_KILL_PROCESS;  /* fell off the end: the kernel never accepts that */
}

/* Only these let the call through as it is: anything else kills, traps,
 * fails it or hands it to a tracer or a supervisor. */
static inline bool lt_bpf_passes(uint32_t ret)
{
    uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
    return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
}

#endif
