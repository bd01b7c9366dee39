/* view_state.h: the live view's state, one struct shared by the view's
 * files (the entry and loop in view.c, keys, drawing, screens), and the
 * operations the key actions call. Nothing outside view*.c includes it. */
#ifndef LEAKTOP_VIEW_STATE_H
#define LEAKTOP_VIEW_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "diff.h"
#include "options.h"
#include "session.h"
#include "view_filter.h"
#include "view_marks.h"
#include "view_page.h"
#include "view_table.h"
#include "view_term.h"
#include "view_worker.h"

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

/* The layout every screen shares: header rows on top, footer at the
 * bottom; below this size a message replaces the screen. */
#define VIEW_HEADER_ROWS 4
#define VIEW_MIN_COLS    60
#define VIEW_MIN_ROWS    15

typedef struct view {
    const options *o;
    view_term      term;

    /* the program */
    pid_t          pid;
    bool           launched;       /* ours: q ends it; else attached */
    char           prog[256];
    char           log_path[PATH_MAX];   /* "" when attached */
    session       *s;
    bool           ended;          /* reaped (launched) or gone (attached) */
    bool           status_known;   /* wstatus is valid (launched only) */
    bool           exited;         /* attached: its tracer saw exit() */
    int            wstatus;
    double         end_elapsed;
    int64_t        rss;
    char           lost[320];      /* header: what tracing lost ("" = nothing) */
    uint64_t       lost_traces;    /* dropped traces already said */
    bool           left_tracing;   /* the program exec'd out of tracing */

    /* snapshots and the compare */
    diff_snapshot *cur;            /* the newest state (owned) */
    view_marks     marks;          /* owns marks and baselines */
    bool           baseline_chosen;  /* the user set or cleared one */
    diff_options   dopts;
    view_filter    filter;
    view_table     table;
    view_worker    worker;         /* computes compares off the main thread */
    bool           recompute;      /* options changed while the worker was busy */
    double         snap_ms;        /* the last snapshot's cost */
    double         refresh_ms;     /* the last refresh's cost: snapshot + compare */

    /* screens */
    view_screen    screen;
    view_screen    back[VIEW_BACK_DEPTH];
    int            nback;
    view_page      page;           /* the current non-table screen */
    uint64_t       stack_key;      /* group key of the row whose stack is open */
    diff_frame     stack_loc;      /* its location (strings owned by the loctab) */
    diff_options   stack_opts;     /* grouping when it was opened */
    double         stack_ms;       /* its last build's cost: refreshed live only when cheap */

    /* loop */
    unsigned       interval_ms;
    int64_t        next_refresh_ns;
    bool           paused;
    bool           quit;
    bool           dirty;          /* the screen must be redrawn */
    char           cwd[PATH_MAX];
    unsigned       nsaved, ncopies;

    /* footer: a message for a while, or the filter prompt */
    char           msg[1024];
    bool           msg_error;
    int64_t        msg_until_ns;
    bool           prompting;
    char           prompt[512];
} view;

/* view.c: what key actions and screens ask of the view. */
void view_message(view *v, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Re-groups or re-sorts the same snapshots (no new trend point); the rows
 * change when the worker is done. */
void view_recompute(view *v);
void view_baseline_now(view *v);
void view_baseline_clear(view *v);
void view_baseline_pick(view *v, long mark_index);
/* Rows available to the table / a page below the header. */
size_t view_body_rows(const view *v);
/* Wall-clock seconds since tracing started, frozen at death. */
double view_now_elapsed(const view *v);

#endif
