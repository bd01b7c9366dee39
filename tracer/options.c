/* options.c: the tracer's option table (mimalloc's options.c): name,
 * default, bounds, and what it does. Read from the environment once, at
 * set-up, before anything else of the tracer looks at an option; a value
 * out of range is clamped and said so on stderr, never silently replaced. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lt_options.h"
#include "lt_shm.h"

typedef struct lt_option_desc {
    const char        *name;
    long long          dflt;
    long long          min, max;
    long long          invalid;   /* used when the value is not readable at all */
    const char *const *choices;   /* enumerations: the names, value = index */
    const char        *desc;
    bool               sizes;     /* a byte count: K, M, G suffixes (KiB, MiB, GiB) accepted */
} lt_option_desc;

static const char *const lt_unwind_names[] = {"fast", "libunwind", "verify", NULL};
static const char *const lt_commit_names[] = {"populate", "fallocate", NULL};

static const lt_option_desc lt_option_table[LT_OPT_COUNT] = {
    [LT_OPT_FRAMES] = {"LEAKTOP_FRAMES", LT_DEFAULT_FRAMES, 1, LT_MAX_FRAMES, LT_DEFAULT_FRAMES, NULL,
                       "frames kept per traceback (tracemalloc.start(N))"},
    [LT_OPT_MAX_TRACES] = {"LEAKTOP_MAX_TRACES", 1 << 20, 1024, 1 << 24, 1 << 20, NULL,
                           "distinct stacks kept; later new stacks are charged to <unknown>"},
    [LT_OPT_FOLLOW_EXEC] = {"LEAKTOP_FOLLOW_EXEC", 0, 0, 1, 0, NULL,
                            "1: programs this one execs are traced too (standalone use)"},
    /* Not a number: matches no process, so every process stays dormant. */
    [LT_OPT_PID] = {"LEAKTOP_PID", 0, 1, 0x7fffffff, -1, NULL,
                    "the launched process (set by leaktop run): other processes stay dormant"},
    [LT_OPT_LAUNCHER] = {"LEAKTOP_LAUNCHER", 0, 0, 0x7fffffff, 0, NULL,
                         "the frontend that launched this process (set by leaktop run): when it is "
                         "gone at exit, the segment is removed"},
    [LT_OPT_UNWIND] = {"LEAKTOP_UNWIND", LT_UNWIND_FAST, LT_UNWIND_FAST, LT_UNWIND_VERIFY, LT_UNWIND_FAST,
                       lt_unwind_names, "stack capture: fast, libunwind, or verify (both, compared)"},
    [LT_OPT_COMMIT] = {"LEAKTOP_COMMIT", LT_COMMIT_POPULATE, LT_COMMIT_POPULATE, LT_COMMIT_FALLOCATE,
                       LT_COMMIT_POPULATE, lt_commit_names,
                       "how segment pages get memory: populate (madvise, no descriptor kept) or "
                       "fallocate (a descriptor kept open; also used when the kernel is older than 5.14)"},
    /* 1 TiB at most: a larger mean would sample nothing a program allocates. */
    [LT_OPT_SAMPLE] = {"LEAKTOP_SAMPLE", 0, 0, 1LL << 40, 0, NULL,
                       "0: exact; else sample blocks at a mean of one per this many allocated bytes "
                       "(Poisson: a block of s bytes with probability 1-exp(-s/BYTES)); figures are "
                       "unbiased estimates", .sizes = true},
    [LT_OPT_SEED] = {"LEAKTOP_SEED", 0, 0, 0x7fffffffffffffffLL, 0, NULL,
                     "for tests: the sampling PRNG's seed, so a run is reproducible (0: random)"},
};

enum { LT_FIX_NONE = 0, LT_FIX_CLAMPED, LT_FIX_UNREADABLE };

typedef struct lt_option_value {
    long long   value;
    bool        given;
    int         fix;       /* LT_FIX_* */
    const char *raw;       /* the environment's text (environ outlives us) */
} lt_option_value;

static lt_option_value lt_option_values[LT_OPT_COUNT];

