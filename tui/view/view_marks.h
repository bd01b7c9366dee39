/* view_marks.h: the snapshots the view keeps: marks the program made with
 * leaktop_mark(), and baselines taken with `b`. Owns them; the baseline
 * is one of them, borrowed by index. The `m` screen lists them. */
#ifndef LEAKTOP_VIEW_MARKS_H
#define LEAKTOP_VIEW_MARKS_H

#include <stdbool.h>
#include <stddef.h>

#include "diff.h"
#include "view_page.h"

/* The oldest mark goes when a new one would exceed this (each holds a
 * full snapshot); the baseline is never the one dropped. */
#define VIEW_MARKS_MAX 64

typedef struct view_mark {
    diff_snapshot *snap;
    bool           by_program;   /* leaktop_mark(); else the `b` key */
} view_mark;

typedef struct view_marks {
    view_mark items[VIEW_MARKS_MAX];
    size_t    n;
    long      baseline;          /* index, -1 = the empty snapshot */
    unsigned  dropped;
} view_marks;

void view_marks_init(view_marks *m);
void view_marks_free(view_marks *m);
/* Takes ownership; returns its index. */
size_t view_marks_add(view_marks *m, diff_snapshot *snap, bool by_program);
const diff_snapshot *view_marks_baseline(const view_marks *m);
void view_marks_set_baseline(view_marks *m, long index);
/* Fills the `m` screen: one line per mark, in order. */
void view_marks_page(const view_marks *m, view_page *p, double now_elapsed);

#endif
