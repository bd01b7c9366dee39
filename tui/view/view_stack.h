/* view_stack.h: the stack screen's model: for one row of the table, the
 * tracebacks that reach it, found by a traceback-grouped compare of the
 * same two snapshots, each with every frame (function, file:line, module,
 * inlined marks), most recent first. */
#ifndef LEAKTOP_VIEW_STACK_H
#define LEAKTOP_VIEW_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "view_loc.h"
#include "view_page.h"

/* At most this many tracebacks are listed (a hot line may have thousands). */
#define VIEW_STACK_MAX 300

typedef struct view_stack_req {
    const diff_snapshot *cur, *base;   /* base NULL = the empty snapshot */
    const diff_options  *opts;         /* the table's grouping, sort and filters */
    uint64_t             key;          /* the row's group key (diff_stat.key) */
    const diff_frame    *loc;          /* the row's location (its first frame) */
    bool                 frozen;       /* cur is a mark (a frozen compare), not now */
    int                  cols;
    view_loc_style       style;
} view_stack_req;

/* Fills p. 0, or -1 with err filled (the compare was refused). */
int view_stack_page(view_page *p, const view_stack_req *req, char *err, size_t errlen);

#endif
