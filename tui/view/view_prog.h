/* view_prog.h: how the live view starts and ends the program it watches:
 * its output in a log file, its own process group, q ends it. */
#ifndef LEAKTOP_VIEW_PROG_H
#define LEAKTOP_VIEW_PROG_H

#include "view_state.h"

/* The watch settings the command line asks for (symbolization only). */
watch_config view_prog_config(const options *o);
/* Starts argv with the tracer, stdin from /dev/null and stdout+stderr to
 * program.log in leaktop's private directory (privdir.h), in its own process group, and opens its
 * segment (v->w). 0, or leaktop's exit status after printing why. */
int  view_prog_start(view *v, char **argv);
/* q on a launched program still running: SIGTERM to its process group,
 * SIGKILL after the grace period, reaped. */
void view_prog_end(view *v);
/* At the end: removes the program's log, or keeps it and says where
 * (--keep-log, or the program failed: its output says why). */
void view_prog_release_log(view *v);

#endif
