/* lt_options.h: the tracer's options, one table read from the environment
 * (LEAKTOP_*) in one place, once, at set-up (options.c). Adding an option
 * is adding a row there and an id here. */
#ifndef LT_OPTIONS_H
#define LT_OPTIONS_H

#include "lt_base.h"

typedef enum lt_option_id {
    LT_OPT_FRAMES,       /* LEAKTOP_FRAMES: traceback depth */
    LT_OPT_MAX_TRACES,   /* LEAKTOP_MAX_TRACES: distinct stacks kept */
    LT_OPT_FOLLOW_EXEC,  /* LEAKTOP_FOLLOW_EXEC: trace exec'd programs too */
    LT_OPT_PID,          /* LEAKTOP_PID: set by the launcher; 0 = any process */
    LT_OPT_LAUNCHER,     /* LEAKTOP_LAUNCHER: the launcher's pid; 0 = none */
    LT_OPT_UNWIND,       /* LEAKTOP_UNWIND: fast | libunwind | verify */
    LT_OPT_COMMIT,       /* LEAKTOP_COMMIT: populate | fallocate */
    LT_OPT_SAMPLE,       /* LEAKTOP_SAMPLE: mean sampling interval in bytes; 0 = exact */
    LT_OPT_SEED,         /* LEAKTOP_SEED: sampling PRNG seed (tests); 0 = random */
    LT_OPT_COUNT
} lt_option_id;

enum { LT_UNWIND_FAST = 0, LT_UNWIND_LIBUNWIND, LT_UNWIND_VERIFY };
enum { LT_COMMIT_POPULATE = 0, LT_COMMIT_FALLOCATE };

/* Reads every LEAKTOP_* variable of the table: from the environment, or,
 * when `config` is not NULL (leaktop_attach), from its NAME=value lines
 * only (NUL-separated, ending with an empty one: it must outlive the
 * tracing period). Values out of range are clamped, unreadable ones
 * replaced; each such fix is remembered. */
void      lt_options_load(const char *config) LT_HIDDEN;
/* One line on stderr per value that was fixed, with the value used. Only
 * the traced process calls it (dormant children stay quiet). */
void      lt_options_report(void) LT_HIDDEN;
long long lt_option(lt_option_id id) LT_HIDDEN;
/* True when the variable was set in the environment (even if fixed). */
bool      lt_option_given(lt_option_id id) LT_HIDDEN;

#endif
