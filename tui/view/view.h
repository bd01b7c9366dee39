/* view.h: the live ncurses explorer (PRODUCT.md §6). */
#ifndef LEAKTOP_VIEW_H
#define LEAKTOP_VIEW_H

#include <sys/types.h>

#include "options.h"

/* Launches argv under the tracer and explores it live until `q`. Returns
 * leaktop's exit status. */
int view_run_program(const options *o, char **argv);
/* Explores an already traced process; it keeps running after `q`. */
int view_attach(const options *o, pid_t pid);

#endif
