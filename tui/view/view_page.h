/* view_page.h: the model of a scrollable text screen (stack, help, log,
 * marks): lines with a display role, and the cursor shared with the table
 * (a selected item, or just a scroll position). No ncurses here. */
#ifndef LEAKTOP_VIEW_PAGE_H
#define LEAKTOP_VIEW_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "view_term.h"

/* Selection and scroll over n items shown `height` at a time. */
typedef struct view_cursor {
    size_t sel;   /* selected item (select mode) */
    size_t top;   /* first item shown */
} view_cursor;

/* Moves by delta items (clamped). In select mode the selection moves and
 * the window follows it; otherwise the window scrolls. */
void view_cursor_move(view_cursor *c, size_t n, long delta, size_t height, bool select);
/* Re-clamps after n or height changed. */
void view_cursor_clamp(view_cursor *c, size_t n, size_t height, bool select);

typedef struct view_line {
    char     *text;
    view_role role;
} view_line;

typedef struct view_page {
    char        title[512];
    view_line  *lines;
    size_t      n, cap;
    view_cursor cur;
    bool        select;   /* lines are items to pick (marks) */
    bool        follow;   /* keep the end in view (log) until the user scrolls */
} view_page;

/* Drops the lines, keeps the title, cursor and mode (a rebuild keeps the
 * user's place). */
void view_page_clear(view_page *p);
void view_page_free(view_page *p);
void view_page_add(view_page *p, view_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void view_page_move(view_page *p, long delta, size_t height);

#endif
