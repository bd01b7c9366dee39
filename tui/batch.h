/* batch.h: `leaktop run --batch`: reports as text or JSON Lines at every
 * mark, every --interval, and when the program ends however it ends. */
#ifndef LEAKTOP_BATCH_H
#define LEAKTOP_BATCH_H

#include <sys/types.h>

#include "options.h"

/* Runs argv under the tracer; returns leaktop's exit status (the program's,
 * 128+N for death by signal N, or 3 when --fail-on-growth triggered). */
int batch_run(const options *o, char **argv);
/* `leaktop attach --batch PID`: reports at marks, --interval and the
 * detach (the end of --duration, Ctrl-C/TERM/HUP, or the program's exit);
 * the tracer is loaded now when the process was not started with it.
 * Returns 0, a refusal's status, or 3 as above. */
int batch_attach(const options *o, pid_t pid);

#endif
