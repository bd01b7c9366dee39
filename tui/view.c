/* view.c: entry points of the live view. */
#include "view.h"

#include "launch.h"
#include "util.h"

int view_run_program(const options *o, char **argv)
{
    (void)o;
    (void)argv;
    util_error("the live view is not part of this build yet: use leaktop run --batch");
    return LAUNCH_EXIT_USAGE;
}

int view_attach(const options *o, pid_t pid)
{
    (void)o;
    (void)pid;
    util_error("the live view is not part of this build yet: use leaktop mark and --save");
    return LAUNCH_EXIT_USAGE;
}
