/* view_state.h: the live view's state, as owned parts: the program (the
 * watch), the data its image produced (snapshots, marks, the table: reset
 * as one on exec), the screens (which one, the way back, the open page),
 * the footer, and the user's settings (grouping, sort, filter, pause).
 * Shared by the view's files; it declares data only. The loop (view.c)
 * is the one place that acts on the whole: key actions return a reaction
 * (view_keys.h) instead of calling back into it. */
#ifndef LEAKTOP_VIEW_STATE_H
#define LEAKTOP_VIEW_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "diff.h"
#include "options.h"
#include "serve.h"
#include "view_filter.h"
#include "view_footer.h"
#include "view_marks.h"
#include "view_page.h"
#include "view_table.h"
#include "view_term.h"
#include "view_worker.h"
#include "watch.h"

typedef enum view_screen {
    VIEW_SCREEN_TABLE,
    VIEW_SCREEN_STACK,
    VIEW_SCREEN_HELP,
    VIEW_SCREEN_LOG,
    VIEW_SCREEN_MARKS,
    VIEW_SCREEN_COUNT
} view_screen;

#define VIEW_SCREEN_BIT(s) (1u << (s))
#define VIEW_SCREENS_ALL   ((1u << VIEW_SCREEN_COUNT) - 1)
#define VIEW_BACK_DEPTH    8

/* The program: how it is watched and what is known of it. */
typedef struct view_prog {
    watch         *w;              /* launched (q ends it) or attached */
    char           log_path[PATH_MAX];   /* "" when attached */
    bool           ended;          /* the watch reported its end */
    int64_t        rss;
    bool           stopped;        /* SIGSTOP'd or held by a debugger */
    char           lost[320];      /* header: what tracing lost ("" = nothing) */
    uint64_t       lost_traces;    /* dropped traces already said */
    uint32_t       fetching;       /* debuginfod fetches under way, as last said */
} view_prog;

/* What the program's current image produced. An exec makes all of it
 * meaningless at once (other frame table, other heap): view_data_reset. */
typedef struct view_data {
    diff_snapshot *cur;            /* the newest state (owned) */
    view_marks     marks;          /* owns marks and baselines */
    view_table     table;          /* the current compare's rows and trends */
    double         snap_ms;        /* the last snapshot's cost */
    double         refresh_ms;     /* the last refresh's cost: snapshot + compare */
} view_data;

/* Which screen is shown and the way back to the table. */
typedef struct view_nav {
    view_screen    screen;
    view_screen    back[VIEW_BACK_DEPTH];
    int            nback;
    view_page      page;           /* the current non-table screen */
    uint64_t       stack_key;      /* group key of the row whose stack is open */
    diff_frame     stack_loc;      /* its location (strings owned by the loctab) */
    diff_options   stack_opts;     /* grouping when it was opened */
    double         stack_ms;       /* its last build's cost: refreshed live only when cheap */
} view_nav;

typedef struct view {
    const options *o;
    view_term      term;
    view_prog      prog;
    view_data      data;
    view_nav       nav;
    view_footer    footer;

    /* the user's settings */
    diff_options   dopts;
    view_filter    filter;
    bool           paused;
    bool           retained;       /* r: the diff columns show retained since the baseline */
    unsigned       interval_ms;

    /* the loop */
    view_worker    worker;         /* computes compares off the main thread */
    bool           recompute;      /* options changed while the worker was busy */
    int64_t        next_refresh_ns;
    bool           quit;
    bool           dirty;          /* the screen must be redrawn */
    char           cwd[PATH_MAX];
    unsigned       nsaved, ncopies;
    serve         *srv;            /* --serve, or NULL */
} view;

#endif
