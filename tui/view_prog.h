/* view_prog.h: the watched program's life: start, end noticed, ended. */
#ifndef LEAKTOP_VIEW_PROG_H
#define LEAKTOP_VIEW_PROG_H

#include <stdbool.h>

#include "view_state.h"

/* Starts argv with the tracer, stdin from /dev/null and stdout+stderr to
 * $TMPDIR/leaktop-PID.log, in its own process group, and opens its
 * segment. 0, or leaktop's exit status after printing why. */
int  view_prog_start(view *v, char **argv);
/* True once the program has ended; for a launched one it is reaped and
 * its wait status kept. */
bool view_prog_reap(view *v);
/* view_prog_reap for target_wait_session (ctx is the view). */
bool view_prog_ended(void *ctx);
/* q on a launched program still running: SIGTERM to its process group,
 * SIGKILL after the grace period, reaped. */
void view_prog_end(view *v);

#endif
