/* batch.h: `leaktop run --batch`: reports as text or JSON Lines at every
 * mark, every --interval, and when the program ends however it ends. */
#ifndef LEAKTOP_BATCH_H
#define LEAKTOP_BATCH_H

#include "options.h"

/* Runs argv under the tracer; returns leaktop's exit status (the program's,
 * 128+N for death by signal N, or 3 when --fail-on-growth triggered). */
int batch_run(const options *o, char **argv);

#endif
