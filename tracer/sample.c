/* sample.c: the slow half of sampling mode (LEAKTOP_SAMPLE): drawing the
 * exponential gaps between sample points, each thread with its own PRNG,
 * and the weight of a sampled block. The fast half (a countdown per
 * thread) is lt_sample_take in lt_internal.h.
 *
 * Why the estimates are unbiased: block i of size s_i is sampled with
 * probability p_i = 1 - exp(-s_i/mean), independently of the others, and
 * a sampled block adds s_i/p_i bytes and 1/p_i blocks to its trace
 * (Horvitz-Thompson). So E[bytes] = sum p_i * s_i/p_i = sum s_i, the exact
 * figure, and the same for blocks, for any set of live blocks: a trace's,
 * a group's, the total, a difference of two snapshots. The weight depends
 * on each block's own size, and a trace's blocks need not all have one
 * size, so it is applied here, per block, where the size is known — the
 * frontend only sees a trace's sums. Rounding the bytes to whole bytes
 * moves an estimate by at most half a byte per sampled block, which weighs
 * at least `mean` bytes: a relative 1/(2*mean). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_internal.h"

_Static_assert(offsetof(lt_shm_header, mark_done) == offsetof(lt_shm_header, mark_req) + sizeof(uint64_t),
               "lt_hot.marks reads mark_req and mark_done as a pair");
__thread uint64_t lt_sample_left __attribute__((tls_model("initial-exec")));
static __thread uint64_t lt_sample_rng __attribute__((tls_model("initial-exec")));

static uint64_t lt_sample_seed;     /* LEAKTOP_SEED, or random bits */
static uint64_t lt_sample_threads;  /* threads seeded so far (atomic) */
static double   lt_sample_mean;

static uint64_t lt_splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void lt_sample_init(void)
{
    lt_sample_mean = (double)lt_option(LT_OPT_SAMPLE);
    lt_sample_seed = lt_option(LT_OPT_SEED) ? (uint64_t)lt_option(LT_OPT_SEED) : lt_random_u64();
}

void lt_sample_start(void)
{
    uint64_t every = (uint64_t)lt_option(LT_OPT_SAMPLE);
    __atomic_store_n(&lt_hot.marks, (const uint64_t *)&lt_g.hdr->mark_req, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_hot.filter, lt_block_filter, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_g.sample_bytes, every, __ATOMIC_RELEASE);
    if (every)
        __atomic_fetch_or(&lt_hot.skip_bits, LT_SKIP_SAMPLING, __ATOMIC_RELEASE);
}

/* xorshift64*: per thread, so no state is shared; seeded from the run's
 * seed and the thread's order of arrival (reproducible with LEAKTOP_SEED
 * when the threads that sample arrive in a fixed order). */
static uint64_t lt_sample_next(void)
{
    uint64_t x = lt_sample_rng;
    if (LT_UNLIKELY(x == 0)) {
        uint64_t n = __atomic_fetch_add(&lt_sample_threads, 1, __ATOMIC_RELAXED);
        x = lt_splitmix(lt_sample_seed ^ lt_splitmix(n)) | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    lt_sample_rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* ceil(gap) for a gap drawn from Exp(mean): at least 1. */
static uint64_t lt_sample_draw(void)
{
    double u = (double)((lt_sample_next() >> 11) + 1) * 0x1p-53;  /* (0, 1] */
    double gap = ceil(-lt_sample_mean * log(u));
    if (gap < 1.0)
        return 1;
    return gap > 0x1p62 ? (uint64_t)1 << 62 : (uint64_t)gap;
}

/* The countdown ran out inside a block of t bytes (or was never drawn:
 * this thread's first block starts a fresh gap). After a sampled block the
 * next gap starts at its end: the process is memoryless, so what lies
 * beyond the block is independent of the points inside it. */
bool lt_sample_hit(uint64_t t)
{
    uint64_t left = lt_sample_left;
    if (left == 0)
        left = lt_sample_draw();
    /* A countdown left non-zero lets the hooks pass calls through on
     * their own (lt_skip_alloc), which must wait for forwarding to be
     * resolved: until then every call draws a fresh gap (memoryless: the
     * same chances) and leaves 0. */
    bool keep = (__atomic_load_n(&lt_hot.skip_bits, __ATOMIC_ACQUIRE) & LT_SKIP_ALLOC) == LT_SKIP_ALLOC;
    if (t < left) {
        lt_sample_left = keep ? left - t : 0;
        return false;
    }
    lt_sample_left = keep ? lt_sample_draw() : 0;
    return true;
}

void lt_sample_weight(uint64_t size, int64_t *bytes, int64_t *count)
{
    double t = size ? (double)size : 1.0;
    double w = -1.0 / expm1(-t / lt_sample_mean);  /* 1/(1 - exp(-t/mean)) */
    *bytes = (int64_t)((double)size * w + 0.5);
    *count = (int64_t)(w * LT_SAMPLE_ONE + 0.5);
}
