/* view_marks.h: the snapshots the view keeps: marks the program made with
 * leaktop_mark(), those `leaktop mark PID` asked for, and baselines taken
 * with `b`. Owns them; the baseline (and, in a frozen compare, the mark it
 * is compared with) is one of them, borrowed by index. What the table
 * compares is decided here (view_marks_pair): now against the baseline,
 * live, or the baseline against a later mark, frozen. The `m` screen
 * lists them. */
#ifndef LEAKTOP_VIEW_MARKS_H
#define LEAKTOP_VIEW_MARKS_H

#include <stdbool.h>
#include <stddef.h>

#include "diff.h"
#include "view_page.h"

/* The oldest mark goes when a new one would exceed this (each holds a
 * full snapshot); the baseline and the compared mark are never dropped. */
#define VIEW_MARKS_MAX 64

typedef enum view_mark_source {
    VIEW_MARK_PROGRAM,     /* leaktop_mark() in the program */
    VIEW_MARK_REQUESTED,   /* `leaktop mark PID` from another shell */
    VIEW_MARK_KEY,         /* the view's b */
} view_mark_source;

typedef struct view_mark {
    diff_snapshot   *snap;
    view_mark_source source;
    unsigned         number;     /* 1, 2, ... in order of arrival, never reused */
} view_mark;

typedef struct view_marks {
    view_mark items[VIEW_MARKS_MAX];   /* oldest first */
    size_t    n;
    long      baseline;          /* index, -1 = the empty snapshot */
    long      versus;            /* frozen compare: the baseline against this
                                    later mark; -1 = live (now against it) */
    unsigned  dropped;
    unsigned  next_number;
} view_marks;

void view_marks_init(view_marks *m);
void view_marks_free(view_marks *m);
/* Takes ownership; returns its index. */
size_t view_marks_add(view_marks *m, diff_snapshot *snap, view_mark_source source);
const diff_snapshot *view_marks_baseline(const view_marks *m);
/* Makes mark `index` (-1: none) the baseline, live: ends a frozen compare. */
void view_marks_set_baseline(view_marks *m, long index);
/* A frozen compare of marks a and b, the older one as the baseline.
 * -EINVAL (nothing changed) when they are the same mark or b is not a
 * mark; a may be -1 (the empty snapshot at the start). */
int  view_marks_freeze(view_marks *m, long a, long b);
bool view_marks_frozen(const view_marks *m);
/* Back to live: now against the baseline. */
void view_marks_thaw(view_marks *m);
/* What the table compares: *cur against *base (NULL = the empty snapshot).
 * Live, *cur is `now`; frozen, the compared mark. */
void view_marks_pair(const view_marks *m, const diff_snapshot *now, const diff_snapshot **cur,
                     const diff_snapshot **base);
/* "mark 2 (b1)", or "start" for -1. Returns buf. */
char *view_marks_name(const view_marks *m, long index, char *buf, size_t len);
/* Fills the `m` screen: one line per mark, in order: number, time since
 * the start, label, source, traced totals; * the baseline, = the compared. */
void view_marks_page(const view_marks *m, view_page *p);

#endif