static bool lt_option_parse(const lt_option_desc *d, const char *v, long long *out)
{
    if (d->choices) {
        for (long long i = 0; d->choices[i]; i++) {
            if (strcmp(v, d->choices[i]) == 0) {
                *out = i;
                return true;
            }
        }
        return false;
    }
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v)
        return false;
    if (d->sizes && *end) {
        int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
                  : *end == 'G' || *end == 'g' ? 30 : -1;
        if (shift < 0 || (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B")))
            return false;
        end += strlen(end);
        x = x > (LLONG_MAX >> shift) ? LLONG_MAX : x < -(LLONG_MAX >> shift) ? -LLONG_MAX : x * (1LL << shift);
    }
    if (*end)
        return false;
    *out = x;
    return true;
}

/* NAME's value in NUL-separated "NAME=value" lines ending with "". */
static const char *lt_config_get(const char *config, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = config; *line; line += strlen(line) + 1)
        if (strncmp(line, name, n) == 0 && line[n] == '=')
            return line + n + 1;
    return NULL;
}

void lt_options_load(const char *config)
{
    for (int i = 0; i < LT_OPT_COUNT; i++) {
        const lt_option_desc *d = &lt_option_table[i];
        lt_option_value *o = &lt_option_values[i];
        const char *v = config ? lt_config_get(config, d->name) : getenv(d->name);
        *o = (lt_option_value){.value = d->dflt, .raw = v, .given = v && *v};
        if (!o->given)
            continue;
        long long x;
        if (!lt_option_parse(d, v, &x)) {
            o->value = d->invalid;
            o->fix = LT_FIX_UNREADABLE;
        } else if (x < d->min || x > d->max) {
            o->value = x < d->min ? d->min : d->max;
            o->fix = LT_FIX_CLAMPED;
        } else {
            o->value = x;
        }
    }
}

/* "fast" for an enumeration, the digits otherwise. */
static const char *lt_option_text(const lt_option_desc *d, long long v, char *buf)
{
    if (d->choices)
        return d->choices[v];
    if (v < 0) {
        buf[0] = '-';
        lt_fmt_u(buf + 1, (unsigned long)-v);
    } else {
        lt_fmt_u(buf, (unsigned long)v);
    }
    return buf;
}

/* "fast, libunwind, verify" */
static const char *lt_option_choices(const lt_option_desc *d, char *buf, size_t len)
{
    size_t at = 0;
    for (int i = 0; d->choices[i]; i++) {
        size_t n = strlen(d->choices[i]);
        if (at + n + 3 > len)
            break;
        if (i) {
            memcpy(buf + at, ", ", 2);
            at += 2;
        }
        memcpy(buf + at, d->choices[i], n);
        at += n;
    }
    buf[at] = 0;
    return buf;
}

void lt_options_report(void)
{
    for (int i = 0; i < LT_OPT_COUNT; i++) {
        const lt_option_desc *d = &lt_option_table[i];
        const lt_option_value *o = &lt_option_values[i];
        char used[24], lo[24], hi[24], names[128];
        const char *raw = o->raw ? o->raw : "";
        if (o->fix == LT_FIX_CLAMPED)
            lt_say(d->name, "=", raw, " is out of range ", lt_option_text(d, d->min, lo), "..",
                   lt_option_text(d, d->max, hi), ": using ", lt_option_text(d, o->value, used), NULL);
        else if (o->fix == LT_FIX_UNREADABLE && d->choices)
            lt_say(d->name, "=", raw, " is not one of ", lt_option_choices(d, names, sizeof(names)),
                   ": using ", lt_option_text(d, o->value, used), NULL);
        else if (o->fix == LT_FIX_UNREADABLE && o->value >= 0)
            lt_say(d->name, "=", raw, " is not a number: using ", lt_option_text(d, o->value, used), NULL);
    }
}

long long lt_option(lt_option_id id)
{
    return lt_option_values[id].value;
}

bool lt_option_given(lt_option_id id)
{
    return lt_option_values[id].given;
}
