/* testrand.h: the one pseudo-random sequence the C tests use to pick
 * mutations and synthetic data (xorshift64): fast, and the same on every
 * run for a given seed, so a failure can be replayed. */
#ifndef LEAKTOP_TEST_RAND_H
#define LEAKTOP_TEST_RAND_H

#include <stdint.h>

static uint64_t test_rand_state = 0x9e3779b97f4a7c15ull;

static inline void test_rand_seed(uint64_t seed)
{
    test_rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;   /* xorshift never leaves 0 */
}

static inline uint64_t test_rand(void)
{
    test_rand_state ^= test_rand_state << 13;
    test_rand_state ^= test_rand_state >> 7;
    test_rand_state ^= test_rand_state << 17;
    return test_rand_state;
}

#endif
