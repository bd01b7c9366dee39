/* view_term.h: everything about the terminal behind one face: ncurses
 * set-up and tear-down, colours or their monochrome stand-ins (NO_COLOR,
 * has_colors()), UTF-8 or ASCII glyphs, putting text at a place, reading
 * keys, and raw escape output (OSC 52). Only view_term.c and the key
 * table (for KEY_* codes) include <curses.h>. */
#ifndef LEAKTOP_VIEW_TERM_H
#define LEAKTOP_VIEW_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "view_text.h"

/* What a piece of text is; the terminal decides how that looks. */
typedef enum view_role {
    VIEW_ROLE_NORMAL,
    VIEW_ROLE_TITLE,      /* program name, screen titles */
    VIEW_ROLE_HEADER,     /* header labels and values */
    VIEW_ROLE_COLHDR,     /* the table's column names */
    VIEW_ROLE_SELECTED,   /* the selected row */
    VIEW_ROLE_GROW,       /* positive differences */
    VIEW_ROLE_SHRINK,     /* negative differences */
    VIEW_ROLE_FLAG,       /* "blocks got bigger" marks, warnings */
    VIEW_ROLE_SUSPECT,    /* the suspect mark and count */
    VIEW_ROLE_DIM,        /* secondary text: modules, frame numbers */
    VIEW_ROLE_FOOTER,     /* key hints */
    VIEW_ROLE_MESSAGE,    /* footer messages */
    VIEW_ROLE_ERROR,
    VIEW_ROLE_COUNT
} view_role;

/* The layout every screen shares: header rows on top, the column header
 * below them, the footer at the bottom; below this size a message
 * replaces the screen. */
#define VIEW_HEADER_ROWS 4
#define VIEW_MIN_COLS    60
#define VIEW_MIN_ROWS    15

typedef struct view_term {
    bool               color;   /* false: NO_COLOR or a monochrome terminal */
    const view_glyphs *g;
    int                rows, cols;
    void              *screen;  /* the curses SCREEN, freed at stop */
} view_term;

/* Sets the locale's character set, starts curses, picks colours and
 * glyphs. 0, or -1 with err filled. */
int  view_term_start(view_term *t, char *err, size_t errlen);
void view_term_stop(view_term *t);
/* Re-reads the size (after KEY_RESIZE). */
void view_term_size(view_term *t);
/* Rows available to the table or a page, between header and footer. */
size_t view_term_body_rows(const view_term *t);

void view_term_clear(void);
/* Draws s at (y, x), at most `cols` columns; fills the rest of those
 * columns with spaces when pad is set. Returns the columns drawn. */
int  view_term_put(const view_term *t, int y, int x, int cols, view_role role, const char *s, bool pad);
/* Fills a whole row with the role's background. */
void view_term_fill(const view_term *t, int y, view_role role);
void view_term_flush(void);
/* Repaints everything at the next flush (Ctrl-L: a garbled terminal). */
void view_term_redraw(void);

/* Next key within timeout_ms, or -1. Keys are curses codes (KEY_UP, ...)
 * or characters. */
int  view_term_key(int timeout_ms);
/* Writes bytes straight to the terminal (after curses has drawn). */
void view_term_raw(const char *bytes, size_t n);
/* Row y of the screen as plain text (trailing blanks dropped), UTF-8. */
void view_term_read_row(int y, char *out, size_t outlen);

#endif
